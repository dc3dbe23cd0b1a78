package smtpd

import (
	"bytes"
	"encoding/base64"
	"errors"
	"strings"
	"sync"
	"time"

	"sesame/internal/seserr"
)

const (
	challengeUsername = "334 VXNlcm5hbWU6" // base64("Username:")
	challengePassword = "334 UGFzc3dvcmQ6" // base64("Password:")
)

// errAuthCancelled and errAuthEncoding are a client's '*' and bad base64.
var (
	errAuthCancelled = errors.New("smtpd: AUTH cancelled")
	errAuthEncoding  = errors.New("smtpd: AUTH response not base64")
)

// cmdAuth runs AUTH PLAIN and AUTH LOGIN (RFC 4954); false ends the session.
func (s *session) cmdAuth(arg string) bool {
	switch {
	case !s.tls:
		s.replyErr(seserr.MustStartTLS())
		return true
	case s.accountID != "":
		s.replyErr(seserr.AlreadyAuthenticated())
		return true
	case s.hasMail:
		s.replyErr(seserr.BadSequence())
		return true
	}
	mech, initial, _ := strings.Cut(arg, " ")
	var user, password string
	var err error
	switch strings.ToUpper(mech) {
	case "PLAIN":
		user, password, err = s.authPlain(initial)
	case "LOGIN":
		user, password, err = s.authLogin(initial)
	case "":
		s.replyErr(seserr.ArgumentSyntax())
		return true
	default:
		// SES's text for an unknown mechanism is unknown; RFC 4954 §6's 504.
		s.replyErr(seserr.UnknownAuthMechanism())
		return true
	}
	switch {
	case errors.Is(err, errAuthCancelled):
		s.replyErr(seserr.AuthCancelled())
		return true
	case errors.Is(err, errAuthEncoding):
		s.replyErr(seserr.AuthBadEncoding())
		return true
	case errors.Is(err, errLineTooLong):
		s.replyErr(seserr.CommandLineTooLong())
		return true
	case err != nil:
		s.readFailed(err)
		return false
	}

	// The lockout is checked after the dialogue so a locked-out client
	// learns nothing from how far it gets.
	now := s.srv.cfg.Clock.Now()
	if s.srv.authLim.locked(s.remoteIP, now) {
		s.log.Warn("smtpd: AUTH refused: too many failures from this address", "user", user)
		s.replyErr(seserr.TemporaryAuthFailure())
		return true
	}
	account, err := s.srv.be.AuthenticateSMTP(s.ctx, s.region, user, password)
	if err == nil {
		s.accountID, s.keyID = account, user
		s.reply("235 Authentication successful.")
		return true
	}
	var e *seserr.Error
	if !errors.As(err, &e) {
		// A fault inside sesame, not the client's: SES's 454.
		e = seserr.TemporaryAuthFailure().Wrap(err)
		s.log.Error("smtpd: credential check failed", "user", user, "err", err)
		s.replyErr(e)
		return true
	}
	if e.Temporary() {
		s.log.Error("smtpd: credential check failed", "user", user, "err", err)
		s.replyErr(e)
		return true
	}
	s.authFails++
	s.srv.authLim.fail(s.remoteIP, now)
	s.log.Warn("smtpd: authentication failed", "user", user, "region", s.region, "err", err)
	s.replyErr(e)
	return s.authFails < authFailuresPerSession
}

// authPlain reads PLAIN's single response: authzid NUL authcid NUL passwd.
func (s *session) authPlain(initial string) (user, password string, err error) {
	resp := initial
	if resp == "" {
		s.reply("334 ")
		if resp, err = s.authResponse(); err != nil {
			return "", "", err
		}
	}
	b, err := decodeAuth(resp)
	if err != nil {
		return "", "", err
	}
	parts := bytes.SplitN(b, []byte{0}, 3)
	if len(parts) != 3 {
		return "", "", errAuthEncoding
	}
	return string(parts[1]), string(parts[2]), nil
}

// authLogin reads LOGIN's user name (possibly given with the command) and password.
func (s *session) authLogin(initial string) (user, password string, err error) {
	resp := initial
	if resp == "" {
		s.reply(challengeUsername)
		if resp, err = s.authResponse(); err != nil {
			return "", "", err
		}
	}
	u, err := decodeAuth(resp)
	if err != nil {
		return "", "", err
	}
	s.reply(challengePassword)
	if resp, err = s.authResponse(); err != nil {
		return "", "", err
	}
	p, err := decodeAuth(resp)
	if err != nil {
		return "", "", err
	}
	return string(u), string(p), nil
}

// authResponse sends the pending challenge and reads the client's answer.
func (s *session) authResponse() (string, error) {
	if err := s.w.Flush(); err != nil {
		return "", err
	}
	line, err := s.readLine(maxAuthLine)
	if err != nil {
		return "", err
	}
	if line == "*" {
		return "", errAuthCancelled
	}
	return line, nil
}

// decodeAuth decodes a base64 response; "=" is the empty response.
func decodeAuth(resp string) ([]byte, error) {
	if resp == "=" {
		return nil, nil
	}
	b, err := base64.StdEncoding.DecodeString(resp)
	if err != nil {
		return nil, errAuthEncoding
	}
	return b, nil
}

// authLimiter counts failed AUTHs per client IP: after max failures within
// window the address is locked out until window has passed since the
// failure that locked it.
type authLimiter struct {
	max    int
	window time.Duration

	mu  sync.Mutex
	ips map[string]*authRecord
}

type authRecord struct {
	failures    int
	first       time.Time // start of the counting window
	lockedUntil time.Time
}

// maxTrackedIPs bounds the limiter's memory under a spray of addresses.
const maxTrackedIPs = 100_000

func newAuthLimiter(max int, window time.Duration) *authLimiter {
	return &authLimiter{max: max, window: window, ips: make(map[string]*authRecord)}
}

func (l *authLimiter) locked(ip string, now time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	r := l.ips[ip]
	return r != nil && now.Before(r.lockedUntil)
}

func (l *authLimiter) fail(ip string, now time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	r := l.ips[ip]
	if r == nil || now.Sub(r.first) >= l.window && !now.Before(r.lockedUntil) {
		if len(l.ips) >= maxTrackedIPs {
			l.sweep(now)
		}
		r = &authRecord{first: now}
		l.ips[ip] = r
	}
	r.failures++
	if r.failures >= l.max {
		r.lockedUntil = now.Add(l.window)
		r.failures = 0
		r.first = now
	}
}

// sweep drops records that no longer count or lock anything.
func (l *authLimiter) sweep(now time.Time) {
	for ip, r := range l.ips {
		if now.Sub(r.first) >= l.window && !now.Before(r.lockedUntil) {
			delete(l.ips, ip)
		}
	}
}
