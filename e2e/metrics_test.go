package e2e

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	v2types "github.com/aws/aws-sdk-go-v2/service/sesv2/types"

	"sesame/internal/testenv"
)

// TestMetricsAndInsights: sends over SMTP and the API (to the mailbox
// simulator) and a refused one move the counters on /metrics, on the API
// listener and on [metrics] listen; GetMessageInsights and `admin message
// show` tell the messages' events.
func TestMetricsAndInsights(t *testing.T) {
	metricsAddr := testenv.FreeAddr(t)
	s := testenv.Start(t, testenv.Options{Extra: fmt.Sprintf("[metrics]\nlisten = %q\n", metricsAddr)})
	s.Verify("sender@example.com")
	s.Production()
	ctx := context.Background()
	v2 := s.SESv2Client(t)

	smtpSendTo(t, s, "sender@example.com", "metrics smtp", "success@simulator.amazonses.com", "bounce@simulator.amazonses.com")
	sent, err := v2.SendEmail(ctx, &sesv2.SendEmailInput{FromEmailAddress: aws.String("sender@example.com"),
		Destination: &v2types.Destination{ToAddresses: []string{"success@simulator.amazonses.com"}},
		Content:     simple("metrics api", "hello", "")})
	if err != nil {
		t.Fatal(err)
	}
	_, err = v2.SendEmail(ctx, &sesv2.SendEmailInput{FromEmailAddress: aws.String("stranger@unverified.test"),
		Destination: &v2types.Destination{ToAddresses: []string{"success@simulator.amazonses.com"}},
		Content:     simple("refused", "hello", "")})
	wantCode(t, err, "MessageRejected")

	api := s.APIURL() + "/metrics"
	var m map[string]float64
	waitFor(t, "deliveries, the bounce and their publishing on /metrics", func() bool {
		m = testenv.ScrapeNodeMetrics(t, api, s.Node)
		return m["sesame_recipients_delivered_total"] == 2 &&
			m[`sesame_recipients_bounced_total{bounce_type="Permanent"}`] == 1 &&
			m["sesame_events_published_total"] == 5 && m["sesame_events_outbox_backlog"] == 0
	})
	for k, want := range map[string]float64{
		`sesame_messages_accepted_total{protocol="smtp"}`:          1,
		`sesame_messages_accepted_total{protocol="api"}`:           1,
		`sesame_messages_rejected_total{reason="MessageRejected"}`: 1,
		`sesame_events_recorded_total{type="SEND"}`:                2,
		`sesame_events_recorded_total{type="DELIVERY"}`:            2,
		`sesame_events_recorded_total{type="BOUNCE"}`:              1,
		`sesame_delivery_latency_seconds_count`:                    2,
		`sesame_sns_backlog`:                                       0,
	} {
		if got, ok := m[k]; !ok || got != want {
			t.Errorf("%s = %v (present %v), want %v", k, got, ok, want)
		}
	}
	waitFor(t, "an empty queue on /metrics", func() bool {
		return testenv.ScrapeNodeMetrics(t, api, s.Node)["sesame_queue_messages"] == 0
	})
	own := testenv.ScrapeNodeMetrics(t, "http://"+metricsAddr+"/metrics", s.Node)
	if own[`sesame_messages_accepted_total{protocol="smtp"}`] != 1 {
		t.Errorf("the metrics listener shows %v accepted SMTP messages, want 1", own[`sesame_messages_accepted_total{protocol="smtp"}`])
	}

	in, err := v2.GetMessageInsights(ctx, &sesv2.GetMessageInsightsInput{MessageId: sent.MessageId})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(in.Subject) != "metrics api" || len(in.Insights) != 1 || len(in.Insights[0].Events) != 2 ||
		in.Insights[0].Events[0].Type != v2types.EventTypeSend || in.Insights[0].Events[1].Type != v2types.EventTypeDelivery {
		t.Errorf("insights = %+v", in)
	}

	msg := waitSubject(t, s, "metrics smtp")
	var shown struct {
		Subject string
		Events  []struct {
			EventType  string
			Recipients []string
		}
	}
	s.Admin(&shown, "message", "show", msg.ID)
	var got []string
	for _, e := range shown.Events {
		got = append(got, e.EventType+":"+strings.Join(e.Recipients, "+"))
	}
	// Send first; delivery and bounce in the courier's order.
	if shown.Subject != "metrics smtp" || len(got) != 3 || got[0] != "Send:success@simulator.amazonses.com+bounce@simulator.amazonses.com" {
		t.Errorf("admin message show: subject %q, events %v", shown.Subject, got)
	}
}
