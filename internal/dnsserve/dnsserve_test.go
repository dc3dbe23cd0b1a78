package dnsserve

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"

	"sesame/internal/clock"
	"sesame/internal/dkim"
	"sesame/internal/store"
)

const zone = "dkim.mail.example.net"

var (
	keyOnce sync.Once
	keyDER  []byte
)

func testKey(t *testing.T) []byte {
	t.Helper()
	keyOnce.Do(func() {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			panic(err)
		}
		keyDER, _ = x509.MarshalPKCS8PrivateKey(k)
	})
	return keyDER
}

type fixture struct {
	st   *store.Store
	clk  *clock.Fake
	addr string
	srv  *Server
}

func start(t *testing.T) *fixture { t.Helper(); return startWith(t, nil) }

// startWith starts a server whose Config adjust changes first.
func startWith(t *testing.T, adjust func(*Config)) *fixture {
	t.Helper()
	st, err := store.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	clk := clock.NewFake(time.Unix(1800000000, 0))
	cfg := Config{Store: st, Zone: zone + ".", Nameservers: []string{"ns1.example.net", "NS2.example.net"}, Clock: clk}
	if adjust != nil {
		adjust(&cfg)
	}
	srv := New(cfg)
	pc, ln, err := Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(pc, ln) }()
	t.Cleanup(func() {
		if err := srv.Shutdown(context.Background()); err != nil {
			t.Errorf("shutdown: %v", err)
		}
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	})
	return &fixture{st: st, clk: clk, addr: pc.LocalAddr().String(), srv: srv}
}

func (f *fixture) add(t *testing.T, name string, tokens ...string) {
	t.Helper()
	err := f.st.CreateIdentity(context.Background(), store.IdentityDetails{
		Identity: store.Identity{AccountID: "111122223333", Region: "us-east-1", Name: name},
		DKIM:     store.DKIM{Origin: store.DKIMOriginAWS, Tokens: tokens, PrivateKey: testKey(t)}}, store.MaxIdentities)
	if err != nil {
		t.Fatal(err)
	}
}

