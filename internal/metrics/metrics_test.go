package metrics

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"sesame/internal/outcome"
	"sesame/internal/testenv"
)

// scrape GETs h and returns each sample ("name{labels}") with its value.
func scrape(t *testing.T, h http.Handler) map[string]float64 {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("scrape: status %d: %s", rec.Code, rec.Body)
	}
	out, err := testenv.ParseMetrics(rec.Body)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestCollector(t *testing.T) {
	now := time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)
	oldest := now.Add(-90 * time.Second)
	var queueReads, outboxReads, snsReads atomic.Int32
	h := Handler(Sources{
		Queue: func() QueueStats {
			queueReads.Add(1)
			return QueueStats{Pending: 7, Deferred: 2, Oldest: oldest}
		},
		OutboxBacklog: func(context.Context) (int64, error) {
			outboxReads.Add(1)
			return 42, nil
		},
		SNSBacklog: func(context.Context) (int64, error) {
			snsReads.Add(1)
			return 0, errors.New("store down")
		},
		Now:    func() time.Time { return now },
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})

	m := scrape(t, h)
	want := map[string]float64{
		"sesame_queue_messages":                   7,
		"sesame_queue_deferred_messages":          2,
		"sesame_queue_oldest_message_age_seconds": 90,
		"sesame_events_outbox_backlog":            42,
	}
	for k, v := range want {
		if got, ok := m[k]; !ok || got != v {
			t.Errorf("%s = %v (present %v), want %v", k, got, ok, v)
		}
	}
	if _, ok := m["sesame_sns_backlog"]; ok {
		t.Error("sesame_sns_backlog reported although its source failed")
	}
	if _, ok := m["go_goroutines"]; !ok {
		t.Error("the Go runtime collector is missing")
	}

	// Within a second the readings are reused, age and all.
	now = now.Add(500 * time.Millisecond)
	scrape(t, h)
	if q, o, s := queueReads.Load(), outboxReads.Load(), snsReads.Load(); q != 1 || o != 1 || s != 1 {
		t.Errorf("reads after two scrapes in a second: queue %d, outbox %d, sns %d; want 1 each", q, o, s)
	}
	now = now.Add(time.Second)
	m = scrape(t, h)
	if q, o, s := queueReads.Load(), outboxReads.Load(), snsReads.Load(); q != 2 || o != 2 || s != 2 {
		t.Errorf("reads after a second: queue %d, outbox %d, sns %d; want 2 each", q, o, s)
	}
	if got := m["sesame_queue_oldest_message_age_seconds"]; got != 91.5 {
		t.Errorf("oldest age = %v, want 91.5", got)
	}
}

func TestCollectorEmptyQueue(t *testing.T) {
	h := Handler(Sources{Queue: func() QueueStats { return QueueStats{} }})
	m := scrape(t, h)
	if got, ok := m["sesame_queue_oldest_message_age_seconds"]; !ok || got != 0 {
		t.Errorf("oldest age of an empty queue = %v (present %v), want 0", got, ok)
	}
	if _, ok := m["sesame_events_outbox_backlog"]; ok {
		t.Error("outbox backlog reported without a source")
	}
}

