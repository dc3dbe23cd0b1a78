package console

import (
	"fmt"
	"html/template"
	"math"
	"strconv"
	"strings"
	"time"
)

// The console's plots are SVG drawn here, on the server: no charting
// library, nothing to run in the browser, and a page that shows its data
// without JavaScript. Each data point carries a <title> (the browser's
// tooltip, read by screen readers), the whole plot role="img" and an
// aria-label saying what it shows.

// Point is one value at one time (the start of its bucket).
type Point struct {
	T time.Time
	V float64
}

// Series is one line of a plot.
type Series struct {
	Name   string  // the legend's and the tooltips' words
	Class  string  // the CSS class that colours it (s1…s4)
	Points []Point // in time order
}

// Threshold is a horizontal line at a value the reader should compare
// the data with (SES's review and pause rates).
type Threshold struct {
	Label string
	V     float64
	Class string // warn or bad
}

// Plot is a time-series chart over [From, To].
type Plot struct {
	ID         string // the svg's id
	Label      string // aria-label: what the plot shows
	From, To   time.Time
	Series     []Series
	Thresholds []Threshold
	// Format writes a value for the y axis and the tooltips (default: an
	// integer count).
	Format func(float64) string
	// Empty is the message shown instead of a plot without any non-zero
	// value (a plot of zeros says nothing a sentence cannot).
	Empty string
}

// The plot's drawing area, in the viewBox's units; CSS scales the whole.
const (
	plotW, plotH                       = 720.0, 220.0
	padLeft, padRight, padTop, padBott = 56.0, 12.0, 12.0, 26.0
)

// Total is the sum of a series' values.
func (s Series) Total() float64 {
	var t float64
	for _, p := range s.Points {
		t += p.V
	}
	return t
}

// HasData says whether any series has a non-zero value in [From, To].
func (p Plot) HasData() bool {
	for _, s := range p.Series {
		for _, pt := range s.Points {
			if pt.V != 0 && !pt.T.Before(p.From) && !pt.T.After(p.To) {
				return true
			}
		}
	}
	return false
}

func (p Plot) format(v float64) string {
	if p.Format != nil {
		return p.Format(v)
	}
	return strconv.FormatFloat(v, 'f', -1, 64)
}

// x maps a time onto the drawing area.
func (p Plot) x(t time.Time) float64 {
	span := p.To.Sub(p.From)
	if span <= 0 {
		return padLeft
	}
	return padLeft + (plotW-padLeft-padRight)*float64(t.Sub(p.From))/float64(span)
}

// yMax is the top of the y axis: the largest value or threshold, rounded
// up to a tick, so the thresholds are always on the plot.
func (p Plot) yMax() (top, step float64) {
	var m float64
	for _, s := range p.Series {
		for _, pt := range s.Points {
			m = max(m, pt.V)
		}
	}
	for _, th := range p.Thresholds {
		m = max(m, th.V*1.2)
	}
	if m <= 0 {
		m = 1
	}
	step = niceStep(m / 4)
	if p.Format == nil {
		step = max(step, 1) // counts: whole ticks
	}
	return math.Ceil(m/step-1e-9) * step, step
}

// y maps a value onto the drawing area (0 at the bottom).
func (p Plot) y(v, top float64) float64 {
	return plotH - padBott - (plotH-padTop-padBott)*v/top
}

// niceStep rounds a raw tick step up to 1, 2 or 5 times a power of ten.
func niceStep(raw float64) float64 {
	if raw <= 0 {
		return 1
	}
	pow := math.Pow(10, math.Floor(math.Log10(raw)))
	for _, m := range []float64{1, 2, 5, 10} {
		if raw <= m*pow*(1+1e-9) {
			return m * pow
		}
	}
	return 10 * pow
}

// timeTicks are the x axis' labelled times: whole hours or days in UTC,
// at most about eight.
func timeTicks(from, to time.Time) (ticks []time.Time, layout string) {
	span := to.Sub(from)
	steps := []time.Duration{time.Hour, 2 * time.Hour, 3 * time.Hour, 6 * time.Hour, 12 * time.Hour,
		24 * time.Hour, 48 * time.Hour, 7 * 24 * time.Hour}
	step := steps[len(steps)-1]
	for _, s := range steps {
		if span/s <= 8 {
			step = s
			break
		}
	}
	layout = "Jan 2"
	if step < 24*time.Hour {
		layout = "15:04"
	}
	// Truncate works on absolute time, which is UTC-aligned for whole
	// hours and days.
	for t := from.UTC().Truncate(step); !t.After(to); t = t.Add(step) {
		if !t.Before(from) {
			ticks = append(ticks, t)
		}
	}
	return ticks, layout
}

