package delivery

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"

	"sesame/internal/clock"
	"sesame/internal/dnsx"
	"sesame/internal/outcome"
	"sesame/internal/testenv"
)

// A domain whose mail exchangers resolve only to internal addresses
// bounces (it would take a DNS change, not time, to fix); one with a
// public address among them goes there only; a private one next to a
// failing lookup (of another MX, or of the other address family) waits; allow_private_destinations routes them all.
func TestRouteRefusesNonPublic(t *testing.T) {
	d := testenv.StartFaultyDNS(t)
	d.SetMX("loop.test", 10, "mx.loop.test", 60)
	d.SetA("mx.loop.test", "127.0.0.1", 60)
	d.SetMX("inner.test", 10, "a.inner.test", 60)
	d.SetMX("inner.test", 20, "b.inner.test", 60)
	d.SetA("a.inner.test", "10.1.2.3", 60)
	d.SetAAAA("b.inner.test", "fd00::25", 60)
	d.SetA("bare.test", "169.254.169.254", 60) // no MX: the domain itself
	d.SetMX("mixed.test", 10, "mx.mixed.test", 60)
	d.SetA("mx.mixed.test", "192.168.0.25", 60)
	d.SetA("mx.mixed.test", "8.8.8.8", 60)
	d.SetMX("mapped.test", 10, "mx.mapped.test", 60)
	d.SetAAAA("mx.mapped.test", "::ffff:127.0.0.1", 60)
	d.SetMX("wait.test", 10, "a.wait.test", 60)
	d.SetMX("wait.test", 20, "b.wait.test", 60)
	d.SetA("a.wait.test", "127.0.0.1", 60)
	d.Fail("b.wait.test", dns.TypeA, dns.RcodeServerFailure)
	d.Fail("b.wait.test", dns.TypeAAAA, dns.RcodeServerFailure)
	// Only a private AAAA came back; the A lookup failed and may hold a
	// public address.
	d.SetMX("partial.test", 10, "mx.partial.test", 60)
	d.SetAAAA("mx.partial.test", "fd00::25", 60)
	d.Fail("mx.partial.test", dns.TypeA, dns.RcodeServerFailure)
	r := &Router{Resolver: &dnsx.Client{Server: d.Addr, Timeout: 2 * time.Second}}
	ctx := context.Background()

	for _, domain := range []string{"loop.test", "inner.test", "bare.test", "mapped.test"} {
		hops, err := r.Route(ctx, domain)
		var f *outcome.Failure
		if !errors.As(err, &f) || !f.Permanent || f.Status() != "5.4.4" || !strings.Contains(f.Text, "non-public address") {
			t.Errorf("%s: Route = %v, %v; want a permanent 5.4.4 naming the non-public address", domain, hops, err)
			continue
		}
		if typ, _ := outcome.Classify(f); typ != outcome.BouncePermanent {
			t.Errorf("%s: bounce type %s, want Permanent", domain, typ)
		}
	}
	hops, err := r.Route(ctx, "mixed.test")
	if err != nil || len(hops) != 1 || len(hops[0].Addrs) != 1 || hops[0].Addrs[0].String() != "8.8.8.8" {
		t.Errorf("mixed.test: Route = %v, %v; want only 8.8.8.8", hops, err)
	}
	for _, domain := range []string{"wait.test", "partial.test"} {
		var f *outcome.Failure
		if hops, err := r.Route(ctx, domain); !errors.As(err, &f) || f.Permanent {
			t.Errorf("%s: Route = %v, %v; want a temporary failure", domain, hops, err)
		}
	}

	open := &Router{Resolver: &dnsx.Client{Server: d.Addr, Timeout: 2 * time.Second}, AllowPrivate: true}
	for _, domain := range []string{"loop.test", "inner.test", "bare.test", "mapped.test"} {
		if hops, err := open.Route(ctx, domain); err != nil || len(hops) == 0 {
			t.Errorf("allowed: %s: Route = %v, %v", domain, hops, err)
		}
	}
}

// The resolver answering SERVFAIL or REFUSED for AAAA does not hold back
// a host with an A record.
func TestRouteOneFamilyFailing(t *testing.T) {
	d := testenv.StartFaultyDNS(t)
	d.SetMX("v4.test", 10, "mx.v4.test", 60)
	d.SetA("mx.v4.test", "127.0.0.2", 60)
	d.Fail("mx.v4.test", dns.TypeAAAA, dns.RcodeServerFailure)
	d.SetA("v4r.test", "127.0.0.3", 60) // implicit MX
	d.Fail("v4r.test", dns.TypeAAAA, dns.RcodeRefused)
	r := &Router{Resolver: &dnsx.Client{Server: d.Addr, Timeout: 2 * time.Second}, AllowPrivate: true}
	for _, domain := range []string{"v4.test", "v4r.test"} {
		hops, err := r.Route(context.Background(), domain)
		if err != nil || len(hops) != 1 || len(hops[0].Addrs) != 1 || hops[0].Addrs[0].To4() == nil {
			t.Errorf("%s: Route = %v, %v; want one IPv4 hop", domain, hops, err)
		}
	}
}

// TTL 0 answers (dnsmasq's default for local records) are kept for the
// floor, and deliveries that route at once share one lookup: many
// concurrent routes within one floor period cost one query of each kind.
func TestRouteTTLFloorAndSharedLookups(t *testing.T) {
	d := testenv.StartFaultyDNS(t)
	d.SetMX("zero.test", 10, "mx.zero.test", 0)
	d.SetA("mx.zero.test", "127.0.0.2", 0)
	d.SetAAAA("mx.zero.test", "::1", 0)
	clk := clock.NewFake(time.Unix(1000, 0))
	r := &Router{Resolver: &dnsx.Client{Server: d.Addr, Timeout: 2 * time.Second}, Clock: clk, MinTTL: 10 * time.Second, AllowPrivate: true}
	route := func() {
		var wg sync.WaitGroup
		for range 50 {
			wg.Go(func() {
				if hops, err := r.Route(context.Background(), "zero.test"); err != nil || len(hops) != 1 {
					t.Errorf("Route = %v, %v", hops, err)
				}
			})
		}
		wg.Wait()
	}
	queries := func() [3]int {
		return [3]int{d.Queries("zero.test", dns.TypeMX), d.Queries("mx.zero.test", dns.TypeA), d.Queries("mx.zero.test", dns.TypeAAAA)}
	}
	route()
	if q := queries(); q != [3]int{1, 1, 1} {
		t.Fatalf("50 concurrent routes asked MX, A, AAAA %v times, want once each", q)
	}
	clk.Advance(9 * time.Second)
	route()
	if q := queries(); q != [3]int{1, 1, 1} {
		t.Fatalf("within the floor: %v queries, want no more", q)
	}
	clk.Advance(2 * time.Second)
	route()
	if q := queries(); q != [3]int{2, 2, 2} {
		t.Fatalf("past the floor: %v queries, want one more each", q)
	}
}
