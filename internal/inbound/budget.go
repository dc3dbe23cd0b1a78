package inbound

import (
	"errors"
	"io"
	"sync"

	"sesame/internal/seserr"
)

// DefaultMaxBufferedBytes bounds the feedback messages held in memory at
// once across all connections: 200 connections × 10 MiB would be 2 GiB.
// (Received mail is streamed into the spool, not held.)
const DefaultMaxBufferedBytes = 64 << 20

// errBusy is what a sender hears when the shared budget is spent: a
// temporary refusal, so it tries again later (RFC 5321 §4.2.5, Postfix's
// answer when its queue file system is short of space).
var errBusy = reply(seserr.FeedbackBusy())

// byteBudget is a counter of bytes held in memory, shared by all sessions.
type byteBudget struct {
	mu   sync.Mutex
	used int64
	max  int64
}

func (b *byteBudget) take(n int64) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.used+n > b.max {
		return false
	}
	b.used += n
	return true
}

func (b *byteBudget) give(n int64) {
	b.mu.Lock()
	b.used -= n
	b.mu.Unlock()
}

func (b *byteBudget) inUse() int64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.used
}

// budgetChunk is how much a reader reserves at a time.
const budgetChunk = 32 << 10

// readBudgeted reads r whole, reserving from b the capacity it allocates
// (doubling, so a message costs at most twice its size). It returns the
// bytes and how much it reserved (the caller gives it back once done with
// them); errBusy when the budget ran out, having given back what it took.
func readBudgeted(r io.Reader, b *byteBudget) ([]byte, int64, error) {
	var buf []byte
	for {
		if len(buf) == cap(buf) {
			grow := max(cap(buf), budgetChunk)
			if !b.take(int64(grow)) {
				b.give(int64(cap(buf)))
				return nil, 0, errBusy
			}
			nb := make([]byte, len(buf), cap(buf)+grow)
			copy(nb, buf)
			buf = nb
		}
		n, err := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if errors.Is(err, io.EOF) {
			return buf, int64(cap(buf)), nil
		}
		if err != nil {
			b.give(int64(cap(buf)))
			return nil, 0, err
		}
	}
}
