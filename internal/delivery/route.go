package delivery

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net"
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
// cached within their TTL.

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

	mu    sync.Mutex
	mx    map[string]cachedMX
	addrs map[string]cachedAddrs
}

type cachedMX struct {
	mxs     []dnsx.MX
	err     error // a permanent answer (NXDOMAIN) is cached too
	expires time.Time
}

type cachedAddrs struct {
	ips     []net.IP
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
	var lastErr error
	for _, m := range real {
		ips, err := r.lookupAddrs(ctx, m.Host)
		if err != nil {
			lastErr = err
			continue
		}
		hops = append(hops, Hop{Host: m.Host, Pref: m.Preference, Addrs: ips})
	}
	if len(hops) == 0 {
		return nil, &outcome.Failure{Code: 451, Enhanced: "4.4.4", Text: fmt.Sprintf("no address for any MX of %s: %v", domain, lastErr)}
	}
	return hops, nil
}

func (r *Router) lookupMX(ctx context.Context, domain string) ([]dnsx.MX, error) {
	now := r.now()
	r.mu.Lock()
	c, ok := r.mx[domain]
	r.mu.Unlock()
	if ok && now.Before(c.expires) {
		return slices.Clone(c.mxs), c.err
	}
	mxs, ttl, err := r.Resolver.LookupMX(ctx, domain)
	switch {
	case err == nil:
		c = cachedMX{mxs: mxs, expires: now.Add(r.ttl(ttl))}
	case dnsx.IsNotFound(err):
		c = cachedMX{err: err, expires: now.Add(negativeTTL)}
	default:
		return nil, err // temporary: not cached
	}
	r.mu.Lock()
	if r.mx == nil {
		r.mx = map[string]cachedMX{}
	}
	r.mx[domain] = c
	r.mu.Unlock()
	return slices.Clone(c.mxs), c.err
}

func (r *Router) lookupAddrs(ctx context.Context, host string) ([]net.IP, error) {
	now := r.now()
	r.mu.Lock()
	c, ok := r.addrs[host]
	r.mu.Unlock()
	if ok && now.Before(c.expires) {
		return c.ips, c.err
	}
	ips, ttl, err := r.Resolver.LookupIP(ctx, host)
	switch {
	case err == nil:
		c = cachedAddrs{ips: ips, expires: now.Add(r.ttl(ttl))}
	case dnsx.IsNotFound(err):
		c = cachedAddrs{err: err, expires: now.Add(negativeTTL)}
	default:
		return nil, err
	}
	r.mu.Lock()
	if r.addrs == nil {
		r.addrs = map[string]cachedAddrs{}
	}
	r.addrs[host] = c
	r.mu.Unlock()
	return c.ips, c.err
}
