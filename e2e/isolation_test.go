package e2e

import (
	"context"
	"crypto/tls"
	"net/http"
	"net/smtp"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ses"
	v1types "github.com/aws/aws-sdk-go-v2/service/ses/types"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	v2types "github.com/aws/aws-sdk-go-v2/service/sesv2/types"
	"github.com/aws/aws-sdk-go-v2/service/sns"

	"sesame/internal/awsauth"
	"sesame/internal/testenv"
)

// tenant is one account's API clients.
type tenant struct {
	id, key, secret string
	v2              *sesv2.Client
	v1              *ses.Client
	sns             *sns.Client
}

func newTenant(s *testenv.Server, id, key, secret string) *tenant {
	cfg := aws.Config{Region: s.Regions[0], BaseEndpoint: aws.String(s.APIURL()),
		Credentials: credentials.NewStaticCredentialsProvider(key, secret, ""), RetryMaxAttempts: 1}
	return &tenant{id: id, key: key, secret: secret,
		v2: sesv2.NewFromConfig(cfg), v1: ses.NewFromConfig(cfg), sns: sns.NewFromConfig(cfg)}
}

// TestAccountIsolation: account A can neither send as, read nor change
// account B's identities, templates, suppression list, configuration sets,
// SNS topics or events — through SMTP, SES v1, SES v2 and SNS — and a
// tenant's key reaches no operator (admin) function. Captured mail
// (/_aws/ses) is not per account: in capture mode it is LocalStack's
// development endpoint, global by design (docs/reliability.md says so), and
// is not checked here.
func TestAccountIsolation(t *testing.T) {
	s := startProduction(t, testenv.Options{})
	ctx := context.Background()
	a := newTenant(s, s.Account, s.KeyID, s.Secret)
	var created struct {
		AccountID       string `json:"account_id"`
		AccessKeyID     string `json:"access_key_id"`
		SecretAccessKey string `json:"secret_access_key"`
	}
	s.Admin(&created, "account", "create")
	b := newTenant(s, created.AccountID, created.AccessKeyID, created.SecretAccessKey)
	s.Admin(nil, "account", "set", "--account", b.id, "--region", s.Regions[0], "--production", "--max-send-rate", "1000", "--max-24h-send", "-1")
	s.Admin(nil, "identity", "verify", "--account", b.id, "--region", s.Regions[0], "b.example")
	s.Verify("a.example")

	// B's things.
	must := func(_ any, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(b.v2.CreateEmailTemplate(ctx, &sesv2.CreateEmailTemplateInput{TemplateName: aws.String("btpl"),
		TemplateContent: &v2types.EmailTemplateContent{Subject: aws.String("B's"), Text: aws.String("B's")}}))
	must(b.v2.PutSuppressedDestination(ctx, &sesv2.PutSuppressedDestinationInput{EmailAddress: aws.String("kept@b-list.example"), Reason: v2types.SuppressionListReasonBounce}))
	sub := newSNSSubscriber(t)
	topicOut, err := b.sns.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String("btopic")})
	must(topicOut, err)
	topic := aws.ToString(topicOut.TopicArn)
	must(b.sns.Subscribe(ctx, &sns.SubscribeInput{TopicArn: aws.String(topic), Protocol: aws.String("http"), Endpoint: aws.String(sub.URL())}))
	waitFor(t, "B's subscription confirmed", func() bool {
		out, err := b.sns.ListSubscriptionsByTopic(ctx, &sns.ListSubscriptionsByTopicInput{TopicArn: aws.String(topic)})
		return err == nil && len(out.Subscriptions) == 1 && strings.HasPrefix(aws.ToString(out.Subscriptions[0].SubscriptionArn), topic+":")
	})
	snsEventSet(t, b.v2, "bset", "bdest", topic, v2types.EventTypeSend, v2types.EventTypeDelivery)
	time.Sleep(1100 * time.Millisecond) // admin changes reach the running server within a second

	// A cannot send as B's identity: SMTP, v2, v1.
	pwA := awsauth.SMTPPassword(a.secret, s.Regions[0])
	if err := smtpSubmit(t, s, pwA, "x@b.example", []string{"r@example.net"},
		"From: x@b.example\r\nTo: r@example.net\r\nSubject: as B\r\n\r\nb\r\n"); err == nil {
		t.Error("SMTP: A sent as x@b.example")
	}
	_, err = a.v2.SendEmail(ctx, &sesv2.SendEmailInput{FromEmailAddress: aws.String("x@b.example"),
		Destination: &v2types.Destination{ToAddresses: []string{"r@example.net"}}, Content: simple("as B", "b", "")})
	wantCode(t, err, "MessageRejected")
	_, err = a.v1.SendEmail(ctx, &ses.SendEmailInput{Source: aws.String("x@b.example"),
		Destination: &v1types.Destination{ToAddresses: []string{"r@example.net"}},
		Message:     &v1types.Message{Subject: &v1types.Content{Data: aws.String("as B")}, Body: &v1types.Body{Text: &v1types.Content{Data: aws.String("b")}}}})
	wantCode(t, err, "MessageRejected")

	// Identities.
	_, err = a.v2.GetEmailIdentity(ctx, &sesv2.GetEmailIdentityInput{EmailIdentity: aws.String("b.example")})
	wantCode(t, err, "NotFoundException")
	_, err = a.v2.DeleteEmailIdentity(ctx, &sesv2.DeleteEmailIdentityInput{EmailIdentity: aws.String("b.example")})
	wantCode(t, err, "NotFoundException")
	_, err = a.v2.PutEmailIdentityDkimAttributes(ctx, &sesv2.PutEmailIdentityDkimAttributesInput{EmailIdentity: aws.String("b.example"), SigningEnabled: false})
	wantCode(t, err, "NotFoundException")
	ids, err := a.v2.ListEmailIdentities(ctx, &sesv2.ListEmailIdentitiesInput{})
	must(ids, err)
	for _, id := range ids.EmailIdentities {
		if aws.ToString(id.IdentityName) == "b.example" {
			t.Error("v2 ListEmailIdentities: A sees b.example")
		}
	}
	v1attrs, err := a.v1.GetIdentityVerificationAttributes(ctx, &ses.GetIdentityVerificationAttributesInput{Identities: []string{"b.example"}})
	must(v1attrs, err)
	if at, ok := v1attrs.VerificationAttributes["b.example"]; ok && at.VerificationStatus == v1types.VerificationStatusSuccess {
		t.Error("v1: A sees b.example verified")
	}
	_, _ = a.v1.DeleteIdentity(ctx, &ses.DeleteIdentityInput{Identity: aws.String("b.example")}) // SES answers success either way
	if _, err := b.v2.GetEmailIdentity(ctx, &sesv2.GetEmailIdentityInput{EmailIdentity: aws.String("b.example")}); err != nil {
		t.Errorf("B's identity after A's deletes: %v", err)
	}

	// Templates.
	_, err = a.v2.GetEmailTemplate(ctx, &sesv2.GetEmailTemplateInput{TemplateName: aws.String("btpl")})
	wantCode(t, err, "NotFoundException")
	_, err = a.v2.UpdateEmailTemplate(ctx, &sesv2.UpdateEmailTemplateInput{TemplateName: aws.String("btpl"),
		TemplateContent: &v2types.EmailTemplateContent{Subject: aws.String("A's"), Text: aws.String("A's")}})
	wantCode(t, err, "NotFoundException")
	_, err = a.v2.DeleteEmailTemplate(ctx, &sesv2.DeleteEmailTemplateInput{TemplateName: aws.String("btpl")})
	wantCode(t, err, "NotFoundException")
	_, err = a.v1.GetTemplate(ctx, &ses.GetTemplateInput{TemplateName: aws.String("btpl")})
	wantCode(t, err, "TemplateDoesNotExist")
	_, err = a.v2.SendEmail(ctx, &sesv2.SendEmailInput{FromEmailAddress: aws.String("x@a.example"),
		Destination: &v2types.Destination{ToAddresses: []string{"r@example.net"}},
		Content:     &v2types.EmailContent{Template: &v2types.Template{TemplateName: aws.String("btpl"), TemplateData: aws.String("{}")}}})
	if err == nil {
		t.Error("A sent with B's template")
	}
	if tpl, err := b.v2.GetEmailTemplate(ctx, &sesv2.GetEmailTemplateInput{TemplateName: aws.String("btpl")}); err != nil || aws.ToString(tpl.TemplateContent.Subject) != "B's" {
		t.Errorf("B's template after A's attempts: %v %v", tpl, err)
	}

	// Suppression list.
	_, err = a.v2.GetSuppressedDestination(ctx, &sesv2.GetSuppressedDestinationInput{EmailAddress: aws.String("kept@b-list.example")})
	wantCode(t, err, "NotFoundException")
	_, _ = a.v2.DeleteSuppressedDestination(ctx, &sesv2.DeleteSuppressedDestinationInput{EmailAddress: aws.String("kept@b-list.example")})
	list, err := a.v2.ListSuppressedDestinations(ctx, &sesv2.ListSuppressedDestinationsInput{})
	must(list, err)
	for _, d := range list.SuppressedDestinationSummaries {
		if aws.ToString(d.EmailAddress) == "kept@b-list.example" {
			t.Error("A lists B's suppressed address")
		}
	}
	if _, err := b.v2.GetSuppressedDestination(ctx, &sesv2.GetSuppressedDestinationInput{EmailAddress: aws.String("kept@b-list.example")}); err != nil {
		t.Errorf("B's suppressed address after A's delete: %v", err)
	}

	// Configuration sets and their event destinations.
	_, err = a.v2.GetConfigurationSet(ctx, &sesv2.GetConfigurationSetInput{ConfigurationSetName: aws.String("bset")})
	wantCode(t, err, "NotFoundException")
	_, err = a.v2.GetConfigurationSetEventDestinations(ctx, &sesv2.GetConfigurationSetEventDestinationsInput{ConfigurationSetName: aws.String("bset")})
	wantCode(t, err, "NotFoundException")
	_, err = a.v2.DeleteConfigurationSet(ctx, &sesv2.DeleteConfigurationSetInput{ConfigurationSetName: aws.String("bset")})
	wantCode(t, err, "NotFoundException")
	_, err = a.v1.DescribeConfigurationSet(ctx, &ses.DescribeConfigurationSetInput{ConfigurationSetName: aws.String("bset")})
	wantCode(t, err, "ConfigurationSetDoesNotExist")
	if _, err := b.v2.GetConfigurationSet(ctx, &sesv2.GetConfigurationSetInput{ConfigurationSetName: aws.String("bset")}); err != nil {
		t.Errorf("B's configuration set after A's delete: %v", err)
	}

	// SNS topics: A neither sees, reads, publishes to, subscribes to nor
	// deletes B's; nor points its own event destination at it.
	topics, err := a.sns.ListTopics(ctx, &sns.ListTopicsInput{})
	must(topics, err)
	for _, tp := range topics.Topics {
		if aws.ToString(tp.TopicArn) == topic {
			t.Error("A lists B's topic")
		}
	}
	if _, err := a.sns.GetTopicAttributes(ctx, &sns.GetTopicAttributesInput{TopicArn: aws.String(topic)}); err == nil {
		t.Error("A read B's topic attributes")
	}
	if _, err := a.sns.Publish(ctx, &sns.PublishInput{TopicArn: aws.String(topic), Message: aws.String("from A")}); err == nil {
		t.Error("A published to B's topic")
	}
	if _, err := a.sns.Subscribe(ctx, &sns.SubscribeInput{TopicArn: aws.String(topic), Protocol: aws.String("http"), Endpoint: aws.String(sub.URL() + "?a")}); err == nil {
		t.Error("A subscribed to B's topic")
	}
	_, _ = a.sns.DeleteTopic(ctx, &sns.DeleteTopicInput{TopicArn: aws.String(topic)})
	if _, err := b.sns.GetTopicAttributes(ctx, &sns.GetTopicAttributesInput{TopicArn: aws.String(topic)}); err != nil {
		t.Errorf("B's topic after A's delete: %v", err)
	}
	must(a.v2.CreateConfigurationSet(ctx, &sesv2.CreateConfigurationSetInput{ConfigurationSetName: aws.String("bset")}))
	if _, err := a.v2.CreateConfigurationSetEventDestination(ctx, &sesv2.CreateConfigurationSetEventDestinationInput{
		ConfigurationSetName: aws.String("bset"), EventDestinationName: aws.String("steal"),
		EventDestination: &v2types.EventDestinationDefinition{Enabled: true, MatchingEventTypes: []v2types.EventType{v2types.EventTypeSend},
			SnsDestination: &v2types.SnsDestination{TopicArn: aws.String(topic)}}}); err == nil {
		t.Error("A pointed an event destination at B's topic")
	}

	// Events: A's mail through A's own "bset" never reaches B's topic, and
	// B's mail through B's does (the control that the subscriber listens).
	out, err := a.v2.SendEmail(ctx, &sesv2.SendEmailInput{FromEmailAddress: aws.String("x@a.example"),
		Destination:          &v2types.Destination{ToAddresses: []string{"r@example.net"}},
		Content:              simple("A's mail", "a", ""),
		ConfigurationSetName: aws.String("bset")})
	must(out, err)
	aID := aws.ToString(out.MessageId)
	bOut, err := b.v2.SendEmail(ctx, &sesv2.SendEmailInput{FromEmailAddress: aws.String("x@b.example"),
		Destination:          &v2types.Destination{ToAddresses: []string{"r@example.net"}},
		Content:              simple("B's mail", "b", ""),
		ConfigurationSetName: aws.String("bset")})
	must(bOut, err)
	bID := aws.ToString(bOut.MessageId)
	waitFor(t, "B's own Delivery event", func() bool {
		return slices.ContainsFunc(records(t, sub), func(r eventRecord) bool { return r.EventType == "Delivery" && r.Mail.MessageID == bID })
	})
	for _, r := range records(t, sub) {
		if r.Mail.MessageID == aID || r.Mail.SendingAccountID == a.id {
			t.Errorf("B's topic got A's %s event", r.EventType)
		}
	}
	for _, n := range sub.notifications() {
		if strings.Contains(n["Message"], "from A") {
			t.Error("B's subscriber got A's publish")
		}
	}

	// SMTP with B's credentials and A's: each sees only its own identities
	// (the check above from A's side, here B sending as A).
	if err := smtpSubmitAs(t, s, b.key, awsauth.SMTPPassword(b.secret, s.Regions[0]), "x@a.example", []string{"r@example.net"},
		"From: x@a.example\r\nTo: r@example.net\r\nSubject: as A\r\n\r\nb\r\n"); err == nil {
		t.Error("SMTP: B sent as x@a.example")
	}

	// Admin is the operator's: the CLI works through the data dir and the
	// control socket, which only the server's user may open; the API
	// listener has no admin route a tenant's key could reach.
	sock := filepath.Join(s.Dir, "control.sock")
	if fi, err := os.Stat(sock); err == nil && fi.Mode().Perm()&0o077 != 0 {
		t.Errorf("control.sock mode %v: others may reach the operator's commands", fi.Mode().Perm())
	}
	for _, path := range []string{"/admin", "/_sesame/admin", "/_sesame/admin/account", "/_sesame/queue", "/_sesame/control"} {
		resp, err := http.Post(s.APIURL()+path, "application/json", strings.NewReader(`{"account":"`+b.id+`"}`))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode < 400 {
			t.Errorf("POST %s: %s", path, resp.Status)
		}
	}
}

// smtpSubmitAs is smtpSubmit with another account's SMTP user name.
func smtpSubmitAs(t *testing.T, s *testenv.Server, user, pw, from string, to []string, data string) error {
	t.Helper()
	c, err := smtp.Dial(s.SMTP)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.StartTLS(&tls.Config{InsecureSkipVerify: true, ServerName: "localhost"}); err != nil {
		t.Fatal(err)
	}
	if err := c.Auth(smtp.PlainAuth("", user, pw, "127.0.0.1")); err != nil {
		t.Fatal(err)
	}
	return transaction(c, from, to, data)
}
