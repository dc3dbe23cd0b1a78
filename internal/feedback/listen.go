package feedback

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"sesame/internal/seserr"
	"slices"
	"strings"
	"time"

	"github.com/emersion/go-smtp"
	"golang.org/x/net/netutil"
)

// Handler is what the listener hands feedback to (delivery.MX): it knows
// which bounce addresses are sesame's and applies what a report says.
type Handler interface {
	// KnownBounceAddress says whether local@domain is the bounce address
	// of a message sesame sent.
	KnownBounceAddress(ctx context.Context, local, domain string) (bool, error)
	// Feedback applies a report about message id; it returns once its
	// consequences are durable, and an error when they are not.
	Feedback(ctx context.Context, id string, rep *Report, raw []byte) error
}

// ListenConfig configures the feedback MX.
type ListenConfig struct {
	Hostname        string      // the name in the greeting and EHLO reply
	TLS             *tls.Config // offered with STARTTLS; nil = no STARTTLS
	MaxMessageBytes int64       // default 10 MiB
	MaxConnections  int         // default 200
	// MaxBufferedBytes bounds what all connections together hold in
	// memory (default DefaultMaxBufferedBytes); past it a message gets 452.
	MaxBufferedBytes int64
	Handler          Handler
	Logger           *slog.Logger
}

// Server is the feedback MX: an inbound SMTP server that takes mail only
// for the bounce addresses of messages sesame sent and answers 250 only
// once the feedback is applied durably. It is a receiving MX, not SES's
// submission endpoint, so go-smtp's server and its replies serve here (our
// own state machine exists for SES's exact submission dialogue).
type Server struct {
	cfg       ListenConfig
	srv       *smtp.Server
	budget    *byteBudget
	forwarded *forwardedSeen
}

// NewServer builds the feedback MX.
func NewServer(cfg ListenConfig) *Server {
	if cfg.MaxMessageBytes <= 0 {
		cfg.MaxMessageBytes = 10 << 20
	}
	if cfg.MaxConnections <= 0 {
		cfg.MaxConnections = 200
	}
	if cfg.MaxBufferedBytes <= 0 {
		cfg.MaxBufferedBytes = DefaultMaxBufferedBytes
	}
	// One message must always fit: the reader doubles its buffer, so a
	// message holds up to twice its size.
	cfg.MaxBufferedBytes = max(cfg.MaxBufferedBytes, 2*cfg.MaxMessageBytes+budgetChunk)
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	s := &Server{cfg: cfg, budget: &byteBudget{max: cfg.MaxBufferedBytes}, forwarded: newForwardedSeen()}
	srv := smtp.NewServer(smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) {
		return &session{s: s, remote: c.Conn().RemoteAddr().String()}, nil
	}))
	srv.Domain = cfg.Hostname
	srv.ReadTimeout = 5 * time.Minute // RFC 5321 §4.5.3.2.7
	srv.WriteTimeout = 5 * time.Minute
	srv.MaxMessageBytes = cfg.MaxMessageBytes
	srv.MaxRecipients = 100
	srv.EnableSMTPUTF8 = true
	srv.TLSConfig = cfg.TLS
	s.srv = srv
	return s
}

// Serve accepts connections on ln until Shutdown or Close.
func (s *Server) Serve(ln net.Listener) error {
	err := s.srv.Serve(netutil.LimitListener(ln, s.cfg.MaxConnections))
	if errors.Is(err, smtp.ErrServerClosed) {
		return nil
	}
	return err
}

// Shutdown stops accepting and waits for open sessions until ctx ends.
func (s *Server) Shutdown(ctx context.Context) error { return s.srv.Shutdown(ctx) }

// Close stops at once.
func (s *Server) Close() error { return s.srv.Close() }

type session struct {
	s      *Server
	remote string
	from   string
	ids    []string // message ids of the accepted recipients
}

func (ss *session) Reset()        { ss.from, ss.ids = "", nil }
func (ss *session) Logout() error { return nil }

func (ss *session) Mail(from string, _ *smtp.MailOptions) error {
	ss.from = from
	return nil
}

var (
	errUnknownAddress = reply(seserr.FeedbackUnknownAddress())
	errTemporary      = reply(seserr.FeedbackTemporary())
	errUnparsable     = reply(seserr.FeedbackUnparsable())
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

func (ss *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	at := strings.LastIndexByte(to, '@')
	if at <= 0 {
		return errUnknownAddress
	}
	local, domain := to[:at], to[at+1:]
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	ok, err := ss.s.cfg.Handler.KnownBounceAddress(ctx, local, domain)
	if err != nil {
		ss.s.cfg.Logger.Warn("feedback: looking up a bounce address", "rcpt", to, "err", err)
		return errTemporary
	}
	if !ok {
		ss.s.cfg.Logger.Info("feedback: unknown address refused", "rcpt", to, "from", ss.from, "remote", ss.remote)
		return errUnknownAddress
	}
	// A report to the same address twice in one transaction counts once.
	if id := strings.ToLower(local); !slices.Contains(ss.ids, id) {
		ss.ids = append(ss.ids, id)
	}
	return nil
}

func (ss *session) Data(r io.Reader) error {
	raw, reserved, err := readBudgeted(r, ss.s.budget)
	if errors.Is(err, errBusy) {
		ss.s.cfg.Logger.Warn("feedback: memory budget spent, message deferred", "from", ss.from, "remote", ss.remote)
		return err
	}
	if err != nil {
		return err // go-smtp answers ErrDataTooLarge itself
	}
	defer ss.s.budget.give(reserved)
	rep, err := Parse(bytes.NewReader(raw))
	if err != nil {
		// Not even a message: nothing anyone could act on.
		return errUnparsable
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for _, id := range ss.ids {
		// Reports are idempotent where they are applied; mail that is
		// forwarded is not, so a second copy of it is dropped here.
		var key string
		if rep.Kind == KindOther {
			key = forwardKey(id, raw)
			if ss.s.forwarded.seen(key, time.Now()) {
				ss.s.cfg.Logger.Info("feedback: duplicate not forwarded again", "id", id, "from", ss.from, "remote", ss.remote)
				continue
			}
		}
		if err := ss.s.cfg.Handler.Feedback(ctx, id, rep, raw); err != nil {
			ss.s.cfg.Logger.Error("feedback: applying a report; the sender will retry", "id", id,
				"kind", rep.Kind, "err", err)
			return errTemporary
		}
		if key != "" {
			ss.s.forwarded.add(key, time.Now())
		}
	}
	ss.s.cfg.Logger.Info("feedback received", "kind", rep.Kind, "ids", strings.Join(ss.ids, ","),
		"from", ss.from, "remote", ss.remote)
	return nil
}