func TestCounters(t *testing.T) {
	h := Handler(Sources{})
	before := scrape(t, h)
	received := time.Now().Add(-3 * time.Second)
	Accepted(ProtocolSMTP)
	Accepted(ProtocolAPI)
	Accepted(ProtocolAPI)
	Rejected("MessageRejected")
	Rejected("")
	Recorded(received, []outcome.Result{
		{Kind: outcome.Sent, Recipients: []string{"a@x", "b@x", "c@x"}},
		{Kind: outcome.Delivered, Recipients: []string{"a@x", "b@x"}, Time: received.Add(2 * time.Second)},
		{Kind: outcome.Bounced, Recipients: []string{"c@x"}, BounceType: outcome.BouncePermanent},
		{Kind: outcome.Delayed, Recipients: []string{"d@x"}},
		{Kind: outcome.Complained, Recipients: []string{"a@x"}},
	})
	EventsPublished(5)
	EventPublishFailed()
	SNSDelivery(true, false)
	SNSDelivery(false, false)
	SNSDelivery(false, true)
	after := scrape(t, h)

	want := map[string]float64{
		`sesame_messages_accepted_total{protocol="smtp"}`:          1,
		`sesame_messages_accepted_total{protocol="api"}`:           2,
		`sesame_messages_rejected_total{reason="MessageRejected"}`: 1,
		`sesame_messages_rejected_total{reason="other"}`:           1,
		`sesame_recipients_delivered_total`:                        2,
		`sesame_recipients_bounced_total{bounce_type="Permanent"}`: 1,
		`sesame_recipients_bounced_total{bounce_type="Transient"}`: 0,
		`sesame_recipients_delayed_total`:                          1,
		`sesame_recipients_complained_total`:                       1,
		`sesame_events_recorded_total{type="SEND"}`:                1,
		`sesame_events_recorded_total{type="DELIVERY"}`:            1,
		`sesame_events_recorded_total{type="BOUNCE"}`:              1,
		`sesame_events_recorded_total{type="DELIVERY_DELAY"}`:      1,
		`sesame_events_recorded_total{type="COMPLAINT"}`:           1,
		`sesame_events_published_total`:                            5,
		`sesame_events_publish_errors_total`:                       1,
		`sesame_sns_deliveries_total{result="ok"}`:                 1,
		`sesame_sns_deliveries_total{result="retry"}`:              1,
		`sesame_sns_deliveries_total{result="dropped"}`:            1,
		`sesame_delivery_latency_seconds_count`:                    2,
		`sesame_delivery_latency_seconds_bucket{le="2.5"}`:         2,
		`sesame_delivery_latency_seconds_bucket{le="1"}`:           0,
	}
	for k, v := range want {
		got, ok := after[k]
		if !ok {
			t.Errorf("%s missing from the scrape", k)
			continue
		}
		if d := got - before[k]; d != v {
			t.Errorf("%s moved by %v, want %v", k, d, v)
		}
	}
	// The sum is a float the whole process adds to: the difference of two
	// large sums is 4 only to within rounding.
	if s := after["sesame_delivery_latency_seconds_sum"] - before["sesame_delivery_latency_seconds_sum"]; math.Abs(s-4) > 1e-6 {
		t.Errorf("latency sum moved by %v, want 4 (2 s for each of 2 recipients)", s)
	}
}

// The counters on the SMTP DATA and delivery paths must not allocate.
func TestCountingDoesNotAllocate(t *testing.T) {
	results := []outcome.Result{{Kind: outcome.Delivered, Recipients: []string{"a@x"}, Time: time.Now()},
		{Kind: outcome.Bounced, Recipients: []string{"b@x"}, BounceType: outcome.BounceTransient}}
	received := time.Now()
	if n := testing.AllocsPerRun(100, func() {
		Accepted(ProtocolSMTP)
		Recorded(received, results)
		SNSDelivery(true, false)
	}); n != 0 {
		t.Errorf("counting allocates %v times per call", n)
	}
}

func BenchmarkAccepted(b *testing.B) {
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			Accepted(ProtocolSMTP)
		}
	})
}

// With a node name every metric — counters, the scrape-time levels, the Go
// runtime's — carries it as the label node.
func TestNodeLabel(t *testing.T) {
	h := Handler(Sources{Node: "mx-1", Queue: func() QueueStats { return QueueStats{Pending: 3} }})
	Accepted(ProtocolAPI)
	m := scrape(t, h)
	for _, k := range []string{`sesame_queue_messages{node="mx-1"}`, `sesame_recipients_delivered_total{node="mx-1"}`,
		`go_goroutines{node="mx-1"}`} {
		if _, ok := m[k]; !ok {
			t.Errorf("%s missing from the scrape", k)
		}
	}
	if m[`sesame_queue_messages{node="mx-1"}`] != 3 {
		t.Errorf(`sesame_queue_messages{node="mx-1"} = %v, want 3`, m[`sesame_queue_messages{node="mx-1"}`])
	}
	if _, ok := m[`sesame_messages_accepted_total{node="mx-1",protocol="api"}`]; !ok {
		t.Error(`sesame_messages_accepted_total{node="mx-1",protocol="api"} missing: labels are sorted, node first`)
	}
	for k := range m {
		if !strings.Contains(k, `node="mx-1"`) {
			t.Errorf("%s has no node label", k)
		}
	}
}
