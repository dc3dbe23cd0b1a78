package e2e

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"sesame/internal/testenv"
	"sesame/internal/waitfor"
)

// identityRecord is a row of the console's DNS records table, or of
// `sesame admin identity records`.
type identityRecord struct {
	Name  string `json:"name"`
	Type  string `json:"type"`
	Value string `json:"value"`
}

// waitFlash waits for the page after a form's POST: its flash says substr
// (the page before may show another flash, so a selector is not enough).
func waitFlash(t *testing.T, b *testenv.Browser, substr string) {
	t.Helper()
	waitfor.True(t, "a flash saying "+substr, func() bool {
		var got string
		err := chromedp.Run(b.Ctx, chromedp.Evaluate(`(document.querySelector(".flash") || {}).textContent || ""`, &got))
		return err == nil && strings.Contains(got, substr)
	})
}

// The identities pages: create a domain through the form and read the DNS
// records it shows (the same `sesame admin identity records` prints),
// create an address and see it pending, delete it.
func TestConsoleIdentities(t *testing.T) {
	t.Parallel()
	s := testenv.Start(t, testenv.Options{})
	b := testenv.StartBrowser(t)
	consoleSignIn(t, b, s)

	consoleGo(b, s, "/us-east-1/identities")
	if got := b.Text("main .empty"); !strings.Contains(got, "No identities yet") {
		t.Fatalf("empty list says %q", got)
	}
	b.Screenshot("identities-empty")

	// A domain identity, Easy DKIM with a 1024-bit key, through the form.
	b.Run(
		chromedp.SendKeys("#domain", "Example.com", chromedp.ByQuery),
		chromedp.SetValue("#key_length", "RSA_1024_BIT", chromedp.ByQuery),
		chromedp.Click(`#create-identity button[type=submit]`, chromedp.ByQuery),
		chromedp.WaitVisible("#dns-records", chromedp.ByQuery),
	)
	if got := b.Text("main h1"); got != "example.com" {
		t.Fatalf("after create the page is %q, want example.com's", got)
	}
	waitFlash(t, b, "Created the identity example.com.")
	if got := b.Text("#verification-status"); got != "PENDING" {
		t.Errorf("a new domain's status is %q", got)
	}
	var shown []identityRecord
	var raw string
	b.Run(chromedp.Evaluate(`JSON.stringify(Array.from(document.querySelectorAll("table.records tbody tr")).map(tr => ({
		type: tr.dataset.type, name: tr.querySelector(".rec-name").textContent, value: tr.querySelector(".rec-value").textContent})))`, &raw))
	if err := json.Unmarshal([]byte(raw), &shown); err != nil {
		t.Fatal(err)
	}
	var want []identityRecord
	s.Admin(&want, "identity", "records", "example.com")
	cnames := func(rs []identityRecord) []identityRecord {
		return slices.DeleteFunc(slices.Clone(rs), func(r identityRecord) bool { return r.Type != "CNAME" })
	}
	if got, w := cnames(shown), cnames(want); len(w) != 3 || !slices.Equal(got, w) {
		t.Fatalf("the page's DKIM CNAMEs:\n%v\nsesame admin identity records:\n%v", got, w)
	}
	if !slices.Equal(shown, want) {
		t.Errorf("the page's records:\n%v\nsesame admin identity records:\n%v", shown, want)
	}
	// Every name and value has its copy button.
	if n := b.NodeCount("table.records button.copy"); n != 2*len(shown) {
		t.Errorf("%d copy buttons for %d records", n, len(shown))
	}
	b.Screenshot("identity-domain")
	b.Phone()
	b.Screenshot("identity-domain-phone")
	b.Desktop()

	// A custom MAIL FROM domain adds its MX and SPF records.
	b.Run(
		chromedp.SendKeys("#mail_from", "bounce.example.com", chromedp.ByQuery),
		chromedp.Submit("#mail_from", chromedp.ByQuery),
	)
	waitFlash(t, b, "The MAIL FROM domain is bounce.example.com")
	if got := b.Text("#dns-records"); !strings.Contains(got, "10 feedback-smtp.us-east-1.") || !strings.Contains(got, "v=spf1 a:") {
		t.Errorf("MAIL FROM records missing:\n%s", got)
	}
	b.Run(chromedp.Click("#dkim button", chromedp.ByQuery))
	waitFlash(t, b, "DKIM signing is off")
	if got := b.Text("#dkim"); !strings.Contains(got, "Enable DKIM signing") {
		t.Errorf("after disabling, the DKIM section says %q", got)
	}

	// An address: pending until its link is followed.
	consoleGo(b, s, "/us-east-1/identities")
	b.Run(
		chromedp.Click(`input[name=kind][value=email]`, chromedp.ByQuery),
		chromedp.WaitVisible("#email", chromedp.ByQuery),
		chromedp.SendKeys("#email", "sender@example.org", chromedp.ByQuery),
		chromedp.Click(`#create-identity button[type=submit]`, chromedp.ByQuery),
	)
	waitFlash(t, b, "Created the identity sender@example.org.")
	if got := b.Text("#verification-status"); got != "PENDING" {
		t.Errorf("a new address's status is %q", got)
	}
	b.Screenshot("identity-email")
	b.Run(chromedp.Click(`form[action$="/resend"] button`, chromedp.ByQuery))
	waitFlash(t, b, "sent the verification mail to sender@example.org again")

	// A bad address keeps the form, with SES's words.
	consoleGo(b, s, "/us-east-1/identities")
	b.Run(
		chromedp.Click(`input[name=kind][value=domain]`, chromedp.ByQuery),
		chromedp.SendKeys("#domain", "example.com", chromedp.ByQuery),
		chromedp.Click(`#create-identity button[type=submit]`, chromedp.ByQuery),
		chromedp.WaitVisible(".alert", chromedp.ByQuery),
	)
	if got := b.Text(".alert"); !strings.Contains(got, "AlreadyExists") {
		t.Errorf("creating example.com twice says %q", got)
	}
	var kept string
	b.Run(chromedp.Value("#domain", &kept, chromedp.ByQuery))
	if kept != "example.com" {
		t.Errorf("the form lost its input: %q", kept)
	}

	list := b.Text("#identities")
	for _, want := range []string{"example.com", "sender@example.org", "PENDING", "Email address", "Domain"} {
		if !strings.Contains(list, want) {
			t.Errorf("the list lacks %q:\n%s", want, list)
		}
	}
	b.Screenshot("identities")
	b.Phone()
	b.Screenshot("identities-phone")
	b.Desktop()

	// Delete the address (console.js asks first).
	consoleGo(b, s, "/us-east-1/identities/sender@example.org")
	b.Run(chromedp.Click(`#delete button`, chromedp.ByQuery))
	waitFlash(t, b, "Deleted the identity sender@example.org.")
	if got := b.Text("#identities"); strings.Contains(got, "sender@example.org") {
		t.Errorf("the deleted address is still listed:\n%s", got)
	}
}
