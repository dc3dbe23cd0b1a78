package feedback

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"sesame/internal/seserr"
	"sync"
	"time"
)

// DefaultMaxBufferedBytes bounds the feedback messages held in memory at
// once across all connections: 200 connections × 10 MiB would be 2 GiB.
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

// forwardedSeen remembers the non-report mail already handed on, so a
// receiver that sends the same auto-reply twice (a retry after a lost 250,
// a second copy) has it forwarded once. It lives in memory: a restart
// forgets it, at worst one more copy.
type forwardedSeen struct {
	mu    sync.Mutex
	ttl   time.Duration
	max   int
	at    map[string]time.Time
	order []string // oldest first, for eviction
}

const (
	dedupeTTL     = 24 * time.Hour
	dedupeEntries = 100000
)

func newForwardedSeen() *forwardedSeen {
	return &forwardedSeen{ttl: dedupeTTL, max: dedupeEntries, at: make(map[string]time.Time)}
}

// forwardKey names one piece of non-report mail about one sent message:
// the bounce address's message id and the mail's own Message-ID, or a
// digest of the whole message when it has none.
func forwardKey(id string, raw []byte) string {
	mid := messageID(headerOf(readHeaderSection(bytes.NewReader(raw))))
	if mid == "" {
		sum := sha256.Sum256(raw)
		mid = "sha256:" + hex.EncodeToString(sum[:])
	}
	return id + "\x00" + mid
}

func (f *forwardedSeen) seen(key string, now time.Time) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	t, ok := f.at[key]
	return ok && now.Sub(t) < f.ttl
}

func (f *forwardedSeen) add(key string, now time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.at[key]; !ok {
		f.order = append(f.order, key)
	}
	f.at[key] = now
	for len(f.order) > 0 && (len(f.at) > f.max || now.Sub(f.at[f.order[0]]) >= f.ttl) {
		delete(f.at, f.order[0])
		f.order = f.order[1:]
	}
	if cap(f.order) > 4*f.max && len(f.order) < f.max {
		f.order = append([]string(nil), f.order...)
	}
}
