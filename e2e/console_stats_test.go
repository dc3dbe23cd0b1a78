package e2e

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ses"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	"github.com/aws/aws-sdk-go-v2/service/sesv2/types"
	"github.com/chromedp/chromedp"

	"sesame/internal/testenv"
)

// The suppression list in the console: add an address, find it by search
// and by reason, remove it after a confirmation, see the empty state; and
// the account's automatic suppression setting, which the API then reports.
func TestConsoleStatsSuppressionList(t *testing.T) {
	t.Parallel()
	s := testenv.Start(t, testenv.Options{})
	b := testenv.StartBrowser(t)
	consoleSignIn(t, b, s)
	consoleGo(b, s, "/us-east-1/suppression")
	if got := b.Text("#suppression-empty"); !strings.Contains(got, "Your suppression list is empty") {
		t.Errorf("a new account's list says %q", got)
	}

	b.Run(
		chromedp.SendKeys("#add-address", "x@example.net", chromedp.ByQuery),
		chromedp.SetValue("#add-reason", "BOUNCE", chromedp.ByQuery),
		chromedp.SetAttributeValue("html", "data-stale", "1", chromedp.ByQuery),
		chromedp.Click("#add-submit", chromedp.ByQuery),
		chromedp.WaitVisible("html:not([data-stale]) .flash", chromedp.ByQuery),
	)
	if got := b.Text(".flash"); !strings.Contains(got, "x@example.net is on the suppression list (BOUNCE)") {
		t.Errorf("after adding: %q", got)
	}
	if got := b.Text("#suppressed tbody"); !strings.Contains(got, "x@example.net") || !strings.Contains(got, "BOUNCE") {
		t.Errorf("the added address' entry: %q", got)
	}
	// The API agrees: the console called PutSuppressedDestination.
	ctx := context.Background()
	v2 := s.SESv2Client(t)
	got, err := v2.GetSuppressedDestination(ctx, &sesv2.GetSuppressedDestinationInput{EmailAddress: aws.String("x@example.net")})
	if err != nil || got.SuppressedDestination.Reason != types.SuppressionListReasonBounce {
		t.Fatalf("GetSuppressedDestination: %+v, %v", got, err)
	}

	// Search by address from the whole list.
	consoleGo(b, s, "/us-east-1/suppression")
	if got := b.Text("#suppressed tbody"); !strings.Contains(got, "x@example.net") {
		t.Errorf("the list: %q", got)
	}
	b.Run(chromedp.SendKeys("#sup-address", "x@example.net", chromedp.ByQuery))
	b.ClickAndWait("#search-submit", "#suppressed") // the search is a GET: a new page
	if got := b.Text("#suppressed tbody"); !strings.Contains(got, "x@example.net") {
		t.Errorf("search by address: %q", got)
	}
	b.Screenshot("suppression")
	b.Phone()
	b.Screenshot("suppression-phone")
	b.Desktop()
	// A reason that does not match: nothing, and a way back.
	consoleGo(b, s, "/us-east-1/suppression?reason=COMPLAINT")
	if got := b.Text("#suppression-empty"); !strings.Contains(got, "No addresses match") {
		t.Errorf("filter by COMPLAINT: %q", got)
	}

	// Remove it, through the confirmation page.
	consoleGo(b, s, "/us-east-1/suppression?address=x@example.net")
	b.Run(
		chromedp.Click("#suppressed a.danger", chromedp.ByQuery),
		chromedp.WaitVisible("#remove-confirm", chromedp.ByQuery),
		chromedp.SetAttributeValue("html", "data-stale", "1", chromedp.ByQuery),
		chromedp.Click("#remove-confirm", chromedp.ByQuery),
		chromedp.WaitVisible("html:not([data-stale]) .flash", chromedp.ByQuery),
	)
	if got := b.Text(".flash"); !strings.Contains(got, "x@example.net was removed") {
		t.Errorf("after removing: %q", got)
	}
	if got := b.Text("#suppression-empty"); !strings.Contains(got, "Your suppression list is empty") {
		t.Errorf("after removing, the list says %q", got)
	}

	// The account-level setting: complaints only.
	b.Run(
		chromedp.Click("#auto-bounce", chromedp.ByQuery), // was on (SES's default)
		chromedp.SetAttributeValue("html", "data-stale", "1", chromedp.ByQuery),
		chromedp.Click("#settings-submit", chromedp.ByQuery),
		chromedp.WaitVisible("html:not([data-stale]) .flash", chromedp.ByQuery),
	)
	acct, err := v2.GetAccount(ctx, &sesv2.GetAccountInput{})
	if err != nil {
		t.Fatal(err)
	}
	if r := acct.SuppressionAttributes.SuppressedReasons; !slices.Equal(r, []types.SuppressionListReason{types.SuppressionListReasonComplaint}) {
		t.Errorf("SuppressedReasons after the console's change = %v", r)
	}
	var bounceOn bool
	b.Run(chromedp.Evaluate(`document.querySelector("#auto-bounce").checked`, &bounceOn))
	if bounceOn {
		t.Error("the bounce box is still checked after saving")
	}
}

