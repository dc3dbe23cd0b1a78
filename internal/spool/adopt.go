package spool

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"sesame/internal/seserr"
)

// Adoption: `sesame admin spool adopt DIR` moves the pending messages of a
// dead node's spool (DIR) into a live one, without losing or doubling any,
// even when it is interrupted and run again:
//
//  1. DIR is opened as a spool, which takes its lock: a node that comes back
//     cannot open it (and deliver from it) while adoption runs, and an
//     adoption cannot take a spool a live node has open.
//  2. Each pending message of DIR the live spool does not hold yet is
//     appended to it, with its id, envelope and delivery state (attempts,
//     recipients done), held: its state says it is being adopted from DIR
//     and not due before holdUntil. One record, fsync'd like any Append.
//  3. Only then are the messages done in DIR.
//  4. Then the live spool's messages held for DIR are released (due now).
//
// A crash after 2 leaves a message in both spools, held in the live one, so
// nothing delivers it twice meanwhile: the next run finds its id in the live
// spool, skips the copy, and goes on with 3 and 4. A crash after 3 leaves it
// held: the next run releases it. Without the hold the live node could
// deliver a copy (and forget its id) before the next run copied it again.

// holdUntil is the next attempt of a message held during its adoption:
// never, as far as the schedule is concerned.
var holdUntil = time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC)

// Errors of Adopt (and of Open, for ErrInUse); their texts are seserr's.
var (
	ErrInUse    = seserr.SpoolInUse
	ErrNotSpool = seserr.SpoolNotASpool
	ErrOwnSpool = seserr.SpoolIsOwn
)

// AdoptResult counts what Adopt did: messages copied into this spool, and
// messages this spool held already (copied by an earlier, interrupted run).
type AdoptResult struct {
	Adopted, Skipped int
}

// adoptMu serializes adoptions into any spool of this process: a release
// (step 4) must not run while another adoption's copies wait for their
// done records.
var adoptMu sync.Mutex

// Adopt moves every pending message of the spool in dir (a dead node's)
// into s, as described above, and returns how many it copied and skipped.
// dir must not be in use by a running sesame (ErrInUse), must be a spool
// (ErrNotSpool) and not s's own (ErrOwnSpool). Give the same dir again to
// finish an interrupted run: held messages are matched by its path.
func (s *Spool) Adopt(ctx context.Context, dir string) (AdoptResult, error) {
	var res AdoptResult
	dir, err := s.adoptable(dir)
	if err != nil {
		return res, err
	}
	adoptMu.Lock()
	defer adoptMu.Unlock()
	src, err := Open(dir, Options{Logger: s.opt.Logger, Clock: s.opt.Clock, MemoryLimit: s.opt.MemoryLimit})
	if err != nil {
		return res, fmt.Errorf("spool: adopt %s: %w", dir, err)
	}
	defer src.Close()
	var moved []string
	var copyErr error
	for _, e := range src.Entries() {
		if _, ok := s.Entry(e.ID); ok {
			res.Skipped++
			moved = append(moved, e.ID)
			continue
		}
		if copyErr = s.adoptOne(ctx, &e, dir); copyErr != nil {
			break
		}
		res.Adopted++
		moved = append(moved, e.ID)
	}
	// What was copied is let go of even when a copy failed: the next run
	// then has only the rest to do.
	if err := src.Done(context.WithoutCancel(ctx), moved...); err != nil {
		return res, errors.Join(copyErr, fmt.Errorf("spool: adopt %s: %w", dir, err))
	}
	if err := s.releaseAdopted(context.WithoutCancel(ctx), dir, src); err != nil {
		return res, errors.Join(copyErr, fmt.Errorf("spool: adopt %s: %w", dir, err))
	}
	if copyErr != nil {
		return res, fmt.Errorf("spool: adopt %s: %w", dir, copyErr)
	}
	s.log.Info("adopted another spool's messages", "source", dir, "adopted", res.Adopted, "skipped", res.Skipped)
	return res, nil
}

// adoptable checks dir before it is opened (Open would make a spool of any
// directory) and returns its absolute path.
func (s *Spool) adoptable(dir string) (string, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", fmt.Errorf("spool: adopt %s: %w", dir, err)
	}
	fi, err := os.Stat(abs)
	if err != nil || !fi.IsDir() {
		return "", fmt.Errorf("spool: adopt %s: %w", abs, ErrNotSpool)
	}
	if own, err := os.Stat(s.dir); err == nil && os.SameFile(fi, own) {
		return "", fmt.Errorf("spool: adopt %s: %w", abs, ErrOwnSpool)
	}
	names, err := os.ReadDir(abs)
	if err != nil {
		return "", fmt.Errorf("spool: adopt %s: %w", abs, err)
	}
	for _, de := range names {
		n := de.Name()
		if n == "lock" || strings.HasPrefix(n, "seg-") && strings.HasSuffix(n, ".log") {
			return abs, nil
		}
	}
	return "", fmt.Errorf("spool: adopt %s: %w", abs, ErrNotSpool)
}

// adoptOne appends e (of the spool in source) to s, held.
func (s *Spool) adoptOne(ctx context.Context, e *Entry, source string) error {
	r, err := e.Open()
	if err != nil {
		return err
	}
	defer r.Close()
	d, err := s.NewDraft()
	if err != nil {
		return err
	}
	if _, err := io.Copy(d, r); err != nil {
		d.Discard()
		return fmt.Errorf("copy message %s: %w", e.ID, err)
	}
	st := e.clone().State
	st.Adopting, st.NextAttempt = source, holdUntil
	return s.appendMessage(ctx, &e.Envelope, nil, d, &st)
}

// releaseAdopted makes due the messages held for an adoption from source
// that src no longer holds.
func (s *Spool) releaseAdopted(ctx context.Context, source string, src *Spool) error {
	var ns []newState
	for _, e := range s.Entries() {
		if e.State.Adopting != source {
			continue
		}
		if _, pending := src.Entry(e.ID); pending {
			continue
		}
		st := e.State
		st.Adopting, st.NextAttempt = "", time.Time{}
		ns = append(ns, newState{id: e.ID, st: st})
	}
	for len(ns) > 0 {
		n := min(len(ns), maxStatesPerRecord)
		if err := s.submitStates(ctx, ns[:n]); err != nil {
			return fmt.Errorf("release adopted messages: %w", err)
		}
		ns = ns[n:]
	}
	return nil
}
