package quota

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"sesame/internal/clock"
	"sesame/internal/seserr"
	"sesame/internal/store"
)

var start = time.Date(2026, 11, 23, 10, 0, 30, 0, time.UTC)

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func newMemLimiter(t *testing.T) (*Limiter, *clock.Fake) {
	t.Helper()
	clk := clock.NewFake(start)
	l := New(nil, clk, quiet())
	t.Cleanup(func() { l.Close() })
	return l, clk
}

// outcome names Reserve's result for table tests.
func outcome(err error) string {
	var se *seserr.Error
	switch {
	case err == nil:
		return "ok"
	case errors.As(err, &se) && se.SMTPReply() == seserr.MaxSendRateExceeded().SMTPReply():
		return "rate"
	case errors.As(err, &se) && se.SMTPReply() == seserr.DailyQuotaExceeded().SMTPReply():
		return "daily"
	default:
		return err.Error()
	}
}

func TestSendRate(t *testing.T) {
	t.Parallel()
	type step struct {
		advance time.Duration
		rcpts   int
		want    string
	}
	tests := []struct {
		name  string
		rate  float64
		steps []step
	}{
		{name: "burst of one second's worth, then refused", rate: 3, steps: []step{
			{0, 1, "ok"}, {0, 1, "ok"}, {0, 1, "ok"}, {0, 1, "rate"},
		}},
		{name: "refills per second", rate: 2, steps: []step{
			{0, 2, "ok"}, {0, 1, "rate"}, {500 * time.Millisecond, 1, "ok"}, {0, 1, "rate"},
			{time.Second, 2, "ok"}, {0, 1, "rate"},
		}},
		{name: "no burst beyond one second however long idle", rate: 2, steps: []step{
			{time.Hour, 2, "ok"}, {0, 1, "rate"},
		}},
		{name: "recipients, not messages", rate: 5, steps: []step{
			{0, 4, "ok"}, {0, 2, "rate"}, {0, 1, "ok"},
		}},
		{name: "sandbox 1/s: a 3-recipient message passes a full bucket, then waits 3 s", rate: 1, steps: []step{
			{0, 3, "ok"}, {time.Second, 1, "rate"}, {time.Second, 1, "rate"}, {time.Second, 1, "ok"},
		}},
		{name: "fractional rate", rate: 0.5, steps: []step{
			{0, 1, "ok"}, {time.Second, 1, "rate"}, {time.Second, 1, "ok"},
		}},
		{name: "no rate limit", rate: 0, steps: []step{
			{0, 1000, "ok"}, {0, 1000, "ok"},
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			l, clk := newMemLimiter(t)
			lim := Limits{MaxSendRate: tc.rate, Max24HourSend: -1}
			for i, s := range tc.steps {
				clk.Advance(s.advance)
				if got := outcome(l.Reserve(context.Background(), "111122223333", "us-east-1", lim, s.rcpts, s.rcpts)); got != s.want {
					t.Fatalf("step %d (%+v): %s, want %s", i, s, got, s.want)
				}
			}
		})
	}
}

