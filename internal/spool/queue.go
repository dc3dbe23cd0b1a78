package spool

import (
	"container/heap"
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
)

// Entry is a spooled message handed out for delivery.
type Entry struct {
	Envelope
	Size int64 // bytes of the whole message (prefix + draft)

	// Where the bytes are: inline bytes in a segment, then maybe a body file.
	seg      string
	inlineAt int64
	inline   int64
	body     string
	bodySize int64
}

// Open reads the whole message.
func (e *Entry) Open() (io.ReadCloser, error) {
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
	return &c
}

func (env Envelope) clone() Envelope {
	env.Recipients = slices.Clone(env.Recipients)
	env.Attrs = maps.Clone(env.Attrs)
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

// Claim blocks until at least one message is pending and not claimed, or ctx
// ends, and returns up to max of them, oldest first, marked claimed.
func (s *Spool) Claim(ctx context.Context, max int) ([]*Entry, error) {
	if max <= 0 {
		max = 1
	}
	for {
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			return nil, ErrClosed
		}
		n := min(max, s.ready.Len())
		if n > 0 {
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
		s.mu.Unlock()
		select {
		case <-wake:
		case <-s.quit:
			return nil, ErrClosed
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// Release returns claimed messages to pending (delivery failed temporarily).
// They keep their place: oldest first still holds.
func (s *Spool) Release(ids ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	released := false
	for _, id := range ids {
		it, ok := s.items[id]
		if !ok || !it.claimed {
			continue
		}
		it.claimed = false
		heap.Push(&s.ready, it)
		released = true
	}
	if released {
		close(s.wake)
		s.wake = make(chan struct{})
	}
}

// itemHeap orders pending, unclaimed messages by append order.
type itemHeap []*item

func (h itemHeap) Len() int           { return len(h) }
func (h itemHeap) Less(i, j int) bool { return h[i].seq < h[j].seq }
func (h itemHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].index = i
	h[j].index = j
}
func (h *itemHeap) Push(x any) {
	it := x.(*item)
	it.index = len(*h)
	*h = append(*h, it)
}
func (h *itemHeap) Pop() any {
	old := *h
	it := old[len(old)-1]
	old[len(old)-1] = nil
	it.index = -1
	*h = old[:len(old)-1]
	return it
}
