// Package ttlcache keeps values loaded from the store for a short time, so
// that the per-message paths (sending's policy checks, delivery's and DKIM
// signing's identity lookups) do not query the store per message, while a
// change made by `sesame admin` still reaches a running server within the
// TTL (DESIGN.md: within a second), or at once where the store announces the
// change (store.Watch) and the owner calls Forget or Clear. It knows nothing
// of what it caches.
package ttlcache

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"sesame/internal/clock"
)

// Cache keeps values for up to ttl. A stale value is reloaded by one caller
// while the others of the same key wait for it, so a busy account costs one
// query per ttl, not one per message.
type Cache[K comparable, V any] struct {
	clk clock.Clock
	ttl time.Duration
	max int // entries kept at most; past it the map starts again empty

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

// New makes a cache of values kept for ttl; maxEntries bounds the keys it
// holds (0: no bound), for keys that come from outside (sender addresses):
// past it the cache starts again empty, which costs one load per key.
func New[K comparable, V any](clk clock.Clock, ttl time.Duration, maxEntries int) *Cache[K, V] {
	if clk == nil {
		clk = clock.Real{}
	}
	return &Cache[K, V]{clk: clk, ttl: ttl, max: maxEntries, m: make(map[K]*cacheEntry[V])}
}

// Get returns k's value, calling load when it is missing or stale. Errors
// are not cached.
func (c *Cache[K, V]) Get(ctx context.Context, k K, load func(context.Context) (V, error)) (V, error) {
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
			if c.max > 0 && len(c.m) >= c.max {
				clear(c.m)
			}
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

// Forget removes k, whatever its state: the next Get loads it. A load
// already under way finishes into the dropped entry and serves only its
// own callers.
func (c *Cache[K, V]) Forget(k K) {
	c.mu.Lock()
	delete(c.m, k)
	c.mu.Unlock()
}

func (c *Cache[K, V]) fresh(s *cacheSnapshot[V]) bool {
	age := c.clk.Now().Sub(s.at)
	return age >= 0 && age < c.ttl
}

// Clear removes every key: the next Get of each loads it (a change
// notification said anything may have changed).
func (c *Cache[K, V]) Clear() {
	c.mu.Lock()
	clear(c.m)
	c.mu.Unlock()
}
