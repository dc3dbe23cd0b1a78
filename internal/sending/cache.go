package sending

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"sesame/internal/clock"
)

// cacheTTL bounds how stale policy data may be: `sesame admin` changes must
// reach a running server within a second (DESIGN.md), and the hot path must
// not query the store per message.
const cacheTTL = time.Second

// ttlCache keeps values loaded from the store for up to ttl. A stale value is
// reloaded by one caller while the others of the same key wait for it, so a
// busy account costs one query per ttl, not one per message.
type ttlCache[K comparable, V any] struct {
	clk clock.Clock
	ttl time.Duration

	mu sync.RWMutex
	m  map[K]*cacheEntry[V]
}

type cacheEntry[V any] struct {
	load sync.Mutex // held while (re)loading
	snap atomic.Pointer[cacheSnapshot[V]]
}

type cacheSnapshot[V any] struct {
	val V
	at  time.Time // when the load began: the value is at least this fresh
}

func newTTLCache[K comparable, V any](clk clock.Clock, ttl time.Duration) *ttlCache[K, V] {
	return &ttlCache[K, V]{clk: clk, ttl: ttl, m: make(map[K]*cacheEntry[V])}
}

// get returns k's value, calling load when it is missing or stale. Errors
// are not cached.
func (c *ttlCache[K, V]) get(ctx context.Context, k K, load func(context.Context) (V, error)) (V, error) {
	c.mu.RLock()
	e := c.m[k]
	c.mu.RUnlock()
	if e != nil {
		if s := e.snap.Load(); s != nil && c.fresh(s) {
			return s.val, nil
		}
	} else {
		c.mu.Lock()
		if e = c.m[k]; e == nil {
			e = &cacheEntry[V]{}
			c.m[k] = e
		}
		c.mu.Unlock()
	}

	e.load.Lock()
	defer e.load.Unlock()
	if s := e.snap.Load(); s != nil && c.fresh(s) {
		return s.val, nil // another caller just reloaded it
	}
	at := c.clk.Now()
	v, err := load(ctx)
	if err != nil {
		if e.snap.Load() == nil {
			// Never loaded: forget the key, so unknown keys (a client
			// guessing access key ids) do not grow the map.
			c.mu.Lock()
			if c.m[k] == e {
				delete(c.m, k)
			}
			c.mu.Unlock()
		}
		return v, err
	}
	e.snap.Store(&cacheSnapshot[V]{val: v, at: at})
	return v, nil
}

func (c *ttlCache[K, V]) fresh(s *cacheSnapshot[V]) bool {
	age := c.clk.Now().Sub(s.at)
	return age >= 0 && age < c.ttl
}
