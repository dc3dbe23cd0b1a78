package e2e

import (
	"context"
	"crypto/tls"
	"fmt"
	"net/smtp"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	"github.com/aws/aws-sdk-go-v2/service/sesv2/types"

	"sesame/internal/awsauth"
	"sesame/internal/testenv"
)

// TestCapturedReadYourWrites (issue 11, item 8): GET /_aws/ses right after
// a send's reply — the API's MessageId, SMTP's 250 — already lists the
// message, every time, as LocalStack does. Capture runs asynchronously
// (and waits 20 ms for company), so before the fix a test that sent and
// then looked missed the message now and then.
func TestCapturedReadYourWrites(t *testing.T) {
	t.Parallel()
	s := startProduction(t, testenv.Options{})
	s.Verify("example.com")
	const rounds = 200

	t.Run("api", func(t *testing.T) {
		t.Parallel()
		v2 := s.SESv2Client(t)
		ctx := context.Background()
		for i := range rounds {
			out, err := v2.SendEmail(ctx, &sesv2.SendEmailInput{FromEmailAddress: aws.String("ryw@example.com"),
				Destination: &types.Destination{ToAddresses: []string{fmt.Sprintf("api-%d@example.net", i)}},
				Content:     simple(fmt.Sprintf("api %d", i), "b", "")})
			if err != nil {
				t.Fatal(err)
			}
			id := aws.ToString(out.MessageId)
			if got := s.Captured("id=" + id); len(got) != 1 || got[0].ID != id {
				t.Fatalf("round %d: GET /_aws/ses?id=%s right after the reply: %d messages", i, id, len(got))
			}
		}
	})

	t.Run("smtp", func(t *testing.T) {
		t.Parallel()
		c, err := smtp.Dial(s.SMTP)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if err := c.StartTLS(&tls.Config{InsecureSkipVerify: true, ServerName: "localhost"}); err != nil {
			t.Fatal(err)
		}
		if err := c.Auth(smtp.PlainAuth("", s.KeyID, awsauth.SMTPPassword(s.Secret, s.Regions[0]), "127.0.0.1")); err != nil {
			t.Fatal(err)
		}
		for i := range rounds {
			to := fmt.Sprintf("smtp-%d@example.net", i)
			if err := c.Mail("ryw@example.com"); err != nil {
				t.Fatal(err)
			}
			if err := c.Rcpt(to); err != nil {
				t.Fatal(err)
			}
			w, err := c.Data()
			if err != nil {
				t.Fatal(err)
			}
			fmt.Fprintf(w, "From: ryw@example.com\r\nTo: %s\r\nSubject: smtp %d\r\n\r\nb\r\n", to, i)
			if err := w.Close(); err != nil { // returns with the 250
				t.Fatal(err)
			}
			if got := s.Captured("email=" + to); len(got) != 1 {
				t.Fatalf("round %d: GET /_aws/ses?email=%s right after 250: %d messages", i, to, len(got))
			}
		}
	})
}
