// Command dnsstub is the benchmark's DNS server: a tiny authoritative-looking
// resolver on loopback (UDP and TCP) that sesame's delivery.resolver points at,
// so MX routing and identity verification resolve without the internet.
//
// It answers every name it is asked (no zone files, no recursion):
//
//	MX    <name>                      10 mx.<name>      (RFC 5321 §5.1: the route)
//	A     mx.<name> / <name>          -a, or -a-for's address for listed domains
//	TXT   a -txt name                 its value(s) (SPF, a DKIM key, DMARC: what an
//	                                  inbound MX looks up about a sender); a -txt name
//	                                  answers TXT only, and before any rule below
//	CNAME <token>._domainkey.<domain> <token>.<-cname-domain>  (Easy DKIM's record,
//	                                  so the verifier sets DKIM to SUCCESS)
//	anything else                     NOERROR, no answer (NODATA)
//
// It is a benchmark tool only: it lies about every domain on purpose.
package main

import (
	"flag"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/miekg/dns"
)

// stub holds the answers' parameters.
type stub struct {
	addr        net.IP              // default A answer
	addrFor     map[string]net.IP   // recipient domain → A answer (its MX host's too)
	cnameDomain string              // Easy DKIM CNAME target domain, lower case, no trailing dot
	txt         map[string][]string // -txt: lower-case name, no trailing dot → records
	ttl         uint32
}

// addTXT parses one -txt flag: name=value (the value may hold '=' and ';').
// A name given twice gets two records.
func (s *stub) addTXT(kv string) error {
	name, value, ok := strings.Cut(kv, "=")
	name = strings.ToLower(strings.TrimSuffix(strings.TrimSpace(name), "."))
	if !ok || name == "" {
		return fmt.Errorf("-txt %q: want name=value", kv)
	}
	s.txt[name] = append(s.txt[name], value)
	return nil
}

func main() {
	listen := flag.String("listen", "127.0.0.1:5354", "UDP and TCP address")
	a := flag.String("a", "127.0.0.1", "address every MX host and domain resolves to")
	aFor := flag.String("a-for", "", "per-domain overrides, domain=ip,domain=ip (e.g. deferred.example.net=127.0.0.2: nothing listens there)")
	cname := flag.String("cname-domain", "dkim.localhost", "verification.dkim_cname_domain of the sesame under test (its default: dkim.<hostname>)")
	ttl := flag.Uint("ttl", 300, "TTL of every answer (sesame caches routes within it)")
	s := &stub{addrFor: map[string]net.IP{}, txt: map[string][]string{}}
	flag.Func("txt", "`name=value`: a TXT record (repeatable), e.g. example.org=\"v=spf1 ip4:127.0.0.0/8 -all\"", s.addTXT)
	flag.Parse()
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))

	s.addr = net.ParseIP(*a).To4()
	s.cnameDomain = strings.ToLower(strings.TrimSuffix(*cname, "."))
	s.ttl = uint32(*ttl)
	if s.addr == nil {
		fmt.Fprintf(os.Stderr, "dnsstub: -a %q is not an IPv4 address\n", *a)
		os.Exit(2)
	}
	for _, kv := range strings.Split(*aFor, ",") {
		if kv == "" {
			continue
		}
		d, ip, ok := strings.Cut(kv, "=")
		if !ok || net.ParseIP(ip).To4() == nil {
			fmt.Fprintf(os.Stderr, "dnsstub: -a-for %q: want domain=ipv4\n", kv)
			os.Exit(2)
		}
		s.addrFor[strings.ToLower(d)] = net.ParseIP(ip).To4()
	}

	errs := make(chan error, 2)
	servers := []*dns.Server{
		{Addr: *listen, Net: "udp", Handler: s},
		{Addr: *listen, Net: "tcp", Handler: s},
	}
	for _, srv := range servers {
		go func() { errs <- srv.ListenAndServe() }()
	}
	log.Info("dnsstub listening", "addr", *listen, "a", s.addr, "cname_domain", s.cnameDomain, "txt_names", len(s.txt))
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	select {
	case err := <-errs:
		fmt.Fprintf(os.Stderr, "dnsstub: %v\n", err)
		os.Exit(1)
	case <-sig:
	}
	for _, srv := range servers {
		srv.Shutdown()
	}
}

// ServeDNS answers one query as the package comment describes.
func (s *stub) ServeDNS(w dns.ResponseWriter, req *dns.Msg) {
	m := new(dns.Msg)
	m.SetReply(req)
	m.Authoritative = true
	if len(req.Question) == 1 {
		q := req.Question[0]
		name := strings.ToLower(q.Name)
		bare := strings.TrimSuffix(name, ".")
		hdr := dns.RR_Header{Name: q.Name, Class: dns.ClassINET, Ttl: s.ttl}
		txt, isTXT := s.txt[bare]
		switch {
		case isTXT:
			if q.Qtype == dns.TypeTXT {
				hdr.Rrtype = dns.TypeTXT
				for _, v := range txt {
					m.Answer = append(m.Answer, &dns.TXT{Hdr: hdr, Txt: splitTXT(v)})
				}
			}
		case strings.Contains(bare, "._domainkey."):
			// Easy DKIM: <token>._domainkey.<domain> CNAME <token>.<cname domain>.
			if q.Qtype == dns.TypeCNAME || q.Qtype == dns.TypeA || q.Qtype == dns.TypeTXT {
				tok, _, _ := strings.Cut(bare, ".")
				hdr.Rrtype = dns.TypeCNAME
				m.Answer = append(m.Answer, &dns.CNAME{Hdr: hdr, Target: tok + "." + s.cnameDomain + "."})
			}
		case q.Qtype == dns.TypeMX:
			hdr.Rrtype = dns.TypeMX
			m.Answer = append(m.Answer, &dns.MX{Hdr: hdr, Preference: 10, Mx: "mx." + name})
		case q.Qtype == dns.TypeA:
			hdr.Rrtype = dns.TypeA
			m.Answer = append(m.Answer, &dns.A{Hdr: hdr, A: s.addressOf(bare)})
		}
	}
	_ = w.WriteMsg(m)
}

// addressOf is the A answer for name: a -a-for domain's (for it and its mx.
// host), else the default.
func (s *stub) addressOf(name string) net.IP {
	if ip, ok := s.addrFor[name]; ok {
		return ip
	}
	if ip, ok := s.addrFor[strings.TrimPrefix(name, "mx.")]; ok {
		return ip
	}
	return s.addr
}

// splitTXT cuts a record's value into the 255-byte character-strings a TXT
// record is made of (RFC 1035 §3.3.14); readers join them again (a 2048-bit
// DKIM key is about 400 bytes).
func splitTXT(v string) []string {
	var out []string
	for len(v) > 255 {
		out = append(out, v[:255])
		v = v[255:]
	}
	return append(out, v)
}
