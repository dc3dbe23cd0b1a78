package console

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"sesame/internal/api"
	"sesame/internal/clock"
	"sesame/internal/store"
)

// env is a console over an in-process API server and a real store, with
// one account; its clock is fake so sessions and throttling can age.
type env struct {
	t       *testing.T
	st      *store.Store
	clk     *clock.Fake
	console *Server
	url     string
	account string
	keyID   string
	secret  string
}

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func newEnv(t *testing.T, mod ...func(*Config)) *env {
	t.Helper()
	st, err := store.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	acct, key, err := st.CreateAccount(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	clk := clock.NewFake(time.Now())
	regions := []string{"us-east-1", "eu-west-1"}
	apiSrv := api.New(api.Config{Store: st, Regions: regions, Clock: clk, Logger: quiet()})
	cfg := Config{API: apiSrv, Store: st, Regions: regions, Clock: clk, Logger: quiet(),
		DKIMCNAMEDomain: "dkim.sesame.test", MailFromMXDomain: "sesame.test", Hostname: "sesame.test",
		Admin: func(ctx context.Context, args []string, out io.Writer) error { return nil }}
	for _, m := range mod {
		m(&cfg)
	}
	c, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(c)
	t.Cleanup(hs.Close)
	return &env{t: t, st: st, clk: clk, console: c, url: hs.URL, account: acct.ID, keyID: key.ID, secret: key.Secret}
}

// session is a session of the env's account made directly, for tests of
// pages (sign-in has tests of its own).
func (e *env) session() *session { return e.console.sessions.create(false, e.account, e.keyID) }

// do serves one request of sess in process; a form gets sess's CSRF token.
func (e *env) do(sess *session, method, path string, form url.Values) *httptest.ResponseRecorder {
	var body io.Reader
	if form != nil {
		form.Set("csrf", sess.CSRF)
		body = strings.NewReader(form.Encode())
	}
	r := httptest.NewRequest(method, path, body)
	if form != nil {
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	r.AddCookie(&http.Cookie{Name: sessionCookie, Value: sess.ID})
	w := httptest.NewRecorder()
	e.console.ServeHTTP(w, r)
	return w
}

// view is a view of sess in us-east-1, for its SDK clients.
func (e *env) view(sess *session) *view {
	return &view{s: e.console, Session: sess, Region: "us-east-1", remote: "127.0.0.1:1"}
}

// browser is a client with a cookie jar that does not follow redirects.
func (e *env) browser() *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

var hiddenCSRF = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// get fetches path and returns the status, the body and the page's CSRF
// token (from its forms), if any.
func (e *env) get(c *http.Client, path string) (int, string, string) {
	e.t.Helper()
	resp, err := c.Get(e.url + path)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	token := ""
	if m := hiddenCSRF.FindSubmatch(b); m != nil {
		token = string(m[1])
	}
	return resp.StatusCode, string(b), token
}

func (e *env) post(c *http.Client, path string, form url.Values, header ...string) *http.Response {
	e.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, e.url+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := c.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	resp.Body = io.NopCloser(strings.NewReader(string(b)))
	return resp
}

func body(resp *http.Response) string {
	b, _ := io.ReadAll(resp.Body)
	resp.Body = io.NopCloser(strings.NewReader(string(b)))
	return string(b)
}

// signIn signs c in with keyID and secret through the form; it returns
// the sign-in POST's answer.
func (e *env) signIn(c *http.Client, keyID, secret string) *http.Response {
	e.t.Helper()
	_, _, token := e.get(c, "/signin")
	if token == "" {
		e.t.Fatal("the sign-in form has no CSRF token")
	}
	return e.post(c, "/signin", url.Values{"csrf": {token}, "access_key_id": {keyID}, "secret_access_key": {secret}})
}

func TestSignInWithAccessKey(t *testing.T) {
	e := newEnv(t)
	c := e.browser()
	if status, _, _ := e.get(c, "/us-east-1/"); status != http.StatusSeeOther {
		t.Fatalf("dashboard without a session: %d, want a redirect to the sign-in form", status)
	}
	resp := e.signIn(c, e.keyID, e.secret)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign-in: %d\n%s", resp.StatusCode, body(resp))
	}
	var sess *http.Cookie
	for _, ck := range resp.Cookies() {
		if ck.Name == sessionCookie && ck.Value != "" {
			sess = ck
		}
	}
	if sess == nil || !sess.HttpOnly || sess.SameSite != http.SameSiteLaxMode || sess.Secure {
		t.Fatalf("session cookie %+v: want HttpOnly, SameSite=Lax, not Secure over plain HTTP", sess)
	}
	status, page, _ := e.get(c, "/us-east-1/")
	if status != http.StatusOK || !strings.Contains(page, "Sandbox") || !strings.Contains(page, e.account) {
		t.Fatalf("dashboard: %d\n%s", status, page)
	}
	if status, _, _ := e.get(c, "/ap-south-1/"); status != http.StatusNotFound {
		t.Errorf("a region the server does not serve: %d, want 404", status)
	}
}

func TestSessionCookieSecureOverTLS(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.Secure = true })
	resp := e.signIn(e.browser(), e.keyID, e.secret)
	for _, ck := range resp.Cookies() {
		if ck.Name == sessionCookie && !ck.Secure {
			t.Errorf("session cookie without Secure on an HTTPS console: %+v", ck)
		}
	}
}