func TestDailyQuota(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	l, clk := newMemLimiter(t)
	lim := Limits{MaxSendRate: 0, Max24HourSend: 10}
	const acct, region = "111122223333", "us-east-1"

	if got := outcome(l.Reserve(ctx, acct, region, lim, 6, 6)); got != "ok" {
		t.Fatal(got)
	}
	clk.Advance(12 * time.Hour)
	if got := outcome(l.Reserve(ctx, acct, region, lim, 4, 4)); got != "ok" {
		t.Fatal(got)
	}
	if got := l.SentLast24Hours(acct, region); got != 10 {
		t.Fatalf("SentLast24Hours = %v, want 10", got)
	}
	if got := outcome(l.Reserve(ctx, acct, region, lim, 1, 1)); got != "daily" {
		t.Fatalf("11th recipient: %s, want daily", got)
	}
	// Simulator recipients count toward the rate only.
	if got := outcome(l.Reserve(ctx, acct, region, lim, 3, 0)); got != "ok" {
		t.Fatalf("simulator-only message: %s", got)
	}
	// Other regions and accounts have their own quota.
	if got := outcome(l.Reserve(ctx, acct, "eu-west-1", lim, 10, 10)); got != "ok" {
		t.Fatal(got)
	}
	if got := outcome(l.Reserve(ctx, "444455556666", region, lim, 10, 10)); got != "ok" {
		t.Fatal(got)
	}
	// Almost 24 h after the first send it still counts ...
	clk.Advance(12*time.Hour - time.Minute)
	if got := outcome(l.Reserve(ctx, acct, region, lim, 1, 1)); got != "daily" {
		t.Fatalf("23:59 later: %s, want daily", got)
	}
	// ... and 24 h after it, it is out of the window.
	clk.Advance(time.Minute)
	if got := l.SentLast24Hours(acct, region); got != 4 {
		t.Fatalf("SentLast24Hours = %v, want 4", got)
	}
	if got := outcome(l.Reserve(ctx, acct, region, lim, 6, 6)); got != "ok" {
		t.Fatalf("24 h later: %s", got)
	}
	if got := outcome(l.Reserve(ctx, acct, region, lim, 1, 1)); got != "daily" {
		t.Fatalf("full again: %s, want daily", got)
	}
	// A long idle period frees everything.
	clk.Advance(72 * time.Hour)
	if got := l.SentLast24Hours(acct, region); got != 0 {
		t.Fatalf("after 72 h idle: SentLast24Hours = %v", got)
	}
}

func TestDailyQuotaUnlimitedAndRefusalCountsNothing(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	l, _ := newMemLimiter(t)
	const acct, region = "111122223333", "us-east-1"
	for range 3 {
		if err := l.Reserve(ctx, acct, region, Limits{Max24HourSend: -1}, 50, 50); err != nil {
			t.Fatal(err)
		}
	}
	if got := l.SentLast24Hours(acct, region); got != 150 {
		t.Fatalf("SentLast24Hours = %v, want 150 (unlimited still counts)", got)
	}
	// A refusal by the rate counts nothing toward the daily quota, and a
	// refusal by the daily quota takes no rate tokens.
	lim := Limits{MaxSendRate: 1, Max24HourSend: 151}
	if got := outcome(l.Reserve(ctx, acct, region, lim, 2, 2)); got != "daily" {
		t.Fatal(got)
	}
	if got := outcome(l.Reserve(ctx, acct, region, lim, 1, 1)); got != "ok" {
		t.Fatalf("after a daily refusal the rate bucket should be full: %s", got)
	}
	if got := outcome(l.Reserve(ctx, acct, region, Limits{MaxSendRate: 1, Max24HourSend: 1000}, 1, 1)); got != "rate" {
		t.Fatal(got)
	}
	if got := l.SentLast24Hours(acct, region); got != 151 {
		t.Fatalf("SentLast24Hours = %v, want 151", got)
	}
}

func TestRefund(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	l, _ := newMemLimiter(t)
	lim := Limits{MaxSendRate: 2, Max24HourSend: 2}
	const acct, region = "111122223333", "us-east-1"
	if err := l.Reserve(ctx, acct, region, lim, 2, 2); err != nil {
		t.Fatal(err)
	}
	l.Refund(acct, region, lim, 2, 2)
	if got := l.SentLast24Hours(acct, region); got != 0 {
		t.Fatalf("after refund SentLast24Hours = %v", got)
	}
	if err := l.Reserve(ctx, acct, region, lim, 2, 2); err != nil {
		t.Fatalf("after refund: %v", err)
	}
}

func TestClockSteppingBack(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	l, clk := newMemLimiter(t)
	lim := Limits{Max24HourSend: 5}
	const acct, region = "111122223333", "us-east-1"
	if err := l.Reserve(ctx, acct, region, lim, 3, 3); err != nil {
		t.Fatal(err)
	}
	clk.Advance(-48 * time.Hour)
	if err := l.Reserve(ctx, acct, region, lim, 2, 2); err != nil {
		t.Fatal(err)
	}
	if got := outcome(l.Reserve(ctx, acct, region, lim, 1, 1)); got != "daily" {
		t.Fatalf("quota must still hold after the clock stepped back: %s", got)
	}
}