// The statistics page shows what GetSendStatistics counts: real mail
// through the MX path (one delivery, one hard bounce from a sink's 550),
// not the mailbox simulator's. The page's refresh (htmx, in place) and a
// plain reload both show the new numbers.
func TestConsoleStatsStatistics(t *testing.T) {
	t.Parallel()
	d := testenv.StartDNS(t)
	_, port := testenv.StartSinks(t, testenv.SinkOptions{},
		testenv.SinkOptions{Reject: map[string]string{"gone@b.test": "550 5.1.1 no such user"}})
	d.SetA("mx2.test", "127.0.0.2")
	d.SetA("mx3.test", "127.0.0.3")
	d.SetMX("a.test", 10, "mx2.test")
	d.SetMX("example.com", 10, "mx2.test") // the DSNs to the sender
	d.SetMX("b.test", 10, "mx3.test")
	s := startMXServer(t, d, port)
	s.Verify("sender@example.com")

	b := testenv.StartBrowser(t)
	consoleSignIn(t, b, s)
	consoleGo(b, s, "/us-east-1/statistics")
	if got := b.Text("#totals-period [data-col=attempts]"); got != "0" {
		t.Errorf("delivery attempts before sending: %q", got)
	}
	if n := b.NodeCount("svg#plot-activity"); n != 0 {
		t.Error("an activity plot without activity")
	}
	if got := b.Text("#stats-plots"); !strings.Contains(got, "Nothing was sent in this period") {
		t.Errorf("no empty state before sending: %q", got)
	}

	ctx := context.Background()
	v2 := s.SESv2Client(t)
	_, err := v2.SendEmail(ctx, &sesv2.SendEmailInput{FromEmailAddress: aws.String("sender@example.com"),
		Destination: &types.Destination{ToAddresses: []string{"ok@a.test", "gone@b.test",
			"success@simulator.amazonses.com", "bounce@simulator.amazonses.com"}},
		Content: simple("statistics", "hello", "")})
	if err != nil {
		t.Fatal(err)
	}
	v1 := s.SESClient(t)
	waitForWithin(t, "the bounce in GetSendStatistics", 30*time.Second, func() bool {
		st, err := v1.GetSendStatistics(ctx, &ses.GetSendStatisticsInput{})
		if err != nil {
			t.Fatal(err)
		}
		var bounces int64
		for _, p := range st.SendDataPoints {
			bounces += p.Bounces
		}
		return bounces > 0
	})

	// The Refresh link swaps the plots in place (htmx) …
	var updated bool
	b.Run(
		chromedp.Click(`#stats-plots a[href*="/statistics?range="]`, chromedp.ByQuery),
		chromedp.Poll(`document.querySelector("#totals-period [data-col=attempts]").textContent === "2"`, &updated,
			chromedp.WithPollingTimeout(20*time.Second)),
	)
	// … and a plain reload shows the same, plot and totals.
	consoleGo(b, s, "/us-east-1/statistics")
	for col, want := range map[string]string{"attempts": "2", "bounces": "1", "complaints": "0", "rejects": "0"} {
		if got := b.Text("#totals-period [data-col=" + col + "]"); got != want {
			t.Errorf("period total %s = %q, want %s", col, got, want)
		}
		if got := b.Text("#totals-24h [data-col=" + col + "]"); got != want {
			t.Errorf("24-hour total %s = %q, want %s", col, got, want)
		}
	}
	var totals string
	var ok bool
	b.Run(chromedp.AttributeValue("svg#plot-activity", "data-totals", &totals, &ok, chromedp.ByQuery))
	if !strings.Contains(totals, "Delivery attempts=2; Bounces=1") {
		t.Errorf("activity plot's data-totals = %q", totals)
	}
	if n := b.NodeCount("svg#plot-bounce-rate circle title"); n != 1 {
		t.Errorf("%d bounce-rate points, want 1", n)
	}
	if got := b.Text("#totals-period"); !strings.Contains(got, "50.00%") {
		t.Errorf("bounce rate of 1 in 2 not shown: %q", got)
	}
	b.Screenshot("statistics")
	// The 24-hour range.
	b.Run(chromedp.Click(`.tabs a[href$="range=24h"]`, chromedp.ByQuery),
		chromedp.WaitVisible(`.tabs a[aria-current="page"][href$="range=24h"]`, chromedp.ByQuery))
	if n := b.NodeCount("#totals-24h"); n != 0 {
		t.Error("the 24-hour range shows a second 24-hour row")
	}
	b.Phone()
	b.Screenshot("statistics-phone")
	b.Desktop()
}
