package e2e

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	v2types "github.com/aws/aws-sdk-go-v2/service/sesv2/types"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/chromedp/chromedp"

	"sesame/internal/testenv"
)

// The configuration sets pages: a set made with tracking through the
// create form is what the API reads back; an SNS event destination added,
// disabled and deleted from the set's page; options changed; the set
// deleted; a bad name answered with SES's own error.
func TestConsoleConfigurationSets(t *testing.T) {
	t.Parallel()
	s := testenv.Start(t, testenv.Options{})
	b := testenv.StartBrowser(t)
	ctx := context.Background()
	v2 := s.SESv2Client(t)
	topic, err := s.SNSClient(t).CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String("console-events")})
	if err != nil {
		t.Fatal(err)
	}
	topicARN := aws.ToString(topic.TopicArn)

	consoleSignIn(t, b, s)
	consoleGo(b, s, "/us-east-1/configuration-sets")
	if got := b.Text("#configsets-empty"); !strings.Contains(got, "No configuration sets yet") {
		t.Errorf("empty list says %q", got)
	}
	b.Screenshot("configsets-empty")

	// A name SES refuses: its error, and the form keeps what was typed.
	b.Run(chromedp.SendKeys("#cs-name", "bad name!", chromedp.ByQuery))
	b.ClickAndWait("#create-configset button[type=submit]", "main h1")
	if got := b.Text(".alert"); !strings.Contains(got, "BadRequestException") || !strings.Contains(got, "<bad name!> is invalid") {
		t.Errorf("a bad name shows %q, want SES's BadRequestException", got)
	}
	var typed string
	b.Run(chromedp.Value("#cs-name", &typed, chromedp.ByQuery))
	if typed != "bad name!" {
		t.Errorf("the form kept %q, want the name typed", typed)
	}

	// Create one with tracking, TLS required and reputation metrics.
	b.Run(
		chromedp.Evaluate(`document.querySelector("#cs-name").value = ""`, nil),
		chromedp.SendKeys("#cs-name", "news-tracking", chromedp.ByQuery),
		chromedp.SendKeys("#cs-redirect", "track.example.com", chromedp.ByQuery),
		chromedp.SetValue("#cs-https", "REQUIRE", chromedp.ByQuery),
		chromedp.SetValue("#cs-tls", "REQUIRE", chromedp.ByQuery),
		chromedp.Click(`input[name=reputation_metrics]`, chromedp.ByQuery),
	)
	b.ClickAndWait("#create-configset button[type=submit]", ".flash")
	if got := b.Text(".flash"); !strings.Contains(got, "news-tracking created") {
		t.Errorf("flash = %q", got)
	}
	set, err := v2.GetConfigurationSet(ctx, &sesv2.GetConfigurationSetInput{ConfigurationSetName: aws.String("news-tracking")})
	if err != nil {
		t.Fatal(err)
	}
	if tr := set.TrackingOptions; tr == nil || aws.ToString(tr.CustomRedirectDomain) != "track.example.com" || tr.HttpsPolicy != v2types.HttpsPolicyRequire {
		t.Errorf("tracking options = %+v", set.TrackingOptions)
	}
	if set.DeliveryOptions == nil || set.DeliveryOptions.TlsPolicy != v2types.TlsPolicyRequire {
		t.Errorf("delivery options = %+v", set.DeliveryOptions)
	}
	if set.ReputationOptions == nil || !set.ReputationOptions.ReputationMetricsEnabled {
		t.Errorf("reputation options = %+v", set.ReputationOptions)
	}
	if got := b.Text("#overview"); !strings.Contains(got, "track.example.com") || !strings.Contains(got, "REQUIRE") {
		t.Errorf("overview lacks the tracking options:\n%s", got)
	}
	if got := b.Text("#dests-empty"); !strings.Contains(got, "No event destinations yet") {
		t.Errorf("no destinations: %q", got)
	}

	// An SNS event destination for bounces, complaints and deliveries: to
	// a topic that does not exist first (SES's error, the form kept), then
	// to the account's topic.
	b.Run(
		chromedp.SendKeys("#dest-name", "to-sns", chromedp.ByQuery),
		chromedp.Click(`input[name=event_types][value=BOUNCE]`, chromedp.ByQuery),
		chromedp.Click(`input[name=event_types][value=COMPLAINT]`, chromedp.ByQuery),
		chromedp.Click(`input[name=event_types][value=DELIVERY]`, chromedp.ByQuery),
		chromedp.SendKeys("#dest-topic", topicARN+"-missing", chromedp.ByQuery),
	)
	b.ClickAndWait("#add-dest button[type=submit]", ".alert")
	if got := b.Text(".alert"); !strings.Contains(got, "BadRequestException") || !strings.Contains(got, "-missing> not found") {
		t.Errorf("a missing topic shows %q, want SES's error", got)
	}
	b.Screenshot("configset-error")
	var kept []string
	b.Run(chromedp.Evaluate(`[...document.querySelectorAll("input[name=event_types]:checked")].map(e => e.value)`, &kept))
	if strings.Join(kept, ",") != "BOUNCE,COMPLAINT,DELIVERY" {
		t.Errorf("the form kept the event types %v", kept)
	}
	b.Run(
		chromedp.Evaluate(`document.querySelector("#dest-topic").value = ""`, nil),
		chromedp.SendKeys("#dest-topic", topicARN, chromedp.ByQuery),
	)
	b.ClickAndWait("#add-dest button[type=submit]", `tr[data-dest="to-sns"]`)
	row := b.Text(`tr[data-dest="to-sns"]`)
	for _, want := range []string{"Enabled", "BOUNCE, COMPLAINT, DELIVERY", "Amazon SNS", topicARN} {
		if !strings.Contains(row, want) {
			t.Errorf("destination row lacks %q: %q", want, row)
		}
	}
	b.Screenshot("configset")
	b.Phone()
	b.Screenshot("configset-phone")
	var width int
	b.Run(chromedp.Evaluate(`document.documentElement.scrollWidth`, &width))
	if width > 390 {
		t.Errorf("on a phone the page is %d px wide, want it to fit 390", width)
	}
	b.Desktop()

	// Disable it: the API keeps its types and topic, disabled.
	b.ClickAndWait(`tr[data-dest="to-sns"] form[action$="/state"] button`, ".flash")
	if got := b.Text(`tr[data-dest="to-sns"]`); !strings.Contains(got, "Disabled") {
		t.Errorf("after Disable the row says %q", got)
	}
	dests, err := v2.GetConfigurationSetEventDestinations(ctx, &sesv2.GetConfigurationSetEventDestinationsInput{ConfigurationSetName: aws.String("news-tracking")})
	if err != nil {
		t.Fatal(err)
	}
	if len(dests.EventDestinations) != 1 {
		t.Fatalf("destinations = %+v", dests.EventDestinations)
	}
	if d := dests.EventDestinations[0]; d.Enabled || len(d.MatchingEventTypes) != 3 || d.SnsDestination == nil || aws.ToString(d.SnsDestination.TopicArn) != topicARN {
		t.Errorf("disabled destination = %+v", d)
	}

	// Pause sending with the set.
	b.ClickAndWait("#sending-form button", ".flash")
	if got := b.Text("#cs-sending"); !strings.Contains(got, "Paused") {
		t.Errorf("after Pause sending: %q", got)
	}

	// Override the suppression list (bounces only); a maximum delivery time.
	b.Run(chromedp.Click(`#suppression-form input[value=BOUNCE]`, chromedp.ByQuery))
	b.ClickAndWait("#suppression-form button", ".flash")
	if got := b.Text("#cs-suppression"); !strings.Contains(got, "Overrides the account: suppressed for BOUNCE") {
		t.Errorf("after saving the suppression settings: %q", got)
	}
	b.Run(chromedp.SendKeys("#d-max", "600", chromedp.ByQuery))
	b.ClickAndWait("#delivery-form button", ".flash")
	set, err = v2.GetConfigurationSet(ctx, &sesv2.GetConfigurationSetInput{ConfigurationSetName: aws.String("news-tracking")})
	if err != nil {
		t.Fatal(err)
	}
	if sup := set.SuppressionOptions; sup == nil || len(sup.SuppressedReasons) != 1 || sup.SuppressedReasons[0] != v2types.SuppressionListReasonBounce {
		t.Errorf("suppression options = %+v", set.SuppressionOptions)
	}
	if del := set.DeliveryOptions; del == nil || aws.ToInt64(del.MaxDeliverySeconds) != 600 || del.TlsPolicy != v2types.TlsPolicyRequire {
		t.Errorf("delivery options = %+v", set.DeliveryOptions)
	}

	// Delete the destination (confirmed), then the set.
	b.ClickAndWait(`tr[data-dest="to-sns"] form[action$="/delete"] button`, "#dests-empty")
	b.ClickAndWait("#danger button", ".flash")
	if got := b.Text(".flash"); !strings.Contains(got, "news-tracking deleted") {
		t.Errorf("flash = %q", got)
	}
	b.Text("#configsets-empty")
	_, err = v2.GetConfigurationSet(ctx, &sesv2.GetConfigurationSetInput{ConfigurationSetName: aws.String("news-tracking")})
	wantCode(t, err, "NotFoundException")

	// A set that is not there: SES's not-found error in the page's place.
	consoleGo(b, s, "/us-east-1/configuration-sets/news-tracking")
	b.ExpectErrors("404")
	if got := b.Text(".alert"); !strings.Contains(got, "NotFoundException") {
		t.Errorf("a deleted set's page says %q", got)
	}

	// The list with a few sets.
	for _, n := range []string{"marketing", "transactional"} {
		if _, err := v2.CreateConfigurationSet(ctx, &sesv2.CreateConfigurationSetInput{ConfigurationSetName: aws.String(n)}); err != nil {
			t.Fatal(err)
		}
	}
	consoleGo(b, s, "/us-east-1/configuration-sets")
	if got := b.Text("#configsets"); !strings.Contains(got, "marketing") || !strings.Contains(got, "transactional") {
		t.Errorf("list = %q", got)
	}
	b.Screenshot("configsets")
}
