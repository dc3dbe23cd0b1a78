package smtpd

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"io"
	"log/slog"
	"net"
	"os"
	"strings"
	"sync/atomic"
	"time"

	"sesame/internal/sending"
	"sesame/internal/seserr"
	"sesame/internal/spool"
)

const (
	// readBufferSize holds any legal line (1000 octets of DATA, 12288 of
	// AUTH) and a TLS record's worth of DATA per read.
	readBufferSize  = 16 << 10
	writeBufferSize = 4 << 10
	// maxCommandLine is RFC 5321 §4.5.3.1.4's limit, CRLF included.
	maxCommandLine = 512
	// maxAuthLine is RFC 4954 §4's limit for AUTH lines and responses.
	maxAuthLine = 12288
	// maxStoredRecipients bounds memory per transaction. sending refuses
	// more than 50 anyway; beyond this many RCPTs still get "250 Ok" (as
	// SES) but only the first ones are kept, enough for the refusal.
	maxStoredRecipients = 1000
)

// errLineTooLong reports a command line over its limit (already consumed).
var errLineTooLong = errors.New("smtpd: command line too long")

// errShuttingDown interrupts a session idle between commands at Shutdown.
var errShuttingDown = errors.New("smtpd: shutting down")

// session is one client connection.
type session struct {
	srv      *Server
	raw      net.Conn // the TCP connection
	conn     net.Conn // raw, or the TLS connection over it
	r        *bufio.Reader
	w        *bufio.Writer
	ctx      context.Context
	log      *slog.Logger
	remoteIP string
	started  time.Time // by the Server's clock: ages in logs and between commands

	// Deadlines on the network, by the time deadlineConn sets them with.
	// A read never waits past the earliest that applies: the command's
	// (while one is read), the pre-authentication one (until AUTH
	// succeeds) and the connection's age limit.
	cmdDeadline     time.Time // zero: no command being read
	preAuthDeadline time.Time
	ageDeadline     time.Time

	implicitTLS bool
	tls         bool
	region      string
	accountID   string // set by AUTH
	keyID       string // the access key id AUTH named (ses:caller-identity)
	authFails   int
	messages    int

	// The mail transaction (RFC 5321 §3.3).
	hasMail    bool
	mailFrom   string
	recipients []string
	rcptCount  int

	idle  atomic.Bool // waiting for a command: Shutdown may interrupt
	batch []byte      // DATA write batch, reused across messages
	// finishedInDrain: a transaction of this session completed after the
	// drain began, so the session was busy then, not idle.
	finishedInDrain bool
}

func newSession(srv *Server, conn net.Conn, implicitTLS bool) *session {
	s := &session{srv: srv, raw: conn, implicitTLS: implicitTLS, ctx: srv.baseCtx,
		region: srv.cfg.Regions[0], started: srv.cfg.Clock.Now()}
	s.remoteIP = conn.RemoteAddr().String()
	if host, _, err := net.SplitHostPort(s.remoteIP); err == nil {
		s.remoteIP = host
	}
	s.log = srv.log.With("remote", s.remoteIP)
	s.conn = &deadlineConn{Conn: conn, idle: srv.cfg.IdleTimeout, sess: s}
	now := time.Now()
	s.preAuthDeadline = now.Add(srv.cfg.PreAuthTimeout)
	s.ageDeadline = now.Add(srv.cfg.MaxConnAge)
	return s
}

// readDeadline is the earliest of d and the session's deadlines.
func (s *session) readDeadline(d time.Time) time.Time {
	for _, l := range [...]time.Time{s.cmdDeadline, s.preAuthDeadline, s.ageDeadline} {
		if !l.IsZero() && l.Before(d) {
			d = l
		}
	}
	return d
}

// deadlineConn renews the idle timeout before every read and write, so the
// timeout covers commands, DATA and TLS handshakes alike without a timer
// per line: bufio calls Read only when its buffer is empty. A read's
// deadline is never later than the session's own deadlines, which a
// trickling client cannot renew.
type deadlineConn struct {
	net.Conn
	idle time.Duration
	sess *session // nil for refused connections
}

func (c *deadlineConn) Read(p []byte) (int, error) {
	if c.sess != nil && c.sess.interrupted() {
		return 0, errShuttingDown
	}
	d := time.Now().Add(c.idle)
	if c.sess != nil {
		d = c.sess.readDeadline(d)
	}
	c.Conn.SetReadDeadline(d)
	// Shutdown may have set closing and its immediate deadline between the
	// check above and the deadline just set, which would undo its wake-up:
	// checking again after setting closes that window.
	if c.sess != nil && c.sess.interrupted() {
		return 0, errShuttingDown
	}
	return c.Conn.Read(p)
}

