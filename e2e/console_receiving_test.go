package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"sesame/internal/testenv"
)

// Email receiving in the console, on a server whose inbound MX listens: a
// rule set with an AddHeader+Stop rule and a Bounce rule after it, made
// active, and IP address filters (a bad CIDR refused in SES's words), as
// `sesame admin receiving rules` then shows them.
func TestConsoleReceiving(t *testing.T) {
	t.Parallel()
	inAddr := testenv.FreeAddr(t)
	s := testenv.Start(t, testenv.Options{Extra: fmt.Sprintf("[receiving]\nlisten = [%q]\n", inAddr)})
	s.Verify("example.com") // the bounce's sender
	b := testenv.StartBrowser(t)
	consoleSignIn(t, b, s)

	consoleGo(b, s, "/us-east-1/receiving")
	if n := b.NodeCount("#receiving-off"); n != 0 || !strings.Contains(b.Text("#receiving-on"), "inbound MX takes mail") {
		t.Errorf("with [receiving] listen set the page says receiving is off")
	}
	if got := b.Text("main"); !strings.Contains(got, "No rule sets yet") || !strings.Contains(got, "No rule set is active") {
		t.Errorf("the empty receiving page says:\n%s", got)
	}
	b.Run(
		chromedp.SendKeys("#set-name", "inbound", chromedp.ByQuery),
		chromedp.Submit("#set-name", chromedp.ByQuery),
		chromedp.WaitVisible("#rule-name", chromedp.ByQuery),
	)
	if got := b.Text("main h1"); !strings.Contains(got, "inbound") || !strings.Contains(got, "Inactive") {
		t.Errorf("the new rule set's page is headed %q", got)
	}

	// The first rule: add a header, then stop.
	b.Run(
		chromedp.SendKeys("#rule-name", "tag-and-stop", chromedp.ByQuery),
		chromedp.SendKeys("#rule-recipients", "support@example.com\nexample.com", chromedp.ByQuery),
		chromedp.Click("#act-add_header", chromedp.ByQuery),
		chromedp.WaitVisible("#header-name", chromedp.ByQuery),
		chromedp.SendKeys("#header-name", "X-Console", chromedp.ByQuery),
		chromedp.SendKeys("#header-value", "yes", chromedp.ByQuery),
		chromedp.Click("#then-stop", chromedp.ByQuery),
		chromedp.Submit("#rule-name", chromedp.ByQuery),
		chromedp.WaitVisible("#rule-tag-and-stop", chromedp.ByQuery),
	)
	// The second, after it: a bounce.
	b.Run(
		chromedp.SendKeys("#rule-name", "bounce-rest", chromedp.ByQuery),
		chromedp.SetValue("#rule-after", "tag-and-stop", chromedp.ByQuery),
		chromedp.Click("#act-bounce", chromedp.ByQuery),
		chromedp.WaitVisible("#bounce-sender", chromedp.ByQuery),
		chromedp.SendKeys("#bounce-sender", "postmaster@example.com", chromedp.ByQuery),
		chromedp.Submit("#rule-name", chromedp.ByQuery),
		chromedp.WaitVisible("#rule-bounce-rest", chromedp.ByQuery),
	)
	rules := b.Text("#rules")
	for _, want := range []string{"tag-and-stop", "support@example.com, example.com", "Add header: X-Console: yes",
		"Stop: evaluate no further rules", "bounce-rest", `Bounce: 550 5.1.1 "Mailbox does not exist" from postmaster@example.com`} {
		if !strings.Contains(rules, want) {
			t.Errorf("the rules table lacks %q:\n%s", want, rules)
		}
	}
	if i, j := strings.Index(rules, "tag-and-stop"), strings.Index(rules, "bounce-rest"); i < 0 || j < i {
		t.Errorf("the rules are not in order:\n%s", rules)
	}
	// A rule whose name is taken: SES's AlreadyExists, the form kept.
	b.Run(
		chromedp.SendKeys("#rule-name", "bounce-rest", chromedp.ByQuery),
		chromedp.Click("#act-stop", chromedp.ByQuery),
		chromedp.Submit("#rule-name", chromedp.ByQuery),
		chromedp.WaitVisible(".alert", chromedp.ByQuery),
	)
	if got := b.Text(".alert"); !strings.Contains(got, "AlreadyExists: Rule already exists: bounce-rest") {
		t.Errorf("a duplicate rule shows %q", got)
	}

	// Activate the set.
	b.Run(chromedp.Click("#activate", chromedp.ByQuery), chromedp.WaitVisible("main h1 .badge.ok", chromedp.ByQuery))
	if got := b.Text("main h1"); !strings.Contains(got, "Active") || strings.Contains(got, "Inactive") {
		t.Errorf("after activating, the rule set is headed %q", got)
	}
	b.Screenshot("rule-set")

	var active struct {
		Name  string `json:"Name"`
		Rules []struct {
			Name       string            `json:"Name"`
			Recipients []string          `json:"Recipients"`
			Actions    []json.RawMessage `json:"Actions"`
		} `json:"Rules"`
	}
	s.Admin(&active, "receiving", "rules", "--account", s.Account)
	if active.Name != "inbound" || len(active.Rules) != 2 || active.Rules[0].Name != "tag-and-stop" ||
		len(active.Rules[0].Actions) != 2 || active.Rules[1].Name != "bounce-rest" ||
		!strings.Contains(compactJSON(active.Rules[0].Actions[0]), `"HeaderName":"X-Console"`) ||
		!strings.Contains(compactJSON(active.Rules[0].Actions[1]), `"StopAction"`) ||
		!strings.Contains(compactJSON(active.Rules[1].Actions[0]), `"Sender":"postmaster@example.com"`) {
		t.Errorf("receiving rules: %+v", active)
	}

	// The list: inbound active.
	consoleGo(b, s, "/us-east-1/receiving")
	if got := b.Text("#active-set"); got != "inbound" {
		t.Errorf("the active set shown is %q", got)
	}
	b.Screenshot("receiving")

	// IP address filters: one made, a bad CIDR refused in SES's words.
	consoleGo(b, s, "/us-east-1/receiving?tab=filters")
	b.Run(
		chromedp.SendKeys("#filter-name", "block-net", chromedp.ByQuery),
		chromedp.SendKeys("#filter-cidr", "203.0.113.0/24", chromedp.ByQuery),
		chromedp.Submit("#filter-name", chromedp.ByQuery),
		chromedp.WaitVisible("#filters", chromedp.ByQuery),
	)
	if got := b.Text("#filters"); !strings.Contains(got, "block-net") || !strings.Contains(got, "203.0.113.0/24") || !strings.Contains(got, "Block") {
		t.Errorf("the filters table says:\n%s", got)
	}
	b.Run(
		chromedp.SendKeys("#filter-name", "bad", chromedp.ByQuery),
		chromedp.SetValue("#filter-policy", "Allow", chromedp.ByQuery),
		chromedp.SendKeys("#filter-cidr", "10.0.0.0/33", chromedp.ByQuery),
		chromedp.Submit("#filter-name", chromedp.ByQuery),
		chromedp.WaitVisible(".alert", chromedp.ByQuery),
	)
	if got := b.Text(".alert"); !strings.Contains(got, "InvalidParameterValue: Invalid CIDR block: 10.0.0.0/33") {
		t.Errorf("a bad CIDR shows %q", got)
	}
	var cidr string
	b.Run(chromedp.Value("#filter-cidr", &cidr, chromedp.ByQuery))
	if cidr != "10.0.0.0/33" {
		t.Errorf("the refused form lost its CIDR: %q", cidr)
	}
	b.Screenshot("receiving-filters")
	b.Phone()
	consoleGo(b, s, "/us-east-1/receiving/rule-sets/inbound")
	b.Screenshot("rule-set-phone")
	b.Desktop()
}

// compactJSON is raw without its indentation.
func compactJSON(raw json.RawMessage) string {
	var b bytes.Buffer
	if err := json.Compact(&b, raw); err != nil {
		return string(raw)
	}
	return b.String()
}

// A server without [receiving] listen says so on the receiving page.
func TestConsoleReceivingOff(t *testing.T) {
	t.Parallel()
	s := testenv.Start(t, testenv.Options{})
	b := testenv.StartBrowser(t)
	consoleSignIn(t, b, s)
	consoleGo(b, s, "/us-east-1/receiving")
	if got := b.Text("#receiving-off"); !strings.Contains(got, "receiving is off on this server: the operator sets [receiving] listen") &&
		!strings.Contains(got, "Receiving is off on this server: the operator sets [receiving] listen") {
		t.Errorf("the receiving page without [receiving] listen says %q", got)
	}
}
