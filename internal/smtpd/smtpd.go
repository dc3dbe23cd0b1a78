// Package smtpd is sesame's SES SMTP endpoint: the listeners (STARTTLS and
// TLS wrapper), TLS, AUTH PLAIN/LOGIN, and the mail dialogue with SES's
// byte-exact replies. It is our own small state machine because SES's
// dialogue (greeting, EHLO lines, "250 Ok", no enhanced status codes) cannot
// be produced by a general-purpose server library.
//
// smtpd never decides policy. It checks only the protocol (sequence, syntax,
// line endings, size) and hands everything else to its Backend: credentials,
// address syntax, and whether a message may be sent (Submit). Every failure a
// client sees is a seserr value.
package smtpd

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"sesame/internal/clock"
	"sesame/internal/mailmsg"
	"sesame/internal/sending"
	"sesame/internal/seserr"
	"sesame/internal/spool"
)

// Backend is what the endpoint needs from the rest of sesame; *sending.Sender
// implements it.
type Backend interface {
	// AuthenticateSMTP checks SES SMTP credentials for region and returns
	// the account id; failures are *seserr.Error values.
	AuthenticateSMTP(ctx context.Context, region, user, password string) (accountID string, err error)
	// CheckAddress checks envelope address syntax; smtpd maps any failure
	// to the 501 MAIL FROM / RCPT TO replies.
	CheckAddress(addr string) error
	// NewDraft starts a message.
	NewDraft() (*spool.Draft, error)
	// Submit decides and spools; it consumes the draft either way.
	Submit(ctx context.Context, sub *sending.Submission) (messageID string, err error)
}

// Config tunes a Server; zero values mean SES's defaults.
type Config struct {
	Hostname       string      // greeting and EHLO name (default "localhost")
	Regions        []string    // configured regions; Regions[0] is the default (default "us-east-1")
	TLS            *tls.Config // server certificate(s); required for STARTTLS and the wrapper
	MaxConnections int         // default 1000; over it "421 Too many concurrent SMTP connections"
	// MaxConnectionsPerIP caps one client's sessions (an IPv6 client is
	// its /64); default 50, Postfix's smtpd_client_connection_count_limit.
	// Over it the same 421.
	MaxConnectionsPerIP int
	MaxMessageBytes     int64         // default 40 MiB, as SES
	IdleTimeout         time.Duration // default 10 s, as SES
	MaxMessagesPerConn  int           // default 10000; then 421 at the next command
	MaxConnAge          time.Duration // default 1 h; then 421, mid-command too (a deadline)
	// CommandTimeout bounds reading one whole command line or AUTH
	// response (and a TLS handshake), however slowly it is trickled:
	// IdleTimeout alone is renewed by every byte. Default 30 s.
	CommandTimeout time.Duration
	// PreAuthTimeout is how long a session may go without
	// authenticating; default 60 s. Then "451 4.4.2 Timeout waiting for
	// data from client." and the connection closes.
	PreAuthTimeout time.Duration
	// BareLF is what DATA does with a bare LF: normalize it to CRLF
	// (default) or refuse the message. See mailmsg.BareLF.
	BareLF mailmsg.BareLF
	// AuthFailuresPerIP failed AUTHs of one user name from one client
	// within AuthLockout lock that name out from there for AuthLockout
	// (AUTH then gets 454); default 10, negative: no lockout (behind a
	// trusted relay every client has the relay's address).
	AuthFailuresPerIP int
	AuthLockout       time.Duration // default 5 min
	Logger            *slog.Logger
	Clock             clock.Clock // for ages and cooldowns (default clock.Real)
}

const (
	defaultMaxConnections  = 1000
	defaultMaxPerIP        = 50
	defaultCommandTimeout  = 30 * time.Second
	defaultPreAuthTimeout  = 60 * time.Second
	defaultMaxMessageBytes = 40 << 20
	defaultIdleTimeout     = 10 * time.Second
	defaultMaxMessages     = 10000
	defaultMaxConnAge      = time.Hour
	defaultAuthFailures    = 10
	defaultAuthLockout     = 5 * time.Minute
	// maxRefusing bounds the connections answered 421 at the same time.
	maxRefusing = 64
	// authFailuresPerSession closes a session after this many failed AUTHs.
	authFailuresPerSession = 3
)

