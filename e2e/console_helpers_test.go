package e2e

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"sesame/internal/testenv"
)

// consoleURL is the running server's web console.
func consoleURL(s *testenv.Server) string { return "http://" + s.Console }

// consoleSignIn opens the sign-in form in b and signs in with the first
// account's access key, landing on the first region's dashboard.
func consoleSignIn(t *testing.T, b *testenv.Browser, s *testenv.Server) {
	t.Helper()
	consoleSignInAs(t, b, s, s.KeyID, s.Secret)
	// The sign-in form has a main h1 too: wait for the region selector,
	// which only a signed-in page has, before reading the new page.
	b.Run(chromedp.WaitVisible("#region-select", chromedp.ByQuery))
	if got := b.Text("h1"); !strings.Contains(got, "Account dashboard") {
		t.Fatalf("after sign-in the page says %q, want the account dashboard", got)
	}
}

// consoleSignInAs fills and submits the sign-in form with a key pair.
func consoleSignInAs(t *testing.T, b *testenv.Browser, s *testenv.Server, keyID, secret string) {
	t.Helper()
	b.Run(
		chromedp.Navigate(consoleURL(s)+"/signin"),
		chromedp.WaitVisible("#access_key_id", chromedp.ByQuery),
		chromedp.SendKeys("#access_key_id", keyID, chromedp.ByQuery),
		chromedp.SendKeys("#secret_access_key", secret, chromedp.ByQuery),
		// The form's page is marked, so the wait below is for the heading
		// of the page the sign-in answers with, not the form's own (which
		// would vanish under the test as the answer loads).
		chromedp.SetAttributeValue("html", "data-before-submit", "1", chromedp.ByQuery),
		chromedp.Submit("#secret_access_key", chromedp.ByQuery),
		chromedp.WaitVisible("html:not([data-before-submit]) main h1", chromedp.ByQuery),
	)
}

// consoleGo navigates to a page of the console (path below the host) and
// waits for its heading.
func consoleGo(b *testenv.Browser, s *testenv.Server, path string) {
	b.Run(chromedp.Navigate(consoleURL(s)+path), chromedp.WaitVisible("main h1", chromedp.ByQuery))
}
