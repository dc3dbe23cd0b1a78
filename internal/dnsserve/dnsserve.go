// Package dnsserve is sesame's optional authoritative DNS server for the
// Easy DKIM zone (verification.dkim_cname_domain): it answers TXT
// <token>.<zone> with the key of the identity that token belongs to, so an
// operator can delegate that zone to sesame (NS records at the parent)
// instead of publishing `sesame admin dkim zone` by hand.
//
// It is authoritative for that one zone only: no recursion, no other
// zones (REFUSED), no zone transfers, no dynamic updates. It reads keys
// from the store and never changes them.
package dnsserve

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/miekg/dns"

	"sesame/internal/clock"
	"sesame/internal/dkim"
)

// SOA timers (RFC 1035 §3.3.13). The minimum is the negative-caching TTL
// (RFC 2308 §4): short, so a new identity's key is found soon after it is
// made even by a resolver that asked before.
const (
	soaRefresh = 3600
	soaRetry   = 600
	soaExpire  = 1209600
	soaMinimum = 60
)

// ednsSize is the UDP payload size advertised in replies (the DNS flag
// day 2020 value, which avoids IP fragmentation).
const ednsSize = 1232

// Config configures a Server.
type Config struct {
	Store Store
	// Zone is the DKIM CNAME domain (verification.dkim_cname_domain).
	Zone string
	// Nameservers are the zone's NS names (the first is the SOA MNAME).
	Nameservers []string
	// MaxAge is how stale the keys may be before a query reloads them;
	// 0 means a second, as the rest of sesame.
	MaxAge time.Duration
	Clock  clock.Clock
	Logger *slog.Logger
	// RateLimit is UDP answers per second to one client network (/24,
	// /56); 0 = unlimited. RateLimitSlip: every n-th answer past it goes
	// out truncated (TC=1), the others are dropped; 0 = drop them all.
	RateLimit     int
	RateLimitSlip int
}

// Server answers DNS queries for the zone.
type Server struct {
	cfg  Config
	zone string // lower-case FQDN
	keys *index
	rrl  *rrl // nil: no rate limit

	stopOnce sync.Once
	stop     chan struct{} // closed by Shutdown
	done     chan struct{} // closed when Serve returns
}

// New returns a server for cfg.Zone.
func New(cfg Config) *Server {
	if cfg.Clock == nil {
		cfg.Clock = clock.Real{}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.MaxAge <= 0 {
		cfg.MaxAge = time.Second
	}
	zone := strings.ToLower(dns.Fqdn(cfg.Zone))
	ns := make([]string, 0, len(cfg.Nameservers))
	for _, n := range cfg.Nameservers {
		ns = append(ns, strings.ToLower(dns.Fqdn(n)))
	}
	if len(ns) == 0 {
		ns = []string{"ns." + zone}
	}
	cfg.Nameservers = ns
	return &Server{cfg: cfg, zone: zone, keys: newIndex(cfg.Store, cfg.Clock, cfg.MaxAge),
		rrl:  newRRL(cfg.RateLimit, cfg.RateLimitSlip, cfg.Clock.Now),
		stop: make(chan struct{}), done: make(chan struct{})}
}

// Listen binds UDP and TCP on addr (host:port, the same port for both, as
// RFC 7766 requires of an authoritative server). Port 0 picks a port free
// for both.
func Listen(addr string) (net.PacketConn, net.Listener, error) {
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, nil, fmt.Errorf("dns listener: %w", err)
	}
	tries := 1
	if port == "0" {
		tries = 20 // the UDP port picked may be taken for TCP
	}
	for i := 0; ; i++ {
		pc, err := net.ListenPacket("udp", addr)
		if err != nil {
			return nil, nil, fmt.Errorf("dns listener: %w", err)
		}
		ln, err := net.Listen("tcp", pc.LocalAddr().String())
		if err == nil {
			return pc, ln, nil
		}
		pc.Close()
		if i+1 >= tries {
			return nil, nil, fmt.Errorf("dns listener: %w", err)
		}
	}
}

// Serve answers on pc (UDP) and ln (TCP) until Shutdown or a listener
// fails.
func (s *Server) Serve(pc net.PacketConn, ln net.Listener) error {
	h := dns.HandlerFunc(s.serveDNS)
	started := make(chan struct{}, 2)
	notify := func() { started <- struct{}{} }
	udp := &dns.Server{PacketConn: pc, Handler: h, NotifyStartedFunc: notify}
	tcp := &dns.Server{Listener: ln, Handler: h, NotifyStartedFunc: notify,
		ReadTimeout: 10 * time.Second, WriteTimeout: 10 * time.Second}
	errc := make(chan error, 2)
	go func() { errc <- udp.ActivateAndServe() }()
	go func() { errc <- tcp.ActivateAndServe() }()
	// miekg/dns refuses to shut down a server that has not started yet, so
	// both must be up before a stop is acted on.
	var err error
	running := 2
	for n := 0; n < 2 && err == nil; {
		select {
		case <-started:
			n++
		case err = <-errc:
			running--
		}
	}
	if err == nil {
		s.cfg.Logger.Info("dns serving", "zone", s.zone, "udp", pc.LocalAddr().String(), "tcp", ln.Addr().String())
		select {
		case <-s.stop:
		case err = <-errc:
			running--
		}
	}
	udp.Shutdown()
	tcp.Shutdown()
	for ; running > 0; running-- {
		if e := <-errc; err == nil {
			err = e
		}
	}
	pc.Close()
	close(s.done)
	if err != nil {
		return fmt.Errorf("dns server: %w", err)
	}
	return nil
}

