package feedback

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"sync"
	"time"
)

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
