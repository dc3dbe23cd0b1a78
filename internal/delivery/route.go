package delivery

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"net"
	"net/netip"
	"sesame/internal/netaddr"
	"slices"
	"sync"
	"time"

	"sesame/internal/clock"
	"sesame/internal/dnsx"
	"sesame/internal/outcome"
)

// Routing (RFC 5321 §5.1): a recipient domain's MX records in preference
// order, randomised among equal preferences; no MX records → the domain
// itself as an implicit MX of preference 0; a null MX (RFC 7505: one record
// "0 .") or a domain that does not exist → a permanent failure. Answers are
// cached within their TTL (floored: a TTL of 0, dnsmasq's default for local
// records, would cost a lookup per message), and deliveries that need the
// same answer at once share one lookup. Addresses that are not public
// (publicaddr.go) are no destination unless AllowPrivate.

// Hop is one mail exchanger to try, with its addresses.
type Hop struct {
	Host  string
	Pref  uint16
	Addrs []net.IP
}

// Router resolves recipient domains to hops.
type Router struct {
	Resolver dnsx.Router
	Clock    clock.Clock
	// MinTTL and MaxTTL bound how long an answer is cached (defaults 5 s
	// and 1 h): a TTL of 0 would otherwise mean asking for every message.
	MinTTL, MaxTTL time.Duration
	// AllowPrivate lets mail go to loopback, private and other
	// special-purpose addresses (delivery.allow_private_destinations):
	// test setups whose MXes are on 127.0.0.x.
	AllowPrivate bool

	mu    sync.Mutex
	mx    map[string]cachedMX
	addrs map[string]cachedAddrs

	mxFlights   flights[cachedMX]
	addrFlights flights[cachedAddrs]
}

type cachedMX struct {
	mxs     []dnsx.MX
	err     error // a permanent answer (NXDOMAIN) is cached too
	expires time.Time
}

type cachedAddrs struct {
	ips     []net.IP
	partial bool // one address family's lookup failed (dnsx.ErrPartial)
	err     error
	expires time.Time
}

// negativeTTL is how long a "does not exist" answer is kept (RFC 2308's
// SOA minimum would say; a short fixed value serves here).
const negativeTTL = time.Minute

func (r *Router) now() time.Time {
	if r.Clock == nil {
		return time.Now()
	}
	return r.Clock.Now()
}

func (r *Router) ttl(t time.Duration) time.Duration {
	lo, hi := r.MinTTL, r.MaxTTL
	if lo <= 0 {
		lo = 5 * time.Second
	}
	if hi <= 0 {
		hi = time.Hour
	}
	return min(max(t, lo), hi)
}