// A wrong secret, an unknown key and a deactivated key get one answer.
func TestSignInFailuresLookAlike(t *testing.T) {
	e := newEnv(t)
	other, err := e.st.CreateAccessKey(context.Background(), e.account)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.st.SetAccessKeyActive(context.Background(), other.ID, false); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ name, key, secret string }{
		{"wrong secret", e.keyID, e.secret + "x"},
		{"unknown key", "AKIANOSUCHKEY0000000", e.secret},
		{"deactivated key", other.ID, other.Secret},
		{"empty secret", e.keyID, ""},
	} {
		resp := e.signIn(e.browser(), tc.key, tc.secret)
		page := body(resp)
		if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(page, "Your authentication information is incorrect") {
			t.Errorf("%s: %d, want 401 with AWS's sign-in text\n%s", tc.name, resp.StatusCode, page)
		}
	}
}

// Five failures from one address within 15 minutes stop the next try, a
// right one included, until the window has passed.
func TestSignInThrottled(t *testing.T) {
	e := newEnv(t)
	for i := 0; i < maxFailures; i++ {
		if resp := e.signIn(e.browser(), e.keyID, "wrong"); resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("failure %d: %d", i+1, resp.StatusCode)
		}
	}
	resp := e.signIn(e.browser(), e.keyID, e.secret)
	if page := body(resp); resp.StatusCode != http.StatusTooManyRequests || !strings.Contains(page, "Too many failed sign-in attempts. Try again in 15 minutes.") {
		t.Fatalf("after %d failures: %d, want 429\n%s", maxFailures, resp.StatusCode, page)
	}
	e.clk.Advance(failureWindow)
	if resp := e.signIn(e.browser(), e.keyID, e.secret); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("after the window: %d, want a sign-in", resp.StatusCode)
	}
}

// The sign-in form is protected too: without its token (cookie and field
// equal) a POST is refused, so another site cannot sign a browser in to
// an account of its choosing.
func TestSignInNeedsFormToken(t *testing.T) {
	e := newEnv(t)
	c := e.browser()
	form := url.Values{"access_key_id": {e.keyID}, "secret_access_key": {e.secret}}
	if resp := e.post(c, "/signin", form); resp.StatusCode != http.StatusForbidden {
		t.Errorf("no token: %d, want 403", resp.StatusCode)
	}
	e.get(c, "/signin")
	form.Set("csrf", "forged")
	if resp := e.post(c, "/signin", form); resp.StatusCode != http.StatusForbidden {
		t.Errorf("a token that is not the cookie's: %d, want 403", resp.StatusCode)
	}
}

