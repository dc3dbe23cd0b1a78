package spool

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
	"time"
)

// Compaction. A segment is deleted only when nothing in it is pending, so a
// few deferred messages can keep a whole segment (64 MiB by default) on disk
// until they are delivered, hours later. Two things copy them forward into
// the active segment (one atomic move record each; a body file is not
// copied, the new record names it):
//
//   - Defer of a message pending longer than Options.CompactAfter
//     (schedule.go): the copy costs what the state record would, plus the
//     inline bytes.
//   - Compact, which the spool runs every Options.CompactAfter: deferred,
//     unclaimed messages.
//
// Both copy only out of a sparse segment: an old one (not the active one)
// where at most a quarter of what was written there is still pending. That
// bounds the rewriting, as in a log-structured file system's cleaner:
// freeing a segment costs at most a third of its size, and a dense segment
// (a receiver down for an hour: most of its messages deferred) is not copied
// again and again while it still holds mostly live mail.

// defaultSparseness: a segment is sparse when live × sparseness ≤ total.
const defaultSparseness = 4

// sparse says whether the messages of seg may be copied forward; s.mu held.
func (s *Spool) sparse(seg *segment) bool {
	return seg != s.head && seg.live*s.sparseness <= seg.total
}

// compactBatch bounds how many messages one Compact call copies.
const compactBatch = 1024

// compactWorkers bounds the moves in flight at once (they share fsyncs).
const compactWorkers = 32

// Compact copies forward the deferred, unclaimed messages of sparse old
// segments so that those segments can be deleted, and returns how many it
// moved (at most compactBatch per call).
func (s *Spool) Compact(ctx context.Context) (int, error) {
	type cand struct {
		e       *Entry
		version uint64
	}
	var cands []cand
	s.mu.Lock()
	for _, it := range s.waiting.items {
		if !s.sparse(it.seg) {
			continue
		}
		cands = append(cands, cand{it.entry.clone(), it.version})
		if len(cands) == compactBatch {
			break
		}
	}
	s.mu.Unlock()
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		moved int
		errs  []error
		sem   = make(chan struct{}, compactWorkers)
	)
	for _, c := range cands {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			stJSON, err := json.Marshal(c.e.State)
			if err != nil {
				return
			}
			req, err := s.moveReq(c.e, stJSON, c.e.State)
			if err != nil {
				// Gone meanwhile (done, or moved by Defer): nothing to do.
				return
			}
			req.move.compact, req.move.version = true, c.version
			req.errc = make(chan error, 1)
			err = s.submit(ctx, req)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				errs = append(errs, err)
				return
			}
			moved++
		}()
	}
	wg.Wait()
	if len(errs) > 0 {
		return moved, errors.Join(errs...)
	}
	return moved, nil
}

// compactLoop runs Compact every Options.CompactAfter until the spool
// closes.
func (s *Spool) compactLoop() {
	defer s.bg.Done()
	t := time.NewTicker(s.opt.CompactAfter)
	defer t.Stop()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		<-s.quit
		cancel()
	}()
	for {
		select {
		case <-s.quit:
			return
		case <-t.C:
		}
		n, err := s.Compact(ctx)
		if err != nil && !errors.Is(err, ErrClosed) && !errors.Is(err, context.Canceled) {
			s.log.Warn("compaction", "err", err, "moved", n)
		} else if n > 0 {
			s.log.Info("compacted deferred messages out of old segments", "moved", n)
		}
	}
}
