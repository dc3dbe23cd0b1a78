package e2e

import (
	"context"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	v2types "github.com/aws/aws-sdk-go-v2/service/sesv2/types"

	"sesame/internal/testenv"
)

// TestTrackingConfigurationOverrides: SendEmail's ConfigurationOverrides
// track opens of a message sent without a configuration set (and leave its
// links alone, clicks DISABLED); the pixel fetched, GetMessageInsights
// shows the OPEN, as SES's VDM would.
func TestTrackingConfigurationOverrides(t *testing.T) {
	s := testenv.Start(t, testenv.Options{})
	s.Verify("sender@example.com")
	ctx := context.Background()
	v2 := s.SESv2Client(t)
	html := `<html><body><p>Hello</p><a href="https://example.com/offer">offer</a></body></html>`
	sent, err := v2.SendEmail(ctx, &sesv2.SendEmailInput{FromEmailAddress: aws.String("sender@example.com"),
		Destination: &v2types.Destination{ToAddresses: []string{"success@simulator.amazonses.com"}},
		ConfigurationOverrides: &v2types.ConfigurationOverrides{Tracking: &v2types.TrackingConfigurationOverrides{
			OpenTrackingEnabled: v2types.FeatureStatusEnabled, ClickTrackingEnabled: v2types.FeatureStatusDisabled}},
		Content: &v2types.EmailContent{Simple: &v2types.Message{Subject: &v2types.Content{Data: aws.String("overridden")},
			Body: &v2types.Body{Html: &v2types.Content{Data: aws.String(html)}}}}})
	if err != nil {
		t.Fatal(err)
	}
	id := aws.ToString(sent.MessageId)
	msgs := s.WaitCaptured(1, 15*time.Second)
	if len(msgs) != 1 {
		t.Fatalf("%d captured messages, want 1", len(msgs))
	}
	htmlPart, _ := parts(t, msgs[0].RawData)
	if !strings.Contains(htmlPart, `<a href="https://example.com/offer">offer</a>`) {
		t.Errorf("the link was tracked with ClickTrackingEnabled DISABLED:\n%s", htmlPart)
	}
	pix := regexp.MustCompile(`src="(` + regexp.QuoteMeta(s.APIURL()) + `/I0/` + id + `/[^"]+)"`).FindStringSubmatch(htmlPart)
	if pix == nil {
		t.Fatalf("no open pixel with OpenTrackingEnabled ENABLED:\n%s", htmlPart)
	}
	resp, err := http.Get(pix[1])
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("pixel: %d", resp.StatusCode)
	}
	waitFor(t, "an OPEN in the message's insights", func() bool {
		out, err := v2.GetMessageInsights(ctx, &sesv2.GetMessageInsightsInput{MessageId: aws.String(id)})
		if err != nil {
			return false
		}
		for _, in := range out.Insights {
			for _, ev := range in.Events {
				if ev.Type == v2types.EventTypeOpen {
					return true
				}
			}
		}
		return false
	})
}
