package console

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

// operatorServer is a console whose admin commands answer from canned
// JSON (by the command's words), with an operator session signed in.
func operatorServer(t *testing.T, admin func(args []string) (string, error)) (*Server, *session) {
	t.Helper()
	cfg := Config{Regions: []string{"us-east-1", "eu-west-1"}, Logger: nil}
	if admin != nil {
		cfg.Admin = func(ctx context.Context, args []string, out io.Writer) error {
			text, err := admin(args)
			io.WriteString(out, text)
			return err
		}
	}
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return s, s.sessions.create(true, "", "")
}

func operatorGet(t *testing.T, s *Server, sess *session, path string) (int, string) {
	t.Helper()
	r := httptest.NewRequest("GET", path, nil)
	r.AddCookie(&http.Cookie{Name: sessionCookie, Value: sess.ID})
	w := httptest.NewRecorder()
	s.ServeHTTP(w, r)
	return w.Code, w.Body.String()
}

func operatorPost(t *testing.T, s *Server, sess *session, path string, form url.Values) *httptest.ResponseRecorder {
	t.Helper()
	form.Set("csrf", sess.CSRF)
	r := httptest.NewRequest("POST", path, strings.NewReader(form.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	r.AddCookie(&http.Cookie{Name: sessionCookie, Value: sess.ID})
	w := httptest.NewRecorder()
	s.ServeHTTP(w, r)
	return w
}

func TestOperatorPagesWithoutAdmin(t *testing.T) {
	s, sess := operatorServer(t, nil)
	for _, p := range []string{"/operator/accounts", "/operator/queue", "/operator/accounts/123456789012"} {
		code, body := operatorGet(t, s, sess, p)
		if code != http.StatusNotFound || !strings.Contains(body, "This server has no operator view.") {
			t.Errorf("%s without Config.Admin: %d\n%s", p, code, body)
		}
	}
}

func TestOperatorAccountPage(t *testing.T) {
	var ran [][]string
	s, sess := operatorServer(t, func(args []string) (string, error) {
		ran = append(ran, args)
		switch strings.Join(args[:2], " ") {
		case "account show":
			return `{"account_id":"123456789012","created":"2026-12-01T10:00:00Z",
				"access_keys":[{"access_key_id":"AKIAAAAAAAAAAAAAAAAA","active":false,"created":"2026-12-01T10:00:00Z","has_policy":true,"name":"ci"}],
				"settings":[{"account_id":"123456789012","region":"us-east-1","production_access_enabled":false,"sending_enabled":false,"max_send_rate":1,"max_24hour_send":200,"enforcement_status":"PROBATION"},
				            {"account_id":"123456789012","region":"eu-west-1","production_access_enabled":true,"sending_enabled":true,"max_send_rate":14,"max_24hour_send":-1,"enforcement_status":"HEALTHY"}],
				"reputation":[{"account_id":"123456789012","region":"us-east-1","configuration_set":"","sends":1000,"hard_bounces":60,"complaints":0,
				               "bounce_rate":0.06,"complaint_rate":0,"status":"PROBATION","paused":false,"probation":true,"evaluated_at":"2026-12-06T10:00:00Z"}]}`, nil
		case "account review":
			return `[{"account_id":"123456789012","region":"us-east-1","mail_type":"TRANSACTIONAL","website_url":"https://shop.example",
				"use_case_description":"receipts","review_status":"PENDING","updated":"2026-12-05T10:00:00Z","requested":"2026-12-05T10:00:00Z"}]`, nil
		case "account set":
			return "", errors.New("--max-send-rate must be above 0, not -3\n\nUsage: sesame admin account set …")
		}
		return "", errors.New("unexpected command")
	})
	code, body := operatorGet(t, s, sess, "/operator/accounts/123456789012")
	if code != http.StatusOK {
		t.Fatalf("account page: %d\n%s", code, body)
	}
	for _, want := range []string{"AKIAAAAAAAAAAAAAAAAA", "Scoped by a policy", "Inactive", "Activate", `id="settings-eu-west-1"`,
		"Sending paused", "PROBATION", "Grant production access", "https://shop.example", "6.00%"} {
		if !strings.Contains(body, want) {
			t.Errorf("the account page lacks %q", want)
		}
	}
	if got := strings.Join(ran[0], " "); got != "account show --account 123456789012" {
		t.Errorf("ran %q", got)
	}

	// A refused `account set`: its message, without the usage, in the page.
	w := operatorPost(t, s, sess, "/operator/accounts/123456789012/settings/us-east-1", url.Values{"access": {"production"},
		"max_send_rate": {"-3"}, "sending_enabled": {"true"}})
	if w.Code != http.StatusOK || !strings.Contains(w.Body.String(), "--max-send-rate must be above 0, not -3") ||
		strings.Contains(w.Body.String(), "Usage:") {
		t.Errorf("a refused account set: %d\n%s", w.Code, w.Body.String())
	}
	set := ran[len(ran)-3] // show and review ran after it for the page
	want := map[string]bool{"--production": true, "--max-send-rate": true, "-3": true, "--sending-enabled=true": true, "us-east-1": true}
	for _, a := range set {
		delete(want, a)
	}
	if len(want) != 0 || set[0] != "account" || set[1] != "set" {
		t.Errorf("account set ran as %q", set)
	}
}

func TestOperatorQueuePages(t *testing.T) {
	msg := `{"id":"q1","account":"123456789012","region":"us-east-1","mail_from":"a@example.com","recipients":["b@example.net"],
		"received":"2026-12-06T10:00:00Z","attempts":2,"next_attempt":"2026-12-06T11:00:00Z","last_error":"451 try later","size":512,"active":false`
	var ran []string
	s, sess := operatorServer(t, func(args []string) (string, error) {
		ran = append(ran, strings.Join(args, " "))
		switch args[1] {
		case "list":
			return "[" + msg + "}]", nil
		case "show":
			return msg + `,"via":"api","operation":"SendEmail","headers":["Subject: Hi <there>"]}`, nil
		case "retry":
			return `{"retried":1}`, nil
		}
		return "", errors.New("queue: no message q2")
	})
	code, body := operatorGet(t, s, sess, "/operator/queue")
	if code != http.StatusOK || !strings.Contains(body, "451 try later") || !strings.Contains(body, `href="/operator/queue/q1"`) {
		t.Errorf("queue page: %d\n%s", code, body)
	}
	code, body = operatorGet(t, s, sess, "/operator/queue/q1")
	if code != http.StatusOK || !strings.Contains(body, "Subject: Hi &lt;there&gt;") || !strings.Contains(body, "SendEmail") {
		t.Errorf("queued message page: %d\n%s", code, body)
	}
	if w := operatorPost(t, s, sess, "/operator/queue/retry-all", url.Values{}); w.Code != http.StatusSeeOther || w.Header().Get("Location") != "/operator/queue" {
		t.Errorf("retry all: %d %s", w.Code, w.Header().Get("Location"))
	}
	if w := operatorPost(t, s, sess, "/operator/queue/q2/delete", url.Values{}); w.Code != http.StatusOK ||
		!strings.Contains(w.Body.String(), "queue: no message q2") {
		t.Errorf("a refused delete: %d\n%s", w.Code, w.Body.String())
	}
	if !strings.Contains(strings.Join(ran, "|"), "queue retry --all|") || !strings.Contains(strings.Join(ran, "|"), "queue delete q2") {
		t.Errorf("ran %q", ran)
	}
}

func TestRegionPagesRouted(t *testing.T) {
	s, sess := operatorServer(t, nil)
	acct := s.sessions.create(false, "123456789012", "AKIAAAAAAAAAAAAAAAAA")
	get := func(sess *session, path string) (int, string) { return operatorGet(t, s, sess, path) }
	// An account page in a configured region reaches its handler (here:
	// the sign-in form for the operator, whose session is not an account's).
	if code, _ := get(sess, "/eu-west-1/receiving"); code != http.StatusSeeOther {
		t.Errorf("the operator opening /eu-west-1/receiving: %d, want the sign-in redirect", code)
	}
	for _, p := range []string{"/eu-west-1/no-such-page", "/xx-west-9/receiving", "/operator/no-such-page", "/assets/no-such-file.css"} {
		if code, body := get(acct, p); code != http.StatusNotFound || (!strings.HasPrefix(p, "/assets/") && !strings.Contains(body, "There is no such page")) {
			t.Errorf("%s: %d\n%s", p, code, body)
		}
	}
}