// SVG draws the plot, or the empty-state message when there is nothing
// to draw.
func (p Plot) SVG() template.HTML {
	if !p.HasData() {
		msg := p.Empty
		if msg == "" {
			msg = "No data in this period."
		}
		return template.HTML(`<div class="empty plot-empty">` + template.HTMLEscapeString(msg) + `</div>`)
	}
	esc := template.HTMLEscapeString
	var b strings.Builder
	top, step := p.yMax()
	var totals []string
	for _, s := range p.Series {
		totals = append(totals, s.Name+"="+p.format(s.Total()))
	}
	fmt.Fprintf(&b, `<svg class="plot" id="%s" viewBox="0 0 %g %g" role="img" aria-label="%s" data-totals="%s" preserveAspectRatio="xMidYMid meet">`,
		esc(p.ID), plotW, plotH, esc(p.Label), esc(strings.Join(totals, "; ")))
	fmt.Fprintf(&b, `<title>%s</title>`, esc(p.Label))

	// The y axis: grid lines and their values.
	b.WriteString(`<g class="grid">`)
	for v := 0.0; v <= top+step/2; v += step {
		y := p.y(v, top)
		fmt.Fprintf(&b, `<line x1="%g" x2="%g" y1="%.1f" y2="%.1f"/><text class="ytick" x="%g" y="%.1f">%s</text>`,
			padLeft, plotW-padRight, y, y, padLeft-6, y+4, esc(p.format(v)))
	}
	// The x axis: times in UTC.
	ticks, layout := timeTicks(p.From, p.To)
	for _, t := range ticks {
		x := p.x(t)
		// A label at the right edge ends there instead of being cut off.
		anchor := ""
		if x > plotW-padRight-24 {
			anchor = ` text-anchor="end"`
		}
		fmt.Fprintf(&b, `<line class="xgrid" x1="%.1f" x2="%.1f" y1="%g" y2="%g"/><text class="xtick" x="%.1f" y="%g"%s>%s</text>`,
			x, x, padTop, plotH-padBott, x, plotH-8, anchor, esc(t.UTC().Format(layout)))
	}
	b.WriteString(`</g>`)

	for _, th := range p.Thresholds {
		y := p.y(th.V, top)
		fmt.Fprintf(&b, `<g class="threshold %s"><line x1="%g" x2="%g" y1="%.1f" y2="%.1f"><title>%s: %s</title></line>`+
			`<text x="%g" y="%.1f">%s</text></g>`,
			esc(th.Class), padLeft, plotW-padRight, y, y, esc(th.Label), esc(p.format(th.V)), plotW-padRight-4, y-4, esc(th.Label))
	}

	for _, s := range p.Series {
		fmt.Fprintf(&b, `<g class="series %s" data-series="%s">`, esc(s.Class), esc(s.Name))
		var pts []string
		for _, pt := range s.Points {
			if pt.T.Before(p.From) || pt.T.After(p.To) {
				continue
			}
			pts = append(pts, fmt.Sprintf("%.1f,%.1f", p.x(pt.T), p.y(pt.V, top)))
		}
		if len(pts) > 1 {
			fmt.Fprintf(&b, `<polyline points="%s"/>`, strings.Join(pts, " "))
		}
		// A dot with a tooltip for every bucket that holds something.
		for _, pt := range s.Points {
			if pt.V == 0 || pt.T.Before(p.From) || pt.T.After(p.To) {
				continue
			}
			fmt.Fprintf(&b, `<circle cx="%.1f" cy="%.1f" r="3"><title>%s UTC: %s %s</title></circle>`,
				p.x(pt.T), p.y(pt.V, top), pt.T.UTC().Format("2006-01-02 15:04"), esc(p.format(pt.V)), esc(s.Name))
		}
		b.WriteString(`</g>`)
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

// Legend is the plot's key: one coloured name per series and threshold.
func (p Plot) Legend() template.HTML {
	var b strings.Builder
	b.WriteString(`<div class="plot-legend">`)
	for _, s := range p.Series {
		fmt.Fprintf(&b, `<span class="%s">%s</span>`, template.HTMLEscapeString(s.Class), template.HTMLEscapeString(s.Name))
	}
	for _, th := range p.Thresholds {
		fmt.Fprintf(&b, `<span class="threshold %s">%s (%s)</span>`, template.HTMLEscapeString(th.Class),
			template.HTMLEscapeString(th.Label), template.HTMLEscapeString(p.format(th.V)))
	}
	b.WriteString(`</div>`)
	return template.HTML(b.String())
}
