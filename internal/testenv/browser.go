package testenv

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"sesame/internal/waitfor"
)

// Browser is Debian's headless Chromium driven over the DevTools protocol
// (chromedp), for the web console's tests. Everything the page logs as an
// error (console.error, an uncaught exception, a refused resource or CSP
// violation) is collected; the test fails at its end if there was any.
type Browser struct {
	t   testing.TB
	Ctx context.Context

	mu     sync.Mutex
	errors []string
	shots  int
	phone  bool
}

// StartBrowser starts Chromium (package chromium, installed by .ci/run)
// with a 1280×900 window; it is closed when the test ends.
func StartBrowser(t testing.TB) *Browser {
	t.Helper()
	exe := Tool(t, "chromium")
	// Not t.TempDir: Chromium's helper processes may still be writing to
	// the profile for a moment after the browser is gone, which makes
	// TempDir's own removal fail the test; the cleanup below waits for them.
	profile, err := os.MkdirTemp("", "sesame-chromium-")
	if err != nil {
		t.Fatal(err)
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(exe),
		chromedp.NoSandbox, // tests run as root in CI
		chromedp.WindowSize(1280, 900),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.UserDataDir(profile),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(actx)
	b := &Browser{t: t, Ctx: ctx}
	chromedp.ListenTarget(ctx, func(ev any) {
		switch ev := ev.(type) {
		case *runtime.EventExceptionThrown:
			b.addError("exception: " + ev.ExceptionDetails.Error())
		case *runtime.EventConsoleAPICalled:
			if ev.Type == runtime.APITypeError {
				var parts []string
				for _, a := range ev.Args {
					parts = append(parts, strings.Trim(string(a.Value), `"`))
				}
				b.addError("console.error: " + strings.Join(parts, " "))
			}
		case *log.EventEntryAdded:
			if ev.Entry.Level == log.LevelError {
				b.addError(fmt.Sprintf("%s: %s (%s)", ev.Entry.Source, ev.Entry.Text, ev.Entry.URL))
			}
		case *page.EventJavascriptDialogOpening:
			// A confirm() (the console's delete forms ask) is answered OK,
			// as a person going ahead would; a test of "Cancel" is not needed.
			go chromedp.Run(ctx, page.HandleJavaScriptDialog(true))
		}
	})
	// The first Run starts the browser.
	if err := chromedp.Run(ctx, log.Enable(), runtime.Enable()); err != nil {
		cancelCtx()
		cancelAlloc()
		os.RemoveAll(profile)
		t.Fatalf("start chromium: %v", err)
	}
	t.Cleanup(func() {
		cancelCtx()
		cancelAlloc()
		// The browser's helper processes (network service, cache) end a
		// moment after it and write to the profile on their way out.
		waitfor.Within(t, "Chromium's processes to end", 15*time.Second, func() bool { return !processesUsing(profile) })
		if err := os.RemoveAll(profile); err != nil {
			t.Errorf("remove Chromium's profile: %v", err)
		}
		b.mu.Lock()
		defer b.mu.Unlock()
		for _, e := range b.errors {
			t.Errorf("browser console: %s", e)
		}
	})
	return b
}

// processesUsing says whether a process on the machine has dir in its
// command line (Linux: /proc/*/cmdline).
func processesUsing(dir string) bool {
	cmdlines, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	for _, f := range cmdlines {
		if b, err := os.ReadFile(f); err == nil && strings.Contains(string(b), dir) {
			return true
		}
	}
	return false
}

func (b *Browser) addError(s string) {
	b.mu.Lock()
	b.errors = append(b.errors, s)
	b.mu.Unlock()
}

// ExpectErrors forgets the errors logged so far whose text contains
// substr (a test that provokes one, e.g. a 403, says so).
func (b *Browser) ExpectErrors(substr string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	kept := b.errors[:0]
	for _, e := range b.errors {
		if !strings.Contains(e, substr) {
			kept = append(kept, e)
		}
	}
	b.errors = kept
}

// Run runs actions with a deadline of 30 s, failing the test on error.
func (b *Browser) Run(actions ...chromedp.Action) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.Ctx, 30*time.Second)
	defer cancel()
	if err := chromedp.Run(ctx, actions...); err != nil {
		var url string
		chromedp.Run(b.Ctx, chromedp.Location(&url))
		b.Screenshot("failure")
		b.t.Fatalf("browser at %s: %v", url, err)
	}
}

// ClickAndWait clicks sel and waits for want on the page the click leads
// to — not on the page clicked, which may show the same selector (a flash
// from the last form): the old page is marked first.
func (b *Browser) ClickAndWait(sel, want string) {
	b.t.Helper()
	b.Run(
		chromedp.SetAttributeValue("html", "data-stale", "1", chromedp.ByQuery),
		chromedp.Click(sel, chromedp.ByQuery),
		chromedp.WaitVisible("html:not([data-stale]) "+want, chromedp.ByQuery),
	)
}

