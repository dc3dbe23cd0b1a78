package dnsx

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/miekg/dns"
)

// Routing lookups for outbound delivery. Unlike the Resolver methods, these
// return TTLs (so a router can cache within them) and tell "the domain does
// not exist" (NXDOMAIN: ErrNotFound) apart from "the domain exists but has no
// record of this type" (NODATA: an empty answer and no error), because
// RFC 5321 §5.1 treats them differently: no MX records means the domain's
// address records are an implicit MX, while a domain that does not exist is
// a permanent failure.

// Router is what MX delivery asks. *Client and System implement it.
type Router interface {
	// LookupMX returns name's MX records and their smallest TTL. An empty
	// slice with a nil error means the name exists without MX records.
	LookupMX(ctx context.Context, name string) ([]MX, time.Duration, error)
	// LookupIP returns host's A and AAAA addresses and their smallest TTL;
	// ErrNotFound when it has none.
	LookupIP(ctx context.Context, host string) ([]net.IP, time.Duration, error)
}

// NewRouter returns the routing resolver for server (host:port), or the
// system's when server is empty.
func NewRouter(server string) Router {
	if server == "" {
		return System{}
	}
	return &Client{Server: server, Timeout: 3 * time.Second}
}

// systemTTL is the cache life of the system resolver's answers, which come
// without TTLs.
const systemTTL = time.Minute

// LookupMX implements Router.
func (c *Client) LookupMX(ctx context.Context, name string) ([]MX, time.Duration, error) {
	rrs, ttl, err := c.exchange(ctx, name, dns.TypeMX)
	if err != nil {
		return nil, 0, err
	}
	out := make([]MX, 0, len(rrs))
	for _, rr := range rrs {
		if r, ok := rr.(*dns.MX); ok {
			out = append(out, MX{Preference: r.Preference, Host: canonical(r.Mx)})
		}
	}
	return out, ttl, nil
}

// LookupIP implements Router: A then AAAA (both asked; either may be empty).
func (c *Client) LookupIP(ctx context.Context, host string) ([]net.IP, time.Duration, error) {
	var ips []net.IP
	var ttl time.Duration
	for _, qtype := range []uint16{dns.TypeA, dns.TypeAAAA} {
		rrs, t, err := c.exchange(ctx, host, qtype)
		if err != nil {
			return nil, 0, err
		}
		for _, rr := range rrs {
			switch r := rr.(type) {
			case *dns.A:
				ips = append(ips, r.A)
			case *dns.AAAA:
				ips = append(ips, r.AAAA)
			default:
				continue
			}
			ttl = minTTL(ttl, t)
		}
	}
	if len(ips) == 0 {
		return nil, 0, fmt.Errorf("dnsx: A/AAAA %s: no address: %w", host, ErrNotFound)
	}
	return ips, ttl, nil
}

// exchange asks for name's records of qtype. NXDOMAIN is ErrNotFound; an
// empty answer is an empty slice. The TTL is the smallest of the answer's.
// CNAMEs the server followed are accepted for address and MX lookups (the
// records then belong to the chain's end, which is what a sender uses).
func (c *Client) exchange(ctx context.Context, name string, qtype uint16) ([]dns.RR, time.Duration, error) {
	in, err := c.ask(ctx, name, qtype)
	if err != nil {
		return nil, 0, err
	}
	var out []dns.RR
	var ttl time.Duration
	for _, rr := range in.Answer {
		if rr.Header().Rrtype == qtype {
			out = append(out, rr)
			ttl = minTTL(ttl, time.Duration(rr.Header().Ttl)*time.Second)
		}
	}
	return out, ttl, nil
}

func minTTL(a, b time.Duration) time.Duration {
	if a == 0 || b < a {
		return b
	}
	return a
}

// LookupMX implements Router. The system resolver gives no TTLs and folds
// NODATA into "not found"; a name that has addresses but no MX is told
// apart by asking for its addresses.
func (System) LookupMX(ctx context.Context, name string) ([]MX, time.Duration, error) {
	mxs, err := net.DefaultResolver.LookupMX(ctx, name)
	var de *net.DNSError
	if err != nil && errors.As(err, &de) && de.IsNotFound {
		if _, aerr := net.DefaultResolver.LookupIPAddr(ctx, name); aerr == nil {
			return []MX{}, systemTTL, nil
		}
	}
	if err != nil {
		return nil, 0, systemErr("MX", name, err)
	}
	out := make([]MX, 0, len(mxs))
	for _, m := range mxs {
		out = append(out, MX{Preference: m.Pref, Host: canonical(m.Host)})
	}
	return out, systemTTL, nil
}

// LookupIP implements Router.
func (System) LookupIP(ctx context.Context, host string) ([]net.IP, time.Duration, error) {
	addrs, err := net.DefaultResolver.LookupIPAddr(ctx, strings.TrimSuffix(host, "."))
	if err != nil {
		return nil, 0, systemErr("A/AAAA", host, err)
	}
	ips := make([]net.IP, 0, len(addrs))
	for _, a := range addrs {
		ips = append(ips, a.IP)
	}
	if len(ips) == 0 {
		return nil, 0, fmt.Errorf("dnsx: A/AAAA %s: %w", host, ErrNotFound)
	}
	return ips, systemTTL, nil
}