func TestPersistedAcrossRestart(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	st, err := store.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	clk := clock.NewFake(start)
	const acct, region = "111122223333", "us-east-1"
	lim := Limits{Max24HourSend: 100}

	l := New(st, clk, quiet())
	if err := l.Reserve(ctx, acct, region, lim, 30, 30); err != nil {
		t.Fatal(err)
	}
	if err := l.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	clk.Advance(10 * time.Hour)
	if err := l.Reserve(ctx, acct, region, lim, 20, 20); err != nil {
		t.Fatal(err)
	}
	if err := l.Reserve(ctx, acct, "eu-west-1", lim, 7, 7); err != nil {
		t.Fatal(err)
	}
	if err := l.Close(); err != nil { // flushes the rest
		t.Fatal(err)
	}

	// A second process, through its own store handle.
	st2, err := store.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer st2.Close()
	l2 := New(st2, clk, quiet())
	defer l2.Close()
	if got := l2.SentLast24Hours(acct, region); got != 50 {
		t.Fatalf("after restart SentLast24Hours = %v, want 50", got)
	}
	if got := l2.SentLast24Hours(acct, "eu-west-1"); got != 7 {
		t.Fatalf("after restart eu-west-1 = %v, want 7", got)
	}
	if got := outcome(l2.Reserve(ctx, acct, region, lim, 51, 51)); got != "daily" {
		t.Fatalf("after restart: %s, want daily", got)
	}
	// The first 30 leave the window 24 h after they were sent.
	clk.Advance(14 * time.Hour)
	if got := l2.SentLast24Hours(acct, region); got != 20 {
		t.Fatalf("24 h after the first send SentLast24Hours = %v, want 20", got)
	}
	if err := l2.Reserve(ctx, acct, region, lim, 80, 80); err != nil {
		t.Fatal(err)
	}
	// Counts are added, not replaced: a third handle sees both processes'.
	if err := l2.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	counts, err := st2.SendCountsSince(ctx, acct, region, clk.Now().Add(-24*time.Hour+time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	var sum int64
	for _, c := range counts {
		sum += c.N
	}
	if sum != 100 {
		t.Fatalf("store holds %d recipients in the window, want 100", sum)
	}
}

func TestBackgroundFlush(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st, err := store.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	clk := clock.NewFake(start)
	l := New(st, clk, quiet())
	defer l.Close()
	if err := l.Reserve(ctx, "111122223333", "us-east-1", Limits{Max24HourSend: -1}, 5, 5); err != nil {
		t.Fatal(err)
	}
	// The flush runs on real time, about once a second: poll for it.
	deadline := time.Now().Add(10 * time.Second)
	for {
		counts, err := st.SendCountsSince(ctx, "111122223333", "us-east-1", start.Add(-time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		if len(counts) == 1 && counts[0].N == 5 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("not flushed within 10 s: %+v", counts)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func BenchmarkReserve(b *testing.B) {
	l := New(nil, clock.Real{}, quiet())
	defer l.Close()
	ctx := context.Background()
	lim := Limits{MaxSendRate: 1e9, Max24HourSend: -1}
	b.ReportAllocs()
	for b.Loop() {
		if err := l.Reserve(ctx, "111122223333", "us-east-1", lim, 1, 1); err != nil {
			b.Fatal(err)
		}
	}
}

// TestConcurrentReserve: however many sessions race, exactly the quota's
// worth of recipients is admitted.
func TestConcurrentReserve(t *testing.T) {
	t.Parallel()
	l, _ := newMemLimiter(t)
	lim := Limits{MaxSendRate: 1000, Max24HourSend: 150}
	var admitted, daily, rate atomic.Int64
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 50 {
				err := l.Reserve(context.Background(), "111122223333", "us-east-1", lim, 1, 1)
				switch outcome(err) {
				case "ok":
					admitted.Add(1)
				case "daily":
					daily.Add(1)
				case "rate":
					rate.Add(1)
				default:
					t.Errorf("goroutine %d: %v", g, err)
				}
			}
		}()
	}
	wg.Wait()
	if admitted.Load() != 150 || daily.Load() != 250 || rate.Load() != 0 {
		t.Fatalf("admitted %d, daily refusals %d, rate refusals %d; want 150, 250, 0", admitted.Load(), daily.Load(), rate.Load())
	}
}

// The server passes a *store.Store as the Store.
var _ Store = (*store.Store)(nil)
