package console

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"net/http"
	"sync"
	"time"

	"sesame/internal/clock"
)

const (
	sessionCookie = "sesame_session"
	// signInCookie carries the sign-in form's CSRF token before there is a
	// session (a double-submit token: the form's hidden field must match).
	signInCookie = "sesame_signin"
	// idleTimeout ends a session nobody used for this long, sooner than
	// its lifetime.
	idleTimeout = time.Hour
)

// session is one signed-in browser: an account's access key, or the
// operator. Sessions live in memory: a restart signs everyone out.
type session struct {
	ID          string
	CSRF        string
	Operator    bool
	AccountID   string
	AccessKeyID string
	created     time.Time

	mu       sync.Mutex
	lastSeen time.Time
	flash    string
}

// validCSRF says whether a POST carries the session's token, as the
// form's hidden field "csrf" or htmx's X-CSRF-Token header.
func (s *session) validCSRF(r *http.Request) bool {
	got := r.Header.Get("X-CSRF-Token")
	if got == "" {
		got = r.PostFormValue("csrf")
	}
	return got != "" && subtle.ConstantTimeCompare([]byte(got), []byte(s.CSRF)) == 1
}

// setFlash keeps a message for the next page shown (after a redirect).
func (s *session) setFlash(msg string) {
	s.mu.Lock()
	s.flash = msg
	s.mu.Unlock()
}

func (s *session) takeFlash() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	f := s.flash
	s.flash = ""
	return f
}

// sessions is the table of signed-in browsers, by cookie value.
type sessions struct {
	clk      clock.Clock
	lifetime time.Duration
	mu       sync.Mutex
	byID     map[string]*session
}

func newSessions(clk clock.Clock, lifetime time.Duration) *sessions {
	return &sessions{clk: clk, lifetime: lifetime, byID: map[string]*session{}}
}

// randomToken is 32 random bytes, URL-safe.
func randomToken() string {
	b := make([]byte, 32)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// create starts a session; the caller sets its cookie.
func (ss *sessions) create(operator bool, accountID, keyID string) *session {
	now := ss.clk.Now()
	s := &session{ID: randomToken(), CSRF: randomToken(), Operator: operator, AccountID: accountID,
		AccessKeyID: keyID, created: now, lastSeen: now}
	ss.mu.Lock()
	defer ss.mu.Unlock()
	// Ended sessions are dropped as new ones start: the table never holds
	// more than the sessions of one lifetime.
	for id, old := range ss.byID {
		if ss.expired(old, now) {
			delete(ss.byID, id)
		}
	}
	ss.byID[s.ID] = s
	return s
}

func (ss *sessions) expired(s *session, now time.Time) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return now.Sub(s.created) >= ss.lifetime || now.Sub(s.lastSeen) >= idleTimeout
}

// get is the request's live session, or nil.
func (ss *sessions) get(r *http.Request) *session {
	c, err := r.Cookie(sessionCookie)
	if err != nil || c.Value == "" {
		return nil
	}
	now := ss.clk.Now()
	ss.mu.Lock()
	s := ss.byID[c.Value]
	if s != nil && ss.expired(s, now) {
		delete(ss.byID, c.Value)
		s = nil
	}
	ss.mu.Unlock()
	if s != nil {
		s.mu.Lock()
		s.lastSeen = now
		s.mu.Unlock()
	}
	return s
}

// end forgets the request's session.
func (ss *sessions) end(r *http.Request) {
	if c, err := r.Cookie(sessionCookie); err == nil {
		ss.mu.Lock()
		delete(ss.byID, c.Value)
		ss.mu.Unlock()
	}
}

// cookie is a console cookie: HttpOnly, SameSite=Lax (a link from a mail
// into the console keeps its session; a form from elsewhere does not),
// Secure when the console serves HTTPS.
func (s *Server) cookie(name, value string, maxAge time.Duration) *http.Cookie {
	c := &http.Cookie{Name: name, Value: value, Path: "/", HttpOnly: true, Secure: s.cfg.Secure,
		SameSite: http.SameSiteLaxMode, MaxAge: int(maxAge / time.Second)}
	if maxAge < 0 {
		c.MaxAge = -1
	}
	return c
}

// throttle slows password guessing at the sign-in form: after
// maxFailures failed sign-ins from one address (or for one access key
// id) within failureWindow, further tries are refused until the oldest
// failure leaves the window, as AWS's own sign-in does.
type throttle struct {
	clk      clock.Clock
	mu       sync.Mutex
	failures map[string][]time.Time
}

const (
	maxFailures   = 5
	failureWindow = 15 * time.Minute
)

func newThrottle(clk clock.Clock) *throttle {
	return &throttle{clk: clk, failures: map[string][]time.Time{}}
}

// wait is how long the keys must wait before another try; 0 = now.
func (t *throttle) wait(keys ...string) time.Duration {
	now := t.clk.Now()
	t.mu.Lock()
	defer t.mu.Unlock()
	var longest time.Duration
	for _, k := range keys {
		f := t.recent(k, now)
		if len(f) >= maxFailures {
			longest = max(longest, f[len(f)-maxFailures].Add(failureWindow).Sub(now))
		}
	}
	return longest
}

// fail records a failed sign-in against every key.
func (t *throttle) fail(keys ...string) {
	now := t.clk.Now()
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, k := range keys {
		t.failures[k] = append(t.recent(k, now), now)
	}
	if len(t.failures) > 100000 { // a flood of addresses: forget the quiet ones
		for k := range t.failures {
			if len(t.recent(k, now)) == 0 {
				delete(t.failures, k)
			}
		}
	}
}

// recent is k's failures within the window (the caller holds mu).
func (t *throttle) recent(k string, now time.Time) []time.Time {
	f := t.failures[k]
	i := 0
	for i < len(f) && now.Sub(f[i]) >= failureWindow {
		i++
	}
	if i > 0 {
		f = append([]time.Time(nil), f[i:]...)
		t.failures[k] = f
	}
	return f
}
