// Package inbound is sesame's inbound MX: the SMTP server other mail
// servers deliver to. Each recipient goes to one of two places: a bounce
// address of a message sesame sent goes to feedback (DSNs, complaints,
// auto-replies), an address of an account's verified domain goes to
// receiving (receipt rules). Neither decides here: the server asks them at
// RCPT and hands them the message at DATA, and answers 250 only once they
// have it durably.
//
// It is a receiving MX, not SES's submission endpoint, so go-smtp's server
// and its replies serve here (sesame's own state machine, internal/smtpd,
// exists for SES's exact submission dialogue).
package inbound

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"strings"
	"time"

	"github.com/emersion/go-smtp"
	"golang.org/x/net/netutil"

	"sesame/internal/feedback"
	"sesame/internal/seserr"
)

// Receiver is the receiving side (internal/receiving): the accounts'
// verified domains and their rules.
type Receiver interface {
	// Recipient decides whether rcpt may receive this session's mail and
	// for which accounts; an error that is a *seserr.Error is the reply,
	// any other a temporary failure.
	Recipient(ctx context.Context, s *Session, rcpt string) (Route, error)
	// Accept keeps msg for the routes Recipient gave durably and returns
	// its id; errors as Recipient's.
	Accept(ctx context.Context, s *Session, from string, routes []Route, msg io.Reader) (id string, err error)
}

// Route is an accepted recipient and the accounts whose rules take it.
type Route struct {
	Recipient string
	Accounts  []string
}

// Session is what the receiving side knows of the client.
type Session struct {
	Remote netip.AddrPort
	Helo   string // the EHLO/HELO name
	TLS    bool   // STARTTLS is in force
}

// Config configures the server.
type Config struct {
	Hostname string      // the name in the greeting and EHLO reply
	TLS      *tls.Config // offered with STARTTLS; nil = no STARTTLS
	// MaxMessageBytes bounds one message (default 10 MiB).
	MaxMessageBytes int64
	// FeedbackMaxBytes bounds a message to a bounce address when it is
	// lower than MaxMessageBytes (0 = MaxMessageBytes).
	FeedbackMaxBytes int64
	MaxConnections   int // default 200
	MaxRecipients    int // default 100
	// MaxBufferedBytes bounds what all connections together hold in
	// memory for feedback (default DefaultMaxBufferedBytes); past it a
	// message gets 452.
	MaxBufferedBytes int64
	Feedback         *feedback.Intake // nil: no bounce addresses here
	Receiver         Receiver         // nil: no receiving
	Logger           *slog.Logger
}

// Server is the inbound MX.
type Server struct {
	cfg    Config
	srv    *smtp.Server
	budget *byteBudget
	conns  conns // for Shutdown (drain.go)
}

// NewServer builds the server.
func NewServer(cfg Config) *Server {
	if cfg.MaxMessageBytes <= 0 {
		cfg.MaxMessageBytes = 10 << 20
	}
	if cfg.FeedbackMaxBytes <= 0 || cfg.FeedbackMaxBytes > cfg.MaxMessageBytes {
		cfg.FeedbackMaxBytes = cfg.MaxMessageBytes
	}
	if cfg.MaxConnections <= 0 {
		cfg.MaxConnections = 200
	}
	if cfg.MaxRecipients <= 0 {
		cfg.MaxRecipients = 100
	}
	if cfg.MaxBufferedBytes <= 0 {
		cfg.MaxBufferedBytes = DefaultMaxBufferedBytes
	}
	// One feedback message must always fit: the reader doubles its
	// buffer, so a message holds up to twice its size.
	cfg.MaxBufferedBytes = max(cfg.MaxBufferedBytes, 2*cfg.FeedbackMaxBytes+budgetChunk)
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	s := &Server{cfg: cfg, budget: &byteBudget{max: cfg.MaxBufferedBytes}}
	srv := smtp.NewServer(smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) {
		tc := trackedOf(c)
		tc.follow(c.Conn())
		return &session{s: s, conn: c, tc: tc, remote: c.Conn().RemoteAddr().String()}, nil
	}))
	srv.Domain = cfg.Hostname
	srv.ReadTimeout = 5 * time.Minute // RFC 5321 §4.5.3.2.7
	srv.WriteTimeout = 5 * time.Minute
	srv.MaxMessageBytes = cfg.MaxMessageBytes
	srv.MaxRecipients = cfg.MaxRecipients
	srv.EnableSMTPUTF8 = true
	srv.TLSConfig = cfg.TLS
	s.srv = srv
	return s
}

// Serve accepts connections on ln until Shutdown or Close.
func (s *Server) Serve(ln net.Listener) error {
	err := s.srv.Serve(s.conns.listen(netutil.LimitListener(ln, s.cfg.MaxConnections)))
	if errors.Is(err, smtp.ErrServerClosed) || s.conns.stopped(err) {
		return nil
	}
	return err
}

// Close stops at once.
func (s *Server) Close() error { return s.srv.Close() }

type session struct {
	s      *Server
	conn   *smtp.Conn
	tc     *trackedConn // nil for a connection from another listener (tests)
	remote string
	from   string
	ids    []string // message ids of the accepted bounce addresses
	routes []Route  // the accepted receiving recipients
}

