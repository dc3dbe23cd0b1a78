package e2e

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"net/textproto"
	"os/exec"
	"regexp"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ses"
	v1types "github.com/aws/aws-sdk-go-v2/service/ses/types"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	v2types "github.com/aws/aws-sdk-go-v2/service/sesv2/types"
	"github.com/aws/aws-sdk-go-v2/service/sns"

	"sesame/internal/awsauth"
	"sesame/internal/testenv"
)

// Sending authorization end to end (issue 11, item 1): the owner account
// verifies owner.example (with its own DKIM key) and lets the delegate
// account send as it under conditions on each of SES's keys; the delegate
// sends over v2 (aws-sdk-go-v2), v1 (the aws CLI) and SMTP (net/smtp with
// X-SES-SOURCE-ARN). What is allowed is delivered signed by the owner's
// domain and charged to the delegate's quota; what a condition, a date or
// the lack of a policy refuses gets SES's Access denied.
func TestSendingAuthorization(t *testing.T) {
	d := testenv.StartDNS(t)
	sinks, port := testenv.StartSinks(t, testenv.SinkOptions{StartTLS: true})
	d.SetA("mx.rcpt.test", "127.0.0.2")
	d.SetMX("rcpt.test", 10, "mx.rcpt.test")
	d.SetMX("other.test", 10, "mx.rcpt.test")
	fbAddr := testenv.FreeAddr(t)
	s := startMXServer(t, d, port, fmt.Sprintf("[verification]\ncheck_interval = \"100ms\"\n[feedback]\nlisten = [%q]\n", fbAddr))
	ctx := context.Background()
	region := s.Regions[0]
	owner := newTenant(s, s.Account, s.KeyID, s.Secret)

	var created struct {
		AccountID       string `json:"account_id"`
		AccessKeyID     string `json:"access_key_id"`
		SecretAccessKey string `json:"secret_access_key"`
	}
	s.Admin(&created, "account", "create")
	delegate := newTenant(s, created.AccountID, created.AccessKeyID, created.SecretAccessKey)
	s.Admin(nil, "account", "set", "--account", delegate.id, "--region", region, "--production",
		"--max-send-rate", "1000", "--max-24h-send", "1000")
	s.Admin(nil, "identity", "verify", "--account", delegate.id, "--region", region, "delegate.example")

	// The owner's identity, with a key of its own (BYODKIM).
	const domain = "owner.example"
	s.Verify(domain)
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	der, _ := x509.MarshalPKCS8PrivateKey(key)
	pub, _ := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if _, err := owner.v2.PutEmailIdentityDkimSigningAttributes(ctx, &sesv2.PutEmailIdentityDkimSigningAttributesInput{
		EmailIdentity: aws.String(domain), SigningAttributesOrigin: v2types.DkimSigningAttributesOriginExternal,
		SigningAttributes: &v2types.DkimSigningAttributes{DomainSigningSelector: aws.String("own"),
			DomainSigningPrivateKey: aws.String(base64.StdEncoding.EncodeToString(der))}}); err != nil {
		t.Fatal(err)
	}
	d.SetTXT("own._domainkey."+domain, "v=DKIM1; k=rsa; p="+base64.StdEncoding.EncodeToString(pub))
	waitIdentity(t, owner.v2, domain, func(g *sesv2.GetEmailIdentityOutput) bool {
		return g.DkimAttributes != nil && g.DkimAttributes.Status == v2types.DkimStatusSuccess
	})

	arn := fmt.Sprintf("arn:aws:ses:%s:%s:identity/%s", region, owner.id, domain)
	policy := func(date string) string {
		return fmt.Sprintf(`{"Version":"2012-10-17","Statement":[{"Sid":"delegate","Effect":"Allow",
			"Principal":{"AWS":"%s"},"Action":["ses:SendEmail","ses:SendRawEmail"],"Resource":"%s",
			"Condition":{"StringLike":{"ses:FromAddress":"news*@owner.example","ses:FeedbackAddress":"*@owner.example"},
				"StringEquals":{"ses:FromDisplayName":"Owner News"},
				"ForAllValues:StringLike":{"ses:Recipients":"*@rcpt.test"},
				"DateLessThan":{"aws:CurrentTime":"%s"}}}]}`, delegate.id, arn, date)
	}
	if _, err := owner.v2.CreateEmailIdentityPolicy(ctx, &sesv2.CreateEmailIdentityPolicyInput{EmailIdentity: aws.String(domain),
		PolicyName: aws.String("delegate"), Policy: aws.String(policy("2100-01-01T00:00:00Z"))}); err != nil {
		t.Fatal(err)
	}
	got, err := owner.v2.GetEmailIdentity(ctx, &sesv2.GetEmailIdentityInput{EmailIdentity: aws.String(domain)})
	if err != nil || got.Policies["delegate"] != policy("2100-01-01T00:00:00Z") {
		t.Fatalf("GetEmailIdentity's Policies = %v, %v", got.Policies, err)
	}

	// The owner's identity notifications (Delivery) go to the owner's
	// topic; the delegate's configuration set publishes to the delegate's.
	ownerSub, delegateSub := newSNSSubscriber(t), newSNSSubscriber(t)
	ownerTopic := tenantTopic(t, owner, "owner-deliveries", ownerSub)
	for _, typ := range []v1types.NotificationType{"Delivery", "Complaint"} {
		if _, err := owner.v1.SetIdentityNotificationTopic(ctx, &ses.SetIdentityNotificationTopicInput{Identity: aws.String(domain),
			NotificationType: typ, SnsTopic: aws.String(ownerTopic)}); err != nil {
			t.Fatal(err)
		}
	}
	snsEventSet(t, delegate.v2, "delegate-set", "to-sns", tenantTopic(t, delegate, "delegate-events", delegateSub),
		v2types.EventTypeSend, v2types.EventTypeDelivery)

	deniedMsg := func(action string) string {
		return fmt.Sprintf("User `arn:aws:iam::%s:root' is not authorized to perform `%s' on resource `%s'", delegate.id, action, arn)
	}
	v2send := func(from, to, feedback string) error {
		in := &sesv2.SendEmailInput{FromEmailAddress: aws.String(from), FromEmailAddressIdentityArn: aws.String(arn),
			Destination: &v2types.Destination{ToAddresses: []string{to}},
			Content: &v2types.EmailContent{Simple: &v2types.Message{Subject: &v2types.Content{Data: aws.String("via v2")},
				Body: &v2types.Body{Text: &v2types.Content{Data: aws.String("sent as the owner")}}}}}
		if feedback != "" {
			in.FeedbackForwardingEmailAddress = aws.String(feedback)
		}
		_, err := delegate.v2.SendEmail(ctx, in)
		return err
	}
	setOut, err := delegate.v2.SendEmail(ctx, &sesv2.SendEmailInput{FromEmailAddress: aws.String("Owner News <news@owner.example>"),
		FromEmailAddressIdentityArn: aws.String(arn), ConfigurationSetName: aws.String("delegate-set"),
		Destination: &v2types.Destination{ToAddresses: []string{"dee@rcpt.test"}},
		Content: &v2types.EmailContent{Simple: &v2types.Message{Subject: &v2types.Content{Data: aws.String("with the delegate's set")},
			Body: &v2types.Body{Text: &v2types.Content{Data: aws.String("sent as the owner")}}}}})
	if err != nil {
		t.Fatalf("v2 SendEmail as the owner with the delegate's configuration set: %v", err)
	}
	smtpPw := awsauth.SMTPPassword(delegate.secret, region)
	smtpMsg := func(from string) string {
		return "X-SES-SOURCE-ARN: " + arn + "\r\nX-SES-FROM-ARN: " + arn + "\r\nFrom: " + from +
			"\r\nTo: cy@rcpt.test\r\nSubject: via smtp\r\n\r\nsent as the owner\r\n"
	}

	// Allowed: one message over each interface.
	if err := v2send("Owner News <news@owner.example>", "ann@rcpt.test", ""); err != nil {
		t.Fatalf("v2 SendEmail as the owner: %v", err)
	}
	cli := func(args ...string) (string, error) { return delegateCLI(t, s, delegate, args...) }
	if out, err := cli("ses", "send-email", "--from", "Owner News <news-v1@owner.example>", "--source-arn", arn,
		"--destination", "ToAddresses=bo@rcpt.test", "--message", "Subject={Data=via v1},Body={Text={Data=sent as the owner}}"); err != nil {
		t.Fatalf("aws ses send-email --source-arn: %v\n%s", err, out)
	}
	if err := smtpSubmitAs(t, s, delegate.key, smtpPw, "news@owner.example", []string{"cy@rcpt.test"},
		smtpMsg("Owner News <news@owner.example>")); err != nil {
		t.Fatalf("SMTP with X-SES-SOURCE-ARN: %v", err)
	}

	// Refused: each condition key in turn.
	for _, tc := range []struct{ name, from, to, feedback string }{
		{"ses:FromAddress", "Owner News <sales@owner.example>", "ann@rcpt.test", ""},
		{"ses:FromDisplayName", "Someone Else <news@owner.example>", "ann@rcpt.test", ""},
		{"ses:Recipients", "Owner News <news@owner.example>", "eve@other.test", ""},
		{"ses:FeedbackAddress", "Owner News <news@owner.example>", "ann@rcpt.test", "fb@delegate.example"},
	} {
		err := v2send(tc.from, tc.to, tc.feedback)
		wantCode(t, err, "AccessDeniedException")
		if !strings.Contains(err.Error(), deniedMsg("ses:SendEmail")) {
			t.Errorf("%s: %v; want %q", tc.name, err, deniedMsg("ses:SendEmail"))
		}
	}
	var reply *textproto.Error
	if err := smtpSubmitAs(t, s, delegate.key, smtpPw, "news@owner.example", []string{"cy@rcpt.test"},
		smtpMsg("Someone Else <news@owner.example>")); !errors.As(err, &reply) || reply.Code != 554 || reply.Msg != "Access denied: "+deniedMsg("ses:SendRawEmail") {
		t.Errorf("SMTP with a display name the policy refuses: %v; want 554 Access denied: %s", err, deniedMsg("ses:SendRawEmail"))
	}

	// Refused: the policy's date has passed (an update applies to the next send).
	if _, err := owner.v2.UpdateEmailIdentityPolicy(ctx, &sesv2.UpdateEmailIdentityPolicyInput{EmailIdentity: aws.String(domain),
		PolicyName: aws.String("delegate"), Policy: aws.String(policy("2020-01-01T00:00:00Z"))}); err != nil {
		t.Fatal(err)
	}
	wantCode(t, v2send("Owner News <news@owner.example>", "ann@rcpt.test", ""), "AccessDeniedException")

	// Refused: no policy at all (v1 PutIdentityPolicy put it back, DeleteIdentityPolicy removes it).
	if _, err := owner.v1.PutIdentityPolicy(ctx, &ses.PutIdentityPolicyInput{Identity: aws.String(arn),
		PolicyName: aws.String("delegate"), Policy: aws.String(policy("2100-01-01T00:00:00Z"))}); err != nil {
		t.Fatal(err)
	}
	if _, err := owner.v1.DeleteIdentityPolicy(ctx, &ses.DeleteIdentityPolicyInput{Identity: aws.String(domain),
		PolicyName: aws.String("delegate")}); err != nil {
		t.Fatal(err)
	}
	out, err := cli("ses", "send-email", "--from", "Owner News <news@owner.example>", "--source-arn", arn,
		"--destination", "ToAddresses=bo@rcpt.test", "--message", "Subject={Data=no policy},Body={Text={Data=x}}")
	if err == nil || !strings.Contains(out, "(AccessDenied)") || !strings.Contains(out, deniedMsg("ses:SendEmail")) {
		t.Errorf("v1 SendEmail without a policy: %v\n%s", err, out)
	}

	// The four allowed sends are the delegate's: its quota, not the owner's.
	quota := func(c *ses.Client) float64 {
		q, err := c.GetSendQuota(ctx, &ses.GetSendQuotaInput{})
		if err != nil {
			t.Fatal(err)
		}
		return q.SentLast24Hours
	}
	if dq, oq := quota(delegate.v1), quota(owner.v1); dq != 4 || oq != 0 {
		t.Errorf("SentLast24Hours: delegate %v, owner %v; want 4 and 0", dq, oq)
	}

	// Delivered, signed by the owner's domain, without the control headers.
	waitFor(t, "four delivered messages", func() bool { return len(sinks[0].Messages()) >= 4 })
	sig := regexp.MustCompile(`(?s)DKIM-Signature:.*?[;\s]d=([^;\s]+);.*?[;\s]s=([^;\s]+);`)
	for _, m := range sinks[0].Messages() {
		data := string(m.Data)
		match := sig.FindStringSubmatch(data)
		if match == nil || match[1] != domain || match[2] != "own" {
			t.Errorf("%v: signature %v; want d=%s s=own\n%s", m.Recipients, match, domain, data)
		}
		if strings.Contains(strings.ToLower(data), "x-ses-source-arn") || strings.Contains(strings.ToLower(data), "x-ses-from-arn") {
			t.Errorf("%v: a control header was delivered:\n%s", m.Recipients, data)
		}
	}
	if n := len(sinks[0].Messages()); n != 4 {
		t.Errorf("%d messages delivered; want 4 (refused sends deliver nothing)", n)
	}

	// Events and notifications: the mail is the delegate's
	// (sendingAccountId), sent as the owner's identity (sourceArn).
	waitFor(t, "the owner's four Delivery notifications", func() bool { return len(records(t, ownerSub)) >= 4 })
	for _, r := range records(t, ownerSub) {
		if r.NotificationType != "Delivery" || r.Mail.SendingAccountID != delegate.id || r.Mail.SourceArn != arn {
			t.Errorf("owner's notification: %s sendingAccountId=%s sourceArn=%s; want Delivery, %s, %s",
				r.NotificationType, r.Mail.SendingAccountID, r.Mail.SourceArn, delegate.id, arn)
		}
	}
	waitFor(t, "the delegate's Send and Delivery events", func() bool { return len(records(t, delegateSub)) >= 2 })
	for _, r := range records(t, delegateSub) {
		if r.Mail.MessageID != aws.ToString(setOut.MessageId) || r.Mail.SendingAccountID != delegate.id || r.Mail.SourceArn != arn {
			t.Errorf("delegate's %s event: message %s sendingAccountId=%s sourceArn=%s; want %s, %s, %s", r.EventType,
				r.Mail.MessageID, r.Mail.SendingAccountID, r.Mail.SourceArn, aws.ToString(setOut.MessageId), delegate.id, arn)
		}
	}
	if n := len(records(t, delegateSub)); n != 2 {
		t.Errorf("the delegate's topic got %d event records; want Send and Delivery of one message", n)
	}

	// A complaint that comes back later (the feedback MX) is the
	// delegate's (its suppression list) and notifies the owner's identity
	// topic, as the delivery did.
	var mailFrom string
	for _, m := range sinks[0].Messages() {
		if m.Recipients[0] == "dee@rcpt.test" {
			mailFrom = m.From
		}
	}
	waitFor(t, "the feedback MX to take the complaint", func() bool {
		return sendFeedback(fbAddr, mailFrom, arfReport(aws.ToString(setOut.MessageId), "dee@rcpt.test")) == nil
	})
	waitFor(t, "the owner's Complaint notification", func() bool {
		for _, r := range records(t, ownerSub) {
			if r.NotificationType == "Complaint" {
				if r.Mail.MessageID != aws.ToString(setOut.MessageId) || r.Mail.SendingAccountID != delegate.id || r.Mail.SourceArn != arn {
					t.Errorf("owner's Complaint notification: message %s sendingAccountId=%s sourceArn=%s", r.Mail.MessageID,
						r.Mail.SendingAccountID, r.Mail.SourceArn)
				}
				return true
			}
		}
		return false
	})
	if _, err := delegate.v2.GetSuppressedDestination(ctx, &sesv2.GetSuppressedDestinationInput{EmailAddress: aws.String("dee@rcpt.test")}); err != nil {
		t.Errorf("the complaint is not on the delegate's suppression list: %v", err)
	}
	_, err = owner.v2.GetSuppressedDestination(ctx, &sesv2.GetSuppressedDestinationInput{EmailAddress: aws.String("dee@rcpt.test")})
	wantCode(t, err, "NotFoundException")
}

