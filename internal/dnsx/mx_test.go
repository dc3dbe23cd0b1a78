package dnsx_test

import (
	"context"
	"errors"
	"net"
	"slices"
	"testing"
	"time"

	"github.com/miekg/dns"

	"sesame/internal/dnsx"
	"sesame/internal/testenv"
)

func ipStrings(ips []net.IP) []string {
	var out []string
	for _, ip := range ips {
		out = append(out, ip.String())
	}
	slices.Sort(out)
	return out
}

// One address family failing must not hide the other's addresses; only
// when neither gives one is the lookup an error, temporary if either
// failed.
func TestLookupIPFamilies(t *testing.T) {
	d := testenv.StartFaultyDNS(t)
	d.SetA("servfail6.test", "192.0.2.1", 60)
	d.Fail("servfail6.test", dns.TypeAAAA, dns.RcodeServerFailure)
	d.SetA("refused6.test", "192.0.2.2", 60)
	d.Fail("refused6.test", dns.TypeAAAA, dns.RcodeRefused)
	d.SetAAAA("refused4.test", "2001:db8::3", 60)
	d.Fail("refused4.test", dns.TypeA, dns.RcodeRefused)
	d.SetA("both.test", "192.0.2.4", 300)
	d.SetAAAA("both.test", "2001:db8::4", 30)
	d.Fail("allfail.test", dns.TypeA, dns.RcodeServerFailure)
	d.Fail("allfail.test", dns.TypeAAAA, dns.RcodeRefused)
	d.Exists("noaddr.test")
	d.Exists("halffail.test")
	d.Fail("halffail.test", dns.TypeAAAA, dns.RcodeServerFailure)
	c := &dnsx.Client{Server: d.Addr, Timeout: 2 * time.Second}

	tests := []struct {
		host     string
		want     []string
		ttl      time.Duration
		partial  bool
		notFound bool
		temp     bool
	}{
		{host: "servfail6.test", want: []string{"192.0.2.1"}, ttl: time.Minute, partial: true},
		{host: "refused6.test", want: []string{"192.0.2.2"}, ttl: time.Minute, partial: true},
		{host: "refused4.test", want: []string{"2001:db8::3"}, ttl: time.Minute, partial: true},
		{host: "both.test", want: []string{"192.0.2.4", "2001:db8::4"}, ttl: 30 * time.Second},
		{host: "allfail.test", temp: true},
		{host: "noaddr.test", notFound: true},
		{host: "nxdomain.test", notFound: true},
		{host: "halffail.test", temp: true}, // NODATA for A, SERVFAIL for AAAA: the AAAA may exist
	}
	for _, tc := range tests {
		t.Run(tc.host, func(t *testing.T) {
			ips, ttl, err := c.LookupIP(context.Background(), tc.host)
			switch {
			case tc.notFound:
				if !dnsx.IsNotFound(err) {
					t.Fatalf("LookupIP = %v, %v; want not found", ips, err)
				}
			case tc.temp:
				if err == nil || dnsx.IsNotFound(err) {
					t.Fatalf("LookupIP = %v, %v; want a temporary failure", ips, err)
				}
			case tc.partial != errors.Is(err, dnsx.ErrPartial):
				t.Fatalf("LookupIP = %v, %v; want partial = %v", ips, err, tc.partial)
			case err != nil && !tc.partial:
				t.Fatal(err)
			default:
				if got := ipStrings(ips); !slices.Equal(got, tc.want) || ttl != tc.ttl {
					t.Fatalf("LookupIP = %v (TTL %s), want %v (TTL %s)", got, ttl, tc.want, tc.ttl)
				}
			}
		})
	}
}

// The MX lookup tells "no such domain" (permanent) from "no MX records"
// (the domain is its own MX) from a failure to get an answer (temporary).
func TestLookupMXAnswers(t *testing.T) {
	d := testenv.StartFaultyDNS(t)
	d.SetMX("mx.test", 10, "in.mx.test", 120)
	d.SetA("nomx.test", "192.0.2.1", 60)
	d.SetMX("null.test", 0, ".", 60)
	d.Fail("servfail.test", dns.TypeMX, dns.RcodeServerFailure)
	d.SetA("servfail.test", "192.0.2.1", 60)
	c := &dnsx.Client{Server: d.Addr, Timeout: 2 * time.Second}
	ctx := context.Background()

	if mxs, ttl, err := c.LookupMX(ctx, "mx.test"); err != nil || len(mxs) != 1 || mxs[0].Host != "in.mx.test" || ttl != 2*time.Minute {
		t.Errorf("mx.test: %v %s %v", mxs, ttl, err)
	}
	if mxs, _, err := c.LookupMX(ctx, "nomx.test"); err != nil || len(mxs) != 0 {
		t.Errorf("nomx.test: %v %v, want NODATA", mxs, err)
	}
	if mxs, _, err := c.LookupMX(ctx, "null.test"); err != nil || len(mxs) != 1 || mxs[0].Host != "" {
		t.Errorf("null.test: %v %v, want the null MX", mxs, err)
	}
	if _, _, err := c.LookupMX(ctx, "nxdomain.test"); !dnsx.IsNotFound(err) {
		t.Errorf("nxdomain.test: %v, want not found", err)
	}
	if _, _, err := c.LookupMX(ctx, "servfail.test"); err == nil || dnsx.IsNotFound(err) {
		t.Errorf("servfail.test: %v, want a temporary failure", err)
	}
}

// CNAME chains are followed to their end, whether the server follows them
// or not, with the smallest TTL on the way; records of other names in the
// answer are not taken; a loop is an error, not a hang.
func TestLookupFollowsCNAMEs(t *testing.T) {
	for _, follow := range []bool{true, false} {
		d := testenv.StartFaultyDNS(t)
		if !follow {
			d.NoFollow()
		}
		d.SetCNAME("alias.test", "mid.test", 20)
		d.SetCNAME("mid.test", "real.test", 300)
		d.SetA("real.test", "192.0.2.7", 300)
		d.SetMX("mxalias.test", 5, "mx.real.test", 300)
		d.SetCNAME("mxcname.test", "mxalias.test", 300)
		d.SetCNAME("loop1.test", "loop2.test", 60)
		d.SetCNAME("loop2.test", "loop1.test", 60)
		c := &dnsx.Client{Server: d.Addr, Timeout: 2 * time.Second}
		ctx := context.Background()

		ips, ttl, err := c.LookupIP(ctx, "alias.test")
		if err != nil || !slices.Equal(ipStrings(ips), []string{"192.0.2.7"}) || ttl != 20*time.Second {
			t.Errorf("follow=%v: alias.test = %v %s %v", follow, ips, ttl, err)
		}
		mxs, _, err := c.LookupMX(ctx, "mxcname.test")
		if err != nil || len(mxs) != 1 || mxs[0].Host != "mx.real.test" {
			t.Errorf("follow=%v: mxcname.test = %v %v", follow, mxs, err)
		}
		done := make(chan error, 1)
		go func() { _, _, err := c.LookupIP(ctx, "loop1.test"); done <- err }()
		select {
		case err := <-done:
			if err == nil || dnsx.IsNotFound(err) {
				t.Errorf("follow=%v: a CNAME loop gave %v, want a temporary failure", follow, err)
			}
		case <-time.After(30 * time.Second):
			t.Fatalf("follow=%v: a CNAME loop hangs the lookup", follow)
		}
	}
}
