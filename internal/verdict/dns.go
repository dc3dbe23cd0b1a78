package verdict

import (
	"context"
	"errors"
	"net"
	"strings"
	"time"

	"sesame/internal/dnsx"
	"sesame/internal/ttlcache"
)

// resolver puts Config's lookups behind the interface blitiri.com.ar/go/spf
// asks for, and turns dnsx's errors into the *net.DNSError the SPF, DKIM
// and DMARC libraries tell apart: IsNotFound ("no such record": SPF none,
// no DKIM key, no DMARC policy) against IsTemporary (temperror, tempfail).
// Those libraries test the error's type directly, not errors.As, so the
// error must be a bare *net.DNSError.
type resolver struct{ cfg *Config }

// dnsError is err as those libraries read it.
func dnsError(name string, err error) error {
	if err == nil {
		return nil
	}
	if dnsx.IsNotFound(err) {
		return &net.DNSError{Err: "no such record", Name: name, IsNotFound: true}
	}
	return &net.DNSError{Err: err.Error(), Name: name, IsTemporary: true,
		IsTimeout: errors.Is(err, context.DeadlineExceeded)}
}

// LookupTXT implements spf.DNSResolver.
func (r resolver) LookupTXT(ctx context.Context, name string) ([]string, error) {
	txt, err := r.cfg.LookupTXT(ctx, name)
	return txt, dnsError(name, err)
}

// LookupMX implements spf.DNSResolver. A name without MX records answers
// an empty list (a void lookup for RFC 7208 §4.6.4).
func (r resolver) LookupMX(ctx context.Context, name string) ([]*net.MX, error) {
	mxs, _, err := r.cfg.LookupMX(ctx, name)
	if err != nil {
		return nil, dnsError(name, err)
	}
	out := make([]*net.MX, 0, len(mxs))
	for _, m := range mxs {
		out = append(out, &net.MX{Host: m.Host + ".", Pref: m.Preference})
	}
	return out, nil
}

// LookupIPAddr implements spf.DNSResolver. When one address family's lookup
// failed (dnsx.ErrPartial), the other's addresses are what SPF matches
// against.
func (r resolver) LookupIPAddr(ctx context.Context, host string) ([]net.IPAddr, error) {
	ips, _, err := r.cfg.LookupIP(ctx, host)
	if err != nil && (len(ips) == 0 || !errors.Is(err, dnsx.ErrPartial)) {
		return nil, dnsError(host, err)
	}
	out := make([]net.IPAddr, 0, len(ips))
	for _, ip := range ips {
		out = append(out, net.IPAddr{IP: ip})
	}
	return out, nil
}

// LookupAddr implements spf.DNSResolver.
func (r resolver) LookupAddr(ctx context.Context, addr string) ([]string, error) {
	if r.cfg.LookupAddr == nil {
		return nil, &net.DNSError{Err: "no PTR lookups configured", Name: addr, IsNotFound: true}
	}
	names, err := r.cfg.LookupAddr(ctx, addr)
	if err != nil {
		var de *net.DNSError
		if errors.As(err, &de) {
			return nil, de
		}
		return nil, dnsError(addr, err)
	}
	return names, nil
}

// txtFunc is LookupTXT for go-msgauth, which takes no context.
func (r resolver) txtFunc(ctx context.Context) func(string) ([]string, error) {
	return func(name string) ([]string, error) { return r.LookupTXT(ctx, name) }
}

// txtAnswer is a kept TXT answer: the records, or that there are none.
type txtAnswer struct {
	txt      []string
	notFound bool
}

// cachedTXT keeps lookup's answers for ttl (ttlcache: one lookup per name
// while others of the same name wait for it).
func cachedTXT(lookup func(context.Context, string) ([]string, error), ttl time.Duration) func(context.Context, string) ([]string, error) {
	// Names come from the mail (MAIL FROM, From, d=): bounded.
	c := ttlcache.New[string, txtAnswer](nil, ttl, 100000)
	return func(ctx context.Context, name string) ([]string, error) {
		a, err := c.Get(ctx, strings.ToLower(name), func(ctx context.Context) (txtAnswer, error) {
			txt, err := lookup(ctx, name)
			if dnsx.IsNotFound(err) {
				return txtAnswer{notFound: true}, nil
			}
			return txtAnswer{txt: txt}, err
		})
		switch {
		case err != nil:
			return nil, err
		case a.notFound:
			return nil, dnsx.ErrNotFound
		}
		return a.txt, nil
	}
}