// A signed-in browser's POSTs need the session's CSRF token, and a POST
// another site's page sends is refused whatever it carries.
func TestCSRF(t *testing.T) {
	e := newEnv(t)
	c := e.browser()
	e.signIn(c, e.keyID, e.secret)
	_, _, token := e.get(c, "/us-east-1/")
	if token == "" {
		t.Fatal("the dashboard has no CSRF token in its forms")
	}
	if resp := e.post(c, "/signout", url.Values{}); resp.StatusCode != http.StatusForbidden ||
		!strings.Contains(body(resp), "This form has expired") {
		t.Errorf("sign-out without the token: %d, want 403", resp.StatusCode)
	}
	if resp := e.post(c, "/signout", url.Values{"csrf": {"x" + token}}); resp.StatusCode != http.StatusForbidden {
		t.Errorf("sign-out with a wrong token: %d, want 403", resp.StatusCode)
	}
	resp := e.post(c, "/signout", url.Values{"csrf": {token}}, "Sec-Fetch-Site", "cross-site", "Origin", "https://evil.example")
	if resp.StatusCode != http.StatusForbidden || !strings.Contains(body(resp), "Cross-site requests are refused") {
		t.Errorf("a cross-site POST with the right token: %d, want 403", resp.StatusCode)
	}
	if status, _, _ := e.get(c, "/us-east-1/"); status != http.StatusOK {
		t.Fatalf("refused POSTs ended the session: %d", status)
	}
	if resp := e.post(c, "/signout", url.Values{"csrf": {token}}, "X-CSRF-Token", token); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign-out: %d", resp.StatusCode)
	}
	if status, _, _ := e.get(c, "/us-east-1/"); status != http.StatusSeeOther {
		t.Errorf("after sign-out the dashboard answers %d, want a redirect to sign-in", status)
	}
}

// Sessions end after an hour unused, and after their lifetime however
// busy.
func TestSessionExpiry(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.SessionTimeout = 2 * time.Hour })
	c := e.browser()
	e.signIn(c, e.keyID, e.secret)
	e.clk.Advance(idleTimeout - time.Minute)
	if status, _, _ := e.get(c, "/us-east-1/"); status != http.StatusOK {
		t.Fatalf("used within the idle limit: %d", status)
	}
	e.clk.Advance(idleTimeout - time.Minute)
	if status, _, _ := e.get(c, "/us-east-1/"); status != http.StatusOK {
		t.Fatalf("used again within the idle limit: %d", status)
	}
	e.clk.Advance(10 * time.Minute) // 2 h since sign-in
	if status, _, _ := e.get(c, "/us-east-1/"); status != http.StatusSeeOther {
		t.Errorf("past its lifetime: %d, want a redirect to sign-in", status)
	}
	c2 := e.browser()
	e.signIn(c2, e.keyID, e.secret)
	e.clk.Advance(idleTimeout)
	if status, _, _ := e.get(c2, "/us-east-1/"); status != http.StatusSeeOther {
		t.Errorf("idle for an hour: %d, want a redirect to sign-in", status)
	}
}

// A key deactivated after the sign-in acts no more: its pages get the
// API's InvalidClientTokenId.
func TestDeactivatedKeyStopsSession(t *testing.T) {
	e := newEnv(t)
	c := e.browser()
	e.signIn(c, e.keyID, e.secret)
	if err := e.st.SetAccessKeyActive(context.Background(), e.keyID, false); err != nil {
		t.Fatal(err)
	}
	status, page, _ := e.get(c, "/us-east-1/")
	if status != http.StatusForbidden || !strings.Contains(page, "InvalidClientTokenId") {
		t.Errorf("dashboard of a deactivated key: %d\n%s", status, page)
	}
}

// After sign-in, only a path of the console itself is followed.
func TestSignInNextIsNoOpenRedirect(t *testing.T) {
	for _, tc := range []struct{ next, want string }{
		{"/eu-west-1/", "/eu-west-1/"},
		{"//evil.example/", "/"},
		{"https://evil.example/", "/"},
		{"/\\evil.example", "/"},
		{"/operator/accounts", "/"}, // not an account's page
	} {
		e := newEnv(t)
		c := e.browser()
		_, _, token := e.get(c, "/signin")
		resp := e.post(c, "/signin", url.Values{"csrf": {token}, "access_key_id": {e.keyID},
			"secret_access_key": {e.secret}, "next": {tc.next}})
		if got := resp.Header.Get("Location"); got != tc.want {
			t.Errorf("next=%q: redirected to %q, want %q", tc.next, got, tc.want)
		}
	}
}

