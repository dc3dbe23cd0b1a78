package e2e

import (
	"fmt"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"sesame/internal/testenv"
)

// consoleOperatorSignIn signs in on the sign-in form's Operator tab with
// a token from `sesame admin console-token`, landing on the accounts.
func consoleOperatorSignIn(t *testing.T, b *testenv.Browser, s *testenv.Server) {
	t.Helper()
	var tok struct {
		Token string `json:"token"`
	}
	s.Admin(&tok, "console-token")
	b.Run(
		chromedp.Navigate(consoleURL(s)+"/signin"),
		chromedp.WaitVisible(`a[href="/signin?as=operator"]`, chromedp.ByQuery),
		chromedp.Click(`a[href="/signin?as=operator"]`, chromedp.ByQuery),
		chromedp.WaitVisible("#admin_token", chromedp.ByQuery),
		chromedp.SendKeys("#admin_token", tok.Token, chromedp.ByQuery),
		chromedp.Submit("#admin_token", chromedp.ByQuery),
		chromedp.WaitVisible("#create-account", chromedp.ByQuery),
	)
}

// The operator signs in with an admin token, creates an account (its
// secret shown once), puts a region in production with a higher send rate
// (what `sesame admin account show` then says), and sees the queue. The
// operator's session does not open an account's pages, nor an account's
// session the operator's.
func TestConsoleOperator(t *testing.T) {
	t.Parallel()
	s := testenv.Start(t, testenv.Options{})
	b := testenv.StartBrowser(t)

	consoleOperatorSignIn(t, b, s)
	if got := b.Text("main h1"); got != "Accounts" {
		t.Fatalf("the operator lands on %q, want Accounts", got)
	}
	if got := b.Text("#accounts"); !strings.Contains(got, s.Account) {
		t.Errorf("the account list lacks the first account %s:\n%s", s.Account, got)
	}
	b.Screenshot("operator-accounts")

	// A new account: its key and secret on the result page, once.
	b.Run(chromedp.Click("#create-account", chromedp.ByQuery), chromedp.WaitVisible("#new-key-secret", chromedp.ByQuery))
	keyID, secret := b.Text("#new-key-id"), b.Text("#new-key-secret")
	if !strings.HasPrefix(keyID, "AKIA") || len(secret) < 30 {
		t.Fatalf("the new key page shows key %q secret %q", keyID, secret)
	}
	if got := b.Text(".alert"); !strings.Contains(got, "only time it is shown") {
		t.Errorf("the new key page does not warn that the secret is shown once: %q", got)
	}
	var path string
	b.Run(chromedp.Location(&path))
	path = strings.TrimPrefix(path, consoleURL(s))
	acct := strings.TrimSuffix(strings.TrimPrefix(path, "/operator/accounts/"), "/new-key")
	b.Screenshot("operator-new-key")
	consoleGo(b, s, path)
	if got := b.Text("main"); strings.Contains(got, secret) || !strings.Contains(got, "shown once") {
		t.Errorf("the new key page shown again:\n%s", got)
	}

	// The account's page: its key; us-east-1 into production at 14/s.
	consoleGo(b, s, "/operator/accounts/"+acct)
	if got := b.Text("#keys"); !strings.Contains(got, keyID) || !strings.Contains(got, "Active") {
		t.Errorf("the account's keys lack %s:\n%s", keyID, got)
	}
	if got := b.Text("#settings-us-east-1 h3"); !strings.Contains(got, "Sandbox") {
		t.Errorf("a new account's region says %q, want Sandbox", got)
	}
	b.Run(
		chromedp.SetValue("#access-us-east-1", "production", chromedp.ByQuery),
		chromedp.SetValue("#rate-us-east-1", "14", chromedp.ByQuery),
		chromedp.SetAttributeValue("html", "data-stale", "1", chromedp.ByQuery),
		chromedp.Click(`#settings-us-east-1 button[type=submit]`, chromedp.ByQuery),
		chromedp.WaitVisible("html:not([data-stale]) .flash", chromedp.ByQuery),
	)
	if got := b.Text("#settings-us-east-1 h3"); !strings.Contains(got, "Production") {
		t.Errorf("after saving, the region says %q, want Production", got)
	}
	var shown struct {
		Settings []struct {
			Region      string  `json:"region"`
			Production  bool    `json:"production_access_enabled"`
			MaxSendRate float64 `json:"max_send_rate"`
			Max24       float64 `json:"max_24hour_send"`
		} `json:"settings"`
	}
	s.Admin(&shown, "account", "show", "--account", acct)
	if len(shown.Settings) != 1 || !shown.Settings[0].Production || shown.Settings[0].MaxSendRate != 14 || shown.Settings[0].Max24 != 200 {
		t.Errorf("account show after the form: %+v, want production at 14/s, 200 a day", shown.Settings)
	}
	b.Screenshot("operator-account")
	b.Phone()
	b.Screenshot("operator-account-phone")
	b.Desktop()

	// The queue (capture mode keeps nothing queued: its empty state).
	consoleGo(b, s, "/operator/queue")
	if got := b.Text("main"); !strings.Contains(got, "The queue is empty") {
		t.Errorf("the queue page says:\n%s", got)
	}
	b.Screenshot("operator-queue")

	// The operator's session is not an account's.
	consoleGo(b, s, "/us-east-1/")
	if got := b.Text("main h1"); !strings.Contains(got, "Sign in") {
		t.Errorf("the operator opening an account page sees %q, want the sign-in form", got)
	}
	// The new key signs in; its session does not open the operator's pages.
	consoleSignInAs(t, b, s, keyID, secret)
	b.Run(chromedp.WaitVisible("#region-select", chromedp.ByQuery))
	if got := b.Text("main h1"); !strings.Contains(got, "Account dashboard") {
		t.Fatalf("the new key's sign-in lands on %q", got)
	}
	if got := b.Text("main"); !strings.Contains(got, "Production") {
		t.Errorf("the new account's dashboard does not say Production:\n%s", got)
	}
	consoleGo(b, s, "/operator/accounts")
	if got := b.Text("main h1"); !strings.Contains(got, "Sign in") {
		t.Errorf("an account opening the operator's accounts sees %q, want the sign-in form", got)
	}
}

