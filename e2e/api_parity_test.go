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

// TestAPISMTPParity: the API and SMTP share one policy path, so the same
// refusal reaches an SMTP client as SES's reply and an API client as the
// same text under SES's error code — in v2 and in v1.
func TestAPISMTPParity(t *testing.T) {
	s := testenv.Start(t, testenv.Options{}) // in the sandbox
	s.Verify("example.com")
	s.Admin(nil, "account", "set", "--max-send-rate", "1000") // no throttling of this burst
	time.Sleep(1100 * time.Millisecond)                       // admin changes reach the running server within a second
	ctx := context.Background()
	v2, v1 := s.SESv2Client(t), s.SESClient(t)
	pw := awsauth.SMTPPassword(s.Secret, s.Regions[0])

	cases := []struct {
		name     string
		from, to string
		setup    func(t *testing.T)
		code     string // v2 and v1 (the same for these refusals)
		v2Code   string // when v2's differs
		smtpCode int
	}{
		{name: "unverified sender", from: "x@unverified.example.net", to: simulator, code: "MessageRejected", smtpCode: 554},
		{name: "sandbox: unverified recipient", from: "sender@example.com", to: "someone@elsewhere.example.net",
			code: "MessageRejected", smtpCode: 554},
		{name: "sending paused", from: "sender@example.com", to: simulator, code: "AccountSendingPausedException",
			v2Code: "SendingPausedException", smtpCode: 554,
			setup: func(t *testing.T) {
				if _, err := v2.PutAccountSendingAttributes(ctx, &sesv2.PutAccountSendingAttributesInput{SendingEnabled: false}); err != nil {
					t.Fatal(err)
				}
				time.Sleep(1100 * time.Millisecond) // account settings reach the sending path within a second
			}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if tc.setup != nil {
				tc.setup(t)
			}
			smtpErr := smtpSend(t, s, pw, tc.from, tc.to)
			var reply *textproto.Error
			if !errors.As(smtpErr, &reply) || reply.Code != tc.smtpCode {
				t.Fatalf("SMTP: %v, want a %d reply", smtpErr, tc.smtpCode)
			}
			_, err2 := v2.SendEmail(ctx, &sesv2.SendEmailInput{FromEmailAddress: aws.String(tc.from),
				Destination: &types.Destination{ToAddresses: []string{tc.to}}, Content: simple("parity", "b", "")})
			_, err1 := v1.SendEmail(ctx, &ses.SendEmailInput{Source: aws.String(tc.from),
				Destination: &sesv1types.Destination{ToAddresses: []string{tc.to}},
				Message: &sesv1types.Message{Subject: &sesv1types.Content{Data: aws.String("parity")},
					Body: &sesv1types.Body{Text: &sesv1types.Content{Data: aws.String("b")}}}})
			want2 := tc.code
			if tc.v2Code != "" {
				want2 = tc.v2Code
			}
			for _, c := range []struct {
				api  string
				err  error
				want string
			}{{"v2", err2, want2}, {"v1", err1, tc.code}} {
				var ae smithy.APIError
				if !errors.As(c.err, &ae) || ae.ErrorCode() != c.want {
					t.Errorf("%s: %v, want %s", c.api, c.err, c.want)
					continue
				}
				// SMTP says "Message rejected: <the API's message>".
				if want := "Message rejected: " + ae.ErrorMessage(); reply.Msg != want {
					t.Errorf("%s message and SMTP reply differ:\n  SMTP %d %s\n  API  %s", c.api, reply.Code, reply.Msg, want)
				}
			}
		})
	}
}
