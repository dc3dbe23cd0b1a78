package delivery

import (
	"context"
	"fmt"
	"testing"

	"github.com/miekg/dns"

	"sesame/internal/dane"
	"sesame/internal/dnsx"
	"sesame/internal/mtasts"
	"sesame/internal/testenv"
)

type staticTXT map[string][]string

func (s staticTXT) TXT(_ context.Context, name string) ([]string, error) {
	if t, ok := s[name]; ok {
		return t, nil
	}
	return nil, fmt.Errorf("TXT %s: %w", name, dnsx.ErrNotFound)
}

type staticPolicy map[string]string

func (s staticPolicy) Fetch(_ context.Context, domain string) (*mtasts.Policy, error) {
	return mtasts.ParsePolicy(s[domain])
}

// TestTLSPlan: which hops a transaction keeps and under which policy.
func TestTLSPlan(t *testing.T) {
	t.Parallel()
	d := testenv.StartSecureDNS(t)
	key := make([]byte, 32)
	// x.test: MTA-STS enforce naming mx1 only; mx3 has DANE records.
	d.SetMX("x.test", 10, "mx1.x.test")
	d.SetMX("x.test", 20, "mx2.x.test")
	d.SetMX("x.test", 30, "mx3.x.test")
	for _, h := range []string{"mx1.x.test", "mx2.x.test", "mx3.x.test", "mx4.x.test"} {
		d.SetA(h, "127.0.0.2")
	}
	d.SetTLSA("_25._tcp.mx3.x.test", 3, 1, 1, key)
	d.SetSecure(true, "x.test", "mx1.x.test", "mx2.x.test", "mx3.x.test", "mx4.x.test", "_25._tcp.mx1.x.test", "_25._tcp.mx2.x.test", "_25._tcp.mx3.x.test")
	d.Fail("_25._tcp.mx4.x.test", dns.RcodeServerFailure)

	txt := staticTXT{"_mta-sts.x.test": {"v=STSv1; id=1"}, "_mta-sts.t.test": {"v=STSv1; id=1"}}
	pol := staticPolicy{
		"x.test": "version: STSv1\nmode: enforce\nmx: mx1.x.test\nmx: mx4.x.test\nmax_age: 600\n",
		"t.test": "version: STSv1\nmode: testing\nmx: mx1.t.test\nmax_age: 600\n",
	}
	a := &TLSAuth{
		MTASTS: &mtasts.Cache{Resolver: txt, Fetcher: pol},
		DANE:   &dane.Resolver{Server: d.Addr},
	}
	ctx := context.Background()
	hops := []Hop{{Host: "mx1.x.test"}, {Host: "mx2.x.test"}, {Host: "mx3.x.test"}, {Host: "mx4.x.test"}}
	tx := &Transaction{Domain: "x.test"}
	kept, f := a.plan(ctx, tx, hops)
	if f != nil || len(kept) != 2 || kept[0].Host != "mx1.x.test" || kept[1].Host != "mx3.x.test" {
		t.Fatalf("kept %+v, %v; want mx1 (MTA-STS) and mx3 (DANE; mx2 not in the policy, mx4's TLSA lookup failed)", kept, f)
	}
	if h := tx.tlsFor("mx1.x.test"); h.mode != tlsMTASTS || !h.require || !h.enforce {
		t.Errorf("mx1: %+v", h)
	}
	if h := tx.tlsFor("mx3.x.test"); h.mode != tlsDANE || !h.require || !h.enforce || len(h.dane) != 1 {
		t.Errorf("mx3: %+v", h)
	}

	// Nothing left: the failure says why, and is temporary.
	tx = &Transaction{Domain: "x.test"}
	if kept, f := a.plan(ctx, tx, []Hop{{Host: "mx2.x.test"}}); kept != nil || f == nil || f.Permanent || f.Enhanced != "4.7.5" {
		t.Errorf("only mx2: %+v, %+v", kept, f)
	}

	// Testing mode keeps every hop and enforces nothing; no policy is
	// opportunistic, with TlsPolicy REQUIRE added.
	tx = &Transaction{Domain: "t.test", RequireTLS: true}
	kept, f = a.plan(ctx, tx, []Hop{{Host: "other.t.test"}})
	if f != nil || len(kept) != 1 {
		t.Fatalf("testing mode: %+v, %v", kept, f)
	}
	if h := tx.tlsFor("other.t.test"); h.mode != tlsMTASTS || h.enforce || !h.require || h.why != "the configuration set" {
		t.Errorf("testing mode host: %+v", h)
	}
	tx = &Transaction{Domain: "none.test"}
	kept, _ = a.plan(ctx, tx, []Hop{{Host: "mx.none.test"}})
	if h := tx.tlsFor("mx.none.test"); len(kept) != 1 || h.mode != tlsOpportunistic || h.require {
		t.Errorf("no policy: %+v", h)
	}

	// Pooled connections are reused only under the same policy, verified
	// when verification is enforced.
	daneHost := hostTLS{mode: tlsDANE, require: true, enforce: true}
	for _, tc := range []struct {
		c    conn
		want hostTLS
		ok   bool
	}{
		{conn{mode: tlsDANE, tls: true, verified: true}, daneHost, true},
		{conn{mode: tlsDANE, tls: true}, daneHost, false},
		{conn{mode: tlsOpportunistic, tls: true}, daneHost, false},
		{conn{mode: tlsOpportunistic}, opportunistic, true},
		{conn{mode: tlsOpportunistic}, hostTLS{mode: tlsOpportunistic, require: true}, false},
	} {
		if got := tc.want.accepts(&tc.c); got != tc.ok {
			t.Errorf("%+v accepts %+v = %v", tc.want, tc.c, got)
		}
	}
}