func (c *deadlineConn) Write(p []byte) (int, error) {
	c.Conn.SetWriteDeadline(time.Now().Add(c.idle))
	return c.Conn.Write(p)
}

// interruptIfIdle wakes a session blocked waiting for a command so it can
// say 421 and go; a session in DATA or Submit is left to finish.
func (s *session) interruptIfIdle() {
	if s.idle.Load() {
		s.raw.SetReadDeadline(time.Now())
	}
}

// interrupted: the server is draining and the session waits for a command.
func (s *session) interrupted() bool { return s.idle.Load() && s.srv.closing.Load() }

func (s *session) serve() {
	defer s.raw.Close()
	s.log.Debug("smtpd: session start", "implicit_tls", s.implicitTLS)
	defer func() {
		s.log.Info("smtpd: session end", "region", s.region, "account", s.accountID,
			"messages", s.messages, "duration", s.srv.cfg.Clock.Now().Sub(s.started))
	}()
	if s.implicitTLS {
		tc := tls.Server(s.conn, s.srv.tls)
		if err := s.handshake(tc); err != nil {
			s.log.Debug("smtpd: TLS handshake failed", "err", err)
			return
		}
		s.startTLS(tc)
	} else {
		s.r = bufio.NewReaderSize(s.conn, readBufferSize)
		s.w = bufio.NewWriterSize(s.conn, writeBufferSize)
	}
	s.w.WriteString("220 " + s.srv.cfg.Hostname + " ESMTP SimpleEmailService-d-" + s.srv.serverID +
		" " + randomToken(20, alnum) + "\r\n")
	if s.w.Flush() != nil {
		return
	}
	for {
		line, err := s.readLine(maxAuthLine)
		if err != nil && err != errLineTooLong {
			s.readFailed(err)
			return
		}
		if !s.turn(line, err) {
			s.w.Flush()
			return
		}
		// Flush only when the client has nothing more queued: one write
		// per burst of pipelined commands, one per reply otherwise.
		if s.r.Buffered() == 0 {
			if s.w.Flush() != nil {
				return
			}
		}
	}
}

// turn answers one command line; false ends the session.
func (s *session) turn(line string, err error) bool {
	verb, arg := splitCommand(line)
	if err == errLineTooLong || verb != "AUTH" && len(line) > maxCommandLine-2 {
		s.replyErr(seserr.CommandLineTooLong())
		return true
	}
	if s.retiring() {
		if verb == "QUIT" {
			s.reply("221 Bye")
		} else {
			s.replyErr(seserr.ServiceClosing())
		}
		return false
	}
	return s.command(verb, arg)
}

// retiring reports whether the session must end at this command boundary.
func (s *session) retiring() bool {
	cfg := &s.srv.cfg
	return s.srv.closing.Load() || s.messages >= cfg.MaxMessagesPerConn ||
		cfg.Clock.Now().Sub(s.started) >= cfg.MaxConnAge
}

// readFailed ends a session whose read failed: a timeout (idle, command
// or pre-authentication) gets SES's 451, a shutdown or the age limit 421,
// a vanished client nothing.
func (s *session) readFailed(err error) {
	switch {
	case errors.Is(err, errShuttingDown),
		errors.Is(err, os.ErrDeadlineExceeded) && s.srv.closing.Load():
		if !s.finishedInDrain {
			s.srv.idleShut.Add(1)
		}
		s.replyErr(seserr.ServiceClosing())
	case errors.Is(err, os.ErrDeadlineExceeded) && !time.Now().Before(s.ageDeadline):
		s.log.Info("smtpd: connection age limit reached mid-command")
		s.replyErr(seserr.ServiceClosing())
	case errors.Is(err, os.ErrDeadlineExceeded):
		s.log.Info("smtpd: timeout", "waiting_for", s.waitingFor())
		s.replyErr(seserr.Timeout())
	case errors.Is(err, io.EOF), errors.Is(err, net.ErrClosed):
		return
	default:
		s.log.Debug("smtpd: read failed", "err", err)
		return
	}
	s.w.Flush()
}

