package ttlcache

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"sesame/internal/clock"
)

var t0 = time.Date(2026, 11, 23, 14, 5, 9, 0, time.UTC)

func TestTTLCache(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	clk := clock.NewFake(t0)
	c := New[string, int](clk, time.Second, 0)
	var loads atomic.Int64
	value := 1
	load := func(context.Context) (int, error) { loads.Add(1); return value, nil }

	if v, _ := c.Get(ctx, "k", load); v != 1 || loads.Load() != 1 {
		t.Fatalf("first get: %d after %d loads", v, loads.Load())
	}
	value = 2
	clk.Advance(999 * time.Millisecond)
	if v, _ := c.Get(ctx, "k", load); v != 1 || loads.Load() != 1 {
		t.Fatalf("within the TTL: %d after %d loads", v, loads.Load())
	}
	clk.Advance(time.Millisecond)
	if v, _ := c.Get(ctx, "k", load); v != 2 || loads.Load() != 2 {
		t.Fatalf("at the TTL: %d after %d loads", v, loads.Load())
	}
	clk.Advance(-time.Hour) // a clock stepping back does not pin a value forever
	if v, _ := c.Get(ctx, "k", load); v != 2 || loads.Load() != 3 {
		t.Fatalf("after the clock stepped back: %d after %d loads", v, loads.Load())
	}

	// Errors are not cached, and a key that never loaded is forgotten.
	boom := errors.New("boom")
	if _, err := c.Get(ctx, "bad", func(context.Context) (int, error) { return 0, boom }); !errors.Is(err, boom) {
		t.Fatal(err)
	}
	c.mu.RLock()
	_, kept := c.m["bad"]
	c.mu.RUnlock()
	if kept {
		t.Error("a failed first load left an entry")
	}
	// A failed reload returns the error; the next get tries again.
	clk.Advance(time.Second)
	if _, err := c.Get(ctx, "k", func(context.Context) (int, error) { return 0, boom }); !errors.Is(err, boom) {
		t.Fatal(err)
	}
	if v, _ := c.Get(ctx, "k", load); v != 2 {
		t.Fatalf("after a failed reload: %d", v)
	}
}

// TestTTLCacheOneLoadPerKey: concurrent callers of a stale key share a load.
func TestTTLCacheOneLoadPerKey(t *testing.T) {
	t.Parallel()
	clk := clock.NewFake(t0)
	c := New[string, int](clk, time.Second, 0)
	var loads atomic.Int64
	release := make(chan struct{})
	load := func(context.Context) (int, error) {
		loads.Add(1)
		<-release
		return 7, nil
	}
	var wg sync.WaitGroup
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if v, err := c.Get(context.Background(), "k", load); v != 7 || err != nil {
				t.Errorf("got %d, %v", v, err)
			}
		}()
	}
	// Late goroutines find the fresh value; none may start a second load.
	close(release)
	wg.Wait()
	if n := loads.Load(); n != 1 {
		t.Fatalf("%d loads for one key", n)
	}
}

// TestBound: past maxEntries the cache starts again, so keys that come from
// outside cannot grow it without end; a key forgotten is loaded again.
func TestBound(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c := New[int, int](clock.NewFake(t0), time.Second, 3)
	loads := 0
	load := func(context.Context) (int, error) { loads++; return loads, nil }
	for k := range 10 {
		c.Get(ctx, k, load)
		if n := len(c.m); n > 3 {
			t.Fatalf("%d entries after key %d, want at most 3", n, k)
		}
	}
	before := loads
	c.Get(ctx, 9, load) // the newest key is still there
	c.Forget(9)
	c.Get(ctx, 9, load)
	if loads != before+1 {
		t.Errorf("%d loads, want exactly one for the forgotten key", loads-before)
	}
}

// TestClear: after Clear every key loads again, though none went stale.
func TestClear(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c := New[int, int](clock.NewFake(t0), time.Hour, 0)
	loads := 0
	load := func(context.Context) (int, error) { loads++; return loads, nil }
	for k := range 3 {
		c.Get(ctx, k, load)
	}
	c.Get(ctx, 0, load)
	if loads != 3 {
		t.Fatalf("%d loads before Clear, want 3", loads)
	}
	c.Clear()
	for k := range 3 {
		c.Get(ctx, k, load)
	}
	if loads != 6 {
		t.Errorf("%d loads after Clear, want 6", loads)
	}
}
