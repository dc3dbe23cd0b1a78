package testenv

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"io"
	"math/big"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
	"github.com/miekg/dns"
)

// Test MXes: receiving SMTP servers (emersion/go-smtp) on 127.0.0.x that
// behave as the receivers outbound delivery meets — one that accepts, one
// that greylists (4xx a few times, then accepts), one that refuses some
// recipients with 5xx, one that stalls, with or without STARTTLS. They keep
// what they accepted for the test to inspect.

// SinkOptions say how a sink behaves. The zero value accepts everything
// without STARTTLS.
type SinkOptions struct {
	// StartTLS offers STARTTLS with a self-signed certificate.
	StartTLS bool
	// TLSCert, when set, is offered with STARTTLS instead (StartTLS implied).
	TLSCert *tls.Certificate
	// Greylist answers 451 4.7.1 to each recipient's first Greylist RCPTs.
	Greylist int
	// Reject maps a recipient (lower-case) to the reply its RCPT gets, e.g.
	// "550 5.1.1 no such user" or "452 4.2.2 mailbox full".
	Reject map[string]string
	// RejectData is the reply to every DATA ("" = accept).
	RejectData string
	// Stall is how long the sink waits before answering MAIL FROM.
	Stall time.Duration
	// TempFailPercent and PermFailPercent answer that share of all RCPTs
	// (counted across the sink, deterministically: of every 100, the first
	// TempFailPercent get 451 4.3.0, the next PermFailPercent 550 5.1.1),
	// the push-back smtp-sink never gives, for load under retries.
	TempFailPercent, PermFailPercent int
}

// SinkMessage is one message a sink accepted.
type SinkMessage struct {
	From       string
	Recipients []string
	Data       []byte
	TLS        bool
	// Peer is the address the message came from and Helo the name the
	// client gave in EHLO/HELO (source addresses, pools).
	Peer, Helo string
}

// Sink is a running test MX.
type Sink struct {
	Addr string // ip:port

	opt    SinkOptions
	mu     sync.Mutex
	msgs   []SinkMessage
	tries  map[string]int
	rcpts  int
	conns  int
	open   int // sessions open now
	peak   int // most sessions open at once
	server *smtp.Server
}

// Messages returns what the sink accepted so far.
func (s *Sink) Messages() []SinkMessage {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]SinkMessage(nil), s.msgs...)
}

// Connections is how many SMTP sessions the sink has seen.
func (s *Sink) Connections() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.conns
}

// PeakConnections is the most SMTP sessions the sink had open at once.
func (s *Sink) PeakConnections() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.peak
}

// StartSinks starts one sink per option set, on 127.0.0.2, 127.0.0.3, …
// all on one port (an MX is reached on one port, delivery.mx_port in tests),
// and returns them with the port. They stop when the test ends.
func StartSinks(t testing.TB, opts ...SinkOptions) ([]*Sink, string) {
	t.Helper()
	var cert *tls.Certificate
	for range 50 {
		first, err := net.Listen("tcp", "127.0.0.2:0")
		if err != nil {
			t.Fatalf("testenv: sink: %v", err)
		}
		_, port, _ := net.SplitHostPort(first.Addr().String())
		lns := []net.Listener{first}
		for i := 1; i < len(opts); i++ {
			ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.%d:%s", i+2, port))
			if err != nil {
				break
			}
			lns = append(lns, ln)
		}
		if len(lns) < len(opts) {
			for _, ln := range lns {
				ln.Close()
			}
			continue
		}
		sinks := make([]*Sink, len(opts))
		for i, o := range opts {
			if o.StartTLS && o.TLSCert == nil && cert == nil {
				cert = selfSignedCert(t)
			}
			sinks[i] = serveSink(t, lns[i], fmt.Sprintf("mx%d.sink.test", i+2), o, cert)
		}
		return sinks, port
	}
	t.Fatal("testenv: sink: no port free on every 127.0.0.x address")
	return nil, ""
}

// StartSinkAt starts one sink on addr (host:port), failing the test if the
// address is taken: a receiver that comes back on the port it went down on
// (Close), for a sending MTA's retries. It stops when the test ends.
func StartSinkAt(t testing.TB, addr string, opt SinkOptions) *Sink {
	t.Helper()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatalf("testenv: sink: %v", err)
	}
	var cert *tls.Certificate
	if opt.StartTLS && opt.TLSCert == nil {
		cert = selfSignedCert(t)
	}
	return serveSink(t, ln, "mx.sink.test", opt, cert)
}

