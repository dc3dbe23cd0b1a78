package e2e

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"sesame/internal/testenv"
)

// The console works from the keyboard alone: the sign-in form is filled and
// sent with Tab and Enter, the skip link comes first, and the navigation's
// links are reached with Tab and followed with Enter.
func TestConsoleKeyboardOnly(t *testing.T) {
	t.Parallel()
	s := testenv.Start(t, testenv.Options{})
	b := testenv.StartBrowser(t)
	consoleGo(b, s, "/signin")

	// tabTo presses Tab until the focused element matches want (a JS
	// predicate on el), at most n times.
	tabTo := func(what, want string, n int) {
		t.Helper()
		for range n {
			var ok bool
			b.Run(chromedp.KeyEvent(kb.Tab), chromedp.Evaluate(`(el => !!el && (`+want+`))(document.activeElement)`, &ok))
			if ok {
				return
			}
		}
		var got string
		b.Run(chromedp.Evaluate(`document.activeElement ? document.activeElement.outerHTML.slice(0, 120) : ""`, &got))
		t.Fatalf("%d presses of Tab did not reach %s; the focus is on %s", n, what, got)
	}

	tabTo("the access key field", `el.id === "access_key_id"`, 10)
	b.Run(chromedp.KeyEvent(s.KeyID))
	tabTo("the secret field", `el.id === "secret_access_key"`, 2)
	b.Run(
		chromedp.KeyEvent(s.Secret),
		chromedp.SetAttributeValue("html", "data-stale", "1", chromedp.ByQuery),
		chromedp.KeyEvent(kb.Enter),
		chromedp.WaitVisible("html:not([data-stale]) #region-select", chromedp.ByQuery),
	)
	if got := b.Text("h1"); !strings.Contains(got, "Account dashboard") {
		t.Fatalf("signed in from the keyboard, the page says %q", got)
	}

	// The first Tab on a page reaches the skip link.
	tabTo("the skip link", `el.classList.contains("skip")`, 1)
	tabTo("the Identities link", `el.matches('nav.side a[href$="/identities"]')`, 15)
	b.Run(
		chromedp.SetAttributeValue("html", "data-stale", "1", chromedp.ByQuery),
		chromedp.KeyEvent(kb.Enter),
		chromedp.WaitVisible("html:not([data-stale]) main h1", chromedp.ByQuery),
	)
	if got := b.Text("main h1"); !strings.Contains(got, "Identities") {
		t.Errorf("Enter on the Identities link leads to %q", got)
	}
}