func (c *Config) setDefaults() {
	if c.Hostname == "" {
		c.Hostname = "localhost"
	}
	if len(c.Regions) == 0 {
		c.Regions = []string{"us-east-1"}
	}
	if c.MaxConnections <= 0 {
		c.MaxConnections = defaultMaxConnections
	}
	if c.MaxConnectionsPerIP <= 0 {
		c.MaxConnectionsPerIP = defaultMaxPerIP
	}
	if c.CommandTimeout <= 0 {
		c.CommandTimeout = defaultCommandTimeout
	}
	if c.PreAuthTimeout <= 0 {
		c.PreAuthTimeout = defaultPreAuthTimeout
	}
	if c.MaxMessageBytes <= 0 {
		c.MaxMessageBytes = defaultMaxMessageBytes
	}
	if c.IdleTimeout <= 0 {
		c.IdleTimeout = defaultIdleTimeout
	}
	if c.MaxMessagesPerConn <= 0 {
		c.MaxMessagesPerConn = defaultMaxMessages
	}
	if c.MaxConnAge <= 0 {
		c.MaxConnAge = defaultMaxConnAge
	}
	if c.AuthFailuresPerIP == 0 {
		c.AuthFailuresPerIP = defaultAuthFailures
	}
	if c.AuthLockout <= 0 {
		c.AuthLockout = defaultAuthLockout
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Clock == nil {
		c.Clock = clock.Real{}
	}
}

// ErrServerClosed is returned by Serve after Shutdown.
var ErrServerClosed = errors.New("smtpd: server closed")

// Server is the SES SMTP endpoint. One Server may serve several listeners.
type Server struct {
	cfg      Config
	be       Backend
	log      *slog.Logger
	tls      *tls.Config
	serverID string // the "SimpleEmailService-d-<ID>" token, stable per process
	authLim  *authLimiter

	baseCtx context.Context
	cancel  context.CancelFunc

	active   atomic.Int64 // sessions counted against MaxConnections
	refusing atomic.Int64 // connections being told 421
	closing  atomic.Bool
	drained  atomic.Int64 // messages accepted after closing was set
	idleShut atomic.Int64 // sessions told 421 while waiting for a command, once closing was set

	mu        sync.Mutex
	listeners map[net.Listener]struct{}
	sessions  map[*session]struct{}
	perIP     map[string]int // sessions per clientKey
	wg        sync.WaitGroup
}

// New returns a Server answering for be.
func New(cfg Config, be Backend) *Server {
	cfg.setDefaults()
	s := &Server{
		cfg:       cfg,
		be:        be,
		log:       cfg.Logger,
		serverID:  randomToken(9, upperAlnum),
		authLim:   newAuthLimiter(cfg.AuthFailuresPerIP, cfg.AuthLockout),
		listeners: make(map[net.Listener]struct{}),
		sessions:  make(map[*session]struct{}),
		perIP:     make(map[string]int),
	}
	if cfg.TLS != nil {
		s.tls = cfg.TLS.Clone()
		if s.tls.MinVersion < tls.VersionTLS12 {
			s.tls.MinVersion = tls.VersionTLS12
		}
	}
	s.baseCtx, s.cancel = context.WithCancel(context.Background())
	return s
}

// Serve accepts connections on l until Shutdown. implicitTLS selects the
// TLS-wrapper dialogue (TLS from the first byte, ports 465/2465) instead of
// STARTTLS (ports 25/587/2587).
func (s *Server) Serve(l net.Listener, implicitTLS bool) error {
	if s.tls == nil && implicitTLS {
		return errors.New("smtpd: TLS wrapper listener needs Config.TLS")
	}
	s.mu.Lock()
	if s.closing.Load() {
		s.mu.Unlock()
		l.Close()
		return ErrServerClosed
	}
	s.listeners[l] = struct{}{}
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.listeners, l)
		s.mu.Unlock()
	}()

	var backoff time.Duration
	for {
		conn, err := l.Accept()
		if err != nil {
			if s.closing.Load() {
				return ErrServerClosed
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() || errors.Is(err, syscall.EMFILE) {
				backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
				s.log.Warn("smtpd: accept failed; retrying", "err", err, "backoff", backoff)
				time.Sleep(backoff)
				continue
			}
			return fmt.Errorf("smtpd: accept on %s: %w", l.Addr(), err)
		}
		backoff = 0
		s.accept(conn, implicitTLS)
	}
}

func (s *Server) accept(conn net.Conn, implicitTLS bool) {
	if s.active.Add(1) > int64(s.cfg.MaxConnections) {
		s.active.Add(-1)
		s.refuseAsync(conn, implicitTLS, "max", s.cfg.MaxConnections)
		return
	}
	sess := newSession(s, conn, implicitTLS)
	key := clientKey(sess.remoteIP)
	s.mu.Lock()
	if s.closing.Load() {
		s.mu.Unlock()
		s.active.Add(-1)
		conn.Close()
		return
	}
	// One host must not take every slot: a cap per address, checked
	// before the greeting so a flood from it costs no session.
	if s.perIP[key] >= s.cfg.MaxConnectionsPerIP {
		s.mu.Unlock()
		s.active.Add(-1)
		s.refuseAsync(conn, implicitTLS, "max_per_ip", s.cfg.MaxConnectionsPerIP)
		return
	}
	s.perIP[key]++
	s.sessions[sess] = struct{}{}
	s.wg.Add(1)
	s.mu.Unlock()
	go func() {
		defer func() {
			s.mu.Lock()
			delete(s.sessions, sess)
			if s.perIP[key]--; s.perIP[key] <= 0 {
				delete(s.perIP, key)
			}
			s.mu.Unlock()
			s.active.Add(-1)
			s.wg.Done()
		}()
		sess.serve()
	}()
}

