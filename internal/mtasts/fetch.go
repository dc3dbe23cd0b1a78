package mtasts

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"sesame/internal/netaddr"
	"time"
)

// The policy fetch (RFC 8461 §3.3): GET over HTTPS with a certificate valid
// for mta-sts.<domain>, no redirects, a 200 answer, at most MaxPolicyBytes,
// within FetchTimeout.

const (
	// MaxPolicyBytes bounds a policy file (RFC 8461 §3.3 suggests 64 KB).
	MaxPolicyBytes = 64 << 10
	// FetchTimeout bounds one fetch (RFC 8461 §3.3 suggests a minute).
	FetchTimeout = time.Minute
)

// ErrFetch is wrapped by every fetch failure.
var ErrFetch = errors.New("mtasts: fetching the policy failed")

// AddrResolver finds a host's addresses (dnsx.Router does).
type AddrResolver interface {
	LookupIP(ctx context.Context, host string) ([]net.IP, time.Duration, error)
}

// Dialer connects to policy hosts, resolving their names through the same
// resolver delivery uses (so the operator's delivery.resolver decides what
// mta-sts.<domain> is, as it decides the MX hosts).
type Dialer struct {
	Resolver AddrResolver
	// Port replaces the URL's port (443) when set: tests serve the policy
	// on a port of their own.
	Port string
	// AllowPrivate allows loopback, private and other non-public addresses
	// (delivery.allow_private_destinations); otherwise a policy host that
	// resolves to one is not contacted, so a recipient domain cannot make
	// sesame issue requests into the operator's network.
	AllowPrivate bool
	Timeout      time.Duration // per connect; 0 = 30 s
}

// DialContext implements http.Transport's DialContext.
func (d *Dialer) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, err
	}
	if d.Port != "" {
		port = d.Port
	}
	ips, _, err := d.Resolver.LookupIP(ctx, host)
	if err != nil {
		return nil, err
	}
	timeout := d.Timeout
	if timeout <= 0 {
		timeout = 30 * time.Second
	}
	nd := net.Dialer{Timeout: timeout}
	var last error
	for _, ip := range ips {
		a, ok := netip.AddrFromSlice(ip)
		if !ok {
			continue
		}
		a = a.Unmap()
		if !d.AllowPrivate && netaddr.NonPublic(a) != "" {
			last = fmt.Errorf("%s is %s, a non-public address", host, a)
			continue
		}
		c, err := nd.DialContext(ctx, network, net.JoinHostPort(a.String(), port))
		if err == nil {
			return c, nil
		}
		last = err
	}
	if last == nil {
		last = fmt.Errorf("no address for %s", host)
	}
	return nil, last
}

// NewHTTPClient returns the client policy fetches go through: roots verify
// the policy host's certificate (nil = the system's), dial connects.
func NewHTTPClient(roots *x509.CertPool, dial func(ctx context.Context, network, addr string) (net.Conn, error)) *http.Client {
	return &http.Client{
		Timeout: FetchTimeout,
		Transport: &http.Transport{
			Proxy:               nil, // the policy host is reached directly, as the MX hosts are
			DialContext:         dial,
			TLSClientConfig:     &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12},
			TLSHandshakeTimeout: 30 * time.Second,
			MaxIdleConns:        10,
			IdleConnTimeout:     30 * time.Second,
			DisableCompression:  true,
		},
		// RFC 8461 §3.3: "HTTP 3xx redirects MUST NOT be followed".
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// Fetcher gets policy files.
type Fetcher struct {
	Client *http.Client
}

// Fetch gets and parses domain's policy.
func (f *Fetcher) Fetch(ctx context.Context, domain string) (*Policy, error) {
	ctx, cancel := context.WithTimeout(ctx, FetchTimeout)
	defer cancel()
	url := "https://mta-sts." + domain + "/.well-known/mta-sts.txt"
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrFetch, url, err)
	}
	resp, err := f.Client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrFetch, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		// Content-Type is not checked (as mox): the body's syntax decides.
		return nil, fmt.Errorf("%w: %s: HTTP status %s", ErrFetch, url, resp.Status)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, MaxPolicyBytes+1))
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrFetch, url, err)
	}
	if len(body) > MaxPolicyBytes {
		return nil, fmt.Errorf("%w: %s: policy over %d bytes", ErrFetch, url, MaxPolicyBytes)
	}
	p, err := ParsePolicy(string(body))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", url, err)
	}
	return p, nil
}
