package e2e

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ses"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	v2types "github.com/aws/aws-sdk-go-v2/service/sesv2/types"
	"github.com/aws/aws-sdk-go-v2/service/sns"

	"sesame/internal/events"
	"sesame/internal/testenv"
)

// eventRecord is the part of an SES event record (or identity
// notification) the tests look at.
type eventRecord struct {
	EventType        string `json:"eventType"`
	NotificationType string `json:"notificationType"`
	Mail             struct {
		MessageID        string              `json:"messageId"`
		Source           string              `json:"source"`
		SourceArn        string              `json:"sourceArn"`
		SendingAccountID string              `json:"sendingAccountId"`
		Destination      []string            `json:"destination"`
		Tags             map[string][]string `json:"tags"`
		SourceIP         string              `json:"sourceIp"`
		CommonHeaders    struct {
			Subject string `json:"subject"`
		} `json:"commonHeaders"`
	} `json:"mail"`
	Reject *struct {
		Reason string `json:"reason"`
	} `json:"reject"`
	Bounce *struct {
		BounceType        string `json:"bounceType"`
		BounceSubType     string `json:"bounceSubType"`
		BouncedRecipients []struct {
			EmailAddress string `json:"emailAddress"`
		} `json:"bouncedRecipients"`
	} `json:"bounce"`
	Complaint *struct {
		ComplaintFeedbackType string `json:"complaintFeedbackType"`
		ComplainedRecipients  []struct {
			EmailAddress string `json:"emailAddress"`
		} `json:"complainedRecipients"`
	} `json:"complaint"`
	Delivery *struct {
		Recipients   []string `json:"recipients"`
		SMTPResponse string   `json:"smtpResponse"`
	} `json:"delivery"`
	Failure *struct {
		TemplateName string `json:"templateName"`
		ErrorMessage string `json:"errorMessage"`
	} `json:"failure"`
}

// snsTopic makes a topic with sub subscribed and confirmed; it returns the
// topic's ARN.
func snsTopic(t *testing.T, s *testenv.Server, name string, sub *snsSubscriber) string {
	t.Helper()
	ctx := context.Background()
	c := s.SNSClient(t)
	out, err := c.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String(name)})
	if err != nil {
		t.Fatal(err)
	}
	arn := aws.ToString(out.TopicArn)
	if _, err := c.Subscribe(ctx, &sns.SubscribeInput{TopicArn: aws.String(arn), Protocol: aws.String("http"),
		Endpoint: aws.String(sub.URL())}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the subscription's confirmation", func() bool {
		subs, err := c.ListSubscriptionsByTopic(ctx, &sns.ListSubscriptionsByTopicInput{TopicArn: aws.String(arn)})
		return err == nil && len(subs.Subscriptions) == 1 &&
			strings.HasPrefix(aws.ToString(subs.Subscriptions[0].SubscriptionArn), arn+":")
	})
	return arn
}

// records decodes the subscriber's notifications of SES events.
func records(t *testing.T, sub *snsSubscriber) []eventRecord {
	t.Helper()
	var out []eventRecord
	for _, m := range sub.notifications() {
		if m["Message"] == events.TopicValidationMessage {
			continue
		}
		var r eventRecord
		if err := json.Unmarshal([]byte(m["Message"]), &r); err != nil {
			t.Fatalf("notification %s: %v: %s", m["MessageId"], err, m["Message"])
		}
		out = append(out, r)
	}
	return out
}

