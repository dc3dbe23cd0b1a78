package lease

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"sesame/internal/clock"
)

// leasesFake keeps leases in memory, on the bubble's clock, as the store's
// TakeLease does.
type leasesFake struct {
	mu      sync.Mutex
	holder  map[string]string
	expires map[string]time.Time
}

func newLeasesFake() *leasesFake {
	return &leasesFake{holder: map[string]string{}, expires: map[string]time.Time{}}
}

func (f *leasesFake) TakeLease(_ context.Context, name, holder string, now time.Time, ttl time.Duration) (bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if h, ok := f.holder[name]; ok && h != holder && now.Before(f.expires[name]) {
		return false, nil
	}
	f.holder[name], f.expires[name] = holder, now.Add(ttl)
	return true, nil
}

func (f *leasesFake) ReleaseLease(_ context.Context, name, holder string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.holder[name] == holder {
		delete(f.holder, name)
	}
	return nil
}

// Two nodes run one loop under one lease: only one runs it at a time; when
// the runner's node loses the store it stops before its lease expires, and
// the other takes over after the expiry; a clean stop hands over at once.
func TestRunnerOneAtATime(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ttl := 9 * time.Second
		shared := newLeasesFake()
		var running atomic.Int32
		var ran [2]atomic.Int32 // times each node's work started
		var overlap atomic.Bool
		work := func(i int) func(context.Context) error {
			return func(ctx context.Context) error {
				if running.Add(1) > 1 {
					overlap.Store(true)
				}
				ran[i].Add(1)
				<-ctx.Done()
				running.Add(-1)
				return nil
			}
		}
		// Node 0 reaches the store through a view that can fail alone.
		view0 := &failingView{leasesFake: shared}
		stores := []Store{view0, shared}
		ctx, cancel := context.WithCancel(t.Context())
		ctx1, stop1 := context.WithCancel(t.Context())
		var wg sync.WaitGroup
		for i, c := range []context.Context{ctx, ctx1} {
			r := &Runner{Store: stores[i], Holder: []string{"node-0", "node-1"}[i], TTL: ttl, Clock: clock.Real{}}
			wg.Go(func() { r.Run(c, "publish-events", work(i)) })
			synctest.Wait() // node 0 asks first
		}
		time.Sleep(time.Minute)
		synctest.Wait()
		if ran[0].Load() != 1 || ran[1].Load() != 0 {
			t.Fatalf("runs %d, %d; want node 0's alone", ran[0].Load(), ran[1].Load())
		}
		// Node 0 loses the store: it stops at its next renewal, node 1
		// starts once the lease expired.
		view0.setDown(true)
		time.Sleep(ttl/3 + time.Millisecond)
		synctest.Wait()
		if running.Load() != 0 {
			t.Fatalf("work still running after a failed renewal")
		}
		time.Sleep(ttl)
		synctest.Wait()
		if ran[1].Load() != 1 || running.Load() != 1 {
			t.Fatalf("node 1 ran %d times, %d running; want it to have taken over", ran[1].Load(), running.Load())
		}
		// Node 0 is back but node 1 renews: node 0 waits.
		view0.setDown(false)
		time.Sleep(time.Minute)
		synctest.Wait()
		if ran[0].Load() != 1 {
			t.Fatalf("node 0 ran again while node 1 held the lease")
		}
		// Node 1 stops cleanly: node 0 takes over at its next ask, not
		// after a TTL.
		stop1()
		synctest.Wait()
		time.Sleep(ttl/3 + time.Millisecond)
		synctest.Wait()
		if ran[0].Load() != 2 || running.Load() != 1 {
			t.Fatalf("node 0 ran %d times, %d running after node 1 stopped; want it back", ran[0].Load(), running.Load())
		}
		cancel()
		wg.Wait()
		if overlap.Load() {
			t.Error("both nodes ran the work at once")
		}
	})
}

// failingView is a node's path to the shared leases, which can break.
type failingView struct {
	*leasesFake
	mu   sync.Mutex
	down bool
}

func (v *failingView) setDown(down bool) {
	v.mu.Lock()
	v.down = down
	v.mu.Unlock()
}

func (v *failingView) TakeLease(ctx context.Context, name, holder string, now time.Time, ttl time.Duration) (bool, error) {
	v.mu.Lock()
	down := v.down
	v.mu.Unlock()
	if down {
		return false, context.DeadlineExceeded
	}
	return v.leasesFake.TakeLease(ctx, name, holder, now, ttl)
}

// Without a store (a node alone) work runs at once, and its error is Run's.
func TestRunnerAlone(t *testing.T) {
	want := context.Canceled
	r := &Runner{}
	if err := r.Run(t.Context(), "verify", func(context.Context) error { return want }); err != want {
		t.Fatalf("Run = %v, want work's error", err)
	}
}
