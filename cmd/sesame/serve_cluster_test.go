package main

import (
	"context"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"sesame/internal/clock"
	"sesame/internal/store"
)

// beatLog records the heartbeats written.
type beatLog struct {
	mu    sync.Mutex
	beats []store.ClusterNode
}

func (b *beatLog) ClusterHeartbeat(_ context.Context, n store.ClusterNode) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.beats = append(b.beats, n)
	return nil
}

func (b *beatLog) all() []store.ClusterNode {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]store.ClusterNode(nil), b.beats...)
}

// The heartbeat writes once every interval, with the spool's depth of the
// moment and the node's fixed description, and stops with its context.
func TestHeartbeatEveryInterval(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		log := &beatLog{}
		var depth atomic.Int64
		start := time.Now()
		h := &heartbeat{Store: log, Clock: clock.Real{}, Interval: 5 * time.Second, Depth: func() int { return int(depth.Load()) },
			Node:   store.ClusterNode{NodeName: "n1", Version: "v", StartedAt: start},
			Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
		if err := h.beat(t.Context()); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan struct{})
		go func() { defer close(done); h.run(ctx) }()
		synctest.Wait()
		if n := len(log.all()); n != 1 {
			t.Fatalf("%d beats before the first interval; want the start's 1", n)
		}
		depth.Store(7)
		time.Sleep(5 * time.Second)
		synctest.Wait()
		depth.Store(9)
		time.Sleep(5 * time.Second)
		synctest.Wait()
		beats := log.all()
		if len(beats) != 3 {
			t.Fatalf("%d beats after two intervals; want 3", len(beats))
		}
		for i, want := range []int64{0, 7, 9} {
			b := beats[i]
			if b.NodeName != "n1" || b.Version != "v" || !b.StartedAt.Equal(start) || b.SpoolDepth != want ||
				!b.LastSeen.Equal(start.Add(time.Duration(i)*5*time.Second)) {
				t.Errorf("beat %d: %+v; want depth %d seen %v", i, b, want, start.Add(time.Duration(i)*5*time.Second))
			}
		}
		cancel()
		<-done
		time.Sleep(time.Minute)
		if n := len(log.all()); n != 3 {
			t.Errorf("%d beats after the context ended; want 3", n)
		}
	})
}