// TestEventsReachSNSSubscriber: a configuration set with an SNS event
// destination for every event type; messages over SMTP (naming the set with
// X-SES-CONFIGURATION-SET) to the mailbox simulator and a templated API send
// that fails to render; a confirmed HTTP subscriber gets SES's validation
// message, then a signed record of each event, and an identity's bounce
// topic gets the older notification shape.
func TestEventsReachSNSSubscriber(t *testing.T) {
	s := testenv.Start(t, testenv.Options{})
	s.Verify("sender@example.com")
	s.Production() // two sends in a second
	ctx := context.Background()
	sub := newSNSSubscriber(t)
	topic := snsTopic(t, s, "ses-events", sub)
	notifySub := newSNSSubscriber(t)
	bounceTopic := snsTopic(t, s, "ses-bounces", notifySub)

	v2 := s.SESv2Client(t)
	snsEventSet(t, v2, "tracked", "to-sns", topic, v2types.EventTypeSend, v2types.EventTypeReject,
		v2types.EventTypeBounce, v2types.EventTypeComplaint, v2types.EventTypeDelivery, v2types.EventTypeOpen,
		v2types.EventTypeClick, v2types.EventTypeRenderingFailure, v2types.EventTypeDeliveryDelay)
	waitFor(t, "the topic validation message", func() bool { return len(sub.notifications()) > 0 })
	if m := sub.notifications()[0]; m["Message"] != events.TopicValidationMessage || m["Subject"] != "" {
		t.Errorf("first notification = %v, want SES's validation message without a Subject", m)
	}
	if _, err := s.SESClient(t).SetIdentityNotificationTopic(ctx, &ses.SetIdentityNotificationTopicInput{
		Identity: aws.String("sender@example.com"), NotificationType: "Bounce", SnsTopic: aws.String(bounceTopic)}); err != nil {
		t.Fatal(err)
	}

	submitRaw(t, s, "sender@example.com", []string{"success@simulator.amazonses.com", "bounce@simulator.amazonses.com",
		"complaint@simulator.amazonses.com"}, "X-SES-CONFIGURATION-SET: tracked\r\nX-SES-MESSAGE-TAGS: campaign=v1.2, owner=ops@example.com\r\n"+
		"From: sender@example.com\r\nTo: success@simulator.amazonses.com\r\nSubject: events\r\n\r\nHello.\r\n")
	if _, err := v2.CreateEmailTemplate(ctx, &sesv2.CreateEmailTemplateInput{TemplateName: aws.String("hello"),
		TemplateContent: &v2types.EmailTemplateContent{Subject: aws.String("Hi {{name}}"), Text: aws.String("Hello {{name}}")}}); err != nil {
		t.Fatal(err)
	}
	sent, err := v2.SendEmail(ctx, &sesv2.SendEmailInput{FromEmailAddress: aws.String("sender@example.com"),
		Destination:          &v2types.Destination{ToAddresses: []string{"success@simulator.amazonses.com"}},
		ConfigurationSetName: aws.String("tracked"),
		Content: &v2types.EmailContent{Template: &v2types.Template{TemplateName: aws.String("hello"),
			TemplateData: aws.String(`{}`)}}})
	if err != nil {
		t.Fatal(err)
	}

	// A message with EICAR's test file attached is accepted, never delivered:
	// a Reject event.
	// (To a real address: the simulator's are not in the statistics.)
	virus := "From: sender@example.com\r\nTo: user@example.net\r\nSubject: a virus\r\n" +
		"MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nSee attached.\r\n" +
		"--b\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\r\n" +
		base64.StdEncoding.EncodeToString([]byte(`X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*`)) + "\r\n--b--\r\n"
	rejected, err := v2.SendEmail(ctx, &sesv2.SendEmailInput{ConfigurationSetName: aws.String("tracked"),
		Content: &v2types.EmailContent{Raw: &v2types.RawMessage{Data: []byte(virus)}}})
	if err != nil {
		t.Fatal(err)
	}

	// Send ×3, Delivery (success@, complaint@), Bounce, Complaint, Rendering Failure, Reject.
	waitFor(t, "nine event records", func() bool { return len(records(t, sub)) >= 9 })
	byType := map[string][]eventRecord{}
	for _, r := range records(t, sub) {
		byType[r.EventType] = append(byType[r.EventType], r)
	}
	if n := len(records(t, sub)); n != 9 {
		t.Errorf("%d records, want 9: %v", n, byType)
	}
	for _, m := range sub.notifications()[1:] {
		if m["Subject"] != events.Subject || m["SignatureVersion"] != "1" {
			t.Errorf("notification Subject %q, SignatureVersion %q", m["Subject"], m["SignatureVersion"])
		}
	}
	for typ, n := range map[string]int{"Send": 3, "Delivery": 2, "Bounce": 1, "Complaint": 1, "Rendering Failure": 1, "Reject": 1} {
		if len(byType[typ]) != n {
			t.Errorf("%d %s records, want %d", len(byType[typ]), typ, n)
		}
	}
	if b := byType["Bounce"]; len(b) == 1 {
		r := b[0]
		if r.Bounce == nil || r.Bounce.BounceType != "Permanent" || r.Bounce.BounceSubType != "General" ||
			len(r.Bounce.BouncedRecipients) != 1 || r.Bounce.BouncedRecipients[0].EmailAddress != "bounce@simulator.amazonses.com" {
			t.Errorf("bounce = %+v", r.Bounce)
		}
		tags := r.Mail.Tags
		if !slices.Equal(tags["ses:configuration-set"], []string{"tracked"}) || !slices.Equal(tags["campaign"], []string{"v1.2"}) ||
			!slices.Equal(tags["owner"], []string{"ops@example.com"}) || !slices.Equal(tags["ses:operation"], []string{"SendSmtpEmail"}) ||
			!slices.Equal(tags["ses:caller-identity"], []string{s.KeyID}) || !slices.Equal(tags["ses:source-ip"], []string{"127.0.0.1"}) {
			t.Errorf("tags = %v", tags)
		}
		if r.Mail.Source != "sender@example.com" || r.Mail.SendingAccountID != s.Account || len(r.Mail.Destination) != 3 ||
			r.Mail.SourceArn != "arn:aws:ses:"+s.Regions[0]+":"+s.Account+":identity/sender@example.com" ||
			r.Mail.CommonHeaders.Subject != "events" {
			t.Errorf("mail = %+v", r.Mail)
		}
	}
	if c := byType["Complaint"]; len(c) == 1 && (c[0].Complaint == nil || c[0].Complaint.ComplaintFeedbackType != "abuse" ||
		c[0].Complaint.ComplainedRecipients[0].EmailAddress != "complaint@simulator.amazonses.com") {
		t.Errorf("complaint = %+v", c[0].Complaint)
	}
	for _, d := range byType["Delivery"] {
		if d.Delivery == nil || len(d.Delivery.Recipients) != 1 || !strings.HasPrefix(d.Delivery.SMTPResponse, "250 ") {
			t.Errorf("delivery = %+v", d.Delivery)
		}
	}
	if f := byType["Rendering Failure"]; len(f) == 1 && (f[0].Mail.MessageID != aws.ToString(sent.MessageId) || f[0].Failure == nil ||
		f[0].Failure.TemplateName != "hello" || f[0].Failure.ErrorMessage != "Attribute 'name' is not present in the rendering data.") {
		t.Errorf("rendering failure = %+v", f[0])
	}

	if r := byType["Reject"]; len(r) == 1 && (r[0].Mail.MessageID != aws.ToString(rejected.MessageId) || r[0].Reject == nil ||
		r[0].Reject.Reason != "Bad content") {
		t.Errorf("reject = %+v", r[0])
	}
	for _, m := range s.Captured("") {
		if m.ID == aws.ToString(rejected.MessageId) {
			t.Errorf("the message with a virus was captured (delivered)")
		}
	}
	stats, err := s.SESClient(t).GetSendStatistics(ctx, &ses.GetSendStatisticsInput{})
	if err != nil {
		t.Fatal(err)
	}
	var rejects int64
	for _, p := range stats.SendDataPoints {
		rejects += p.Rejects
	}
	if rejects != 1 {
		t.Errorf("GetSendStatistics counts %d rejects, want 1", rejects)
	}

	// The identity's bounce topic: the notification shape, no tags.
	waitFor(t, "the bounce notification", func() bool { return len(notifySub.notifications()) > 0 })
	n := records(t, notifySub)
	if len(n) != 1 || n[0].NotificationType != "Bounce" || n[0].EventType != "" || n[0].Mail.Tags != nil ||
		n[0].Mail.SourceIP != "127.0.0.1" || n[0].Bounce == nil || n[0].Bounce.BounceType != "Permanent" {
		t.Errorf("identity notifications = %+v", n)
	}
}
