package console

import (
	"encoding/xml"
	"io"
	"math"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	sestypes "github.com/aws/aws-sdk-go-v2/service/ses/types"
)

var plotNow = time.Date(2026, 12, 6, 12, 7, 0, 0, time.UTC)

func TestPlotEmptyIsAMessage(t *testing.T) {
	p := Plot{From: plotNow.Add(-24 * time.Hour), To: plotNow, Empty: "Nothing was sent.",
		Series: []Series{{Name: "a", Points: []Point{{plotNow.Add(-time.Hour), 0}}}}}
	got := string(p.SVG())
	if strings.Contains(got, "<svg") || !strings.Contains(got, `class="empty plot-empty"`) || !strings.Contains(got, "Nothing was sent.") {
		t.Errorf("empty plot = %s", got)
	}
	// A value outside the period does not count as data either.
	p.Series[0].Points = []Point{{plotNow.Add(-48 * time.Hour), 5}}
	if p.HasData() {
		t.Error("a point before From counts as data")
	}
}

// svgDoc is what the tests read back from a plot.
type svgDoc struct {
	XMLName   xml.Name `xml:"svg"`
	Role      string   `xml:"role,attr"`
	AriaLabel string   `xml:"aria-label,attr"`
	Totals    string   `xml:"data-totals,attr"`
	ViewBox   string   `xml:"viewBox,attr"`
	Title     string   `xml:"title"`
	Groups    []struct {
		Class string `xml:"class,attr"`
		Texts []struct {
			Class string `xml:"class,attr"`
			Text  string `xml:",chardata"`
		} `xml:"text"`
		Series   string `xml:"data-series,attr"`
		Polyline struct {
			Points string `xml:"points,attr"`
		} `xml:"polyline"`
		Circles []struct {
			CX    float64 `xml:"cx,attr"`
			CY    float64 `xml:"cy,attr"`
			Title string  `xml:"title"`
		} `xml:"circle"`
		Line struct {
			Y1    float64 `xml:"y1,attr"`
			Title string  `xml:"title"`
		} `xml:"line"`
	} `xml:"g"`
}

func parseSVG(t *testing.T, s string) svgDoc {
	t.Helper()
	var d svgDoc
	dec := xml.NewDecoder(strings.NewReader(s))
	if err := dec.Decode(&d); err != nil && err != io.EOF {
		t.Fatalf("plot is not well-formed XML: %v\n%s", err, s)
	}
	return d
}

func TestPlotPointsAndScales(t *testing.T) {
	from := plotNow.Add(-24 * time.Hour).Truncate(bucket)
	at := from.Add(12 * time.Hour) // the middle of the x axis
	p := Plot{ID: "p", Label: "Sends <per> bucket", From: from, To: from.Add(24 * time.Hour),
		Series: []Series{{Name: "Delivery attempts", Class: "s1", Points: []Point{{from, 0}, {at, 7}, {at.Add(bucket), 0}}}}}
	d := parseSVG(t, string(p.SVG()))
	if d.Role != "img" || d.AriaLabel != "Sends <per> bucket" || d.Title != "Sends <per> bucket" {
		t.Errorf("role %q, aria-label %q, title %q", d.Role, d.AriaLabel, d.Title)
	}
	if d.Totals != "Delivery attempts=7" {
		t.Errorf("data-totals = %q", d.Totals)
	}
	// y: 7 rounds up to a top of 8 in steps of 2 (counts tick in whole numbers).
	var yticks, xticks []string
	for _, tx := range d.Groups[0].Texts {
		switch tx.Class {
		case "ytick":
			yticks = append(yticks, tx.Text)
		case "xtick":
			xticks = append(xticks, tx.Text)
		}
	}
	if got := strings.Join(yticks, " "); got != "0 2 4 6 8" {
		t.Errorf("y ticks = %q, want 0 2 4 6 8", got)
	}
	// x: 24 hours in 3-hour steps, UTC clock times.
	if len(xticks) < 7 || len(xticks) > 9 || !regexp.MustCompile(`^\d\d:00$`).MatchString(xticks[0]) {
		t.Errorf("x ticks = %q", xticks)
	}
	var series int
	for _, g := range d.Groups {
		if g.Series == "" {
			continue
		}
		series++
		if len(g.Circles) != 1 {
			t.Fatalf("circles = %+v, want one for the non-zero bucket", g.Circles)
		}
		c := g.Circles[0]
		wantX := padLeft + (plotW-padLeft-padRight)/2
		wantY := plotH - padBott - (plotH-padTop-padBott)*7/8
		if math.Abs(c.CX-wantX) > 0.1 || math.Abs(c.CY-wantY) > 0.1 {
			t.Errorf("point at (%g, %g), want (%g, %g)", c.CX, c.CY, wantX, wantY)
		}
		if want := at.Format("2006-01-02 15:04") + " UTC: 7 Delivery attempts"; c.Title != want {
			t.Errorf("tooltip %q, want %q", c.Title, want)
		}
		if n := len(strings.Fields(g.Polyline.Points)); n != 3 {
			t.Errorf("polyline has %d points, want 3", n)
		}
	}
	if series != 1 {
		t.Errorf("%d series groups, want 1", series)
	}
}