// readLine reads one line, without its line ending, of at most max octets
// including CRLF. A longer line is consumed and reported as errLineTooLong.
// Commands may end in a bare LF: only DATA is strict about line endings.
func (s *session) readLine(max int) (string, error) {
	s.idle.Store(true)
	s.cmdDeadline = time.Now().Add(s.srv.cfg.CommandTimeout)
	defer func() {
		s.idle.Store(false)
		s.cmdDeadline = time.Time{}
	}()
	line, err := s.r.ReadSlice('\n')
	if err == bufio.ErrBufferFull || err == nil && len(line) > max {
		for err == bufio.ErrBufferFull {
			_, err = s.r.ReadSlice('\n')
		}
		if err != nil {
			return "", err
		}
		return "", errLineTooLong
	}
	if err != nil {
		return "", err
	}
	line = line[:len(line)-1]
	if n := len(line); n > 0 && line[n-1] == '\r' {
		line = line[:n-1]
	}
	return string(line), nil
}

// waitingFor names, for the log, the deadline a timed-out read hit.
func (s *session) waitingFor() string {
	if s.accountID == "" && !time.Now().Before(s.preAuthDeadline) {
		return "authentication"
	}
	return "a command or data (idle timeout or command deadline)"
}

// splitCommand returns the upper-cased verb and the argument text.
func splitCommand(line string) (verb, arg string) {
	verb, arg, _ = strings.Cut(line, " ")
	return strings.ToUpper(verb), strings.TrimSpace(arg)
}

func (s *session) reply(line string) {
	s.w.WriteString(line)
	s.w.WriteString("\r\n")
}

func (s *session) replyErr(e *seserr.Error) { s.reply(e.SMTPReply()) }

func (s *session) resetTransaction() {
	s.hasMail = false
	s.mailFrom = ""
	s.recipients = s.recipients[:0]
	s.rcptCount = 0
}

// command runs one command; false ends the session.
func (s *session) command(verb, arg string) bool {
	switch verb {
	case "EHLO":
		if arg == "" {
			s.replyErr(seserr.ArgumentSyntax())
			return true
		}
		s.resetTransaction()
		s.reply("250-" + s.srv.cfg.Hostname)
		s.reply("250-8BITMIME")
		if !s.tls && s.srv.tls != nil {
			s.reply("250-STARTTLS")
		}
		s.reply("250-AUTH PLAIN LOGIN")
		s.reply("250 Ok")
	case "HELO":
		if arg == "" {
			s.replyErr(seserr.ArgumentSyntax())
			return true
		}
		s.resetTransaction()
		s.reply("250 " + s.srv.cfg.Hostname)
	case "STARTTLS":
		return s.cmdStartTLS(arg)
	case "AUTH":
		return s.cmdAuth(arg)
	case "MAIL":
		s.cmdMail(arg)
	case "RCPT":
		s.cmdRcpt(arg)
	case "DATA":
		return s.cmdData(arg)
	case "RSET":
		s.resetTransaction()
		s.reply("250 Ok")
	case "NOOP":
		s.reply("250 Ok")
	case "QUIT":
		s.reply("221 Bye")
		return false
	case "VRFY", "EXPN", "HELP", "TURN", "ETRN", "BDAT":
		s.replyErr(seserr.CommandNotImplemented())
	default:
		s.replyErr(seserr.CommandUnrecognized())
	}
	return true
}

func (s *session) cmdStartTLS(arg string) bool {
	switch {
	case s.tls:
		s.replyErr(seserr.TLSAlreadyActive())
		return true
	case s.srv.tls == nil:
		s.replyErr(seserr.CommandNotImplemented())
		return true
	case arg != "":
		s.replyErr(seserr.ArgumentSyntax())
		return true
	}
	s.reply("220 Ready to start TLS")
	if s.w.Flush() != nil {
		return false
	}
	tc := tls.Server(s.conn, s.srv.tls)
	if err := s.handshake(tc); err != nil {
		s.log.Debug("smtpd: STARTTLS handshake failed", "err", err)
		return false
	}
	// RFC 3207 §4.2: forget everything learnt before TLS. startTLS also
	// drops any plaintext the client pipelined after STARTTLS (the
	// CVE-2011-0411 command injection) by starting a new reader.
	s.resetTransaction()
	s.accountID, s.keyID = "", ""
	s.startTLS(tc)
	return true
}

// handshake runs the TLS handshake under the command deadline: a client
// trickling its hello holds the slot no longer than a slow command line.
// A handshake is no transaction: a drain ends it at once (idle).
func (s *session) handshake(tc *tls.Conn) error {
	s.idle.Store(true)
	s.cmdDeadline = time.Now().Add(s.srv.cfg.CommandTimeout)
	defer func() {
		s.idle.Store(false)
		s.cmdDeadline = time.Time{}
	}()
	return tc.HandshakeContext(s.ctx)
}

