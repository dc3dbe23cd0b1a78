package e2e

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"sesame/internal/testenv"
	"sesame/internal/waitfor"
)

// The console's round trip as a person makes it: a test email from the
// Send test email page, opened from that page's link in the captured mail,
// then its events in message search, found by its id and by its recipient.
func TestConsoleSendFindInMailboxAndSearch(t *testing.T) {
	t.Parallel()
	s := testenv.Start(t, testenv.Options{})
	var out any
	s.Admin(&out, "identity", "verify", "sender@example.com")
	b := testenv.StartBrowser(t)
	consoleSignIn(t, b, s)

	consoleGo(b, s, "/us-east-1/send-test")
	b.Run(
		chromedp.SetValue("#st-from", "sender@example.com", chromedp.ByQuery),
		chromedp.SetValue("#st-to", "success@simulator.amazonses.com", chromedp.ByQuery),
		chromedp.SetValue("#st-subject", "Round trip", chromedp.ByQuery),
		chromedp.SetValue("#st-body", "From the console to the mailbox.", chromedp.ByQuery),
	)
	b.ClickAndWait(`button[type=submit].primary`, "#sent")
	id := strings.TrimSpace(b.Text("#sent code"))
	if id == "" {
		t.Fatal("the send page shows no message id")
	}

	b.ClickAndWait(`#sent a[href$="/mailbox/`+id+`"]`, "main h1")
	if got := b.Text("main h1"); got != "Round trip" {
		t.Errorf("the captured message's heading is %q", got)
	}
	b.ClickAndWait(`a[href$="?tab=text"]`, "main pre")
	if got := b.Text("main pre"); !strings.Contains(got, "From the console to the mailbox.") {
		t.Errorf("the text tab shows %q", got)
	}
	b.Screenshot("captured-round-trip")

	// Its events: the send at once, the delivery once capture has kept it.
	b.ClickAndWait(`a[href$="/messages/`+id+`"]`, "table.events")
	waitfor.True(t, "the Delivery event on the message's page", func() bool {
		consoleGo(b, s, "/us-east-1/messages/"+id)
		text := b.Text("table.events")
		return strings.Contains(text, "Send") && strings.Contains(text, "Delivery")
	})
	b.Screenshot("message-events")

	consoleGo(b, s, "/us-east-1/messages?q=success@simulator.amazonses.com")
	if got := b.Text("main"); !strings.Contains(got, id) {
		t.Errorf("search by recipient does not find %s:\n%s", id, got)
	}
	consoleGo(b, s, "/us-east-1/messages?q="+id)
	if got := b.Text("main"); !strings.Contains(got, "Round trip") || !strings.Contains(got, "Delivery") {
		t.Errorf("search by id:\n%s", got)
	}
	b.Screenshot("message-search-by-id")
}

// With [console] cert_file and key_file the console answers HTTPS only and
// its session cookie is Secure.
func TestConsoleHTTPS(t *testing.T) {
	t.Parallel()
	cert := testenv.NewAPITLS(t)
	s := testenv.Start(t, testenv.Options{ConsoleExtra: cert.Config()})
	c := cert.Client()
	jar, _ := cookiejar.New(nil)
	c.Jar = jar
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	base := "https://" + s.Console
	resp, err := c.Get(base + "/signin")
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	m := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindSubmatch(page)
	if resp.StatusCode != http.StatusOK || m == nil {
		t.Fatalf("sign-in form over HTTPS: %s", resp.Status)
	}
	resp, err = c.PostForm(base+"/signin", url.Values{"csrf": {string(m[1])}, "access_key_id": {s.KeyID}, "secret_access_key": {s.Secret}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	var secure bool
	for _, ck := range resp.Cookies() {
		secure = secure || (ck.Name == "sesame_session" && ck.Secure && ck.HttpOnly)
	}
	if resp.StatusCode != http.StatusSeeOther || !secure {
		t.Errorf("sign-in over HTTPS: %s, cookies %v; want a Secure, HttpOnly session cookie", resp.Status, resp.Cookies())
	}
	// Plain HTTP gets Go's "client sent an HTTP request to an HTTPS server" 400, or nothing.
	if resp, err := http.Get("http://" + s.Console + "/signin"); err == nil {
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest {
			t.Errorf("the HTTPS console answered plain HTTP with %s", resp.Status)
		}
	}
}
