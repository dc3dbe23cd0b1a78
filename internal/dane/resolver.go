package dane

import (
	"context"
	"encoding/hex"
	"fmt"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/miekg/dns"

	"sesame/internal/clock"
)

// The DNS side (RFC 7672 §2.2). DANE applies to an MX host only when every
// step leading to its TLSA records is DNSSEC-secure: the recipient domain's
// MX RRset (or its secure denial, for an implicit MX), the host's address
// records and the TLSA RRset itself. sesame validates nothing itself: it
// trusts the AD bit of the operator's resolver, which the operator
// declares validating ([delivery] dane = true), as Postfix does with
// smtp_dns_support_level = dnssec and glibc's trust-ad.

// Policy is what DNS says about one MX host.
type Policy struct {
	// Required: a secure TLSA RRset exists, so TLS is mandatory (even when
	// none of its records is usable, §2.2).
	Required bool
	// Records are the usable records; none with Required means TLS
	// without authentication.
	Records []Record
}

// Resolver looks up the records DANE needs from one validating resolver.
type Resolver struct {
	Server  string        // host:port of a DNSSEC-validating resolver
	Timeout time.Duration // per exchange; 0 = 3 s
	Clock   clock.Clock
	// Port is the receivers' SMTP port, the TLSA name's _<port>._tcp
	// (default 25).
	Port string

	mu    sync.Mutex
	cache map[string]answer
}

// answer is one cached lookup.
type answer struct {
	rrs     []dns.RR
	secure  bool
	exists  bool // NOERROR (with or without records); false: NXDOMAIN
	expires time.Time
}

const (
	minTTL     = 5 * time.Second
	maxTTL     = time.Hour
	maxAnswers = 20000
)

// ServerFromResolvConf returns the first nameserver of path (normally
// /etc/resolv.conf) as host:port, for when delivery.resolver is unset.
func ServerFromResolvConf(path string) (string, error) {
	cc, err := dns.ClientConfigFromFile(path)
	if err != nil {
		return "", fmt.Errorf("dane: reading %s: %w", path, err)
	}
	if len(cc.Servers) == 0 {
		return "", fmt.Errorf("dane: %s names no nameserver", path)
	}
	return net.JoinHostPort(cc.Servers[0], cc.Port), nil
}

// Lookup returns the DANE policy of mxHost, a mail exchanger of domain.
// A zero Policy means DANE does not apply (something on the way is not
// DNSSEC-secure, or there are no TLSA records). An error means the TLSA
// records of a secure host could not be looked up: RFC 7672 §2.2 says that
// host must not be used now (the caller defers).
func (r *Resolver) Lookup(ctx context.Context, domain, mxHost string) (Policy, error) {
	mx, err := r.query(ctx, domain, dns.TypeMX)
	if err != nil || !mx.secure {
		return Policy{}, nil // the router's own lookup decides about failures
	}
	if !r.addressSecure(ctx, mxHost) {
		return Policy{}, nil
	}
	port := r.Port
	if port == "" {
		port = "25"
	}
	name := "_" + port + "._tcp." + mxHost
	tlsa, err := r.query(ctx, name, dns.TypeTLSA)
	if err != nil {
		return Policy{}, fmt.Errorf("dane: TLSA %s of a DNSSEC-signed host: %w", name, err)
	}
	if !tlsa.secure {
		return Policy{}, nil
	}
	var recs []Record
	for _, rr := range tlsa.rrs {
		t, ok := rr.(*dns.TLSA)
		if !ok {
			continue
		}
		data, err := hex.DecodeString(t.Certificate)
		if err != nil {
			continue
		}
		recs = append(recs, Record{Usage: t.Usage, Selector: t.Selector, Matching: t.MatchingType, Data: data})
	}
	if len(recs) == 0 {
		return Policy{}, nil // secure denial: no DANE for this host
	}
	return Policy{Required: true, Records: Usable(recs)}, nil
}

// addressSecure reports whether host's address records are DNSSEC-secure
// (A, or AAAA when it has no A records).
func (r *Resolver) addressSecure(ctx context.Context, host string) bool {
	a, err := r.query(ctx, host, dns.TypeA)
	if err != nil {
		return false
	}
	if len(a.rrs) > 0 {
		return a.secure
	}
	aaaa, err := r.query(ctx, host, dns.TypeAAAA)
	return err == nil && aaaa.secure && len(aaaa.rrs) > 0
}

func (r *Resolver) now() time.Time {
	if r.Clock == nil {
		return time.Now()
	}
	return r.Clock.Now()
}

// query asks for name's qtype records with the AD bit set (RFC 6840
// §5.7), caching the answer within its TTL. NXDOMAIN and NODATA are
// answers (exists false / no records); any other rcode or no reply is an
// error, not cached.
func (r *Resolver) query(ctx context.Context, name string, qtype uint16) (answer, error) {
	fq := dns.Fqdn(strings.ToLower(name))
	key := fq + "/" + dns.TypeToString[qtype]
	now := r.now()
	r.mu.Lock()
	if a, ok := r.cache[key]; ok && now.Before(a.expires) {
		r.mu.Unlock()
		return a, nil
	}
	r.mu.Unlock()

	m := new(dns.Msg)
	m.SetQuestion(fq, qtype)
	m.RecursionDesired = true
	m.AuthenticatedData = true
	m.SetEdns0(1232, false)
	timeout := r.Timeout
	if timeout <= 0 {
		timeout = 3 * time.Second
	}
	cl := &dns.Client{Net: "udp", Timeout: timeout}
	in, _, err := cl.ExchangeContext(ctx, m, r.Server)
	if err == nil && in.Truncated {
		cl.Net = "tcp"
		in, _, err = cl.ExchangeContext(ctx, m, r.Server)
	}
	if err != nil {
		return answer{}, fmt.Errorf("%s %s via %s: %w", dns.TypeToString[qtype], name, r.Server, err)
	}
	a := answer{secure: in.AuthenticatedData}
	ttl := time.Minute // negative answers: a short fixed time
	switch in.Rcode {
	case dns.RcodeSuccess:
		a.exists = true
		first := true
		for _, rr := range in.Answer {
			if rr.Header().Rrtype != qtype {
				continue
			}
			a.rrs = append(a.rrs, rr)
			t := time.Duration(rr.Header().Ttl) * time.Second
			if first || t < ttl {
				ttl, first = t, false
			}
		}
	case dns.RcodeNameError:
	default:
		return answer{}, fmt.Errorf("%s %s via %s: %w", dns.TypeToString[qtype], name, r.Server, errRcode(in.Rcode))
	}
	a.expires = now.Add(min(max(ttl, minTTL), maxTTL))
	r.mu.Lock()
	if r.cache == nil || len(r.cache) >= maxAnswers {
		r.cache = map[string]answer{} // crude, but bounded: the next lookups refill it
	}
	r.cache[key] = a
	r.mu.Unlock()
	return a, nil
}

type errRcode int

func (e errRcode) Error() string { return "server answered " + dns.RcodeToString[int(e)] }
