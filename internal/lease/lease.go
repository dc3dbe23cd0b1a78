// Package lease runs work that must run on one node of a cluster at a time
// (the event publisher, SNS deliveries, identity checks, reputation) on
// whichever node holds the work's named lease in the store. The holder
// renews it well before it expires; a node that dies, or cannot reach the
// store, loses it after TTL and another node takes the work over. A node
// that cannot renew stops its work at once, before the lease can pass to
// another node, so two nodes run it together only if one's clock runs
// slower than the others' by a good part of TTL.
//
// A lease never makes work exactly-once by itself (a node may stall past
// its lease in the middle of a step): work that must not be done twice
// also commits its progress conditionally, as the event publisher's cursor
// move does (store.CursorMove).
package lease

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"sesame/internal/clock"
)

// Store keeps the leases (*store.Store).
type Store interface {
	TakeLease(ctx context.Context, name, holder string, now time.Time, ttl time.Duration) (bool, error)
	ReleaseLease(ctx context.Context, name, holder string) error
}

// DefaultTTL is how long a lease lasts without renewal: the longest a
// dead node's work waits for another node.
const DefaultTTL = 15 * time.Second

// Runner runs work under named leases for one node.
type Runner struct {
	// Store keeps the leases; nil means this node is alone (a SQLite
	// store): work runs at once, with no lease to wait for after a crash.
	Store Store
	// Holder names this node in the leases table (NodeID).
	Holder string
	// TTL is how long a taken lease lasts (default DefaultTTL); it is
	// renewed every TTL/3, and asked for every TTL/3 by the other nodes.
	TTL    time.Duration
	Clock  clock.Clock
	Logger *slog.Logger
}

// NodeID names this node among the nodes of a cluster: its host name and
// data directory. One process at a time runs on a data directory (it is
// locked), so a node restarted after a crash is the same holder and takes
// its leases and claims back at once, while two nodes on one host differ.
func NodeID(dataDir string) string {
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "localhost"
	}
	if abs, err := filepath.Abs(dataDir); err == nil {
		dataDir = abs
	}
	return host + ":" + dataDir
}

// Run runs work whenever this node holds the lease name, until ctx ends.
// work gets a context that ends when the lease is lost (work then returns,
// and runs again from the start once the lease is back); an error from
// work ends Run. At the end the lease is given up, for another node to
// take at once.
func (r *Runner) Run(ctx context.Context, name string, work func(ctx context.Context) error) error {
	if r.Store == nil {
		return work(ctx)
	}
	ttl := r.ttl()
	log := r.Logger
	if log == nil {
		log = slog.Default()
	}
	log = log.With("lease", name, "holder", r.Holder)
	defer func() {
		// A clean stop hands the work over now rather than after TTL.
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		if err := r.Store.ReleaseLease(rctx, name, r.Holder); err != nil {
			log.Warn("lease: giving up", "err", err)
		}
	}()
	for ctx.Err() == nil {
		if r.take(ctx, name, log) {
			log.Info("lease: taken; running")
			if err := r.hold(ctx, name, work, log); err != nil {
				return err
			}
			if ctx.Err() != nil {
				return nil
			}
			log.Warn("lease: lost; stopped")
		}
		select {
		case <-time.After(ttl / 3):
		case <-ctx.Done():
		}
	}
	return nil
}

// take asks for the lease once.
func (r *Runner) take(ctx context.Context, name string, log *slog.Logger) bool {
	// A store that does not answer must not hold the work past the lease:
	// an answer later than TTL/3 counts as a failure.
	tctx, cancel := context.WithTimeout(ctx, r.ttl()/3)
	defer cancel()
	ok, err := r.Store.TakeLease(tctx, name, r.Holder, r.clock().Now(), r.ttl())
	if err != nil && ctx.Err() == nil {
		log.Warn("lease: taking", "err", err)
	}
	return err == nil && ok
}

// hold runs work while renewing the lease every TTL/3; a renewal that
// fails (the store cannot be reached, or another node has the lease)
// stops work.
func (r *Runner) hold(ctx context.Context, name string, work func(context.Context) error, log *slog.Logger) error {
	wctx, stop := context.WithCancel(ctx)
	defer stop()
	done := make(chan error, 1)
	go func() { done <- work(wctx) }()
	for {
		select {
		case err := <-done:
			if ctx.Err() == nil && wctx.Err() == nil && err == nil {
				// Work ended on its own: nothing more to run.
				<-ctx.Done()
			}
			return err
		case <-time.After(r.ttl() / 3):
			if !r.take(ctx, name, log) {
				// What work says as it is stopped is about the stop.
				stop()
				<-done
				return nil
			}
		}
	}
}

func (r *Runner) ttl() time.Duration {
	if r.TTL <= 0 {
		return DefaultTTL
	}
	return r.TTL
}

func (r *Runner) clock() clock.Clock {
	if r.Clock == nil {
		return clock.Real{}
	}
	return r.Clock
}