func (ss *session) Reset() {
	ss.from, ss.ids, ss.routes = "", nil, nil
	ss.tc.reset()
}

// Logout comes at the end and at STARTTLS, once go-smtp speaks TLS: the
// replies go there from now on.
func (ss *session) Logout() error {
	ss.tc.follow(ss.conn.Conn())
	return nil
}

func (ss *session) Mail(from string, _ *smtp.MailOptions) error {
	ss.from = from
	return nil
}

var (
	errUnknownAddress = reply(seserr.FeedbackUnknownAddress())
	errTemporary      = reply(seserr.FeedbackTemporary())
	errTooBig         = reply(seserr.InboundTooBig())
	errShuttingDown   = reply(seserr.InboundShuttingDown())
)

// reply is e's SMTP face as go-smtp sends it: the enhanced status code
// that starts seserr's text apart from the rest.
func reply(e *seserr.Error) *smtp.SMTPError {
	r := &smtp.SMTPError{Code: e.SMTPCode, Message: e.SMTPText}
	code, text, ok := strings.Cut(e.SMTPText, " ")
	var c smtp.EnhancedCode
	if ok && strings.Count(code, ".") == 2 {
		if _, err := fmt.Sscanf(code, "%d.%d.%d", &c[0], &c[1], &c[2]); err == nil {
			r.EnhancedCode, r.Message = c, text
		}
	}
	return r
}

// replyFor is the reply for an error of Feedback or Receiver.
func (ss *session) replyFor(err error, what string) error {
	var e *seserr.Error
	if errors.As(err, &e) {
		return reply(e)
	}
	var se *smtp.SMTPError
	if errors.As(err, &se) {
		return se // go-smtp's own, e.g. ErrDataTooLarge from the reader
	}
	if errors.Is(err, smtp.ErrTooLongLine) {
		return reply(seserr.InboundLineTooLong())
	}
	ss.s.cfg.Logger.Warn("inbound: "+what, "from", ss.from, "remote", ss.remote, "err", err)
	return errTemporary
}

// info is the receiving side's view of the session.
func (ss *session) info() *Session {
	in := &Session{Helo: ss.conn.Hostname()}
	if ap, err := netip.ParseAddrPort(ss.remote); err == nil {
		in.Remote = netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
	}
	_, in.TLS = ss.conn.TLSConnectionState()
	return in
}

func (ss *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if fb := ss.s.cfg.Feedback; fb != nil {
		id, ok, err := fb.Recipient(ctx, to)
		if err != nil {
			return ss.replyFor(err, "looking up a bounce address")
		}
		if ok {
			ss.ids = append(ss.ids, id)
			return nil
		}
	}
	if r := ss.s.cfg.Receiver; r != nil {
		route, err := r.Recipient(ctx, ss.info(), to)
		if err != nil {
			return ss.replyFor(err, "checking a recipient")
		}
		ss.routes = append(ss.routes, route)
		return nil
	}
	ss.s.cfg.Logger.Info("inbound: unknown address refused", "rcpt", to, "from", ss.from, "remote", ss.remote)
	return errUnknownAddress
}

func (ss *session) Data(r io.Reader) error {
	if !ss.tc.beginData() {
		return errShuttingDown // the connection is closed: nobody reads this
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if len(ss.ids) == 0 {
		// Received mail only: streamed into the spool, never held whole.
		id, err := ss.s.cfg.Receiver.Accept(ctx, ss.info(), ss.from, ss.routes, r)
		if err != nil {
			return ss.replyFor(err, "accepting a message")
		}
		return queued(id)
	}
	raw, reserved, err := readBudgeted(io.LimitReader(r, ss.s.cfg.FeedbackMaxBytes+1), ss.s.budget)
	if errors.Is(err, errBusy) {
		ss.s.cfg.Logger.Warn("inbound: memory budget spent, message deferred", "from", ss.from, "remote", ss.remote)
		return err
	}
	if err != nil {
		return err // go-smtp answers ErrDataTooLarge itself
	}
	defer ss.s.budget.give(reserved)
	if int64(len(raw)) > ss.s.cfg.FeedbackMaxBytes {
		io.Copy(io.Discard, r)
		return errTooBig
	}
	// Feedback first: it is idempotent (a report applied twice counts
	// once, forwarded mail is deduplicated), received mail is not, so a
	// failure after it must not make the sender send the message again.
	if err := ss.s.cfg.Feedback.Apply(ctx, ss.ids, raw, ss.from, ss.remote); err != nil {
		return ss.replyFor(err, "applying feedback")
	}
	if len(ss.routes) > 0 {
		id, err := ss.s.cfg.Receiver.Accept(ctx, ss.info(), ss.from, ss.routes, bytes.NewReader(raw))
		if err != nil {
			return ss.replyFor(err, "accepting a message")
		}
		return queued(id)
	}
	return nil
}

// queued is the reply to a received message's DATA, naming its id as
// Postfix names its queue id, so a sending MTA's log ties its delivery to
// the message sesame keeps. (go-smtp sends an *SMTPError's code as it is,
// 250 included.)
func queued(id string) error {
	return reply(seserr.InboundQueued(id))
}