// A deferred message (a greylisting receiver, retry_min 1h) on the queue
// page with its error, its detail page, and Retry: delivered at once.
func TestConsoleOperatorQueue(t *testing.T) {
	t.Parallel()
	d := testenv.StartDNS(t)
	sinks, port := testenv.StartSinks(t, testenv.SinkOptions{Greylist: 1})
	d.SetA("mx2.test", "127.0.0.2")
	d.SetMX("grey.test", 10, "mx2.test")
	s := startProduction(t, testenv.Options{Extra: fmt.Sprintf("[delivery]\nmode = \"mx\"\nresolver = %q\nmx_port = %s\n"+
		"retry_min = \"1h\"\nretry_max = \"2h\"\n", d.Addr, port)})
	s.Verify("example.com")
	smtpSendTo(t, s, "sender@example.com", "queued", "u@grey.test")
	var q []struct {
		ID       string `json:"id"`
		Attempts int    `json:"attempts"`
	}
	waitFor(t, "a deferral", func() bool { s.Admin(&q, "queue", "list"); return len(q) == 1 && q[0].Attempts == 1 })

	b := testenv.StartBrowser(t)
	consoleOperatorSignIn(t, b, s)
	consoleGo(b, s, "/operator/queue")
	if got := b.Text("#queue"); !strings.Contains(got, q[0].ID) || !strings.Contains(got, "u@grey.test") || !strings.Contains(got, "451") {
		t.Errorf("the queue page lacks the deferred message:\n%s", got)
	}
	b.Screenshot("operator-queue-deferred")
	consoleGo(b, s, "/operator/queue/"+q[0].ID)
	if got := b.Text("main"); !strings.Contains(got, "Subject: queued") || !strings.Contains(got, "sender@example.com") {
		t.Errorf("the queued message's page says:\n%s", got)
	}
	b.Screenshot("operator-queue-message")
	b.ClickAndWait(`form[action$="/retry"] button`, ".flash")
	waitFor(t, "delivery after Retry", func() bool { return len(sinks[0].Messages()) == 1 })
	waitFor(t, "an empty queue", func() bool { s.Admin(&q, "queue", "list"); return len(q) == 0 })
	consoleGo(b, s, "/operator/queue")
	if n := b.NodeCount("#queue-empty"); n != 1 {
		t.Errorf("after the delivery the queue page is not empty")
	}
}