// Route returns the hops for domain, best first. Hops whose host has no
// address are left out; when none is left the error is temporary (the
// receiver's DNS may be mid-change). Errors are *Failure values.
func (r *Router) Route(ctx context.Context, domain string) ([]Hop, error) {
	mxs, err := r.lookupMX(ctx, domain)
	if err != nil {
		if dnsx.IsNotFound(err) {
			return nil, &outcome.Failure{Code: 550, Enhanced: "5.1.2", Text: fmt.Sprintf("domain %s does not exist", domain), Permanent: true}
		}
		return nil, &outcome.Failure{Code: 451, Enhanced: "4.4.3", Text: fmt.Sprintf("MX lookup for %s failed: %v", domain, err)}
	}
	if len(mxs) == 0 {
		// RFC 5321 §5.1: no MX records, the domain is its own MX.
		mxs = []dnsx.MX{{Preference: 0, Host: domain}}
	}
	// RFC 7505 §3: "0 ." says the domain accepts no mail. A null MX among
	// other records is a misconfiguration: the other records are used.
	real := mxs[:0:0]
	for _, m := range mxs {
		if m.Host != "" {
			real = append(real, m)
		}
	}
	if len(real) == 0 {
		return nil, &outcome.Failure{Code: 556, Enhanced: "5.1.10", Text: fmt.Sprintf("domain %s does not accept mail (null MX)", domain), Permanent: true}
	}
	// RFC 5321 §5.1: equal preferences are tried in random order, to spread
	// load; shuffle, then a stable sort keeps the shuffle within a level.
	rand.Shuffle(len(real), func(i, j int) { real[i], real[j] = real[j], real[i] })
	slices.SortStableFunc(real, func(a, b dnsx.MX) int { return int(a.Preference) - int(b.Preference) })
	var hops []Hop
	var lastErr, refused error
	temporary := false
	for _, m := range real {
		ips, partial, err := r.lookupAddrs(ctx, m.Host)
		if err != nil {
			lastErr = err
			temporary = temporary || !dnsx.IsNotFound(err)
			continue
		}
		if !r.AllowPrivate {
			var why string
			ips, why = publicOnly(ips)
			if len(ips) == 0 {
				refused = fmt.Errorf("MX %s of %s resolves to a non-public address (%s)", m.Host, domain, why)
				// The family whose lookup failed may have a public one.
				temporary = temporary || partial
				continue
			}
		}
		hops = append(hops, Hop{Host: m.Host, Pref: m.Preference, Addrs: ips})
	}
	if len(hops) == 0 && refused != nil && !temporary {
		// The domain's mail exchangers are all inside private or reserved
		// networks: asking again later will not change where they are.
		return nil, &outcome.Failure{Code: 550, Enhanced: "5.4.4", Text: refused.Error() + "; sesame does not deliver to internal networks", Permanent: true}
	}
	if len(hops) == 0 {
		if lastErr == nil {
			lastErr = refused
		}
		return nil, &outcome.Failure{Code: 451, Enhanced: "4.4.4", Text: fmt.Sprintf("no address for any MX of %s: %v", domain, lastErr)}
	}
	return hops, nil
}

// publicOnly keeps the public addresses of ips; why names the first
// address left out and its range.
func publicOnly(ips []net.IP) (kept []net.IP, why string) {
	for _, ip := range ips {
		a, ok := netip.AddrFromSlice(ip)
		if !ok {
			continue
		}
		if w := netaddr.NonPublic(a); w != "" {
			if why == "" {
				why = a.Unmap().String() + ": " + w
			}
			continue
		}
		kept = append(kept, ip)
	}
	return kept, why
}

// maxCached bounds each of the route caches: recipient domains come from
// senders, so a sender writing to many domains must not grow them without
// end. Past it, expired entries go; if that is not enough, all of them.
const maxCached = 100000

// lookupTimeout bounds a shared lookup, which runs apart from the context
// of the delivery that started it (the others waiting on it must not fail
// because that one was cancelled).
const lookupTimeout = time.Minute

// cachedMX returns domain's cached MX answer unless missing or expired.
func (r *Router) cachedMX(domain string) (cachedMX, bool) {
	r.mu.Lock()
	c, ok := r.mx[domain]
	r.mu.Unlock()
	return c, ok && r.now().Before(c.expires)
}

// cachedAddrs returns host's cached addresses unless missing or expired.
func (r *Router) cachedAddrs(host string) (cachedAddrs, bool) {
	r.mu.Lock()
	c, ok := r.addrs[host]
	r.mu.Unlock()
	return c, ok && r.now().Before(c.expires)
}

