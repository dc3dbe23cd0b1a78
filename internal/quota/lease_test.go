package quota

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"sesame/internal/clock"
	"sesame/internal/store"
)

// sharedStore is a SQLite store standing in for a PostgreSQL one shared by
// several nodes (the leasing SQL is the same on both; the store package
// tests it on both engines), counting the database round trips.
type sharedStore struct {
	*store.Store
	leases, tokens atomic.Int64
}

func (s *sharedStore) Shared() bool { return true }

func (s *sharedStore) TakeSendLease(ctx context.Context, accountID, region string, at time.Time, need, want, quota int64) (int64, int64, error) {
	s.leases.Add(1)
	return s.Store.TakeSendLease(ctx, accountID, region, at, need, want, quota)
}

func (s *sharedStore) TakeRateTokens(ctx context.Context, accountID, region string, at time.Time, rate float64, need, want int64) (int64, float64, error) {
	s.tokens.Add(1)
	return s.Store.TakeRateTokens(ctx, accountID, region, at, rate, need, want)
}

// newCluster returns n Limiters ("nodes") sharing one store and clock.
func newCluster(t *testing.T, n int) ([]*Limiter, *sharedStore, *clock.Fake) {
	t.Helper()
	st, err := store.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	ss := &sharedStore{Store: st}
	clk := clock.NewFake(start)
	nodes := make([]*Limiter, n)
	for i := range nodes {
		nodes[i] = New(ss, clk, quiet())
		if nodes[i].ls == nil {
			t.Fatal("a shared store did not make the Limiter lease")
		}
		t.Cleanup(func() { nodes[i].Close() })
	}
	return nodes, ss, clk
}

const acct, region = "111122223333", "us-east-1"

// Nodes sending as fast as they can, each until refused, accept exactly
// the quota between them, small quotas included.
func TestSharedDailyQuotaAcrossNodes(t *testing.T) {
	t.Parallel()
	for _, quota := range []float64{1, 2, 3, 10, 250} {
		t.Run(fmt.Sprint(quota), func(t *testing.T) {
			t.Parallel()
			nodes, _, _ := newCluster(t, 3)
			lim := Limits{MaxSendRate: 0, Max24HourSend: quota}
			var accepted atomic.Int64
			var wg sync.WaitGroup
			for _, l := range nodes {
				for range 2 {
					wg.Go(func() {
						for {
							err := l.Reserve(context.Background(), acct, region, lim, 1, 1)
							if got := outcome(err); got != "ok" {
								if got != "daily" {
									t.Error(got)
								}
								return
							}
							accepted.Add(1)
						}
					})
				}
			}
			wg.Wait()
			if got := accepted.Load(); got != int64(quota) {
				t.Errorf("accepted %d; want %v", got, quota)
			}
		})
	}
}

// A busy node takes big batches; a message that fits its lease asks the
// database nothing; near the quota the batches shrink so other nodes get
// their share, and units a node does not use go back.
func TestSharedLeaseBatchesAndReturns(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	nodes, ss, clk := newCluster(t, 2)
	a, b := nodes[0], nodes[1]

	lim := Limits{MaxSendRate: 0, Max24HourSend: 1e6}
	// 100 recipients a second for 3 seconds.
	for range 300 {
		if err := a.Reserve(ctx, acct, region, lim, 1, 1); err != nil {
			t.Fatal(err)
		}
		clk.Advance(10 * time.Millisecond)
	}
	if n := ss.leases.Load(); n > 15 {
		t.Errorf("%d database leases for 300 messages; want batches", n)
	}
	if got := a.SentLast24Hours(acct, region); got != 300 {
		t.Errorf("SentLast24Hours = %v; want 300 (held units not counted)", got)
	}

	// A quota of 400, once a's leftover units went back: 100 left. A big
	// message takes 60; a's next batch is what it sent this second (60),
	// but at most half of the 40 left.
	clk.Advance(leaseTTL)
	if err := a.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	lim.Max24HourSend = 400
	if err := a.Reserve(ctx, acct, region, lim, 60, 60); err != nil {
		t.Fatal(err)
	}
	if err := a.Reserve(ctx, acct, region, lim, 1, 1); err != nil {
		t.Fatal(err)
	}
	// a holds 19 more; 20 are left for b.
	if got := outcome(b.Reserve(ctx, acct, region, lim, 21, 21)); got != "daily" {
		t.Fatalf("b asking 21 while a holds 19: %s, want daily", got)
	}
	if got := b.SentLast24Hours(acct, region); got != 380 {
		t.Errorf("b's SentLast24Hours = %v; want 380 (a's unused units count until returned)", got)
	}
	if got := a.SentLast24Hours(acct, region); got != 361 {
		t.Errorf("a's SentLast24Hours = %v; want 361", got)
	}
	clk.Advance(leaseTTL)
	if err := a.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if got := outcome(b.Reserve(ctx, acct, region, lim, 39, 39)); got != "ok" {
		t.Fatalf("b asking 39 once a gave back: %s", got)
	}
	if got := outcome(a.Reserve(ctx, acct, region, lim, 1, 1)); got != "daily" {
		t.Fatalf("401st: %s, want daily", got)
	}

	// A refund goes back into the node's lease.
	clk.Advance(24 * time.Hour)
	lim.Max24HourSend = 1
	if err := a.Reserve(ctx, acct, region, lim, 1, 1); err != nil {
		t.Fatal(err)
	}
	a.Refund(acct, region, lim, 1, 1)
	if err := a.Reserve(ctx, acct, region, lim, 1, 1); err != nil {
		t.Fatalf("after a refund: %v", err)
	}
	if got := outcome(b.Reserve(ctx, acct, region, lim, 1, 1)); got != "daily" {
		t.Fatalf("second of a quota of 1: %s", got)
	}
}

