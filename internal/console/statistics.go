package console

import (
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/ses"
	sestypes "github.com/aws/aws-sdk-go-v2/service/ses/types"
)

func init() {
	accountPages = append(accountPages, func(s *Server) map[string]handler {
		return map[string]handler{
			"GET /statistics":       s.statistics,
			"GET /statistics/plots": s.statisticsPlots,
		}
	})
}

// bucket is SES's statistics granularity: GetSendStatistics answers one
// data point per 15 minutes with activity.
const bucket = 15 * time.Minute

// statRanges are the periods the page offers; GetSendStatistics covers
// two weeks, so that is the longest.
var statRanges = []struct{ Key, Label string }{{"24h", "Last 24 hours"}, {"7d", "Last 7 days"}, {"14d", "Last 14 days"}}

var statRangeDur = map[string]time.Duration{"24h": 24 * time.Hour, "7d": 7 * 24 * time.Hour, "14d": 14 * 24 * time.Hour}

// statTotals is one row of the totals table.
type statTotals struct {
	Label                                  string
	Attempts, Bounces, Complaints, Rejects int64
	BounceRate, ComplaintRate              float64
	BounceLevel, ComplaintLevel            string // "", warn or bad against the thresholds
}

// statisticsData fills statistics.html.
type statisticsData struct {
	Range    string
	Ranges   []struct{ Key, Label string }
	Updated  time.Time
	Activity Plot
	Bounce   Plot
	Compl    Plot
	Totals   []statTotals
}

// statistics is the sending statistics page: SES's 15-minute data points
// of the last two weeks (v1 GetSendStatistics, as the AWS console and `aws
// ses get-send-statistics` show them), as plots and totals.
func (s *Server) statistics(w http.ResponseWriter, r *http.Request, v *view) error {
	d, err := s.statisticsData(r, v)
	if err != nil {
		return err
	}
	return v.Render(w, "statistics", "Sending statistics", d)
}

// statisticsPlots is the plots and totals alone, for the page's htmx
// refresh every 30 seconds.
func (s *Server) statisticsPlots(w http.ResponseWriter, r *http.Request, v *view) error {
	d, err := s.statisticsData(r, v)
	if err != nil {
		return err
	}
	return v.Fragment(w, "statistics", "plots", d)
}

func (s *Server) statisticsData(r *http.Request, v *view) (statisticsData, error) {
	rng := r.URL.Query().Get("range")
	if _, ok := statRangeDur[rng]; !ok {
		rng = "14d"
	}
	out, err := v.SES().GetSendStatistics(r.Context(), &ses.GetSendStatisticsInput{})
	if err != nil {
		return statisticsData{}, err
	}
	now := s.clk.Now().UTC()
	return buildStatistics(out.SendDataPoints, now, rng, s.cfg.Thresholds.BounceReview, s.cfg.Thresholds.BouncePause,
		s.cfg.Thresholds.ComplaintReview, s.cfg.Thresholds.ComplaintPause), nil
}