// Text is the text content of the first node matching sel (waiting for it).
func (b *Browser) Text(sel string) string {
	b.t.Helper()
	var s string
	b.Run(chromedp.Text(sel, &s, chromedp.ByQuery))
	return s
}

// Phone switches to a phone-size viewport (390×844) until Desktop.
func (b *Browser) Phone() {
	b.t.Helper()
	b.Run(emulation.SetDeviceMetricsOverride(390, 844, 3, true))
	b.phone = true
}

// Desktop goes back to the 1280-px window.
func (b *Browser) Desktop() {
	b.t.Helper()
	b.Run(emulation.ClearDeviceMetricsOverride())
	b.phone = false
}

// usability is the check every screenshot runs on its page: what a person
// with a keyboard, a screen reader or a phone would trip over.
const usability = `(() => {
  const problems = [];
  const visible = el => !el.closest('[hidden]') && el.getClientRects().length > 0;
  document.querySelectorAll('input:not([type=hidden]), select, textarea').forEach(el => {
    if (!visible(el)) return;
    const labelled = (el.id && document.querySelector('label[for="' + CSS.escape(el.id) + '"]')) ||
      el.closest('label') || el.getAttribute('aria-label') || el.getAttribute('aria-labelledby') || el.getAttribute('title');
    if (!labelled) problems.push('a ' + el.tagName.toLowerCase() + ' without a label (name=' + el.name + ')');
  });
  document.querySelectorAll('button, a[href]').forEach(el => {
    if (!visible(el)) return;
    if (!(el.textContent.trim() || el.getAttribute('aria-label') || el.getAttribute('title')))
      problems.push('a ' + el.tagName.toLowerCase() + ' without a name: ' + el.outerHTML.slice(0, 100));
    if (el.getAttribute('tabindex') === '-1') problems.push('not reachable by keyboard: ' + el.outerHTML.slice(0, 100));
  });
  document.querySelectorAll('img:not([alt])').forEach(el => problems.push('an image without alt: ' + el.src));
  if (!document.querySelector('h1')) problems.push('no h1');
  const wide = document.documentElement.scrollWidth;
  if (wide > VIEWPORT + 1) problems.push('the page is wider (' + wide + ' px) than the viewport (' + VIEWPORT + ' px)');
  return problems;
})()`

// CheckUsable fails the test for what the usability check finds on the
// page shown (Screenshot runs it too).
func (b *Browser) CheckUsable(name string) {
	b.t.Helper()
	var problems []string
	ctx, cancel := context.WithTimeout(b.Ctx, 30*time.Second)
	defer cancel()
	// A phone's emulated viewport grows with a page too wide for it: the
	// width to keep within is the device's, not window.innerWidth.
	width := 1280
	if b.phone {
		width = 390
	}
	check := strings.Replace(usability, "VIEWPORT", strconv.Itoa(width), -1)
	if err := chromedp.Run(ctx, chromedp.Evaluate(check, &problems)); err != nil {
		b.t.Errorf("usability check of %s: %v", name, err)
		return
	}
	for _, p := range problems {
		b.t.Errorf("page %s: %s", name, p)
	}
}

// Screenshot writes the whole page as NN-name.png into the test's
// artifact directory (kept with `go test -artifacts -outputdir DIR`, or
// under $SESAME_SCREENSHOTS when it is set) and returns its path. It runs
// CheckUsable on the page first: every page a test looks at is checked.
func (b *Browser) Screenshot(name string) string {
	b.t.Helper()
	if name != "failure" {
		b.CheckUsable(name)
	}
	var png []byte
	ctx, cancel := context.WithTimeout(b.Ctx, 30*time.Second)
	defer cancel()
	if err := chromedp.Run(ctx, chromedp.FullScreenshot(&png, 100)); err != nil {
		b.t.Logf("screenshot %s: %v", name, err)
		return ""
	}
	dir := os.Getenv("SESAME_SCREENSHOTS")
	if dir == "" {
		if at, ok := b.t.(interface{ ArtifactDir() string }); ok {
			dir = at.ArtifactDir()
		} else {
			dir = b.t.TempDir()
		}
	}
	b.mu.Lock()
	b.shots++
	n := b.shots
	b.mu.Unlock()
	path := filepath.Join(dir, fmt.Sprintf("%s-%02d-%s.png", sanitize(b.t.Name()), n, name))
	if err := os.MkdirAll(dir, 0o755); err == nil {
		if err := os.WriteFile(path, png, 0o644); err != nil {
			b.t.Logf("screenshot %s: %v", name, err)
		}
	}
	return path
}

func sanitize(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '/' || r == ' ' || r == ':' {
			return '_'
		}
		return r
	}, s)
}

// NodeCount is how many nodes match sel right now (no waiting).
func (b *Browser) NodeCount(sel string) int {
	b.t.Helper()
	var nodes []*cdp.Node
	b.Run(chromedp.Nodes(sel, &nodes, chromedp.ByQueryAll, chromedp.AtLeast(0)))
	return len(nodes)
}