// The send rate holds across nodes within a second's worth more than one
// node's limiter allows: over T seconds at most rate×(T+2).
func TestSharedSendRateAcrossNodes(t *testing.T) {
	t.Parallel()
	for _, rate := range []int{20, 1000} {
		t.Run(fmt.Sprint(rate), func(t *testing.T) {
			t.Parallel()
			sendAtRate(t, rate)
		})
	}
}

// sendAtRate sends through three nodes for 10 s, each trying every
// millisecond, twice the rate in all, and checks what passes.
func sendAtRate(t *testing.T, rate int) {
	ctx := context.Background()
	nodes, ss, clk := newCluster(t, 3)
	lim := Limits{MaxSendRate: float64(rate), Max24HourSend: -1}
	accepted := 0
	const seconds = 10
	tries := max(1, 2*rate/1000/len(nodes))
	for range seconds * 1000 {
		for _, l := range nodes {
			for range tries {
				if outcome(l.Reserve(ctx, acct, region, lim, 1, 0)) == "ok" {
					accepted++
				}
			}
		}
		clk.Advance(time.Millisecond)
	}
	if hi, lo := rate*(seconds+2), rate*seconds*8/10; accepted > hi || accepted < lo {
		t.Errorf("accepted %d over %d s at %d/s; want %d..%d", accepted, seconds, rate, lo, hi)
	}
	// At most a few asks per node and second, however many messages.
	if n := ss.tokens.Load(); n > int64(seconds*len(nodes)*8) {
		t.Errorf("%d database round trips for %d messages", n, accepted)
	}
	t.Logf("accepted %d, %d token requests", accepted, ss.tokens.Load())
}

// The sandbox's 1/s holds on a shared store as on one node.
func TestSharedSandboxRate(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	nodes, _, clk := newCluster(t, 2)
	lim := Limits{MaxSendRate: 1, Max24HourSend: 200}
	steps := []struct {
		node    int
		advance time.Duration
		rcpts   int
		want    string
	}{
		{0, 0, 1, "ok"}, {0, 0, 1, "rate"}, {1, 0, 1, "rate"},
		{1, 999 * time.Millisecond, 1, "rate"}, {1, time.Millisecond, 1, "ok"},
		{0, time.Second, 3, "ok"}, // a full bucket lets a bigger message through, in debt
		{1, time.Second, 1, "rate"}, {0, time.Second, 1, "rate"}, {1, time.Second, 1, "ok"},
	}
	for i, s := range steps {
		clk.Advance(s.advance)
		if got := outcome(nodes[s.node].Reserve(ctx, acct, region, lim, s.rcpts, s.rcpts)); got != s.want {
			t.Fatalf("step %d (%+v): %s, want %s", i, s, got, s.want)
		}
	}
}

// BenchmarkReserveShared is BenchmarkReserve against a shared store's
// leases: a lease hit stays in memory; db-asks is how often the database
// was asked in all.
func BenchmarkReserveShared(b *testing.B) {
	st, err := store.Open(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	ss := &sharedStore{Store: st}
	l := New(ss, clock.Real{}, quiet())
	defer l.Close()
	ctx := context.Background()
	lim := Limits{MaxSendRate: 1e9, Max24HourSend: -1}
	b.ReportAllocs()
	for b.Loop() {
		if err := l.Reserve(ctx, acct, region, lim, 1, 1); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(ss.leases.Load()+ss.tokens.Load()), "db-asks")
}
