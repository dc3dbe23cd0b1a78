package console

import (
	"crypto/subtle"
	"errors"
	"net"
	"net/http"
	"net/url"
	"strings"

	"sesame/internal/seserr"
	"sesame/internal/store"
)

var (
	errCrossSite  = seserr.ConsoleCrossSite()
	errBadCSRF    = seserr.ConsoleBadCSRF()
	errNoSuchPage = seserr.ConsoleNoSuchPage()
)

// signInData fills signin.html.
type signInData struct {
	CSRF        string
	Next        string
	AccessKeyID string
	Operator    bool // the operator tab is the one shown
	HasOperator bool
	Error       string
}

// signInPage shows the form, with a fresh double-submit token in a cookie
// and a hidden field: a plain HTML form POST, no JavaScript needed.
func (s *Server) signInPage(w http.ResponseWriter, r *http.Request) {
	s.showSignIn(w, r, http.StatusOK, signInData{Next: r.URL.Query().Get("next"), Operator: r.URL.Query().Get("as") == "operator"})
}

func (s *Server) showSignIn(w http.ResponseWriter, r *http.Request, status int, d signInData) {
	d.CSRF = randomToken()
	d.HasOperator = s.cfg.Admin != nil
	d.Next = safeNext(d.Next)
	http.SetCookie(w, s.cookie(signInCookie, d.CSRF, failureWindow))
	s.pages.render(w, status, "signin", &view{Title: "Sign in", Data: d})
}

// signIn checks the access key id and secret (or the admin token) and
// starts a session. Failures are counted per address and per key id; a
// wrong key id and a wrong secret get the same answer.
func (s *Server) signIn(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	c, err := r.Cookie(signInCookie)
	form := r.PostFormValue("csrf")
	if err != nil || form == "" || subtle.ConstantTimeCompare([]byte(c.Value), []byte(form)) != 1 {
		s.renderError(w, r, http.StatusForbidden, errBadCSRF)
		return
	}
	d := signInData{Next: r.PostFormValue("next"), AccessKeyID: strings.TrimSpace(r.PostFormValue("access_key_id")),
		Operator: r.PostFormValue("as") == "operator"}
	ip := clientAddr(r)
	keys := []string{"ip:" + ip}
	if d.AccessKeyID != "" && !d.Operator {
		keys = append(keys, "key:"+d.AccessKeyID)
	}
	if wait := s.throttle.wait(keys...); wait > 0 {
		d.Error = seserr.ConsoleSignInThrottled(wait).Message
		s.showSignIn(w, r, http.StatusTooManyRequests, d)
		return
	}
	var sess *session
	var failure *seserr.Error
	if d.Operator {
		sess, failure = s.operatorSignIn(r)
	} else {
		sess, failure = s.keySignIn(r, d.AccessKeyID, r.PostFormValue("secret_access_key"))
	}
	if failure != nil {
		if failure.HTTPStatus == http.StatusUnauthorized {
			s.throttle.fail(keys...)
			s.log.Info("console: sign-in refused", "client", ip, "access_key_id", d.AccessKeyID, "operator", d.Operator)
		}
		d.Error = failure.Message
		s.showSignIn(w, r, failure.HTTPStatus, d)
		return
	}
	http.SetCookie(w, s.cookie(signInCookie, "", -1))
	http.SetCookie(w, s.cookie(sessionCookie, sess.ID, s.cfg.SessionTimeout))
	s.log.Info("console: signed in", "client", ip, "account", sess.AccountID, "access_key_id", sess.AccessKeyID, "operator", sess.Operator)
	next := safeNext(d.Next)
	if next == "" || (sess.Operator != strings.HasPrefix(next, "/operator/")) {
		next = "/"
	}
	http.Redirect(w, r, next, http.StatusSeeOther)
}

// keySignIn checks an access key: it exists, is active, and secret is its
// secret (compared in constant time).
func (s *Server) keySignIn(r *http.Request, keyID, secret string) (*session, *seserr.Error) {
	if keyID == "" || secret == "" {
		return nil, seserr.ConsoleSignInFailed()
	}
	k, err := s.cfg.Store.AccessKey(r.Context(), keyID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, seserr.ConsoleSignInFailed()
	}
	if err != nil {
		s.log.Error("console: sign-in: access key", "err", err)
		return nil, seserr.TemporaryFailure()
	}
	if !k.Active || subtle.ConstantTimeCompare([]byte(k.Secret), []byte(secret)) != 1 {
		return nil, seserr.ConsoleSignInFailed()
	}
	return s.sessions.create(false, k.AccountID, k.ID), nil
}

// operatorSignIn checks an admin token from `sesame admin console-token`.
func (s *Server) operatorSignIn(r *http.Request) (*session, *seserr.Error) {
	if s.cfg.Admin == nil {
		return nil, seserr.ConsoleNoOperatorView()
	}
	token := strings.TrimSpace(r.PostFormValue("admin_token"))
	if token == "" {
		return nil, seserr.ConsoleOperatorTokenInvalid()
	}
	ok, err := s.cfg.Store.ConsoleTokenValid(r.Context(), token, s.clk.Now())
	if err != nil {
		s.log.Error("console: sign-in: admin token", "err", err)
		return nil, seserr.TemporaryFailure()
	}
	if !ok {
		return nil, seserr.ConsoleOperatorTokenInvalid()
	}
	return s.sessions.create(true, "", ""), nil
}

// signOut ends the session (a POST with its CSRF token: a link elsewhere
// cannot sign anyone out).
func (s *Server) signOut(w http.ResponseWriter, r *http.Request) {
	if sess := s.sessions.get(r); sess != nil {
		if !sess.validCSRF(r) {
			s.renderError(w, r, http.StatusForbidden, errBadCSRF)
			return
		}
		s.sessions.end(r)
	}
	http.SetCookie(w, s.cookie(sessionCookie, "", -1))
	http.Redirect(w, r, "/signin", http.StatusSeeOther)
}

// safeNext keeps a post-sign-in destination only when it is a path of
// this console (no other host, no scheme): not an open redirect.
func safeNext(next string) string {
	if !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.HasPrefix(next, "/\\") {
		return ""
	}
	if u, err := url.Parse(next); err != nil || u.Host != "" || u.Scheme != "" {
		return ""
	}
	return next
}

// clientAddr is the request's remote address without its port.
func clientAddr(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

func urlQueryEscape(s string) string { return url.QueryEscape(s) }
