package delivery

import (
	"context"
	"errors"
	"testing"
	"time"

	"sesame/internal/clock"
	"sesame/internal/dnsx"
	"sesame/internal/outcome"
	"sesame/internal/testenv"
)

func TestRoute(t *testing.T) {
	d := testenv.StartDNS(t)
	d.SetMX("pref.test", 20, "b.pref.test")
	d.SetMX("pref.test", 10, "a.pref.test")
	d.SetA("a.pref.test", "127.0.0.2")
	d.SetA("b.pref.test", "127.0.0.3")
	d.SetA("bare.test", "127.0.0.4") // no MX: the domain is its own MX
	d.SetNullMX("null.test")
	d.SetMX("noaddr.test", 10, "gone.noaddr.test")
	d.SetMX("half.test", 10, "gone.half.test")
	d.SetMX("half.test", 20, "ok.half.test")
	d.SetA("ok.half.test", "127.0.0.5")

	tests := []struct {
		domain    string
		hosts     []string
		permanent bool
		status    string
	}{
		{domain: "pref.test", hosts: []string{"a.pref.test", "b.pref.test"}},
		{domain: "bare.test", hosts: []string{"bare.test"}},
		{domain: "half.test", hosts: []string{"ok.half.test"}},
		{domain: "null.test", permanent: true, status: "5.1.10"},
		{domain: "nxdomain.test", permanent: true, status: "5.1.2"},
		{domain: "noaddr.test", status: "4.4.4"},
	}
	r := &Router{Resolver: &dnsx.Client{Server: d.Addr, Timeout: time.Second}, AllowPrivate: true}
	for _, tc := range tests {
		t.Run(tc.domain, func(t *testing.T) {
			hops, err := r.Route(context.Background(), tc.domain)
			if tc.status != "" {
				var f *outcome.Failure
				if !errors.As(err, &f) || f.Permanent != tc.permanent || f.Status() != tc.status {
					t.Fatalf("Route = %v, %v; want failure %s permanent=%v", hops, err, tc.status, tc.permanent)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var hosts []string
			for _, h := range hops {
				hosts = append(hosts, h.Host)
				if len(h.Addrs) == 0 {
					t.Errorf("hop %s without addresses", h.Host)
				}
			}
			if len(hosts) != len(tc.hosts) {
				t.Fatalf("hosts = %v, want %v", hosts, tc.hosts)
			}
			for i := range hosts {
				if hosts[i] != tc.hosts[i] {
					t.Fatalf("hosts = %v, want %v", hosts, tc.hosts)
				}
			}
		})
	}
}

func TestRouteEqualPreferencesShuffled(t *testing.T) {
	d := testenv.StartDNS(t)
	for _, h := range []string{"a", "b", "c"} {
		d.SetMX("eq.test", 10, h+".eq.test")
		d.SetA(h+".eq.test", "127.0.0.2")
	}
	r := &Router{Resolver: &dnsx.Client{Server: d.Addr, Timeout: time.Second}, AllowPrivate: true}
	firsts := map[string]bool{}
	for range 60 {
		hops, err := r.Route(context.Background(), "eq.test")
		if err != nil || len(hops) != 3 {
			t.Fatalf("Route = %v, %v", hops, err)
		}
		firsts[hops[0].Host] = true
	}
	if len(firsts) < 2 {
		t.Errorf("equal preferences always tried in one order: %v", firsts)
	}
}

func TestRouteCachesWithinTTL(t *testing.T) {
	d := testenv.StartDNS(t) // records carry TTL 60
	d.SetMX("ttl.test", 10, "mx.ttl.test")
	d.SetA("mx.ttl.test", "127.0.0.2")
	clk := clock.NewFake(time.Unix(1000, 0))
	r := &Router{Resolver: &dnsx.Client{Server: d.Addr, Timeout: time.Second}, Clock: clk, AllowPrivate: true}
	ctx := context.Background()
	if _, err := r.Route(ctx, "ttl.test"); err != nil {
		t.Fatal(err)
	}
	d.Remove("ttl.test")
	d.Remove("mx.ttl.test")
	clk.Advance(59 * time.Second)
	if hops, err := r.Route(ctx, "ttl.test"); err != nil || hops[0].Host != "mx.ttl.test" {
		t.Fatalf("within the TTL: %v, %v", hops, err)
	}
	clk.Advance(2 * time.Second)
	if hops, err := r.Route(ctx, "ttl.test"); err == nil {
		t.Fatalf("past the TTL the removed records still route: %v", hops)
	}
}