// startTLS moves the session onto tc, whose handshake is complete.
func (s *session) startTLS(tc *tls.Conn) {
	s.conn = tc
	s.tls = true
	s.region = s.srv.regionFor(tc.ConnectionState().ServerName)
	s.r = bufio.NewReaderSize(tc, readBufferSize)
	s.w = bufio.NewWriterSize(tc, writeBufferSize)
}

// mailReady checks what MAIL, RCPT and DATA all need.
func (s *session) mailReady() bool {
	switch {
	case !s.tls:
		s.replyErr(seserr.MustStartTLS())
	case s.accountID == "":
		s.replyErr(seserr.AuthRequired())
	default:
		return true
	}
	return false
}

func (s *session) cmdMail(arg string) {
	if !s.mailReady() {
		return
	}
	if s.hasMail {
		s.replyErr(seserr.BadSequence())
		return
	}
	addr, params, ok := parsePath(arg, "FROM:")
	if !ok || addr == "" || s.srv.be.CheckAddress(addr) != nil {
		s.replyErr(seserr.InvalidMailFrom())
		return
	}
	if e := checkMailParams(params, s.srv.cfg.MaxMessageBytes); e != nil {
		s.replyErr(e)
		return
	}
	s.hasMail = true
	s.mailFrom = addr
	s.reply("250 Ok")
}

func (s *session) cmdRcpt(arg string) {
	if !s.mailReady() {
		return
	}
	if !s.hasMail {
		s.replyErr(seserr.BadSequence())
		return
	}
	addr, params, ok := parsePath(arg, "TO:")
	if !ok || addr == "" || s.srv.be.CheckAddress(addr) != nil {
		s.replyErr(seserr.InvalidRcptTo())
		return
	}
	if params != "" {
		s.replyErr(seserr.ParameterNotImplemented())
		return
	}
	s.rcptCount++
	if len(s.recipients) < maxStoredRecipients {
		s.recipients = append(s.recipients, addr)
	}
	s.reply("250 Ok")
}

func (s *session) cmdData(arg string) bool {
	if !s.mailReady() {
		return true
	}
	switch {
	case !s.hasMail || s.rcptCount == 0:
		s.replyErr(seserr.BadSequence())
		return true
	case arg != "":
		s.replyErr(seserr.ArgumentSyntax())
		return true
	}
	draft, err := s.srv.be.NewDraft()
	if err != nil {
		e := seserr.As(err)
		s.log.Error("smtpd: cannot start a draft", "err", err)
		s.replyErr(e)
		return true
	}
	s.reply("354 End data with <CR><LF>.<CR><LF>")
	if s.w.Flush() != nil {
		draft.Discard()
		return false
	}
	refusal, err := s.readData(draft)
	if err != nil {
		draft.Discard()
		s.readFailed(err)
		return false
	}
	defer s.resetTransaction()
	if refusal != nil {
		draft.Discard()
		s.log.Debug("smtpd: message refused in DATA", "reply", refusal.SMTPReply(), "cause", refusal.Cause)
		s.replyErr(refusal)
		return true
	}
	s.messages++
	id, err := s.srv.be.Submit(s.ctx, &sending.Submission{
		AccountID:  s.accountID,
		Region:     s.region,
		MailFrom:   s.mailFrom,
		Recipients: append([]string(nil), s.recipients...),
		Draft:      draft,
		Via:        spool.ViaSMTP,
		Meta:       spool.Meta{Operation: "SendSmtpEmail", SourceIP: s.remoteIP, CallerIdentity: s.keyID},
		Secure:     s.tls,
	})
	if err != nil {
		e := seserr.As(err)
		// Only a failure of ours is an error; a refusal by SES's rules
		// (throttling, the quota: 454) is the client's to retry, logged as
		// Postfix logs a temporary reject.
		switch {
		case e.Cause != nil:
			s.log.Error("smtpd: submit failed", "account", s.accountID, "err", err)
		case e.Temporary():
			s.log.Info("smtpd: message refused for now", "account", s.accountID, "reply", e.SMTPReply())
		default:
			s.log.Debug("smtpd: message refused", "account", s.accountID, "reply", e.SMTPReply())
		}
		s.replyErr(e)
		return true
	}
	if s.srv.closing.Load() {
		s.srv.drained.Add(1)
		s.finishedInDrain = true
	}
	s.log.Debug("smtpd: message accepted", "account", s.accountID, "id", id)
	s.w.WriteString("250 Ok ")
	s.reply(id)
	return true
}
