package dnsserve

import (
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"
)

// Response rate limiting, after BIND's RRL: an authoritative server's
// answers over UDP can be aimed at a victim by spoofing its address, and a
// DKIM key is a few hundred bytes for a query of fifty. Each client
// network (/24 for IPv4, /56 for IPv6: one site, as BIND groups them) has
// a token bucket of RateLimit answers per second. Past it, every Slip-th
// answer goes out truncated and empty (TC=1: a real resolver retries over
// TCP, which cannot be spoofed and is never limited), the others are
// dropped.

// maxRRLPrefixes bounds the table; past it, idle networks are forgotten
// first, then any.
const maxRRLPrefixes = 65536

type rrlVerdict int

const (
	rrlAnswer rrlVerdict = iota
	rrlSlip
	rrlDrop
)

type rrl struct {
	rate float64 // answers per second per network
	slip int     // every slip-th limited answer is truncated; 0: none

	mu  sync.Mutex
	by  map[netip.Prefix]*rrlBucket
	now func() time.Time

	// What it decided, for tests and logs.
	answered, slipped, dropped atomic.Int64
}

type rrlBucket struct {
	tokens  float64
	last    time.Time
	limited int // answers limited since the bucket last had tokens
}

func newRRL(rate, slip int, now func() time.Time) *rrl {
	if rate <= 0 {
		return nil
	}
	return &rrl{rate: float64(rate), slip: slip, by: make(map[netip.Prefix]*rrlBucket), now: now}
}

// prefixOf is the client network of addr.
func prefixOf(addr net.Addr) (netip.Prefix, bool) {
	u, ok := addr.(*net.UDPAddr)
	if !ok {
		return netip.Prefix{}, false
	}
	ip, ok := netip.AddrFromSlice(u.IP)
	if !ok {
		return netip.Prefix{}, false
	}
	ip = ip.Unmap()
	bits := 56
	if ip.Is4() {
		bits = 24
	}
	p, err := ip.Prefix(bits)
	return p, err == nil
}

// check decides what to do with one UDP answer to addr. A nil rrl answers
// everything.
func (r *rrl) check(addr net.Addr) rrlVerdict {
	if r == nil {
		return rrlAnswer
	}
	p, ok := prefixOf(addr)
	if !ok {
		return rrlAnswer
	}
	now := r.now()
	r.mu.Lock()
	b := r.by[p]
	if b == nil {
		if len(r.by) >= maxRRLPrefixes {
			r.evict(now)
		}
		b = &rrlBucket{tokens: r.rate, last: now}
		r.by[p] = b
	}
	b.refill(now, r.rate)
	v := rrlAnswer
	if b.tokens >= 1 {
		b.tokens--
		b.limited = 0
	} else {
		b.limited++
		v = rrlDrop
		if r.slip > 0 && b.limited%r.slip == 0 {
			v = rrlSlip
		}
	}
	r.mu.Unlock()
	switch v {
	case rrlAnswer:
		r.answered.Add(1)
	case rrlSlip:
		r.slipped.Add(1)
	default:
		r.dropped.Add(1)
	}
	return v
}

func (b *rrlBucket) refill(now time.Time, rate float64) {
	if d := now.Sub(b.last); d > 0 {
		b.tokens = min(rate, b.tokens+d.Seconds()*rate)
		b.last = now
	}
}

// evict forgets networks whose buckets are full again (they hold nothing
// a new bucket lacks); if none is, an arbitrary one.
func (r *rrl) evict(now time.Time) {
	for p, b := range r.by {
		b.refill(now, r.rate)
		if b.tokens >= r.rate {
			delete(r.by, p)
		}
	}
	for p := range r.by {
		if len(r.by) < maxRRLPrefixes {
			break
		}
		delete(r.by, p)
	}
}
