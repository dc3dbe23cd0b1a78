package sending

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"sesame/internal/clock"
)

func TestTTLCache(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	clk := clock.NewFake(acceptTime)
	c := newTTLCache[string, int](clk, time.Second)
	var loads atomic.Int64
	value := 1
	load := func(context.Context) (int, error) { loads.Add(1); return value, nil }

	if v, _ := c.get(ctx, "k", load); v != 1 || loads.Load() != 1 {
		t.Fatalf("first get: %d after %d loads", v, loads.Load())
	}
	value = 2
	clk.Advance(999 * time.Millisecond)
	if v, _ := c.get(ctx, "k", load); v != 1 || loads.Load() != 1 {
		t.Fatalf("within the TTL: %d after %d loads", v, loads.Load())
	}
	clk.Advance(time.Millisecond)
	if v, _ := c.get(ctx, "k", load); v != 2 || loads.Load() != 2 {
		t.Fatalf("at the TTL: %d after %d loads", v, loads.Load())
	}
	clk.Advance(-time.Hour) // a clock stepping back does not pin a value forever
	if v, _ := c.get(ctx, "k", load); v != 2 || loads.Load() != 3 {
		t.Fatalf("after the clock stepped back: %d after %d loads", v, loads.Load())
	}

	// Errors are not cached, and a key that never loaded is forgotten.
	boom := errors.New("boom")
	if _, err := c.get(ctx, "bad", func(context.Context) (int, error) { return 0, boom }); !errors.Is(err, boom) {
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
	if _, err := c.get(ctx, "k", func(context.Context) (int, error) { return 0, boom }); !errors.Is(err, boom) {
		t.Fatal(err)
	}
	if v, _ := c.get(ctx, "k", load); v != 2 {
		t.Fatalf("after a failed reload: %d", v)
	}
}

// TestTTLCacheOneLoadPerKey: concurrent callers of a stale key share a load.
func TestTTLCacheOneLoadPerKey(t *testing.T) {
	t.Parallel()
	clk := clock.NewFake(acceptTime)
	c := newTTLCache[string, int](clk, time.Second)
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
			if v, err := c.get(context.Background(), "k", load); v != 7 || err != nil {
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
