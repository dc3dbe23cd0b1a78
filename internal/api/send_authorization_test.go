package api

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/ses"
	v1types "github.com/aws/aws-sdk-go-v2/service/ses/types"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	v2types "github.com/aws/aws-sdk-go-v2/service/sesv2/types"

	"sesame/internal/store"
)

// The send operations' sending-authorization parameters reach sending:
// v2 FromEmailAddressIdentityArn beats the X-SES-SOURCE-ARN and
// X-SES-FROM-ARN headers of raw content, v1 SourceArn works for each
// action and the action asked about is the operation's; refusals are
// AccessDenied (v1, HTTP 403) and AccessDeniedException (v2).
func TestSendAuthorizationParameters(t *testing.T) {
	t.Parallel()
	e := newSendEnv(t, true)
	ctx := context.Background()
	owner, _, err := e.st.CreateAccount(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"owner.example", "other.example"} {
		if err := e.st.PutIdentity(ctx, store.Identity{AccountID: owner.ID, Region: e.region, Name: name, Status: store.StatusSuccess}); err != nil {
			t.Fatal(err)
		}
	}
	set := store.DefaultSettings(owner.ID, e.region)
	set.Production = true
	if err := e.st.PutAccountSettings(ctx, set); err != nil {
		t.Fatal(err)
	}
	arnOf := func(name string) string {
		return fmt.Sprintf("arn:aws:ses:%s:%s:identity/%s", e.region, owner.ID, name)
	}
	arn := arnOf("owner.example")
	doc := fmt.Sprintf(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"%s"},`+
		`"Action":["ses:SendEmail","ses:SendRawEmail"],"Resource":"%s"}]}`, e.acct, arn)
	if err := e.st.PutIdentityPolicy(ctx, owner.ID, e.region, "owner.example", store.IdentityPolicy{Name: "p", Policy: doc}, store.PolicyCreate, 20); err != nil {
		t.Fatal(err)
	}
	if _, err := e.v2.CreateEmailTemplate(ctx, &sesv2.CreateEmailTemplateInput{TemplateName: aws.String("t"),
		TemplateContent: &v2types.EmailTemplateContent{Subject: aws.String("s"), Text: aws.String("b")}}); err != nil {
		t.Fatal(err)
	}
	denied := func(action, resource string) string {
		return fmt.Sprintf("User `arn:aws:iam::%s:root' is not authorized to perform `%s' on resource `%s'", e.acct, action, resource)
	}
	wantDenied := func(t *testing.T, err error, code string, status int, msg string) {
		t.Helper()
		wantErrCode(t, err, code)
		var re *awshttp.ResponseError
		if !errors.As(err, &re) || re.HTTPStatusCode() != status || !strings.Contains(err.Error(), msg) {
			t.Errorf("%v; want HTTP %d and %q", err, status, msg)
		}
	}

	// v2: the parameter beats both headers, which name an identity that
	// covers nothing here (they alone would be refused).
	raw := "X-SES-SOURCE-ARN: " + arnOf("other.example") + "\r\nX-SES-FROM-ARN: " + arnOf("other.example") +
		"\r\nFrom: news@owner.example\r\nTo: ann@example.com\r\nSubject: raw\r\n\r\nbody\r\n"
	if _, err := e.v2.SendEmail(ctx, &sesv2.SendEmailInput{FromEmailAddressIdentityArn: aws.String(arn),
		Content: &v2types.EmailContent{Raw: &v2types.RawMessage{Data: []byte(raw)}}}); err != nil {
		t.Fatalf("v2 raw with FromEmailAddressIdentityArn: %v", err)
	}
	_, err = e.v2.SendEmail(ctx, &sesv2.SendEmailInput{Content: &v2types.EmailContent{Raw: &v2types.RawMessage{Data: []byte(raw)}}})
	wantDenied(t, err, "AccessDeniedException", 403, denied("ses:SendEmail", arnOf("other.example")))

	// v1: SourceArn on SendEmail and SendRawEmail; SendTemplatedEmail is
	// an action the policy does not grant.
	msg := &v1types.Message{Subject: &v1types.Content{Data: aws.String("v1")}, Body: &v1types.Body{Text: &v1types.Content{Data: aws.String("b")}}}
	dest := &v1types.Destination{ToAddresses: []string{"bo@example.com"}}
	if _, err := e.v1.SendEmail(ctx, &ses.SendEmailInput{Source: aws.String("news@owner.example"), SourceArn: aws.String(arn),
		Destination: dest, Message: msg}); err != nil {
		t.Fatalf("v1 SendEmail with SourceArn: %v", err)
	}
	if _, err := e.v1.SendRawEmail(ctx, &ses.SendRawEmailInput{FromArn: aws.String(arn), SourceArn: aws.String(arn),
		Source: aws.String("news@owner.example"), RawMessage: &v1types.RawMessage{Data: []byte("From: news@owner.example\r\nTo: cy@example.com\r\nSubject: r\r\n\r\nb\r\n")}}); err != nil {
		t.Fatalf("v1 SendRawEmail with SourceArn and FromArn: %v", err)
	}
	_, err = e.v1.SendTemplatedEmail(ctx, &ses.SendTemplatedEmailInput{Source: aws.String("news@owner.example"), SourceArn: aws.String(arn),
		Destination: dest, Template: aws.String("t"), TemplateData: aws.String("{}")})
	wantDenied(t, err, "AccessDenied", 403, denied("ses:SendTemplatedEmail", arn))
	_, err = e.v1.SendEmail(ctx, &ses.SendEmailInput{Source: aws.String("news@other.example"), SourceArn: aws.String(arnOf("other.example")),
		Destination: dest, Message: msg})
	wantDenied(t, err, "AccessDenied", 403, denied("ses:SendEmail", arnOf("other.example")))
	_, err = e.v1.SendEmail(ctx, &ses.SendEmailInput{Source: aws.String("news@owner.example"),
		SourceArn: aws.String(strings.Replace(arn, e.region, "eu-west-3", 1)), Destination: dest, Message: msg})
	wantErrCode(t, err, "InvalidParameterValue")

	// The Return-Path alone may be the owner's: ReturnPathArn (v1),
	// FeedbackForwardingEmailAddressIdentityArn (v2); without it the
	// address is the delegate's to verify.
	if _, err := e.v1.SendEmail(ctx, &ses.SendEmailInput{Source: aws.String("me@example.org"), ReturnPath: aws.String("bounces@owner.example"),
		ReturnPathArn: aws.String(arn), Destination: dest, Message: msg}); err != nil {
		t.Fatalf("v1 SendEmail with ReturnPathArn: %v", err)
	}
	_, err = e.v1.SendEmail(ctx, &ses.SendEmailInput{Source: aws.String("me@example.org"), ReturnPath: aws.String("bounces@owner.example"),
		Destination: dest, Message: msg})
	wantErrCode(t, err, "MessageRejected")
	if _, err := e.v2.SendEmail(ctx, &sesv2.SendEmailInput{FromEmailAddress: aws.String("me@example.org"),
		FeedbackForwardingEmailAddress: aws.String("bounces@owner.example"), FeedbackForwardingEmailAddressIdentityArn: aws.String(arn),
		Destination: &v2types.Destination{ToAddresses: []string{"bo@example.com"}},
		Content: &v2types.EmailContent{Simple: &v2types.Message{Subject: &v2types.Content{Data: aws.String("s")},
			Body: &v2types.Body{Text: &v2types.Content{Data: aws.String("b")}}}}}); err != nil {
		t.Fatalf("v2 SendEmail with FeedbackForwardingEmailAddressIdentityArn: %v", err)
	}

	// SendBulkEmail asks about ses:SendBulkEmail, which the policy does
	// not grant: each entry fails with the refusal.
	bulk, err := e.v2.SendBulkEmail(ctx, &sesv2.SendBulkEmailInput{FromEmailAddress: aws.String("news@owner.example"),
		FromEmailAddressIdentityArn: aws.String(arn),
		DefaultContent:              &v2types.BulkEmailContent{Template: &v2types.Template{TemplateName: aws.String("t"), TemplateData: aws.String("{}")}},
		BulkEmailEntries:            []v2types.BulkEmailEntry{{Destination: &v2types.Destination{ToAddresses: []string{"dee@example.com"}}}}})
	if err != nil || len(bulk.BulkEmailEntryResults) != 1 || bulk.BulkEmailEntryResults[0].Status != v2types.BulkEmailStatusFailed ||
		aws.ToString(bulk.BulkEmailEntryResults[0].Error) != denied("ses:SendBulkEmail", arn) {
		t.Errorf("SendBulkEmail as the owner without ses:SendBulkEmail: %+v, %v", bulk, err)
	}

	ms := e.claim(t, 5)
	for _, m := range ms[3:] {
		// The Return-Path is the owner's, the From the delegate's own: its
		// own key signs.
		if m.env.MailFrom != "bounces@owner.example" || m.env.SigningAccountID != "" {
			t.Errorf("%s: envelope sender %s, signing account %q; want the owner's bounces@owner.example, the delegate's",
				m.env.Operation, m.env.MailFrom, m.env.SigningAccountID)
		}
	}
	for _, m := range ms[:3] {
		if m.env.SigningAccountID != owner.ID {
			t.Errorf("%s: signing account %q; want %s", m.env.Operation, m.env.SigningAccountID, owner.ID)
		}
	}
	for _, m := range ms {
		if m.env.AccountID != e.acct || m.env.IdentityAccountID != owner.ID {
			t.Errorf("%s spooled for %s as %q; want %s as %s", m.env.Operation, m.env.AccountID, m.env.IdentityAccountID, e.acct, owner.ID)
		}
	}
}