// tenantTopic creates an SNS topic of tn's account subscribed by sub.
func tenantTopic(t *testing.T, tn *tenant, name string, sub *snsSubscriber) string {
	t.Helper()
	ctx := context.Background()
	out, err := tn.sns.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String(name)})
	if err != nil {
		t.Fatal(err)
	}
	arn := aws.ToString(out.TopicArn)
	if _, err := tn.sns.Subscribe(ctx, &sns.SubscribeInput{TopicArn: aws.String(arn), Protocol: aws.String("http"),
		Endpoint: aws.String(sub.URL())}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the subscription's confirmation", func() bool {
		subs, err := tn.sns.ListSubscriptionsByTopic(ctx, &sns.ListSubscriptionsByTopicInput{TopicArn: aws.String(arn)})
		return err == nil && len(subs.Subscriptions) == 1 && strings.HasPrefix(aws.ToString(subs.Subscriptions[0].SubscriptionArn), arn+":")
	})
	return arn
}

// delegateCLI runs the aws CLI with another account's keys.
func delegateCLI(t *testing.T, s *testenv.Server, tn *tenant, args ...string) (string, error) {
	t.Helper()
	cmd := exec.Command(testenv.Tool(t, "/usr/bin/aws"), append(args, "--endpoint-url", s.APIURL(), "--output", "json")...)
	// The later of two values of a variable wins (os/exec).
	cmd.Env = append(s.Env(t), "AWS_ACCESS_KEY_ID="+tn.key, "AWS_SECRET_ACCESS_KEY="+tn.secret)
	out, err := cmd.CombinedOutput()
	return string(out), err
}