// buildStatistics turns SES's data points into the page's plots and totals
// for the range ending at now.
func buildStatistics(points []sestypes.SendDataPoint, now time.Time, rng string, bReview, bPause, cReview, cPause float64) statisticsData {
	to := now
	from := now.Add(-statRangeDur[rng]).Truncate(bucket)
	pts := append([]sestypes.SendDataPoint(nil), points...)
	sort.Slice(pts, func(i, j int) bool { return ts(pts[i]).Before(ts(pts[j])) })

	var attempts, bounces, complaints, rejects, bRate, cRate []Point
	for _, p := range pts {
		t := ts(p)
		if t.Before(from) || t.After(to) {
			continue
		}
		attempts = append(attempts, Point{t, float64(p.DeliveryAttempts)})
		bounces = append(bounces, Point{t, float64(p.Bounces)})
		complaints = append(complaints, Point{t, float64(p.Complaints)})
		rejects = append(rejects, Point{t, float64(p.Rejects)})
		// A rate is defined only where something was sent.
		if p.DeliveryAttempts > 0 {
			bRate = append(bRate, Point{t, float64(p.Bounces) / float64(p.DeliveryAttempts)})
			cRate = append(cRate, Point{t, float64(p.Complaints) / float64(p.DeliveryAttempts)})
		}
	}
	label := map[string]string{}
	for _, r := range statRanges {
		label[r.Key] = r.Label
	}
	period := label[rng]
	d := statisticsData{Range: rng, Ranges: statRanges, Updated: now}
	d.Activity = Plot{ID: "plot-activity", Label: "Delivery attempts, bounces, complaints and rejects per 15 minutes, " + lowerFirst(period) + " (UTC)",
		From: from, To: to, Empty: "Nothing was sent in this period. Send an email and it shows here within a minute.",
		Series: []Series{
			{Name: "Delivery attempts", Class: "s1", Points: zeroFill(attempts, from, to)},
			{Name: "Bounces", Class: "s2", Points: zeroFill(bounces, from, to)},
			{Name: "Complaints", Class: "s3", Points: zeroFill(complaints, from, to)},
			{Name: "Rejects", Class: "s4", Points: zeroFill(rejects, from, to)},
		}}
	rate := func(f float64) string { return trimPercent(f) }
	d.Bounce = Plot{ID: "plot-bounce-rate", Label: "Bounce rate per 15 minutes (bounces / delivery attempts), " + lowerFirst(period),
		From: from, To: to, Format: rate, Empty: "No bounces in this period.",
		Series:     []Series{{Name: "Bounce rate", Class: "s2", Points: bRate}},
		Thresholds: []Threshold{{Label: "Under review", V: bReview, Class: "warn"}, {Label: "Sending paused", V: bPause, Class: "bad"}}}
	d.Compl = Plot{ID: "plot-complaint-rate", Label: "Complaint rate per 15 minutes (complaints / delivery attempts), " + lowerFirst(period),
		From: from, To: to, Format: rate, Empty: "No complaints in this period.",
		Series:     []Series{{Name: "Complaint rate", Class: "s3", Points: cRate}},
		Thresholds: []Threshold{{Label: "Under review", V: cReview, Class: "warn"}, {Label: "Sending paused", V: cPause, Class: "bad"}}}

	total := func(label string, since time.Time) statTotals {
		t := statTotals{Label: label}
		for _, p := range pts {
			if ts(p).Before(since) || ts(p).After(to) {
				continue
			}
			t.Attempts += p.DeliveryAttempts
			t.Bounces += p.Bounces
			t.Complaints += p.Complaints
			t.Rejects += p.Rejects
		}
		if t.Attempts > 0 {
			t.BounceRate = float64(t.Bounces) / float64(t.Attempts)
			t.ComplaintRate = float64(t.Complaints) / float64(t.Attempts)
		}
		t.BounceLevel = level(t.BounceRate, bReview, bPause)
		t.ComplaintLevel = level(t.ComplaintRate, cReview, cPause)
		return t
	}
	d.Totals = []statTotals{total(period, from)}
	if rng != "24h" {
		d.Totals = append(d.Totals, total("Last 24 hours", now.Add(-24*time.Hour).Truncate(bucket)))
	}
	return d
}

func ts(p sestypes.SendDataPoint) time.Time {
	if p.Timestamp == nil {
		return time.Time{}
	}
	return p.Timestamp.UTC()
}

// zeroFill adds the zeros SES leaves out (it answers only buckets with
// activity), so a line falls back to zero between bursts instead of
// joining them; of each run of empty buckets only its ends are kept.
func zeroFill(pts []Point, from, to time.Time) []Point {
	if len(pts) == 0 {
		return nil
	}
	have := map[time.Time]float64{}
	for _, p := range pts {
		have[p.T] += p.V
	}
	var out []Point
	start := from.Truncate(bucket)
	inRun := false
	for t := start; !t.After(to); t = t.Add(bucket) {
		v, ok := have[t]
		if ok && v != 0 {
			out = append(out, Point{t, v})
			inRun = false
			continue
		}
		next := t.Add(bucket)
		_, nextHas := have[next]
		if !inRun || nextHas || next.After(to) {
			out = append(out, Point{t, 0})
		}
		inRun = true
	}
	return out
}

// level is the CSS class of a rate against its thresholds.
func level(rate, review, pause float64) string {
	switch {
	case pause > 0 && rate >= pause:
		return "bad"
	case review > 0 && rate >= review:
		return "warn"
	}
	return ""
}

// trimPercent writes a rate as a percentage with as few digits as say it
// (0.05 → "5%", 0.001 → "0.1%", 1/3 → "33.33%").
func trimPercent(f float64) string {
	return strconv.FormatFloat(mathRound(f*100, 2), 'f', -1, 64) + "%"
}

func mathRound(f float64, digits int) float64 {
	v, _ := strconv.ParseFloat(fmt.Sprintf("%.*f", digits, f), 64)
	return v
}

func lowerFirst(s string) string {
	if s == "" {
		return s
	}
	return string(s[0]|0x20) + s[1:]
}
