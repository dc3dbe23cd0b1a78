// Package dnsx answers the DNS questions identity verification asks (CNAME,
// TXT, MX) through the operator's configured server (`delivery.resolver`,
// host:port, spoken to with miekg/dns) or, when none is configured, the
// system resolver. Its one job beyond asking is telling apart "the record is
// not there" (ErrNotFound: NXDOMAIN or no record of that type), which leaves
// a verification pending, from a failure to get an answer (any other error),
// which SES reports as TemporaryFailure.
//
// It never decides what an answer means for an identity: verify does.
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

// ErrNotFound is returned (wrapped) when the name does not exist or has no
// record of the asked type. Any other error is temporary.
var ErrNotFound = errors.New("dnsx: no such record")

// ErrNoSuchHost (NXDOMAIN) and ErrNoRecord (the name exists, without a
// record of the asked type) tell the two kinds of ErrNotFound apart, for
// verification's error types. Both are ErrNotFound (errors.Is); the system
// resolver cannot tell them apart and answers plain ErrNotFound.
var (
	ErrNoSuchHost = fmt.Errorf("%w: no such host", ErrNotFound)
	ErrNoRecord   = fmt.Errorf("%w of the type asked", ErrNotFound)
)

// MX is one mail exchanger.
type MX struct {
	Preference uint16
	Host       string // lower-case, without the trailing dot
}

// Resolver looks records up. Names are given and returned without the
// trailing dot, lower-case.
type Resolver interface {
	// CNAME returns the canonical name name is an alias of.
	CNAME(ctx context.Context, name string) (string, error)
	// TXT returns each TXT record's strings joined (RFC 7208 §3.3).
	TXT(ctx context.Context, name string) ([]string, error)
	// MX returns the mail exchangers of name.
	MX(ctx context.Context, name string) ([]MX, error)
}

// SOA is the start of authority of the zone a name is in.
type SOA struct {
	PrimaryNS  string // MNAME, lower-case, without the trailing dot
	AdminEmail string // RNAME as an address: hostmaster.example.com → hostmaster@example.com
	Serial     uint32
}

// SOAResolver is a Resolver that also finds the SOA of the zone a name is
// in. Client is one; the system resolver (Go's net package) asks for no
// SOA records.
type SOAResolver interface {
	SOA(ctx context.Context, name string) (SOA, error)
}

// IsNotFound reports whether err means the record is absent (as opposed to
// a failed lookup).
func IsNotFound(err error) bool { return errors.Is(err, ErrNotFound) }

// New returns a resolver for server (host:port), or the system resolver
// when server is empty.
func New(server string) Resolver {
	if server == "" {
		return System{}
	}
	return &Client{Server: server, Timeout: 3 * time.Second}
}

// Client asks one DNS server directly, over UDP, retrying over TCP when the
// answer is truncated.
type Client struct {
	Server  string        // host:port
	Timeout time.Duration // per exchange; 0 = 3 s
}

// CNAME implements Resolver.
func (c *Client) CNAME(ctx context.Context, name string) (string, error) {
	rrs, err := c.query(ctx, name, dns.TypeCNAME)
	if err != nil {
		return "", err
	}
	for _, rr := range rrs {
		if r, ok := rr.(*dns.CNAME); ok {
			return canonical(r.Target), nil
		}
	}
	return "", fmt.Errorf("dnsx: CNAME %s: %w", name, ErrNoRecord)
}