// Shutdown stops Serve and waits for it to return (or ctx to end); call
// it only once Serve has been called.
func (s *Server) Shutdown(ctx context.Context) error {
	s.stopOnce.Do(func() { close(s.stop) })
	select {
	case <-s.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (s *Server) serveDNS(w dns.ResponseWriter, req *dns.Msg) {
	var m *dns.Msg
	switch s.rrl.check(w.RemoteAddr()) {
	case rrlDrop:
		return
	case rrlSlip:
		// An empty truncated reply: a real resolver asks again over TCP
		// (RFC 1035 §4.2.1), a spoofed victim gets no more than it sent.
		m = new(dns.Msg)
		m.SetReply(req)
		m.Truncated = true
	default:
		m = s.answer(req)
	}
	if opt := req.IsEdns0(); opt != nil {
		m.SetEdns0(ednsSize, false)
	}
	if _, udp := w.RemoteAddr().(*net.UDPAddr); udp {
		// RFC 1035 §4.2.1 / RFC 6891 §7: fit the client's buffer, TC=1
		// tells it to ask again over TCP.
		size := dns.MinMsgSize
		if opt := req.IsEdns0(); opt != nil {
			size = int(min(opt.UDPSize(), ednsSize))
		}
		m.Truncate(size)
	}
	if err := w.WriteMsg(m); err != nil {
		s.cfg.Logger.Debug("dns reply", "err", err)
	}
}

// answer builds the reply to req (RFC 1034 §4.3.2's algorithm for one zone
// with no delegations).
func (s *Server) answer(req *dns.Msg) *dns.Msg {
	m := new(dns.Msg)
	m.SetReply(req)
	m.Compress = true
	if req.Opcode != dns.OpcodeQuery {
		m.Rcode = dns.RcodeNotImplemented
		return m
	}
	if len(req.Question) != 1 {
		m.Rcode = dns.RcodeFormatError
		return m
	}
	m.RecursionAvailable = false
	q := req.Question[0]
	name := strings.ToLower(q.Name)
	if (q.Qclass != dns.ClassINET && q.Qclass != dns.ClassANY) || !dns.IsSubDomain(s.zone, name) {
		m.Rcode = dns.RcodeRefused // not our zone (RFC 8906 §3.1.4)
		return m
	}
	if q.Qtype == dns.TypeAXFR || q.Qtype == dns.TypeIXFR {
		m.Rcode = dns.RcodeRefused
		return m
	}
	m.Authoritative = true
	snap, err := s.keys.get(context.Background())
	if err != nil {
		s.cfg.Logger.Warn("dns: loading DKIM keys", "err", err)
		m.Authoritative = false
		m.Rcode = dns.RcodeServerFailure
		return m
	}
	soa := s.soa(snap.serial)
	if name == s.zone {
		// ANY gets one RRset, the SOA (RFC 8482 §4.1): the whole apex is
		// no one's business and only feeds amplification.
		if q.Qtype == dns.TypeSOA || q.Qtype == dns.TypeANY {
			m.Answer = append(m.Answer, soa)
		}
		if q.Qtype == dns.TypeNS {
			m.Answer = append(m.Answer, s.ns()...)
		}
		if len(m.Answer) == 0 {
			m.Ns = append(m.Ns, soa) // NODATA (RFC 2308 §2.2)
		}
		return m
	}
	label := strings.TrimSuffix(name, "."+s.zone)
	txt, ok := snap.records[label]
	if !ok || strings.Contains(label, ".") {
		m.Rcode = dns.RcodeNameError // RFC 2308 §2.1: SOA in the authority section
		m.Ns = append(m.Ns, soa)
		return m
	}
	// A key's name has only its TXT RRset: ANY gets that, which is RFC
	// 8482's one RRset already.
	if q.Qtype == dns.TypeTXT || q.Qtype == dns.TypeANY {
		m.Answer = append(m.Answer, &dns.TXT{Hdr: dns.RR_Header{Name: q.Name, Rrtype: dns.TypeTXT,
			Class: dns.ClassINET, Ttl: dkim.ZoneTTL}, Txt: txt})
		return m
	}
	m.Ns = append(m.Ns, soa)
	return m
}

func (s *Server) soa(serial uint32) *dns.SOA {
	return &dns.SOA{Hdr: dns.RR_Header{Name: s.zone, Rrtype: dns.TypeSOA, Class: dns.ClassINET, Ttl: dkim.ZoneTTL},
		Ns: s.cfg.Nameservers[0], Mbox: "hostmaster." + s.zone, Serial: serial,
		Refresh: soaRefresh, Retry: soaRetry, Expire: soaExpire, Minttl: soaMinimum}
}

func (s *Server) ns() []dns.RR {
	out := make([]dns.RR, 0, len(s.cfg.Nameservers))
	for _, n := range s.cfg.Nameservers {
		out = append(out, &dns.NS{Hdr: dns.RR_Header{Name: s.zone, Rrtype: dns.TypeNS, Class: dns.ClassINET,
			Ttl: dkim.ZoneTTL}, Ns: n})
	}
	return out
}