func (r *Router) lookupMX(ctx context.Context, domain string) ([]dnsx.MX, error) {
	if c, ok := r.cachedMX(domain); ok {
		return slices.Clone(c.mxs), c.err
	}
	c, err := r.mxFlights.do(ctx, domain, func(ctx context.Context) (cachedMX, error) {
		// A flight that ended between the look above and this one
		// filled the cache.
		if c, ok := r.cachedMX(domain); ok {
			return c, nil
		}
		mxs, ttl, err := r.Resolver.LookupMX(ctx, domain)
		now := r.now()
		var c cachedMX
		switch {
		case err == nil:
			c = cachedMX{mxs: mxs, expires: now.Add(r.ttl(ttl))}
		case dnsx.IsNotFound(err):
			c = cachedMX{err: err, expires: now.Add(negativeTTL)}
		default:
			return c, err // temporary: not cached
		}
		r.mu.Lock()
		r.mx = putBounded(r.mx, domain, c, now, func(c cachedMX) time.Time { return c.expires })
		r.mu.Unlock()
		return c, nil
	})
	if err != nil {
		return nil, err
	}
	return slices.Clone(c.mxs), c.err
}

// lookupAddrs returns host's addresses; partial says one family's lookup
// failed (those addresses are kept only for the TTL floor, so the failed
// family is asked again soon).
func (r *Router) lookupAddrs(ctx context.Context, host string) ([]net.IP, bool, error) {
	if c, ok := r.cachedAddrs(host); ok {
		return c.ips, c.partial, c.err
	}
	c, err := r.addrFlights.do(ctx, host, func(ctx context.Context) (cachedAddrs, error) {
		if c, ok := r.cachedAddrs(host); ok {
			return c, nil
		}
		ips, ttl, err := r.Resolver.LookupIP(ctx, host)
		now := r.now()
		var c cachedAddrs
		switch {
		case err == nil:
			c = cachedAddrs{ips: ips, expires: now.Add(r.ttl(ttl))}
		case len(ips) > 0 && errors.Is(err, dnsx.ErrPartial):
			c = cachedAddrs{ips: ips, partial: true, expires: now.Add(r.ttl(0))}
		case dnsx.IsNotFound(err):
			c = cachedAddrs{err: err, expires: now.Add(negativeTTL)}
		default:
			return c, err
		}
		r.mu.Lock()
		r.addrs = putBounded(r.addrs, host, c, now, func(c cachedAddrs) time.Time { return c.expires })
		r.mu.Unlock()
		return c, nil
	})
	if err != nil {
		return nil, false, err
	}
	return c.ips, c.partial, c.err
}

// putBounded puts v in m (made when nil), keeping m within maxCached.
func putBounded[V any](m map[string]V, k string, v V, now time.Time, expires func(V) time.Time) map[string]V {
	if m == nil {
		m = map[string]V{}
	}
	if _, ok := m[k]; !ok && len(m) >= maxCached {
		maps.DeleteFunc(m, func(_ string, v V) bool { return !now.Before(expires(v)) })
		if len(m) >= maxCached {
			clear(m)
		}
	}
	m[k] = v
	return m
}

// flights shares lookups in flight: while one caller looks a key up, the
// others asking for it wait for its answer instead of asking again (as
// golang.org/x/sync/singleflight, which is not worth a module for this).
type flights[V any] struct {
	mu sync.Mutex
	m  map[string]*flight[V]
}

type flight[V any] struct {
	done chan struct{}
	val  V
	err  error
}

// do returns fn's result for key, calling fn unless a call for key is in
// flight. fn runs apart from ctx's cancellation (bounded by
// lookupTimeout); a caller whose ctx ends stops waiting.
func (f *flights[V]) do(ctx context.Context, key string, fn func(context.Context) (V, error)) (V, error) {
	f.mu.Lock()
	if f.m == nil {
		f.m = map[string]*flight[V]{}
	}
	c, ok := f.m[key]
	if !ok {
		c = &flight[V]{done: make(chan struct{})}
		f.m[key] = c
		go func() {
			lctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), lookupTimeout)
			defer cancel()
			c.val, c.err = fn(lctx)
			f.mu.Lock()
			delete(f.m, key)
			f.mu.Unlock()
			close(c.done)
		}()
	}
	f.mu.Unlock()
	select {
	case <-c.done:
		return c.val, c.err
	case <-ctx.Done():
		var zero V
		return zero, ctx.Err()
	}
}
