package store

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestSendLeases(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := openTest(t, t.TempDir())
	if s.Shared() != onPostgres {
		t.Errorf("Shared() = %v on PostgreSQL = %v", s.Shared(), onPostgres)
	}
	t0 := time.Date(2026, 11, 22, 10, 0, 30, 0, time.UTC)
	const acct, region = "a", "us-east-1"
	take := func(at time.Time, need, want, quota int64) (int64, int64) {
		t.Helper()
		g, l, err := s.TakeSendLease(ctx, acct, region, at, need, want, quota)
		if err != nil {
			t.Fatal(err)
		}
		return g, l
	}
	tests := []struct {
		name                  string
		at                    time.Time
		need, want, quota     int64
		wantGranted, wantLeft int64
	}{
		{"far from the quota: what is wanted", t0, 1, 10, 100, 10, 90},
		{"nearer: at most half of what is left", t0, 1, 80, 100, 45, 45},
		{"need beats half", t0, 40, 40, 100, 40, 5},
		{"one left of five: at least need", t0.Add(time.Minute), 1, 1, 96, 1, 0},
		{"none left: refused", t0.Add(time.Minute), 1, 1, 96, 0, 0},
		{"more than left: refused", t0, 2, 2, 97, 0, 1},
	}
	for _, tc := range tests {
		g, l := take(tc.at, tc.need, tc.want, tc.quota)
		if g != tc.wantGranted || l != tc.wantLeft {
			t.Errorf("%s: granted %d, left %d; want %d, %d", tc.name, g, l, tc.wantGranted, tc.wantLeft)
		}
	}
	// Grants count in their minute; a return takes units off it.
	counts, _ := s.SendCountsSince(ctx, acct, region, t0)
	if len(counts) != 2 || counts[0].N != 95 || counts[1].N != 1 {
		t.Fatalf("send counts %+v; want 95 then 1", counts)
	}
	if err := s.ReturnSendLease(ctx, acct, region, t0, 5); err != nil {
		t.Fatal(err)
	}
	if g, l := take(t0.Add(2*time.Minute), 1, 100, 96); g != 2 || l != 3 {
		t.Errorf("after returning 5: granted %d, left %d; want 2, 3", g, l)
	}
	// 24 hours after t0's minute, its grants are out of the window.
	if g, l := take(t0.Add(24*time.Hour), 1, 1000, 96); g != 46 || l != 47 {
		t.Errorf("a day later: granted %d, left %d; want 46, 47 (3 still in the window)", g, l)
	}
}

// Nodes asking at once never get more than the quota between them.
func TestSendLeasesConcurrent(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	handles := []*Store{openTest(t, dir), openTest(t, dir), openTest(t, dir)}
	at := time.Date(2026, 11, 22, 10, 0, 30, 0, time.UTC)
	const quota = 50
	var total atomic.Int64
	var wg sync.WaitGroup
	for i := range 6 {
		s := handles[i%len(handles)]
		wg.Go(func() {
			for {
				g, _, err := s.TakeSendLease(ctx, "a", "us-east-1", at, 1, 3, quota)
				if err != nil {
					t.Error(err)
					return
				}
				if g == 0 {
					return
				}
				total.Add(g)
			}
		})
	}
	wg.Wait()
	if got := total.Load(); got != quota {
		t.Errorf("granted %d in all; want exactly %d", got, quota)
	}
}

func TestRateTokens(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := openTest(t, t.TempDir())
	t0 := time.Date(2026, 11, 22, 10, 0, 30, 0, time.UTC)
	type step struct {
		advance          time.Duration
		rate             float64
		need, want       int64
		granted          int64
		tokensAfterGrant float64
	}
	steps := []step{
		{0, 10, 1, 4, 4, 6},                      // fresh bucket full: 10
		{0, 10, 1, 100, 3, 3},                    // half of 6
		{0, 10, 3, 3, 3, 0},                      // exactly what is left
		{0, 10, 1, 1, 0, 0},                      // empty
		{500 * time.Millisecond, 10, 2, 2, 2, 3}, // refilled 5
		{time.Hour, 10, 25, 25, 25, -15},         // full: an oversize need passes, in debt
		{time.Second, 10, 1, 1, 0, -5},           // still in debt
		{2 * time.Second, 10, 1, 1, 1, 9},        // full again (capped at 10)
		{time.Hour, 0.5, 1, 1, 1, -0.5},          // a lowered rate caps the bucket
		{time.Second, 0.5, 1, 1, 0, 0},           // fractional refill
		{2 * time.Second, 0.5, 1, 1, 1, -0.5},    // full at 0.5 again
	}
	at := t0
	for i, st := range steps {
		at = at.Add(st.advance)
		g, tok, err := s.TakeRateTokens(ctx, "a", "us-east-1", at, st.rate, st.need, st.want)
		if err != nil {
			t.Fatal(err)
		}
		if g != st.granted || tok < st.tokensAfterGrant-1e-6 || tok > st.tokensAfterGrant+1e-6 {
			t.Errorf("step %d %+v: granted %d, tokens %v", i, st, g, tok)
		}
	}
}
