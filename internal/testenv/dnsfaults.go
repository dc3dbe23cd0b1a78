package testenv

import (
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// FaultyDNS is a loopback DNS server (UDP and TCP on one 127.0.0.1 port)
// for the ways real resolvers misbehave that delivery must survive: one
// record type answered SERVFAIL or REFUSED while another answers (dnsmasq,
// corporate resolvers for AAAA), TTLs of 0, CNAME chains the server does
// not follow. Unlike DNS it keys everything by name and type, and counts
// the queries it gets.
type FaultyDNS struct {
	// Addr is host:port, for delivery.resolver.
	Addr string

	mu      sync.Mutex
	names   map[string]bool     // fqdn → exists (else NXDOMAIN)
	records map[dnsKey][]dns.RR // (fqdn, type) → records
	rcodes  map[dnsKey]int      // (fqdn, type) → rcode to answer
	queries map[dnsKey]int      // (fqdn, type) → queries received
	follow  bool                // add a CNAME's target records to the answer
	delay   time.Duration       // before each answer
}

type dnsKey struct {
	name  string
	qtype uint16
}

func key(name string, qtype uint16) dnsKey {
	return dnsKey{strings.ToLower(dns.Fqdn(name)), qtype}
}

// StartFaultyDNS starts the server; it stops when the test ends. It
// follows CNAMEs within its own records unless NoFollow is called.
func StartFaultyDNS(t testing.TB) *FaultyDNS {
	t.Helper()
	d := &FaultyDNS{names: map[string]bool{}, records: map[dnsKey][]dns.RR{}, rcodes: map[dnsKey]int{},
		queries: map[dnsKey]int{}, follow: true}
	d.Addr = serveDNS(t, dns.HandlerFunc(d.serve))
	return d
}

func (d *FaultyDNS) serve(w dns.ResponseWriter, req *dns.Msg) {
	d.mu.Lock()
	delay := d.delay
	d.mu.Unlock()
	if delay > 0 {
		time.Sleep(delay) // a slow resolver: lookups overlap
	}
	m := new(dns.Msg)
	m.SetReply(req)
	m.Authoritative = true
	if len(req.Question) == 1 {
		q := req.Question[0]
		k := key(q.Name, q.Qtype)
		d.mu.Lock()
		d.queries[k]++
		rcode, failing := d.rcodes[k]
		switch {
		case failing:
			m.Rcode = rcode
		case !d.names[k.name]:
			m.Rcode = dns.RcodeNameError
		default:
			name := k.name
			for range 10 {
				if rrs := d.records[key(name, q.Qtype)]; len(rrs) > 0 {
					for _, rr := range rrs {
						m.Answer = append(m.Answer, dns.Copy(rr))
					}
					break
				}
				cn := d.records[key(name, dns.TypeCNAME)]
				if len(cn) == 0 || q.Qtype == dns.TypeCNAME {
					break
				}
				m.Answer = append(m.Answer, dns.Copy(cn[0]))
				name = strings.ToLower(cn[0].(*dns.CNAME).Target)
				if !d.follow {
					break
				}
			}
		}
		d.mu.Unlock()
	}
	_ = w.WriteMsg(m)
}

func (d *FaultyDNS) add(name string, ttl uint32, rr dns.RR) {
	fq := strings.ToLower(dns.Fqdn(name))
	h := rr.Header()
	h.Name, h.Class, h.Ttl = fq, dns.ClassINET, ttl
	d.mu.Lock()
	d.names[fq] = true
	k := key(fq, h.Rrtype)
	d.records[k] = append(d.records[k], rr)
	d.mu.Unlock()
}

// SetA adds an A record with the given TTL (seconds).
func (d *FaultyDNS) SetA(name, ip string, ttl uint32) {
	d.add(name, ttl, &dns.A{Hdr: dns.RR_Header{Rrtype: dns.TypeA}, A: net.ParseIP(ip).To4()})
}

// SetAAAA adds an AAAA record with the given TTL (seconds).
func (d *FaultyDNS) SetAAAA(name, ip string, ttl uint32) {
	d.add(name, ttl, &dns.AAAA{Hdr: dns.RR_Header{Rrtype: dns.TypeAAAA}, AAAA: net.ParseIP(ip)})
}

// SetMX adds an MX record ("." host: RFC 7505's null MX).
func (d *FaultyDNS) SetMX(name string, pref uint16, host string, ttl uint32) {
	d.add(name, ttl, &dns.MX{Hdr: dns.RR_Header{Rrtype: dns.TypeMX}, Preference: pref, Mx: dns.Fqdn(host)})
}

// SetCNAME makes name an alias of target.
func (d *FaultyDNS) SetCNAME(name, target string, ttl uint32) {
	d.add(name, ttl, &dns.CNAME{Hdr: dns.RR_Header{Rrtype: dns.TypeCNAME}, Target: strings.ToLower(dns.Fqdn(target))})
}

// Exists makes name exist without records (an MX or A query answers
// NODATA).
func (d *FaultyDNS) Exists(name string) {
	d.mu.Lock()
	d.names[strings.ToLower(dns.Fqdn(name))] = true
	d.mu.Unlock()
}

// Fail makes queries for name's records of qtype answer rcode
// (dns.RcodeServerFailure, dns.RcodeRefused…).
func (d *FaultyDNS) Fail(name string, qtype uint16, rcode int) {
	d.mu.Lock()
	d.rcodes[key(name, qtype)] = rcode
	d.mu.Unlock()
}

// NoFollow makes the server answer a CNAME without its target's records,
// as an authoritative server whose zone the target is not in does.
func (d *FaultyDNS) NoFollow() {
	d.mu.Lock()
	d.follow = false
	d.mu.Unlock()
}

// Delay makes every answer wait d, as a slow or distant resolver's does,
// so that lookups of concurrent deliveries overlap.
func (d *FaultyDNS) Delay(delay time.Duration) {
	d.mu.Lock()
	d.delay = delay
	d.mu.Unlock()
}

// Queries returns how many queries for name's records of qtype came.
func (d *FaultyDNS) Queries(name string, qtype uint16) int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.queries[key(name, qtype)]
}
