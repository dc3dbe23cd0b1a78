package console

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"sesame/internal/store"
)

const testMail = "From: =?utf-8?q?J=C3=BCrgen?= <j@example.com>\r\n" +
	"to: bob@example.org\r\n" +
	"Subject: =?utf-8?q?Gr=C3=BC=C3=9Fe?=\r\n" +
	"Content-Type: multipart/mixed; boundary=b\r\n" +
	"\r\n" +
	"--b\r\n" +
	"Content-Type: text/plain; charset=iso-8859-1\r\n" +
	"Content-Transfer-Encoding: quoted-printable\r\n" +
	"\r\n" +
	"Gr=FC=DFe\r\n" +
	"--b\r\n" +
	"Content-Type: text/html\r\n" +
	"\r\n" +
	"<p>hi</p><script>alert(1)</script>\r\n" +
	"--b\r\n" +
	"Content-Type: image/png\r\n" +
	"Content-Id: <logo@x>\r\n" +
	"Content-Transfer-Encoding: base64\r\n" +
	"\r\n" +
	"iVBORw0K\r\n" +
	"--b--\r\n"

func TestParseMail(t *testing.T) {
	mv := parseMail([]byte(testMail))
	if mv.From != "Jürgen <j@example.com>" || mv.Subject != "Grüße" || mv.To != "bob@example.org" {
		t.Errorf("from %q subject %q to %q", mv.From, mv.Subject, mv.To)
	}
	if !mv.HasText || mv.Text != "Grüße" {
		t.Errorf("text %q (charset and quoted-printable decoded)", mv.Text)
	}
	if !mv.HasHTML || !strings.Contains(mv.HTML, "<p>hi</p>") {
		t.Errorf("html %q", mv.HTML)
	}
	if len(mv.Attachments) != 1 || mv.Attachments[0].Name != "logo@x" || mv.Attachments[0].ContentType != "image/png" ||
		string(mv.Attachments[0].data[:4]) != "\x89PNG" {
		t.Errorf("attachments %+v", mv.Attachments)
	}
	if len(mv.Fields) != 4 || mv.Fields[1].Name != "to" {
		t.Errorf("fields %+v (names as written)", mv.Fields)
	}
	// Not MIME at all: no panic, and whatever is shown is text.
	if mv := parseMail([]byte("not a message")); mv.HasHTML || len(mv.Attachments) > 0 {
		t.Errorf("garbage: %+v", mv)
	}
}

// mailboxServer is a console over a real store holding one message of
// account a and one of account b, with a session of account a.
func mailboxServer(t *testing.T, capture bool) (*Server, *store.Store, *session) {
	t.Helper()
	e := newEnv(t, func(c *Config) { c.Capture = capture })
	now := time.Now()
	if err := e.st.AddCaptured(context.Background(), []store.Captured{
		{ID: "mine", AccountID: e.account, Region: "us-east-1", MailFrom: "j@example.com", Recipients: []string{"bob@example.org"},
			Raw: []byte(testMail), Received: now, Outcome: "delivered"},
		{ID: "theirs", AccountID: "b", Region: "us-east-1", MailFrom: "x@example.net", Recipients: []string{"bob@example.org"},
			Raw: []byte("Subject: secret\r\n\r\nx"), Received: now, Outcome: "delivered"},
	}); err != nil {
		t.Fatal(err)
	}
	return e.console, e.st, e.session()
}

func get(s *Server, sess *session, path string) *httptest.ResponseRecorder {
	req := httptest.NewRequest("GET", path, nil)
	req.AddCookie(&http.Cookie{Name: sessionCookie, Value: sess.ID})
	w := httptest.NewRecorder()
	s.ServeHTTP(w, req)
	return w
}

func post(s *Server, sess *session, path string) *httptest.ResponseRecorder {
	req := httptest.NewRequest("POST", path, strings.NewReader(url.Values{"csrf": {sess.CSRF}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.AddCookie(&http.Cookie{Name: sessionCookie, Value: sess.ID})
	w := httptest.NewRecorder()
	s.ServeHTTP(w, req)
	return w
}

func TestMailboxIsTheAccounts(t *testing.T) {
	s, st, sess := mailboxServer(t, true)
	w := get(s, sess, "/us-east-1/mailbox")
	if body := w.Body.String(); w.Code != 200 || !strings.Contains(body, "Grüße") || strings.Contains(body, "secret") {
		t.Errorf("list: %d\n%s", w.Code, body)
	}
	if w := get(s, sess, "/us-east-1/mailbox/theirs"); w.Code != 404 || !strings.Contains(w.Body.String(), "not found") {
		t.Errorf("another account's message: %d", w.Code)
	}
	for _, p := range []string{"/html", "/raw", "/attachments/1"} {
		if w := get(s, sess, "/us-east-1/mailbox/theirs"+p); w.Code != 404 {
			t.Errorf("another account's %s: %d", p, w.Code)
		}
	}
	w = get(s, sess, "/us-east-1/mailbox/mine/html")
	if csp := w.Header().Get("Content-Security-Policy"); w.Code != 200 ||
		!strings.HasPrefix(csp, "sandbox; default-src 'none'; img-src data: cid:; style-src 'unsafe-inline'") ||
		w.Header().Get("X-Frame-Options") != "SAMEORIGIN" {
		t.Errorf("html part: %d %v", w.Code, w.Header())
	}
	w = get(s, sess, "/us-east-1/mailbox/mine/attachments/1")
	if w.Code != 200 || w.Header().Get("Content-Disposition") != `attachment; filename=logo@x` && w.Header().Get("Content-Disposition") != `attachment; filename="logo@x"` ||
		w.Header().Get("X-Content-Type-Options") != "nosniff" {
		t.Errorf("attachment: %d %v", w.Code, w.Header())
	}
	if w := get(s, sess, "/us-east-1/mailbox/mine/attachments/2"); w.Code != 404 {
		t.Errorf("attachment 2 of 1: %d", w.Code)
	}

	// Deleting another account's message finds nothing; delete all
	// deletes this account's mail only.
	if w := post(s, sess, "/us-east-1/mailbox/theirs/delete"); w.Code != 404 {
		t.Errorf("delete another account's message: %d", w.Code)
	}
	if w := post(s, sess, "/us-east-1/mailbox/delete"); w.Code != http.StatusSeeOther {
		t.Fatalf("delete all: %d %s", w.Code, w.Body)
	}
	left, err := st.Captured(context.Background(), store.CaptureFilter{})
	if err != nil || len(left) != 1 || left[0].ID != "theirs" {
		t.Errorf("after delete all: %+v, %v", left, err)
	}
}

func TestMailboxOffWithoutCapture(t *testing.T) {
	s, _, sess := mailboxServer(t, false)
	if w := get(s, sess, "/us-east-1/mailbox"); w.Code != 200 || !strings.Contains(w.Body.String(), "Capture mode is off") {
		t.Errorf("list without capture: %d", w.Code)
	}
	if w := get(s, sess, "/us-east-1/mailbox/mine"); w.Code != 404 {
		t.Errorf("message without capture: %d", w.Code)
	}
}
