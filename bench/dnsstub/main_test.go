package main

import (
	"net"
	"strings"
	"testing"

	"github.com/miekg/dns"
)

// serve starts s on a loopback UDP port and returns a query function.
func serve(t *testing.T, s *stub) func(name string, qtype uint16) *dns.Msg {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	started := make(chan struct{})
	srv := &dns.Server{PacketConn: pc, Handler: s, NotifyStartedFunc: func() { close(started) }}
	go srv.ActivateAndServe()
	<-started
	t.Cleanup(func() { srv.Shutdown() })
	return func(name string, qtype uint16) *dns.Msg {
		m := new(dns.Msg)
		m.SetQuestion(dns.Fqdn(name), qtype)
		c := &dns.Client{UDPSize: 4096}
		r, _, err := c.Exchange(m, pc.LocalAddr().String())
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		return r
	}
}

// The inbound bench's sender domain: SPF, a DKIM key longer than one
// character-string, and DMARC answer as TXT; a -txt DKIM name wins over the
// Easy DKIM CNAME that every other _domainkey name gets; MX and A as before.
func TestTXTRecords(t *testing.T) {
	s := &stub{addr: net.IPv4(127, 0, 0, 1).To4(), addrFor: map[string]net.IP{}, cnameDomain: "dkim.bench.test",
		txt: map[string][]string{}, ttl: 60}
	key := "v=DKIM1; k=rsa; p=" + strings.Repeat("A", 392)
	for _, kv := range []string{
		"example.org=v=spf1 ip4:127.0.0.0/8 -all",
		"Bench._domainkey.Example.org.=" + key,
		"_dmarc.example.org=v=DMARC1; p=reject",
	} {
		if err := s.addTXT(kv); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.addTXT("no-value"); err == nil {
		t.Fatal("-txt without = must be refused")
	}
	q := serve(t, s)

	txt := func(name string) string {
		r := q(name, dns.TypeTXT)
		if len(r.Answer) != 1 {
			t.Fatalf("%s: %d answers, want 1: %v", name, len(r.Answer), r.Answer)
		}
		rr, ok := r.Answer[0].(*dns.TXT)
		if !ok {
			t.Fatalf("%s: answer %T, want TXT", name, r.Answer[0])
		}
		for _, part := range rr.Txt {
			if len(part) > 255 {
				t.Fatalf("%s: character-string of %d bytes", name, len(part))
			}
		}
		return strings.Join(rr.Txt, "")
	}
	for name, want := range map[string]string{
		"example.org":                  "v=spf1 ip4:127.0.0.0/8 -all",
		"bench._domainkey.example.org": key,
		"_dmarc.EXAMPLE.org":           "v=DMARC1; p=reject",
	} {
		if got := txt(name); got != want {
			t.Errorf("%s: TXT %q, want %q", name, got, want)
		}
	}
	if r := q("bench._domainkey.example.org", dns.TypeCNAME); len(r.Answer) != 0 {
		t.Errorf("a -txt name must not also answer a CNAME: %v", r.Answer)
	}
	r := q("tok1._domainkey.example.com", dns.TypeCNAME)
	if len(r.Answer) != 1 || r.Answer[0].(*dns.CNAME).Target != "tok1.dkim.bench.test." {
		t.Errorf("Easy DKIM CNAME: %v", r.Answer)
	}
	r = q("example.net", dns.TypeMX)
	if len(r.Answer) != 1 || r.Answer[0].(*dns.MX).Mx != "mx.example.net." {
		t.Errorf("MX: %v", r.Answer)
	}
	if r := q("other.example", dns.TypeTXT); len(r.Answer) != 0 || r.Rcode != dns.RcodeSuccess {
		t.Errorf("an unknown TXT must be NODATA: rcode %d %v", r.Rcode, r.Answer)
	}
}