// serveSink serves a sink on ln until the test ends (or Close); cert is the
// STARTTLS certificate when opt asks for one and brings none.
func serveSink(t testing.TB, ln net.Listener, domain string, o SinkOptions, cert *tls.Certificate) *Sink {
	s := &Sink{Addr: ln.Addr().String(), opt: o, tries: map[string]int{}}
	srv := smtp.NewServer(smtp.BackendFunc(s.newSession))
	srv.Domain = domain
	srv.ReadTimeout = time.Minute
	srv.WriteTimeout = time.Minute
	srv.EnableSMTPUTF8 = true
	srv.MaxMessageBytes = 50 << 20
	srv.MaxRecipients = 1000
	if o.StartTLS && cert != nil {
		srv.TLSConfig = &tls.Config{Certificates: []tls.Certificate{*cert}}
	}
	if o.TLSCert != nil {
		srv.TLSConfig = &tls.Config{Certificates: []tls.Certificate{*o.TLSCert}}
	}
	s.server = srv
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return s
}

// Close stops the sink now: its port refuses connections (a receiver that
// is down) and open sessions are cut. What it accepted stays readable.
func (s *Sink) Close() { _ = s.server.Close() }

func (s *Sink) newSession(c *smtp.Conn) (smtp.Session, error) {
	s.mu.Lock()
	s.conns++
	s.open++
	s.peak = max(s.peak, s.open)
	s.mu.Unlock()
	return &sinkSession{sink: s, conn: c}, nil
}

type sinkSession struct {
	sink *Sink
	conn *smtp.Conn
	from string
	rcpt []string
}

func (ss *sinkSession) Reset() { ss.from, ss.rcpt = "", nil }
func (ss *sinkSession) Logout() error {
	ss.sink.mu.Lock()
	ss.sink.open--
	ss.sink.mu.Unlock()
	return nil
}

func (ss *sinkSession) Mail(from string, _ *smtp.MailOptions) error {
	if ss.sink.opt.Stall > 0 {
		time.Sleep(ss.sink.opt.Stall)
	}
	ss.from = from
	return nil
}

func (ss *sinkSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	s := ss.sink
	key := strings.ToLower(to)
	if reply, ok := s.opt.Reject[key]; ok {
		return replyError(reply)
	}
	s.mu.Lock()
	s.tries[key]++
	n := s.tries[key]
	share := s.rcpts % 100
	s.rcpts++
	s.mu.Unlock()
	if share < s.opt.TempFailPercent {
		return replyError("451 4.3.0 try again later")
	}
	if share < s.opt.TempFailPercent+s.opt.PermFailPercent {
		return replyError("550 5.1.1 no such user")
	}
	if n <= s.opt.Greylist {
		return replyError("451 4.7.1 greylisted, try again later")
	}
	ss.rcpt = append(ss.rcpt, to)
	return nil
}

func (ss *sinkSession) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	if ss.sink.opt.RejectData != "" {
		return replyError(ss.sink.opt.RejectData)
	}
	_, isTLS := ss.conn.TLSConnectionState()
	peer, _, _ := net.SplitHostPort(ss.conn.Conn().RemoteAddr().String())
	ss.sink.mu.Lock()
	ss.sink.msgs = append(ss.sink.msgs, SinkMessage{From: ss.from, Recipients: ss.rcpt, Data: b, TLS: isTLS,
		Peer: peer, Helo: ss.conn.Hostname()})
	ss.sink.mu.Unlock()
	return nil
}

// replyError turns "550 5.1.1 text" into the reply go-smtp sends.
func replyError(reply string) error {
	e := &smtp.SMTPError{Code: 550, Message: reply}
	code, rest, _ := strings.Cut(reply, " ")
	fmt.Sscanf(code, "%d", &e.Code)
	e.Message = rest
	if enh, text, ok := strings.Cut(rest, " "); ok {
		var a, b, c int
		if n, _ := fmt.Sscanf(enh, "%d.%d.%d", &a, &b, &c); n == 3 {
			e.EnhancedCode = smtp.EnhancedCode{a, b, c}
			e.Message = text
		}
	}
	return e
}

func selfSignedCert(t testing.TB) *tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatalf("testenv: sink cert: %v", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "sink.test"},
		DNSNames:     []string{"sink.test"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatalf("testenv: sink cert: %v", err)
	}
	return &tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

// SetA adds an A record (and makes the name exist, so an MX query for it
// answers NODATA rather than NXDOMAIN).
func (d *DNS) SetA(name, ip string) {
	d.add(name, &dns.A{Hdr: dns.RR_Header{Rrtype: dns.TypeA}, A: net.ParseIP(ip).To4()})
}

// SetNullMX publishes RFC 7505's "0 ." for name: it accepts no mail.
func (d *DNS) SetNullMX(name string) {
	d.add(name, &dns.MX{Hdr: dns.RR_Header{Rrtype: dns.TypeMX}, Preference: 0, Mx: "."})
}
