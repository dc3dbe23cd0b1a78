package e2e

import (
	"context"
	"errors"
	"net/textproto"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ses"
	sesv1types "github.com/aws/aws-sdk-go-v2/service/ses/types"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	"github.com/aws/aws-sdk-go-v2/service/sesv2/types"
	"github.com/aws/smithy-go"

	"sesame/internal/awsauth"
	"sesame/internal/testenv"
)

// An operator's suspension (enforcement status SHUTDOWN): SES's
// AccountSuspendedException in v2, MessageRejected in v1, the suspension
// reply over SMTP — and the account cannot lift it with
// PutAccountSendingAttributes.
func TestAccountSuspended(t *testing.T) {
	s := testenv.Start(t, testenv.Options{})
	s.Verify("example.com")
	s.Admin(nil, "account", "set", "--max-send-rate", "1000", "--enforcement-status", "SHUTDOWN")
	time.Sleep(1100 * time.Millisecond) // admin changes reach the running server within a second
	ctx := context.Background()
	v2, v1 := s.SESv2Client(t), s.SESClient(t)

	acct, err := v2.GetAccount(ctx, &sesv2.GetAccountInput{})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(acct.EnforcementStatus) != "SHUTDOWN" {
		t.Errorf("EnforcementStatus = %q, want SHUTDOWN", aws.ToString(acct.EnforcementStatus))
	}
	// Turning sending on does not lift a suspension (SES: "If AWS paused your
	// account's ability to send email, you can't use this operation to resume").
	if _, err := v2.PutAccountSendingAttributes(ctx, &sesv2.PutAccountSendingAttributesInput{SendingEnabled: true}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(1100 * time.Millisecond)

	_, err = v2.SendEmail(ctx, &sesv2.SendEmailInput{FromEmailAddress: aws.String("sender@example.com"),
		Destination: &types.Destination{ToAddresses: []string{simulator}}, Content: simple("s", "b", "")})
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != "AccountSuspendedException" {
		t.Errorf("v2 SendEmail: %v, want AccountSuspendedException", err)
	}
	_, err = v1.SendEmail(ctx, &ses.SendEmailInput{Source: aws.String("sender@example.com"),
		Destination: &sesv1types.Destination{ToAddresses: []string{simulator}},
		Message: &sesv1types.Message{Subject: &sesv1types.Content{Data: aws.String("s")},
			Body: &sesv1types.Body{Text: &sesv1types.Content{Data: aws.String("b")}}}})
	if !errors.As(err, &ae) || ae.ErrorCode() != "MessageRejected" {
		t.Errorf("v1 SendEmail: %v, want MessageRejected", err)
	}
	smtpErr := smtpSend(t, s, awsauth.SMTPPassword(s.Secret, s.Regions[0]), "sender@example.com", simulator)
	var reply *textproto.Error
	if !errors.As(smtpErr, &reply) || reply.Code != 554 ||
		reply.Msg != "Message rejected: Sending suspended for this account. For more information, please check the inbox of the email address associated with your AWS account." {
		t.Errorf("SMTP: %v", smtpErr)
	}

	// The operator lifts it.
	s.Admin(nil, "account", "set", "--enforcement-status", "HEALTHY")
	time.Sleep(1100 * time.Millisecond)
	if _, err := v2.SendEmail(ctx, &sesv2.SendEmailInput{FromEmailAddress: aws.String("sender@example.com"),
		Destination: &types.Destination{ToAddresses: []string{simulator}}, Content: simple("s", "b", "")}); err != nil {
		t.Errorf("after HEALTHY: %v", err)
	}
}
