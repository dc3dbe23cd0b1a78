package smtpd

import (
	"bytes"
	"container/list"
	"crypto/sha256"
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
	if s.srv.authLim.locked(s.remoteIP, user, now) {
		s.log.Warn("smtpd: AUTH refused: too many failures of this user name from this address", "user", user)
		s.replyErr(seserr.TemporaryAuthFailure())
		return true
	}
	account, err := s.srv.be.AuthenticateSMTP(s.ctx, s.region, user, password)
	if err == nil {
		s.accountID, s.keyID = account, user
		s.preAuthDeadline = time.Time{}
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
	s.srv.authLim.fail(s.remoteIP, user, now)
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

// authLimiter counts failed AUTHs per credential and client: after max
// failures within window that user name is locked out from that address
// (an IPv6 /64) until window has passed since the failure that locked it.
// A max below 1 turns it off. The operator can clear a client's records
// (`sesame admin auth unlock`, through the control socket).
// Keying by both keeps a shared NAT usable: one client's wrong password
// locks its own credential there, not everyone's. Memory is bounded: past
// capacity the record touched longest ago goes.
type authLimiter struct {
	max      int
	window   time.Duration
	capacity int

	mu   sync.Mutex
	keys map[authKey]*list.Element // of *authRecord
	lru  *list.List                // least recently failed first
}

// authKey is a client and the user name it tried; the name is hashed so a
// 12 KB AUTH line costs the map no more than a real access key id.
type authKey struct {
	client string
	user   [sha256.Size]byte
}

type authRecord struct {
	key         authKey
	failures    int
	first       time.Time // start of the counting window
	lockedUntil time.Time
}

// maxTrackedCredentials bounds the limiter's memory under a spray of
// addresses and names (about 150 bytes each).
const maxTrackedCredentials = 100_000

func newAuthLimiter(max int, window time.Duration) *authLimiter {
	return &authLimiter{max: max, window: window, capacity: maxTrackedCredentials,
		keys: make(map[authKey]*list.Element), lru: list.New()}
}

func newAuthKey(ip, user string) authKey {
	return authKey{client: clientKey(ip), user: sha256.Sum256([]byte(user))}
}

func (l *authLimiter) locked(ip, user string, now time.Time) bool {
	if l.max < 1 {
		return false
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	e := l.keys[newAuthKey(ip, user)]
	return e != nil && now.Before(e.Value.(*authRecord).lockedUntil)
}

func (l *authLimiter) fail(ip, user string, now time.Time) {
	if l.max < 1 {
		return
	}
	k := newAuthKey(ip, user)
	l.mu.Lock()
	defer l.mu.Unlock()
	var r *authRecord
	if e := l.keys[k]; e != nil {
		r = e.Value.(*authRecord)
		l.lru.MoveToBack(e)
		if now.Sub(r.first) >= l.window && !now.Before(r.lockedUntil) {
			*r = authRecord{key: k, first: now} // stale: count afresh
		}
	} else {
		for l.lru.Len() >= l.capacity {
			oldest := l.lru.Front()
			delete(l.keys, oldest.Value.(*authRecord).key)
			l.lru.Remove(oldest)
		}
		r = &authRecord{key: k, first: now}
		l.keys[k] = l.lru.PushBack(r)
	}
	r.failures++
	if r.failures >= l.max {
		r.lockedUntil = now.Add(l.window)
		r.failures = 0
		r.first = now
	}
}

// size is how many records the limiter holds.
func (l *authLimiter) size() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.lru.Len()
}

// unlock forgets every record of the client at ip (locked or still
// counting) and returns how many it forgot.
func (l *authLimiter) unlock(ip string) int {
	client := clientKey(ip)
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for k, e := range l.keys {
		if k.client == client {
			delete(l.keys, k)
			l.lru.Remove(e)
			n++
		}
	}
	return n
}

// lockedOut maps each client with a credential locked out at now to when
// each such credential is free again.
func (l *authLimiter) lockedOut(now time.Time) map[string][]time.Time {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make(map[string][]time.Time)
	for k, e := range l.keys {
		if until := e.Value.(*authRecord).lockedUntil; now.Before(until) {
			out[k.client] = append(out[k.client], until)
		}
	}
	return out
}

// UnlockAuth clears the AUTH lockout and the failure counts of every user
// name tried from ip (its /64 for IPv6), returning how many it cleared:
// the operator's answer to a client that locked itself out.
func (s *Server) UnlockAuth(ip string) int { return s.authLim.unlock(ip) }

// AuthLocks maps each client locked out now (an IPv4 address or an IPv6
// /64) to when each of its locked user names is free again.
func (s *Server) AuthLocks() map[string][]time.Time {
	return s.authLim.lockedOut(s.cfg.Clock.Now())
}