// Every answer carries the headers that keep the console out of frames
// and scripts from elsewhere.
func TestSecurityHeaders(t *testing.T) {
	e := newEnv(t)
	resp, err := http.Get(e.url + "/signin")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	for name, want := range map[string]string{
		"X-Frame-Options":         "DENY",
		"X-Content-Type-Options":  "nosniff",
		"Content-Security-Policy": "script-src 'self'",
	} {
		if got := resp.Header.Get(name); !strings.Contains(got, want) {
			t.Errorf("%s: %q, want %q in it", name, got, want)
		}
	}
}

// The operator's sign-in takes a token from `admin console-token` and
// nothing else; an operator session is not an account's and the other way
// round.
func TestOperatorSignIn(t *testing.T) {
	e := newEnv(t)
	now := e.clk.Now()
	if err := e.st.AddConsoleToken(context.Background(), "sesame-op-test", now, now.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	signIn := func(c *http.Client, token string) *http.Response {
		_, _, csrf := e.get(c, "/signin?as=operator")
		return e.post(c, "/signin", url.Values{"csrf": {csrf}, "as": {"operator"}, "admin_token": {token}})
	}
	if resp := signIn(e.browser(), "sesame-op-wrong"); resp.StatusCode != http.StatusUnauthorized ||
		!strings.Contains(body(resp), "console-token") {
		t.Errorf("a wrong admin token: %d", resp.StatusCode)
	}
	op := e.browser()
	if resp := signIn(op, "sesame-op-test"); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("operator sign-in: %d\n%s", resp.StatusCode, body(resp))
	}
	if status, _, _ := e.get(op, "/us-east-1/"); status != http.StatusSeeOther {
		t.Errorf("an operator session opens an account's dashboard: %d", status)
	}
	acct := e.browser()
	e.signIn(acct, e.keyID, e.secret)
	if status, _, _ := e.get(acct, "/operator/accounts"); status != http.StatusSeeOther && status != http.StatusNotFound {
		t.Errorf("an account session opens the operator's pages: %d", status)
	}
	e.clk.Advance(time.Hour)
	if resp := signIn(e.browser(), "sesame-op-test"); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("an expired admin token: %d, want 401", resp.StatusCode)
	}
}

// An account sees only its own resources: the pages act as the signed-in
// key, so another account's identity is not found and not listed.
func TestAccountSeesOnlyItsOwn(t *testing.T) {
	e := newEnv(t)
	a := e.browser()
	e.signIn(a, e.keyID, e.secret)
	_, _, token := e.get(a, "/us-east-1/identities")
	resp := e.post(a, "/us-east-1/identities", url.Values{"csrf": {token}, "kind": {"domain"}, "domain": {"mine.example"},
		"key_length": {"RSA_2048_BIT"}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("create identity: %d\n%s", resp.StatusCode, body(resp))
	}
	if status, page, _ := e.get(a, "/us-east-1/identities/mine.example"); status != http.StatusOK || !strings.Contains(page, "_domainkey.mine.example") {
		t.Fatalf("its own identity: %d", status)
	}

	other, key, err := e.st.CreateAccount(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	b := e.browser()
	e.signIn(b, key.ID, key.Secret)
	status, page, _ := e.get(b, "/us-east-1/identities/mine.example")
	if status != http.StatusNotFound || !strings.Contains(page, "NotFoundException") {
		t.Errorf("account %s opens account %s's identity: %d\n%s", other.ID, e.account, status, page)
	}
	if _, page, _ := e.get(b, "/us-east-1/identities"); strings.Contains(page, "mine.example") {
		t.Errorf("account %s's identity list shows another account's identity", other.ID)
	}
	// The same account in another region is another namespace, as in SES.
	if status, _, _ := e.get(a, "/eu-west-1/identities/mine.example"); status != http.StatusNotFound {
		t.Errorf("the identity in another region: %d, want 404", status)
	}
}
