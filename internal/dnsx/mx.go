package dnsx

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
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
	// ErrNotFound when it has none. Addresses with an error wrapping
	// ErrPartial: one family's lookup failed, the other's addresses are
	// all there is for now.
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

// ErrPartial comes (wrapped) with the addresses of one family when the
// other's lookup failed: usable, but maybe not all of the host's.
var ErrPartial = errors.New("dnsx: one address family's lookup failed")

// LookupIP implements Router. A and AAAA are asked side by side and what
// answered is used: a resolver that answers SERVFAIL or REFUSED for one
// family (dnsmasq and some corporate resolvers do for AAAA) must not hold
// back mail the other family can carry. Only when no address came back is
// the result an error: temporary when a lookup failed, ErrNotFound when
// both said the name has none.
func (c *Client) LookupIP(ctx context.Context, host string) ([]net.IP, time.Duration, error) {
	qtypes := [2]uint16{dns.TypeA, dns.TypeAAAA}
	var answers [2]familyAnswer
	var wg sync.WaitGroup
	for i, qtype := range qtypes {
		wg.Go(func() {
			rrs, ttl, err := c.exchange(ctx, host, qtype)
			answers[i] = familyAnswer{ttl: ttl, err: err}
			for _, rr := range rrs {
				switch r := rr.(type) {
				case *dns.A:
					answers[i].ips = append(answers[i].ips, r.A)
				case *dns.AAAA:
					answers[i].ips = append(answers[i].ips, r.AAAA)
				}
			}
		})
	}
	wg.Wait()
	return mergeAddrs(host, answers[:])
}

// familyAnswer is one address family's lookup.
type familyAnswer struct {
	ips []net.IP
	ttl time.Duration
	err error
}

// mergeAddrs joins the answers of the two address families: the addresses
// any gave (with the smallest TTL of those that gave some, and ErrPartial
// when the other failed); with none, the first temporary failure, else
// ErrNotFound.
func mergeAddrs(host string, answers []familyAnswer) ([]net.IP, time.Duration, error) {
	var ips []net.IP
	var ttl time.Duration
	var temp error
	haveTTL := false
	for _, a := range answers {
		switch {
		case a.err != nil && !IsNotFound(a.err):
			if temp == nil {
				temp = a.err
			}
		case len(a.ips) > 0:
			ips = append(ips, a.ips...)
			if !haveTTL || a.ttl < ttl {
				ttl, haveTTL = a.ttl, true
			}
		}
	}
	switch {
	case len(ips) > 0 && temp != nil:
		return ips, ttl, fmt.Errorf("%w: %w", ErrPartial, temp)
	case len(ips) > 0:
		return ips, ttl, nil
	case temp != nil:
		return nil, 0, temp
	}
	return nil, 0, fmt.Errorf("dnsx: A/AAAA %s: no address: %w", host, ErrNotFound)
}

// maxCNAMEs bounds a CNAME chain (Go's resolver and Postfix give up at
// about the same depth); a longer one is a loop or an attack.
const maxCNAMEs = 8

// exchange asks for name's records of qtype. NXDOMAIN is ErrNotFound; an
// empty answer (NODATA) is an empty slice. A CNAME chain is followed: the
// records returned are those owned by the chain's end (other records in
// the answer are ignored: they are not what was asked), and when the
// server gave the chain without the end's records (an authoritative-only
// server, a chain leaving its zones) the end is asked in turn. The TTL is
// the smallest along the chain.
func (c *Client) exchange(ctx context.Context, name string, qtype uint16) ([]dns.RR, time.Duration, error) {
	owner := dns.Fqdn(name)
	var ttl time.Duration
	haveTTL := false
	keep := func(t uint32) {
		d := time.Duration(t) * time.Second
		if !haveTTL || d < ttl {
			ttl, haveTTL = d, true
		}
	}
	seen := map[string]bool{}
	for range maxCNAMEs + 1 {
		in, err := c.ask(ctx, owner, qtype)
		if err != nil {
			return nil, 0, err
		}
		// Walk the chain within this answer.
		for {
			key := strings.ToLower(owner)
			if seen[key] {
				return nil, 0, fmt.Errorf("dnsx: %s %s: CNAME loop at %s", dns.TypeToString[qtype], name, owner)
			}
			seen[key] = true
			var out []dns.RR
			var next string
			for _, rr := range in.Answer {
				h := rr.Header()
				if !strings.EqualFold(h.Name, owner) {
					continue
				}
				switch {
				case h.Rrtype == qtype:
					out = append(out, rr)
				case h.Rrtype == dns.TypeCNAME && qtype != dns.TypeCNAME:
					next = rr.(*dns.CNAME).Target
					keep(h.Ttl)
				}
			}
			if len(out) > 0 {
				for _, rr := range out {
					keep(rr.Header().Ttl)
				}
				return out, ttl, nil
			}
			if next == "" {
				// NODATA: the name exists without records of qtype.
				return nil, ttl, nil
			}
			if len(seen) > maxCNAMEs {
				return nil, 0, fmt.Errorf("dnsx: %s %s: CNAME chain longer than %d", dns.TypeToString[qtype], name, maxCNAMEs)
			}
			owner = next
			if !answerHasOwner(in, owner) {
				break // ask for the chain's next name
			}
		}
	}
	return nil, 0, fmt.Errorf("dnsx: %s %s: CNAME chain longer than %d", dns.TypeToString[qtype], name, maxCNAMEs)
}

func answerHasOwner(in *dns.Msg, owner string) bool {
	for _, rr := range in.Answer {
		if strings.EqualFold(rr.Header().Name, owner) {
			return true
		}
	}
	return false
}

// LookupMX implements Router. The system resolver gives no TTLs and folds
// NODATA into "not found"; a name that has addresses but no MX is told
// apart by asking for its addresses. When that asking fails, whether the
// domain exists is unknown: a temporary failure, not "does not exist"
// (which bounces).
func (System) LookupMX(ctx context.Context, name string) ([]MX, time.Duration, error) {
	mxs, err := net.DefaultResolver.LookupMX(ctx, name)
	var de *net.DNSError
	if err != nil && errors.As(err, &de) && de.IsNotFound {
		_, _, aerr := System{}.LookupIP(ctx, name)
		switch {
		case aerr == nil:
			return []MX{}, systemTTL, nil
		case !IsNotFound(aerr):
			return nil, 0, fmt.Errorf("dnsx: MX %s: none, and its addresses: %w", name, aerr)
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

// LookupIP implements Router: as Client's, each family on its own, so one
// failing does not hide the other's addresses.
func (System) LookupIP(ctx context.Context, host string) ([]net.IP, time.Duration, error) {
	host = strings.TrimSuffix(host, ".")
	var answers [2]familyAnswer
	var wg sync.WaitGroup
	for i, network := range [2]string{"ip4", "ip6"} {
		wg.Go(func() {
			answers[i].ttl = systemTTL
			addrs, err := net.DefaultResolver.LookupNetIP(ctx, network, host)
			var ae *net.AddrError
			if errors.As(err, &ae) {
				// "no suitable address": the name has none of this family.
				err = &net.DNSError{Err: ae.Err, Name: host, IsNotFound: true}
			}
			if err != nil {
				answers[i].err = systemErr("A/AAAA", host, err)
				return
			}
			for _, a := range addrs {
				answers[i].ips = append(answers[i].ips, net.IP(a.Unmap().AsSlice()))
			}
		})
	}
	wg.Wait()
	return mergeAddrs(host, answers[:])
}
