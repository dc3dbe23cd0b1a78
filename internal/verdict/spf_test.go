package verdict

import (
	"context"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// zoneDNS is a loopback UDP DNS server answering from zone-file lines,
// with some (name, type) pairs answering SERVFAIL: the records SPF's a,
// mx and include mechanisms need (testenv.DNS has no A records). A name
// it has records for answers NOERROR for other types (NODATA); any other
// name NXDOMAIN.
func zoneDNS(t *testing.T, servfail map[string]uint16, zone ...string) string {
	t.Helper()
	records := map[string][]dns.RR{}
	for _, line := range zone {
		rr, err := dns.NewRR(line)
		if err != nil {
			t.Fatalf("zone line %q: %v", line, err)
		}
		name := strings.ToLower(rr.Header().Name)
		records[name] = append(records[name], rr)
	}
	handler := dns.HandlerFunc(func(w dns.ResponseWriter, req *dns.Msg) {
		m := new(dns.Msg)
		m.SetReply(req)
		q := req.Question[0]
		name := strings.ToLower(q.Name)
		rrs, known := records[name]
		switch {
		case servfail[name] == q.Qtype:
			m.Rcode = dns.RcodeServerFailure
		case !known:
			m.Rcode = dns.RcodeNameError
		default:
			for _, rr := range rrs {
				if rr.Header().Rrtype == q.Qtype {
					m.Answer = append(m.Answer, rr)
				}
			}
		}
		_ = w.WriteMsg(m)
	})
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	started := make(chan struct{})
	srv := &dns.Server{PacketConn: pc, Handler: handler, NotifyStartedFunc: func() { close(started) }}
	go func() { _ = srv.ActivateAndServe() }()
	<-started
	t.Cleanup(func() { _ = srv.Shutdown() })
	return pc.LocalAddr().String()
}

// SPF's mechanisms that ask for MX and address records, through dnsx's
// Router: a, mx, include, a NODATA MX, and an address family that fails
// while the other answers.
func TestSPFMechanisms(t *testing.T) {
	t.Parallel()
	addr := zoneDNS(t, map[string]uint16{"partial.test.": dns.TypeAAAA},
		`mx.test. 60 IN TXT "v=spf1 mx -all"`,
		`mx.test. 60 IN MX 10 mail.mx.test.`,
		`mail.mx.test. 60 IN A 192.0.2.10`,
		`a.test. 60 IN TXT "v=spf1 a -all"`,
		`a.test. 60 IN AAAA 2001:db8::a`,
		`partial.test. 60 IN TXT "v=spf1 a -all"`,
		`partial.test. 60 IN A 192.0.2.20`,
		`inc.test. 60 IN TXT "v=spf1 include:_spf.provider.test -all"`,
		`_spf.provider.test. 60 IN TXT "v=spf1 ip4:192.0.2.30 ~all"`,
		`nomx.test. 60 IN TXT "v=spf1 mx -all"`,
		`twoinc.test. 60 IN TXT "v=spf1 include:_spf.other.test include:_spf.provider.test ip4:192.0.2.40 -all"`,
		`_spf.other.test. 60 IN TXT "v=spf1 ip4:198.51.100.0/24 ~all"`,
		`redir.test. 60 IN TXT "v=spf1 redirect=_spf.provider.test"`,
	)
	c := New(Config{Timeout: 5 * time.Second}.WithResolver(addr))
	tests := []struct {
		domain, ip string
		want       string
		decidedBy  string // "" = domain
	}{
		{"mx.test", "192.0.2.10", "pass", ""},
		{"mx.test", "192.0.2.11", "fail", ""},
		{"a.test", "2001:db8::a", "pass", ""},
		{"a.test", "2001:db8::b", "fail", ""},
		{"partial.test", "192.0.2.20", "pass", ""},
		{"inc.test", "192.0.2.30", "pass", "_spf.provider.test"},
		{"inc.test", "192.0.2.31", "fail", ""},
		{"twoinc.test", "192.0.2.30", "pass", "_spf.provider.test"},
		{"twoinc.test", "192.0.2.40", "pass", ""},
		{"redir.test", "192.0.2.30", "pass", "_spf.provider.test"},
		{"nomx.test", "192.0.2.10", "fail", ""},
	}
	// A MAIL FROM without a domain is checked, and named, by its HELO.
	if got := c.checkSPF(context.Background(), Input{IP: netip.MustParseAddr("192.0.2.10"), Helo: "MX.test", MailFrom: "postmaster"}); got.result != "pass" || got.domain != "mx.test" {
		t.Errorf("MAIL FROM without a domain: SPF %s for %q, want pass for mx.test", got.result, got.domain)
	}
	for _, tc := range tests {
		t.Run(tc.domain+"/"+tc.ip, func(t *testing.T) {
			t.Parallel()
			got := c.checkSPF(context.Background(), Input{IP: netip.MustParseAddr(tc.ip), Helo: "h.example", MailFrom: "a@" + tc.domain})
			decidedBy := tc.decidedBy
			if decidedBy == "" {
				decidedBy = tc.domain
			}
			if got.result != tc.want || got.domain != tc.domain || got.decidedBy != decidedBy {
				t.Errorf("SPF %s for %s decided by %s, want %s for %s decided by %s",
					got.result, got.domain, got.decidedBy, tc.want, tc.domain, decidedBy)
			}
		})
	}
}