func TestPlotThresholdsOnScale(t *testing.T) {
	from := plotNow.Add(-7 * 24 * time.Hour)
	p := Plot{From: from, To: plotNow, Format: trimPercent,
		Series:     []Series{{Name: "Bounce rate", Class: "s2", Points: []Point{{from.Add(time.Hour), 0.01}}}},
		Thresholds: []Threshold{{"Under review", 0.05, "warn"}, {"Sending paused", 0.10, "bad"}}}
	s := string(p.SVG())
	d := parseSVG(t, s)
	top, _ := p.yMax()
	if top < 0.10 {
		t.Fatalf("y axis ends at %g, below the pause threshold", top)
	}
	var th []string
	for _, g := range d.Groups {
		if strings.HasPrefix(g.Class, "threshold") {
			th = append(th, g.Line.Title)
			if g.Line.Y1 < padTop || g.Line.Y1 > plotH-padBott {
				t.Errorf("threshold %q at y=%g is off the plot", g.Line.Title, g.Line.Y1)
			}
		}
	}
	if strings.Join(th, "|") != "Under review: 5%|Sending paused: 10%" {
		t.Errorf("thresholds = %q", th)
	}
	// Seven days tick by day.
	if !strings.Contains(s, ">"+plotNow.Add(-24*time.Hour).Format("Jan 2")+"<") {
		t.Errorf("no day label in the x axis:\n%s", s)
	}
}

func TestNiceStep(t *testing.T) {
	for raw, want := range map[float64]float64{0.3: 0.5, 1: 1, 1.2: 2, 3: 5, 7: 10, 0.012: 0.02, 250: 500} {
		if got := niceStep(raw); math.Abs(got-want) > 1e-12 {
			t.Errorf("niceStep(%g) = %g, want %g", raw, got, want)
		}
	}
}

func TestBuildStatistics(t *testing.T) {
	b := plotNow.Truncate(bucket)
	pt := func(at time.Time, attempts, bounces, complaints, rejects int64) sestypes.SendDataPoint {
		return sestypes.SendDataPoint{Timestamp: aws.Time(at), DeliveryAttempts: attempts, Bounces: bounces,
			Complaints: complaints, Rejects: rejects}
	}
	points := []sestypes.SendDataPoint{
		pt(b, 2, 1, 0, 0),                            // now
		pt(b.Add(-3*24*time.Hour), 10, 0, 1, 1),      // three days ago
		pt(b.Add(-20*24*time.Hour), 100, 50, 50, 50), // outside every range
	}
	d := buildStatistics(points, plotNow, "7d", 0.05, 0.10, 0.001, 0.005)
	if len(d.Totals) != 2 {
		t.Fatalf("totals = %+v", d.Totals)
	}
	week, day := d.Totals[0], d.Totals[1]
	if week.Attempts != 12 || week.Bounces != 1 || week.Complaints != 1 || week.Rejects != 1 {
		t.Errorf("7-day totals = %+v", week)
	}
	if day.Attempts != 2 || day.Bounces != 1 || day.BounceRate != 0.5 || day.BounceLevel != "bad" {
		t.Errorf("24-hour totals = %+v", day)
	}
	if week.ComplaintLevel != "bad" || day.ComplaintLevel != "" { // 1/12 complaints
		t.Errorf("complaint levels %q, %q", week.ComplaintLevel, day.ComplaintLevel)
	}
	if got := d.Activity.Series[0].Total(); got != 12 {
		t.Errorf("activity plot's attempts total %g, want 12", got)
	}
	// The zeros between the two bursts are there (the line drops), but a
	// run of empty buckets is two points, not hundreds.
	if n := len(d.Activity.Series[0].Points); n > 12 {
		t.Errorf("%d points for two buckets with activity", n)
	}
	if got := d.Bounce.Series[0].Points; len(got) != 2 || got[1].V != 0.5 {
		t.Errorf("bounce rate points = %+v", got)
	}
	// No data at all: every plot is an empty state.
	empty := buildStatistics(nil, plotNow, "24h", 0.05, 0.10, 0.001, 0.005)
	for _, p := range []Plot{empty.Activity, empty.Bounce, empty.Compl} {
		if strings.Contains(string(p.SVG()), "<svg") {
			t.Errorf("%s drawn without data", p.ID)
		}
	}
	if len(empty.Totals) != 1 || empty.Totals[0].Attempts != 0 {
		t.Errorf("empty totals = %+v", empty.Totals)
	}
}

func TestTrimPercent(t *testing.T) {
	for f, want := range map[float64]string{0.05: "5%", 0.001: "0.1%", 0.005: "0.5%", 1.0 / 3: "33.33%", 0: "0%"} {
		if got := trimPercent(f); got != want {
			t.Errorf("trimPercent(%g) = %q, want %q", f, got, want)
		}
	}
}
