package testenv

import (
	"net"
	"strings"
	"sync"
	"testing"

	"github.com/miekg/dns"
)

// DNS is a loopback authoritative DNS server (UDP and TCP on one
// 127.0.0.1 port) whose records a test sets while it runs: the resolver
// identity verification asks (sesame's `delivery.resolver`). Names it has
// no record for answer NXDOMAIN; a name set to fail answers that rcode.
type DNS struct {
	// Addr is host:port, for delivery.resolver / dnsx.New.
	Addr string

	mu      sync.Mutex
	records map[string][]dns.RR // fqdn (lower-case) → records
	fail    map[string]int      // fqdn → rcode
}

// StartDNS starts the server; it stops when the test ends.
func StartDNS(t testing.TB) *DNS {
	t.Helper()
	d := &DNS{records: map[string][]dns.RR{}, fail: map[string]int{}}
	d.Addr = serveDNS(t, dns.HandlerFunc(d.serve))
	return d
}

// serveDNS answers h on one loopback port over UDP and TCP until the test
// ends, and returns the address.
func serveDNS(t testing.TB, h dns.Handler) string {
	t.Helper()
	var pc net.PacketConn
	var ln net.Listener
	// The UDP port the system picks may be taken for TCP; try a few.
	for range 20 {
		var err error
		pc, err = net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			t.Fatalf("testenv: dns: listen udp: %v", err)
		}
		ln, err = net.Listen("tcp", pc.LocalAddr().String())
		if err == nil {
			break
		}
		pc.Close()
		pc = nil
	}
	if pc == nil {
		t.Fatal("testenv: dns: no port free for both UDP and TCP")
	}
	servers := []*dns.Server{{PacketConn: pc, Handler: h}, {Listener: ln, Handler: h}}
	for _, s := range servers {
		started := make(chan struct{})
		s.NotifyStartedFunc = func() { close(started) }
		go func() { _ = s.ActivateAndServe() }()
		<-started
	}
	t.Cleanup(func() {
		for _, s := range servers {
			_ = s.Shutdown()
		}
	})
	return pc.LocalAddr().String()
}

func (d *DNS) serve(w dns.ResponseWriter, req *dns.Msg) {
	m := new(dns.Msg)
	m.SetReply(req)
	m.Authoritative = true
	if len(req.Question) == 1 {
		q := req.Question[0]
		name := strings.ToLower(q.Name)
		d.mu.Lock()
		rcode, failing := d.fail[name]
		rrs, known := d.records[name]
		d.mu.Unlock()
		switch {
		case failing:
			m.Rcode = rcode
		case !known:
			m.Rcode = dns.RcodeNameError
		default:
			for _, rr := range rrs {
				if rr.Header().Rrtype == q.Qtype {
					c := dns.Copy(rr)
					c.Header().Name = q.Name
					m.Answer = append(m.Answer, c)
				}
			}
		}
	}
	_ = w.WriteMsg(m)
}

func (d *DNS) add(name string, rr dns.RR) {
	fq := strings.ToLower(dns.Fqdn(name))
	rr.Header().Name = fq
	rr.Header().Class = dns.ClassINET
	rr.Header().Ttl = 60
	d.mu.Lock()
	d.records[fq] = append(d.records[fq], rr)
	delete(d.fail, fq)
	d.mu.Unlock()
}

// SetCNAME adds a CNAME record.
func (d *DNS) SetCNAME(name, target string) {
	d.add(name, &dns.CNAME{Hdr: dns.RR_Header{Rrtype: dns.TypeCNAME}, Target: dns.Fqdn(target)})
}

// SetTXT adds a TXT record; a value over 255 bytes is split into strings.
func (d *DNS) SetTXT(name, value string) {
	var parts []string
	for len(value) > 255 {
		parts = append(parts, value[:255])
		value = value[255:]
	}
	parts = append(parts, value)
	d.add(name, &dns.TXT{Hdr: dns.RR_Header{Rrtype: dns.TypeTXT}, Txt: parts})
}

// SetMX adds an MX record.
func (d *DNS) SetMX(name string, pref uint16, host string) {
	d.add(name, &dns.MX{Hdr: dns.RR_Header{Rrtype: dns.TypeMX}, Preference: pref, Mx: dns.Fqdn(host)})
}

// SetSOA adds an SOA record: name is a zone's apex, mbox its RNAME
// ("hostmaster.example.com").
func (d *DNS) SetSOA(name, ns, mbox string, serial uint32) {
	d.add(name, &dns.SOA{Hdr: dns.RR_Header{Rrtype: dns.TypeSOA}, Ns: dns.Fqdn(ns), Mbox: dns.Fqdn(mbox),
		Serial: serial, Refresh: 7200, Retry: 3600, Expire: 1209600, Minttl: 300})
}

// Fail makes queries for name answer rcode (e.g. dns.RcodeServerFailure).
func (d *DNS) Fail(name string, rcode int) {
	d.mu.Lock()
	d.fail[strings.ToLower(dns.Fqdn(name))] = rcode
	d.mu.Unlock()
}

// Remove drops every record of name and any failure set for it.
func (d *DNS) Remove(name string) {
	fq := strings.ToLower(dns.Fqdn(name))
	d.mu.Lock()
	delete(d.records, fq)
	delete(d.fail, fq)
	d.mu.Unlock()
}
