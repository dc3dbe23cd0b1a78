package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	v2types "github.com/aws/aws-sdk-go-v2/service/sesv2/types"

	"sesame/internal/events"
	"sesame/internal/testenv"
)

// TestMXEventsReachSNSSubscriber: in mx mode, one message to four
// recipients of a test MX that refuses one with a 5xx; afterwards the
// receiver sends an asynchronous DSN about another and an ARF complaint
// about a third to the feedback MX. The sender identity's default
// configuration set publishes every event type: the subscriber gets the
// Send, the Delivery (the MX's own reply), the Bounce of the 5xx (with its
// diagnostic), the Bounce of the DSN and the Complaint.
func TestMXEventsReachSNSSubscriber(t *testing.T) {
	d := testenv.StartDNS(t)
	sinks, port := testenv.StartSinks(t, testenv.SinkOptions{StartTLS: true,
		Reject: map[string]string{"refused@a.test": "550 5.1.1 no such user here"}})
	d.SetA("mx2.test", "127.0.0.2")
	d.SetMX("a.test", 10, "mx2.test")
	d.SetMX("example.com", 10, "mx2.test") // the sender's mailbox, for the DSN and the forwarded report
	fbAddr := testenv.FreeAddr(t)
	s := startMXServer(t, d, port, fmt.Sprintf("[feedback]\nlisten = [%q]\n", fbAddr))
	s.Verify("example.com")
	ctx := context.Background()
	sub := newSNSSubscriber(t)
	topic := snsTopic(t, s, "mx-events", sub)
	v2 := s.SESv2Client(t)
	snsEventSet(t, v2, "mx", "sns", topic, v2types.EventTypeSend, v2types.EventTypeDelivery,
		v2types.EventTypeBounce, v2types.EventTypeComplaint)
	if _, err := v2.PutEmailIdentityConfigurationSetAttributes(ctx, &sesv2.PutEmailIdentityConfigurationSetAttributesInput{
		EmailIdentity: aws.String("example.com"), ConfigurationSetName: aws.String("mx")}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the topic validation message", func() bool { return len(sub.notifications()) > 0 })
	waitFor(t, "the identity's default set in sending's cache", func() bool {
		out, err := v2.GetEmailIdentity(ctx, &sesv2.GetEmailIdentityInput{EmailIdentity: aws.String("example.com")})
		return err == nil && aws.ToString(out.ConfigurationSetName) == "mx"
	})

	smtpSendTo(t, s, "sender@example.com", "mx events", "ok@a.test", "refused@a.test", "gone@a.test", "angry@a.test")
	waitFor(t, "delivery", func() bool { return len(sinks[0].Messages()) >= 1 })
	msg := sinks[0].Messages()[0]
	id, _, _ := strings.Cut(msg.From, "@")
	waitFor(t, "the Delivery event", func() bool { return len(records(t, sub)) >= 3 })
	if err := sendFeedback(fbAddr, msg.From, strings.ReplaceAll(asyncDSN(id, "gone@a.test"), "\n", "\r\n")); err != nil {
		t.Fatalf("sending the DSN: %v", err)
	}
	if err := sendFeedback(fbAddr, msg.From, arfReport(id, "angry@a.test")); err != nil {
		t.Fatalf("sending the complaint: %v", err)
	}

	waitFor(t, "five event records", func() bool { return len(records(t, sub)) >= 5 })
	var types []string
	for _, r := range records(t, sub) {
		if r.Mail.MessageID != id {
			t.Errorf("a record of message %s, want %s", r.Mail.MessageID, id)
		}
		types = append(types, r.EventType)
		switch {
		case r.Delivery != nil:
			if !slices.Equal(r.Delivery.Recipients, []string{"ok@a.test", "gone@a.test", "angry@a.test"}) ||
				!strings.HasPrefix(r.Delivery.SMTPResponse, "250 ") {
				t.Errorf("delivery = %+v", r.Delivery)
			}
			if len(r.Mail.Tags["ses:outgoing-ip"]) != 1 {
				t.Errorf("delivery tags = %v, want ses:outgoing-ip", r.Mail.Tags)
			}
		case r.Bounce != nil:
			b, raw := r.Bounce, bounceJSON(t, sub, r)
			switch b.BouncedRecipients[0].EmailAddress {
			case "refused@a.test":
				if b.BounceType != "Permanent" || !strings.Contains(raw, `"diagnosticCode":"smtp; 550 5.1.1 no such user here"`) {
					t.Errorf("bounce of the 5xx = %s", raw)
				}
			case "gone@a.test":
				if b.BounceType != "Permanent" || b.BounceSubType != "NoEmail" || !strings.Contains(raw, `"status":"5.1.1"`) {
					t.Errorf("bounce of the DSN = %s", raw)
				}
			default:
				t.Errorf("bounce of %s", b.BouncedRecipients[0].EmailAddress)
			}
		case r.Complaint != nil:
			if r.Complaint.ComplaintFeedbackType != "abuse" || r.Complaint.ComplainedRecipients[0].EmailAddress != "angry@a.test" {
				t.Errorf("complaint = %+v", r.Complaint)
			}
		}
	}
	slices.Sort(types)
	if !slices.Equal(types, []string{"Bounce", "Bounce", "Complaint", "Delivery", "Send"}) {
		t.Errorf("event types %v, want Send, Delivery, two Bounces and a Complaint", types)
	}
	for _, m := range sub.notifications() {
		if m["Message"] != events.TopicValidationMessage && m["Subject"] != events.Subject {
			t.Errorf("notification Subject %q", m["Subject"])
		}
	}
}

// bounceJSON is the raw bounce object of record r as the subscriber got it.
func bounceJSON(t *testing.T, sub *snsSubscriber, r eventRecord) string {
	t.Helper()
	for _, m := range sub.notifications() {
		var full struct {
			Mail   struct{ MessageID string } `json:"mail"`
			Bounce json.RawMessage            `json:"bounce"`
		}
		if json.Unmarshal([]byte(m["Message"]), &full) == nil && full.Bounce != nil &&
			strings.Contains(string(full.Bounce), r.Bounce.BouncedRecipients[0].EmailAddress) {
			return string(full.Bounce)
		}
	}
	return ""
}
