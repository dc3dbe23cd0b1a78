package spool

import (
	"container/heap"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"time"
)

// Entry is a spooled message handed out for delivery.
type Entry struct {
	Envelope
	Size  int64         // bytes of the whole message (prefix + draft)
	State DeliveryState // what delivery kept between attempts (Defer)
	// Claimed is set in the snapshots of Entries and Entry for a message
	// handed out by Claim and not yet deferred, released or done.
	Claimed bool

	sp *Spool // for Open to find a message compaction moved
	// Where the bytes are: inline bytes in a segment, then maybe a body file.
	seg      string
	inlineAt int64
	inline   int64
	body     string
	bodySize int64
}

// Open reads the whole message.
func (e *Entry) Open() (io.ReadCloser, error) {
	r, err := e.open()
	if errors.Is(err, os.ErrNotExist) && e.sp != nil {
		// Compaction may have copied the message forward and removed the
		// segment this snapshot points into: look where it is now.
		if cur, ok := e.sp.Entry(e.ID); ok && cur.seg != e.seg {
			return cur.open()
		}
	}
	return r, err
}

func (e *Entry) open() (io.ReadCloser, error) {
	if e.seg == "" {
		return nil, errors.New("spool: open entry: not from this spool")
	}
	seg, err := os.Open(e.seg)
	if err != nil {
		return nil, fmt.Errorf("spool: open message %s: %w", e.ID, err)
	}
	r := &messageReader{files: []*os.File{seg}}
	readers := []io.Reader{io.NewSectionReader(seg, e.inlineAt, e.inline)}
	if e.body != "" {
		body, err := os.Open(e.body)
		if err != nil {
			seg.Close()
			return nil, fmt.Errorf("spool: open message %s: %w", e.ID, err)
		}
		r.files = append(r.files, body)
		readers = append(readers, io.NewSectionReader(body, 0, e.bodySize))
	}
	r.Reader = io.MultiReader(readers...)
	return r, nil
}

// clone copies e deeply enough that its holder cannot change the index.
func (e *Entry) clone() *Entry {
	c := *e
	c.Envelope = e.Envelope.clone()
	c.State.Done = slices.Clone(e.State.Done)
	return &c
}

func (env Envelope) clone() Envelope {
	env.Recipients = slices.Clone(env.Recipients)
	env.Tags = slices.Clone(env.Tags)
	return env
}

type messageReader struct {
	io.Reader
	files []*os.File
}

func (r *messageReader) Close() error {
	var errs []error
	for _, f := range r.files {
		errs = append(errs, f.Close())
	}
	return errors.Join(errs...)
}

// maxClaimWait bounds how long Claim sleeps on its own timer before it
// looks at the clock again: the clock may be a fake one or the wall clock may
// jump.
const maxClaimWait = time.Minute

// Claim blocks until at least one message is pending, due (its
// State.NextAttempt is not after Options.Clock's now) and not claimed, or ctx
// ends, and returns up to limit of them, oldest first, marked claimed. It wakes
// by itself when the earliest deferred message falls due.
func (s *Spool) Claim(ctx context.Context, limit int) ([]*Entry, error) {
	if limit <= 0 {
		limit = 1
	}
	for {
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			return nil, ErrClosed
		}
		now := s.opt.Clock.Now()
		s.promote(now)
		if n := min(limit, s.ready.Len()); n > 0 {
			out := make([]*Entry, n)
			for i := range out {
				it := heap.Pop(&s.ready).(*item)
				it.claimed = true
				out[i] = it.entry.clone()
			}
			s.mu.Unlock()
			return out, nil
		}
		wake := s.wake
		var timer *time.Timer
		var due <-chan time.Time
		if s.waiting.Len() > 0 {
			d := s.waiting.items[0].entry.State.NextAttempt.Sub(now)
			timer = time.NewTimer(min(max(d, time.Millisecond), maxClaimWait))
			due = timer.C
		}
		s.mu.Unlock()
		var err error
		select {
		case <-wake:
		case <-due:
		case <-s.quit:
			err = ErrClosed
		case <-ctx.Done():
			err = ctx.Err()
		}
		if timer != nil {
			timer.Stop()
		}
		if err != nil {
			return nil, err
		}
	}
}

// Release returns claimed messages to pending (delivery stopped before it
// could finish them, say at shutdown). They keep their place and their
// state: a message released before it was due stays deferred.
func (s *Spool) Release(ids ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	released := false
	now := s.opt.Clock.Now()
	for _, id := range ids {
		it, ok := s.items[id]
		if !ok || !it.claimed {
			continue
		}
		it.claimed = false
		s.place(it, now)
		released = true
	}
	if released {
		s.wakeClaimers()
	}
}

// Wake makes blocked Claims look at the clock again at once. Claim wakes by
// itself when a deferred message falls due by the wall clock; a test that
// advances a fake clock calls Wake.
func (s *Spool) Wake() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.wakeClaimers()
}

// wakeClaimers tells blocked Claims to look again; s.mu held.
func (s *Spool) wakeClaimers() {
	close(s.wake)
	s.wake = make(chan struct{})
}

// place puts an unclaimed item in the heap its state says; s.mu held.
func (s *Spool) place(it *item, now time.Time) {
	if it.claimed || it.index >= 0 {
		return
	}
	it.deferred = it.entry.State.NextAttempt.After(now)
	if it.deferred {
		heap.Push(&s.waiting, it)
	} else {
		heap.Push(&s.ready, it)
	}
}

// unplace takes an item out of whichever heap holds it; s.mu held.
func (s *Spool) unplace(it *item) {
	if it.index < 0 {
		return
	}
	if it.deferred {
		heap.Remove(&s.waiting, it.index)
	} else {
		heap.Remove(&s.ready, it.index)
	}
}

// promote moves the deferred messages due at now to ready; s.mu held.
func (s *Spool) promote(now time.Time) {
	for s.waiting.Len() > 0 && !s.waiting.items[0].entry.State.NextAttempt.After(now) {
		it := heap.Pop(&s.waiting).(*item)
		it.deferred = false
		heap.Push(&s.ready, it)
	}
}

// itemHeap is a heap of pending, unclaimed messages ordered by less.
type itemHeap struct {
	items []*item
	less  func(a, b *item) bool
}

// bySeq orders due messages by append order: oldest first.
func bySeq(a, b *item) bool { return a.seq < b.seq }

// byDue orders deferred messages by when they fall due, then append order.
func byDue(a, b *item) bool {
	x, y := a.entry.State.NextAttempt, b.entry.State.NextAttempt
	if !x.Equal(y) {
		return x.Before(y)
	}
	return a.seq < b.seq
}

func (h *itemHeap) Len() int           { return len(h.items) }
func (h *itemHeap) Less(i, j int) bool { return h.less(h.items[i], h.items[j]) }
func (h *itemHeap) Swap(i, j int) {
	h.items[i], h.items[j] = h.items[j], h.items[i]
	h.items[i].index = i
	h.items[j].index = j
}
func (h *itemHeap) Push(x any) {
	it := x.(*item)
	it.index = len(h.items)
	h.items = append(h.items, it)
}
func (h *itemHeap) Pop() any {
	old := h.items
	it := old[len(old)-1]
	old[len(old)-1] = nil
	it.index = -1
	h.items = old[:len(old)-1]
	return it
}