func (f *fixture) query(t *testing.T, proto, name string, qtype uint16) *dns.Msg {
	t.Helper()
	m := new(dns.Msg)
	m.SetQuestion(name, qtype)
	m.RecursionDesired = false
	c := &dns.Client{Net: proto, Timeout: 5 * time.Second}
	var in *dns.Msg
	var err error
	// The server's goroutines may not be accepting yet on the first query.
	for range 50 {
		if in, _, err = c.Exchange(m, f.addr); err == nil {
			return in
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("%s %s %s: %v", proto, name, dns.TypeToString[qtype], err)
	return nil
}

func TestAnswers(t *testing.T) {
	t.Parallel()
	f := start(t)
	f.add(t, "a.example", "tokaaa", "tokbbb", "tokccc")
	want, _ := dkim.PublicKeyRecord(testKey(t))
	tests := []struct {
		name    string
		qname   string
		qtype   uint16
		rcode   int
		aa      bool
		answer  string // type of the answers, "" = none
		count   int
		soaAuth bool
	}{
		{"token TXT", "tokaaa." + zone + ".", dns.TypeTXT, dns.RcodeSuccess, true, "TXT", 1, false},
		{"third token", "tokccc." + zone + ".", dns.TypeTXT, dns.RcodeSuccess, true, "TXT", 1, false},
		{"case-insensitive", "TOKbbb.DKIM.mail.example.NET.", dns.TypeTXT, dns.RcodeSuccess, true, "TXT", 1, false},
		{"token ANY", "tokaaa." + zone + ".", dns.TypeANY, dns.RcodeSuccess, true, "TXT", 1, false},
		{"token A: NODATA", "tokaaa." + zone + ".", dns.TypeA, dns.RcodeSuccess, true, "", 0, true},
		{"unknown token", "nope." + zone + ".", dns.TypeTXT, dns.RcodeNameError, true, "", 0, true},
		{"below a token", "x.tokaaa." + zone + ".", dns.TypeTXT, dns.RcodeNameError, true, "", 0, true},
		{"apex SOA", zone + ".", dns.TypeSOA, dns.RcodeSuccess, true, "SOA", 1, false},
		{"apex NS", zone + ".", dns.TypeNS, dns.RcodeSuccess, true, "NS", 2, false},
		{"apex ANY: one RRset (RFC 8482)", zone + ".", dns.TypeANY, dns.RcodeSuccess, true, "SOA", 1, false},
		{"apex TXT: NODATA", zone + ".", dns.TypeTXT, dns.RcodeSuccess, true, "", 0, true},
		{"other zone", "tokaaa.example.org.", dns.TypeTXT, dns.RcodeRefused, false, "", 0, false},
		{"parent zone", "mail.example.net.", dns.TypeSOA, dns.RcodeRefused, false, "", 0, false},
		{"zone transfer", zone + ".", dns.TypeAXFR, dns.RcodeRefused, false, "", 0, false},
	}
	for _, proto := range []string{"udp", "tcp"} {
		for _, tc := range tests {
			if tc.qtype == dns.TypeAXFR && proto == "udp" {
				continue
			}
			t.Run(proto+"/"+tc.name, func(t *testing.T) {
				in := f.query(t, proto, tc.qname, tc.qtype)
				if in.Rcode != tc.rcode || in.Authoritative != tc.aa {
					t.Fatalf("rcode %s aa %v, want %s aa %v", dns.RcodeToString[in.Rcode], in.Authoritative,
						dns.RcodeToString[tc.rcode], tc.aa)
				}
				if in.Truncated {
					t.Fatal("truncated")
				}
				if len(in.Answer) != tc.count {
					t.Fatalf("answers %v, want %d", in.Answer, tc.count)
				}
				for _, rr := range in.Answer {
					if got := dns.TypeToString[rr.Header().Rrtype]; got != tc.answer {
						t.Errorf("answer %s, want type %s", rr, tc.answer)
					}
					if txt, ok := rr.(*dns.TXT); ok {
						if strings.Join(txt.Txt, "") != want || len(txt.Txt) != 2 {
							t.Errorf("TXT %q, want %q in 2 strings", txt.Txt, want)
						}
						if txt.Hdr.Name != tc.qname {
							t.Errorf("owner %s, want %s", txt.Hdr.Name, tc.qname)
						}
					}
					if soa, ok := rr.(*dns.SOA); ok && (soa.Ns != "ns1.example.net." || soa.Minttl != soaMinimum) {
						t.Errorf("SOA %s", soa)
					}
				}
				hasSOA := len(in.Ns) == 1 && in.Ns[0].Header().Rrtype == dns.TypeSOA
				if hasSOA != tc.soaAuth {
					t.Errorf("authority %v, want SOA %v", in.Ns, tc.soaAuth)
				}
			})
		}
	}
}

// TestReload: a new identity's key is served once the keys are a second
// old, and the SOA serial moves on then (and only then).
func TestReload(t *testing.T) {
	t.Parallel()
	f := start(t)
	f.add(t, "a.example", "tok1")
	serial := func() uint32 {
		t.Helper()
		in := f.query(t, "udp", zone+".", dns.TypeSOA)
		return in.Answer[0].(*dns.SOA).Serial
	}
	s0 := serial()
	if in := f.query(t, "udp", "tok1."+zone+".", dns.TypeTXT); in.Rcode != dns.RcodeSuccess {
		t.Fatalf("tok1: %s", dns.RcodeToString[in.Rcode])
	}
	f.add(t, "b.example", "tok2")
	if in := f.query(t, "udp", "tok2."+zone+".", dns.TypeTXT); in.Rcode != dns.RcodeNameError {
		t.Fatalf("tok2 before reload: %s", dns.RcodeToString[in.Rcode])
	}
	f.clk.Advance(time.Second)
	if in := f.query(t, "udp", "tok2."+zone+".", dns.TypeTXT); in.Rcode != dns.RcodeSuccess {
		t.Fatalf("tok2 after reload: %s", dns.RcodeToString[in.Rcode])
	}
	s1 := serial()
	if s1 <= s0 {
		t.Errorf("serial %d after a change, was %d", s1, s0)
	}
	f.clk.Advance(time.Second)
	if s2 := serial(); s2 != s1 {
		t.Errorf("serial %d without a change, was %d", s2, s1)
	}
	if err := f.st.DeleteIdentity(context.Background(), "111122223333", "us-east-1", "a.example"); err != nil {
		t.Fatal(err)
	}
	f.clk.Advance(time.Second)
	if in := f.query(t, "tcp", "tok1."+zone+".", dns.TypeTXT); in.Rcode != dns.RcodeNameError {
		t.Fatalf("tok1 after delete: %s", dns.RcodeToString[in.Rcode])
	}
}

// TestNotQuery: other opcodes are not implemented.
func TestNotQuery(t *testing.T) {
	t.Parallel()
	f := start(t)
	m := new(dns.Msg)
	m.SetNotify(zone + ".")
	c := &dns.Client{Net: "tcp", Timeout: 5 * time.Second}
	var in *dns.Msg
	var err error
	for range 50 {
		if in, _, err = c.Exchange(m, f.addr); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		t.Fatal(err)
	}
	if in.Rcode != dns.RcodeNotImplemented {
		t.Fatalf("NOTIFY: %s", dns.RcodeToString[in.Rcode])
	}
}

// The server passes a *store.Store as the Store.
var _ Store = (*store.Store)(nil)