// refuseAsync tells a connection over a limit 421 without holding a
// session slot. Telling a flood 421 must not cost a goroutine per
// connection (a TLS handshake may take the whole idle timeout): past a few,
// it just closes.
func (s *Server) refuseAsync(conn net.Conn, implicitTLS bool, limit string, value int) {
	if s.refusing.Add(1) > maxRefusing {
		s.refusing.Add(-1)
		conn.Close()
		return
	}
	s.log.Warn("smtpd: too many connections", "remote", conn.RemoteAddr().String(), limit, value)
	go func() {
		defer s.refusing.Add(-1)
		s.refuse(conn, implicitTLS)
	}()
}

// refuse answers a connection over a limit in place of the greeting.
func (s *Server) refuse(conn net.Conn, implicitTLS bool) {
	defer conn.Close()
	// The whole refusal, a TLS handshake included, gets one idle timeout
	// however slowly the client reads or writes.
	conn.SetDeadline(time.Now().Add(s.cfg.IdleTimeout))
	c := conn
	if implicitTLS {
		c = tls.Server(conn, s.tls)
	}
	c.Write([]byte(seserr.TooManyConnections().SMTPReply() + "\r\n"))
}

// clientKey is what the per-client limits count by: the IP address, or
// for IPv6 its /64, which one host (or one customer) normally holds whole.
func clientKey(ip string) string {
	addr, err := netip.ParseAddr(ip)
	if err != nil || addr.Unmap().Is4() {
		return ip
	}
	p, err := addr.Prefix(64)
	if err != nil {
		return ip
	}
	return p.String()
}

// Shutdown drains the server (see Drain) and reports only whether it had to
// cut sessions.
func (s *Server) Shutdown(ctx context.Context) error {
	_, err := s.Drain(ctx)
	return err
}

// DrainReport is what a drain found and did, for the log.
type DrainReport struct {
	Sessions int // open when the drain began
	Idle     int // of those, waiting for a command: told 421 at once
	Messages int // accepted (250) during the drain: transactions that finished
	Cut      int // still open when ctx ended: closed mid-transaction, unacknowledged
}

// Drain stops accepting at once (the listeners close) and lets sessions
// finish what they are doing: a session waiting for a command is told
// "421 Service not available" and closed; one in a transaction (in DATA,
// or being submitted) completes it and gets its reply, and any command
// after that gets the 421. When ctx ends first the rest are closed; what
// they were sending was not acknowledged, so nothing acknowledged is lost.
func (s *Server) Drain(ctx context.Context) (DrainReport, error) {
	var rep DrainReport
	s.mu.Lock()
	s.closing.Store(true)
	for l := range s.listeners {
		l.Close()
	}
	rep.Sessions = len(s.sessions)
	for sess := range s.sessions {
		sess.interruptIfIdle()
	}
	s.mu.Unlock()

	done := make(chan struct{})
	go func() {
		s.wg.Wait()
		close(done)
	}()
	var err error
	select {
	case <-done:
	case <-ctx.Done():
		s.mu.Lock()
		rep.Cut = len(s.sessions)
		for sess := range s.sessions {
			sess.raw.Close()
		}
		s.mu.Unlock()
		err = fmt.Errorf("smtpd: shutdown: %d sessions cut: %w", rep.Cut, ctx.Err())
	}
	// Submissions still running see their context end only now: one that
	// was given time to finish is not cancelled halfway.
	s.cancel()
	<-done
	rep.Messages = int(s.drained.Load())
	// Counted by the sessions themselves: one that was between a reply and
	// its next read when closing was set is idle too, a moment later.
	rep.Idle = int(s.idleShut.Load())
	return rep, err
}

// regionFor picks the session's region from the TLS SNI name: the first
// dot-separated label that is a configured region, else the default.
func (s *Server) regionFor(serverName string) string {
	for serverName != "" {
		label := serverName
		if i := strings.IndexByte(serverName, '.'); i >= 0 {
			label, serverName = serverName[:i], serverName[i+1:]
		} else {
			serverName = ""
		}
		for _, r := range s.cfg.Regions {
			if strings.EqualFold(label, r) {
				return r
			}
		}
	}
	return s.cfg.Regions[0]
}

const (
	upperAlnum = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	alnum      = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
)

// randomToken returns n characters drawn uniformly from alphabet.
func randomToken(n int, alphabet string) string {
	b := make([]byte, n)
	rand.Read(b) // never fails (crypto/rand)
	limit := 256 - 256%len(alphabet)
	for i := range b {
		for int(b[i]) >= limit { // rejection sampling keeps it uniform
			var one [1]byte
			rand.Read(one[:])
			b[i] = one[0]
		}
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b)
}
