package e2e

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ses"
	sesv1types "github.com/aws/aws-sdk-go-v2/service/ses/types"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	"github.com/aws/aws-sdk-go-v2/service/sesv2/types"
	"github.com/aws/aws-sdk-go-v2/service/sns"

	"sesame/internal/testenv"
	"sesame/internal/waitfor"
)

// TestDevelopmentModePendingIdentitySettings: in development mode a
// pending identity counts as verified for what happens after the send
// too, not only at admission: its feedback forwarding switched off means
// no DSN to its sender when a recipient bounces, as for a verified one. A
// sender with no identity still gets its DSN (the control).
func TestDevelopmentModePendingIdentitySettings(t *testing.T) {
	t.Parallel()
	s := testenv.Start(t, testenv.Options{Extra: "[accounts]\ndevelopment = true\n"})
	ctx := context.Background()
	v2, topics := s.SESv2Client(t), s.SNSClient(t)

	// A domain identity that stays pending (no DNS answers for it).
	if _, err := v2.CreateEmailIdentity(ctx, &sesv2.CreateEmailIdentityInput{EmailIdentity: aws.String("pending-dev.example")}); err != nil {
		t.Fatal(err)
	}
	got, err := v2.GetEmailIdentity(ctx, &sesv2.GetEmailIdentityInput{EmailIdentity: aws.String("pending-dev.example")})
	if err != nil || got.VerifiedForSendingStatus {
		t.Fatalf("the identity is verified (%v, %v): the test needs a pending one", got.VerifiedForSendingStatus, err)
	}
	// Turning forwarding off needs bounce and complaint topics (SES's rule).
	topic, err := topics.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String("dev-feedback")})
	if err != nil {
		t.Fatal(err)
	}
	v1 := s.SESClient(t)
	for _, typ := range []sesv1types.NotificationType{sesv1types.NotificationTypeBounce, sesv1types.NotificationTypeComplaint} {
		if _, err := v1.SetIdentityNotificationTopic(ctx, &ses.SetIdentityNotificationTopicInput{
			Identity: aws.String("pending-dev.example"), NotificationType: typ, SnsTopic: topic.TopicArn}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := v2.PutEmailIdentityFeedbackAttributes(ctx, &sesv2.PutEmailIdentityFeedbackAttributesInput{
		EmailIdentity: aws.String("pending-dev.example"), EmailForwardingEnabled: false}); err != nil {
		t.Fatal(err)
	}

	send := func(from string) string {
		t.Helper()
		out, err := v2.SendEmail(ctx, &sesv2.SendEmailInput{FromEmailAddress: aws.String(from),
			Destination: &types.Destination{ToAddresses: []string{"bounce@simulator.amazonses.com"}},
			Content: &types.EmailContent{Simple: &types.Message{Subject: &types.Content{Data: aws.String("dev bounce " + from)},
				Body: &types.Body{Text: &types.Content{Data: aws.String("hello")}}}}})
		if err != nil {
			t.Fatalf("send from %s: %v", from, err)
		}
		return *out.MessageId
	}
	quiet := send("app@pending-dev.example")
	waitfor.True(t, "the bounce of "+quiet+" recorded", func() bool {
		var bounces []map[string]any
		s.Admin(&bounces, "bounce", "list", "--message", quiet)
		return len(bounces) == 1
	})
	// The control, sent after: once its DSN is captured, the first one's
	// would have been too.
	send("app@no-identity-dev.example")
	waitfor.True(t, "the control's DSN", func() bool { return len(dsnsTo(s, "app@no-identity-dev.example")) == 1 })
	if dsns := dsnsTo(s, "app@pending-dev.example"); len(dsns) != 0 {
		t.Errorf("a DSN went to the pending identity whose feedback forwarding is off: %q", dsns)
	}
}

// dsnsTo lists the subjects of the DSNs captured for addr.
func dsnsTo(s *testenv.Server, addr string) []string {
	var out []string
	for _, m := range s.Captured("email=" + addr) {
		if strings.HasPrefix(m.Subject, "Delivery Status Notification") {
			out = append(out, m.Subject)
		}
	}
	return out
}

// TestDevelopmentModeReceivesForPendingDomain: in development mode a domain
// created with CreateEmailIdentity and never verified receives (its receipt
// rule's action runs), as it sends; the identity still reads pending.
func TestDevelopmentModeReceivesForPendingDomain(t *testing.T) {
	t.Parallel()
	p := startReceivingPeers(t)
	inAddr := testenv.FreeAddr(t)
	s := testenv.Start(t, testenv.Options{Extra: p.config(inAddr) + "[accounts]\ndevelopment = true\n"})
	ctx := context.Background()
	v2 := s.SESv2Client(t)
	if _, err := v2.CreateEmailIdentity(ctx, &sesv2.CreateEmailIdentityInput{EmailIdentity: aws.String("pending-in.example")}); err != nil {
		t.Fatal(err)
	}
	hook := "arn:aws:lambda:us-east-1:" + fnAccount + ":function:hook"
	activateRules(t, s, sesv1types.ReceiptRule{Name: aws.String("all"), Enabled: true, Actions: []sesv1types.ReceiptAction{
		{LambdaAction: &sesv1types.LambdaAction{FunctionArn: aws.String(hook), InvocationType: sesv1types.InvocationTypeEvent}},
	}})
	msg := "From: alice@elsewhere.test\r\nTo: bob@pending-in.example\r\nSubject: to a pending domain\r\n" +
		"Message-ID: <dev-pending-in@elsewhere.test>\r\n\r\nhello\r\n"
	// The rule set reaches the running server within its cache's second.
	waitfor.True(t, "the inbound MX takes mail for the pending domain", func() bool {
		return sendInbound(inAddr, "alice@elsewhere.test", []string{"bob@pending-in.example"}, []byte(msg)) == nil
	})
	waitfor.True(t, "the rule's action", func() bool {
		return p.fn.callsByMessageID()["<dev-pending-in@elsewhere.test>"] >= 1
	})
	got, err := v2.GetEmailIdentity(ctx, &sesv2.GetEmailIdentityInput{EmailIdentity: aws.String("pending-in.example")})
	if err != nil || got.VerifiedForSendingStatus {
		t.Errorf("the identity reads verified (%v, %v): development mode must not store a status", got.VerifiedForSendingStatus, err)
	}
}