// TXT implements Resolver.
func (c *Client) TXT(ctx context.Context, name string) ([]string, error) {
	rrs, err := c.query(ctx, name, dns.TypeTXT)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, rr := range rrs {
		if r, ok := rr.(*dns.TXT); ok {
			out = append(out, strings.Join(r.Txt, ""))
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("dnsx: TXT %s: %w", name, ErrNoRecord)
	}
	return out, nil
}

// MX implements Resolver.
func (c *Client) MX(ctx context.Context, name string) ([]MX, error) {
	rrs, err := c.query(ctx, name, dns.TypeMX)
	if err != nil {
		return nil, err
	}
	var out []MX
	for _, rr := range rrs {
		if r, ok := rr.(*dns.MX); ok {
			out = append(out, MX{Preference: r.Preference, Host: canonical(r.Mx)})
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("dnsx: MX %s: %w", name, ErrNoRecord)
	}
	return out, nil
}

// SOA implements SOAResolver: the SOA in the answer (name is the zone's
// apex) or, as servers send it with NXDOMAIN and empty answers (RFC 2308
// §3), in the authority section.
func (c *Client) SOA(ctx context.Context, name string) (SOA, error) {
	in, err := c.exchange1(ctx, name, dns.TypeSOA)
	if err != nil {
		return SOA{}, err
	}
	if in.Rcode != dns.RcodeSuccess && in.Rcode != dns.RcodeNameError {
		return SOA{}, fmt.Errorf("dnsx: SOA %s via %s: server answered %s", name, c.Server, dns.RcodeToString[in.Rcode])
	}
	for _, rr := range append(in.Answer, in.Ns...) {
		if r, ok := rr.(*dns.SOA); ok {
			return SOA{PrimaryNS: canonical(r.Ns), AdminEmail: mboxAddress(r.Mbox), Serial: r.Serial}, nil
		}
	}
	return SOA{}, fmt.Errorf("dnsx: SOA %s: %w", name, ErrNoRecord)
}

// mboxAddress turns an SOA RNAME into the address it stands for: the first
// unescaped dot is the @ (RFC 1035 §8; "john\\.doe.example.com" is
// john.doe@example.com).
func mboxAddress(mbox string) string {
	mbox = strings.TrimSuffix(mbox, ".")
	var local strings.Builder
	for i := 0; i < len(mbox); i++ {
		switch {
		case mbox[i] == '\\' && i+1 < len(mbox):
			i++
			local.WriteByte(mbox[i])
		case mbox[i] == '.':
			return local.String() + "@" + strings.ToLower(mbox[i+1:])
		default:
			local.WriteByte(mbox[i])
		}
	}
	return local.String()
}

// query asks for name's records of type qtype and returns the answer
// section's records of that type owned by name (a CNAME chain the server
// followed is not ours to follow: verification asks exact names).
func (c *Client) query(ctx context.Context, name string, qtype uint16) ([]dns.RR, error) {
	what := dns.TypeToString[qtype] + " " + name
	in, err := c.ask(ctx, name, qtype)
	if err != nil {
		return nil, err
	}
	var out []dns.RR
	for _, rr := range in.Answer {
		if rr.Header().Rrtype == qtype && strings.EqualFold(rr.Header().Name, dns.Fqdn(name)) {
			out = append(out, rr)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("dnsx: %s: %w", what, ErrNoRecord)
	}
	return out, nil
}

// ask sends one question to the configured server (over TCP when the UDP
// answer was truncated) and returns the answer of a NOERROR reply; NXDOMAIN
// is ErrNotFound, any other rcode a temporary failure.
func (c *Client) ask(ctx context.Context, name string, qtype uint16) (*dns.Msg, error) {
	what := dns.TypeToString[qtype] + " " + name
	in, err := c.exchange1(ctx, name, qtype)
	if err != nil {
		return nil, err
	}
	switch in.Rcode {
	case dns.RcodeSuccess:
		return in, nil
	case dns.RcodeNameError:
		return nil, fmt.Errorf("dnsx: %s: NXDOMAIN: %w", what, ErrNoSuchHost)
	default:
		return nil, fmt.Errorf("dnsx: %s via %s: server answered %s", what, c.Server, dns.RcodeToString[in.Rcode])
	}
}

// exchange1 sends one question (over TCP when the UDP answer was
// truncated) and returns the reply, whatever its rcode.
func (c *Client) exchange1(ctx context.Context, name string, qtype uint16) (*dns.Msg, error) {
	timeout := c.Timeout
	if timeout <= 0 {
		timeout = 3 * time.Second
	}
	m := new(dns.Msg)
	m.SetQuestion(dns.Fqdn(name), qtype)
	m.RecursionDesired = true
	cl := &dns.Client{Net: "udp", Timeout: timeout}
	in, _, err := cl.ExchangeContext(ctx, m, c.Server)
	if err == nil && in.Truncated {
		cl.Net = "tcp"
		in, _, err = cl.ExchangeContext(ctx, m, c.Server)
	}
	if err != nil {
		return nil, fmt.Errorf("dnsx: %s %s via %s: %w", dns.TypeToString[qtype], name, c.Server, err)
	}
	return in, nil
}

// System is the operating system's resolver (net.DefaultResolver).
type System struct{}

// CNAME implements Resolver. net.LookupCNAME answers name itself for a name
// that is no alias; that is "no CNAME" here.
func (System) CNAME(ctx context.Context, name string) (string, error) {
	target, err := net.DefaultResolver.LookupCNAME(ctx, name)
	if err != nil {
		return "", systemErr("CNAME", name, err)
	}
	target = canonical(target)
	if target == canonical(name) {
		return "", fmt.Errorf("dnsx: CNAME %s: %w", name, ErrNotFound)
	}
	return target, nil
}

// TXT implements Resolver.
func (System) TXT(ctx context.Context, name string) ([]string, error) {
	txt, err := net.DefaultResolver.LookupTXT(ctx, name)
	if err != nil {
		return nil, systemErr("TXT", name, err)
	}
	if len(txt) == 0 {
		return nil, fmt.Errorf("dnsx: TXT %s: %w", name, ErrNotFound)
	}
	return txt, nil
}

// MX implements Resolver.
func (System) MX(ctx context.Context, name string) ([]MX, error) {
	mxs, err := net.DefaultResolver.LookupMX(ctx, name)
	if err != nil {
		return nil, systemErr("MX", name, err)
	}
	out := make([]MX, 0, len(mxs))
	for _, m := range mxs {
		out = append(out, MX{Preference: m.Pref, Host: canonical(m.Host)})
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("dnsx: MX %s: %w", name, ErrNotFound)
	}
	return out, nil
}

func systemErr(typ, name string, err error) error {
	var de *net.DNSError
	if errors.As(err, &de) && de.IsNotFound {
		return fmt.Errorf("dnsx: %s %s: %w", typ, name, ErrNotFound)
	}
	return fmt.Errorf("dnsx: %s %s: %w", typ, name, err)
}

func canonical(name string) string { return strings.ToLower(strings.TrimSuffix(name, ".")) }
