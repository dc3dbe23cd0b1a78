package e2e

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net/smtp"
	"net/textproto"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ses"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	v2types "github.com/aws/aws-sdk-go-v2/service/sesv2/types"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"sesame/internal/awsauth"
	"sesame/internal/testenv"
	"sesame/internal/waitfor"
)

// scopedKey is what `sesame admin key create --policy` prints.
type scopedKey struct {
	AccountID string            `json:"account_id"`
	ID        string            `json:"access_key_id"`
	Secret    string            `json:"secret_access_key"`
	SMTP      map[string]string `json:"smtp_passwords"`
	UserARN   string            `json:"user_arn"`
}

// createScopedKey makes a key named name held to the policy doc.
func createScopedKey(t *testing.T, s *testenv.Server, name, doc string) scopedKey {
	t.Helper()
	file := filepath.Join(t.TempDir(), name+".json")
	if err := os.WriteFile(file, []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
	var k scopedKey
	s.Admin(&k, "key", "create", "--name", name, "--policy", file)
	if k.ID == "" || k.UserARN != "arn:aws:iam::"+s.Account+":user/"+name {
		t.Fatalf("key create --policy printed %+v", k)
	}
	return k
}

func (k scopedKey) v2(s *testenv.Server) *sesv2.Client {
	return sesv2.NewFromConfig(aws.Config{Region: s.Regions[0], BaseEndpoint: aws.String(s.APIURL()), RetryMaxAttempts: 1,
		Credentials: credentials.NewStaticCredentialsProvider(k.ID, k.Secret, "")})
}

func (k scopedKey) v1(s *testenv.Server) *ses.Client {
	return ses.NewFromConfig(aws.Config{Region: s.Regions[0], BaseEndpoint: aws.String(s.APIURL()), RetryMaxAttempts: 1,
		Credentials: credentials.NewStaticCredentialsProvider(k.ID, k.Secret, "")})
}

// awsCLIAs runs the aws CLI signing with key k instead of the first account's.
func awsCLIAs(t *testing.T, s *testenv.Server, k scopedKey, args ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, testenv.Tool(t, "/usr/bin/aws"), append(args, "--endpoint-url", s.APIURL(), "--output", "json")...)
	for _, kv := range s.Env(t) {
		switch {
		case strings.HasPrefix(kv, "AWS_ACCESS_KEY_ID="):
			kv = "AWS_ACCESS_KEY_ID=" + k.ID
		case strings.HasPrefix(kv, "AWS_SECRET_ACCESS_KEY="):
			kv = "AWS_SECRET_ACCESS_KEY=" + k.Secret
		}
		cmd.Env = append(cmd.Env, kv)
	}
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// smtpSendAs submits one message over STARTTLS with k's SMTP password and
// returns the reply to the end of DATA (or to the first command refused).
func smtpSendAs(t *testing.T, s *testenv.Server, k scopedKey, from string, to []string, subject string) error {
	t.Helper()
	c, err := smtp.Dial(s.SMTP)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.StartTLS(&tls.Config{InsecureSkipVerify: true, ServerName: "localhost"}); err != nil {
		t.Fatal(err)
	}
	if err := c.Auth(smtp.PlainAuth("", k.ID, awsauth.SMTPPassword(k.Secret, s.Regions[0]), "127.0.0.1")); err != nil {
		t.Fatalf("AUTH with %s's SMTP password: %v", k.ID, err)
	}
	if err := c.Mail(from); err != nil {
		return err
	}
	for _, r := range to {
		if err := c.Rcpt(r); err != nil {
			return err
		}
	}
	w, err := c.Data()
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "From: %s\r\nTo: %s\r\nSubject: %s\r\n\r\nbody\r\n", from, strings.Join(to, ", "), subject)
	return w.Close()
}

// smtpDenied is SES's 554 for a send the key's policy refuses.
func smtpDenied(user, resource string) string {
	return "Access denied: User `" + user + "' is not authorized to perform `ses:SendRawEmail' on resource `" + resource + "'"
}

func accessDenied(t *testing.T, what string, err error, code, msg string) {
	t.Helper()
	var ae smithy.APIError
	var re *smithyhttp.ResponseError
	if !errors.As(err, &ae) || !errors.As(err, &re) {
		t.Errorf("%s: err = %v; want %s", what, err, code)
		return
	}
	if ae.ErrorCode() != code || re.HTTPStatusCode() != 403 || ae.ErrorMessage() != msg {
		t.Errorf("%s: %s %d %q; want %s 403 %q", what, ae.ErrorCode(), re.HTTPStatusCode(), ae.ErrorMessage(), code, msg)
	}
}

func smtpRefused(t *testing.T, what string, err error, text string) {
	t.Helper()
	var te *textproto.Error
	if !errors.As(err, &te) || te.Code != 554 || te.Msg != text {
		t.Errorf("%s: %v; want 554 %s", what, err, text)
	}
}

func simpleEmail(from, to, subject string) *sesv2.SendEmailInput {
	return &sesv2.SendEmailInput{FromEmailAddress: aws.String(from),
		Destination: &v2types.Destination{ToAddresses: []string{to}},
		Content: &v2types.EmailContent{Simple: &v2types.Message{Subject: &v2types.Content{Data: aws.String(subject)},
			Body: &v2types.Body{Text: &v2types.Content{Data: aws.String("b")}}}}}
}

// TestKeyPolicies: access keys scoped by a policy (issue 11, item 1,
// "beyond SES"), enforced by the running server as IAM enforces a user's
// policy, over the API (aws CLI, aws-sdk-go-v2) and SMTP (net/smtp with the
// key's SMTP password).
func TestKeyPolicies(t *testing.T) {
	s := testenv.Start(t, testenv.Options{})
	s.Verify("example.com")
	s.Verify("other.example")
	s.Production()
	ctx := context.Background()
	arn := func(typ, name string) string {
		return "arn:aws:ses:" + s.Regions[0] + ":" + s.Account + ":" + typ + "/" + name
	}
	denied := func(user, action, resource string, explicit bool) string {
		why := " because no identity-based policy allows the " + action + " action"
		if explicit {
			why = " with an explicit deny in an identity-based policy"
		}
		return "User: " + user + " is not authorized to perform: " + action + " on resource: " + resource + why
	}

	t.Run("send-only key", func(t *testing.T) {
		k := createScopedKey(t, s, "send-only", `{"Version":"2012-10-17","Statement":[
			{"Effect":"Allow","Action":["ses:SendEmail","ses:SendRawEmail"],"Resource":"*"}]}`)
		out, err := awsCLIAs(t, s, k, "sesv2", "send-email", "--from-email-address", "app@example.com",
			"--destination", "ToAddresses=a@example.net",
			"--content", `{"Simple":{"Subject":{"Data":"send-only cli"},"Body":{"Text":{"Data":"b"}}}}`)
		if err != nil || !strings.Contains(out, "MessageId") {
			t.Errorf("aws sesv2 send-email with a send-only key: %v\n%s", err, out)
		}
		out, err = awsCLIAs(t, s, k, "sesv2", "create-email-identity", "--email-identity", "new.example")
		want := denied(k.UserARN, "ses:CreateEmailIdentity", arn("identity", "new.example"), false)
		if err == nil || !strings.Contains(out, "(AccessDeniedException) when calling the CreateEmailIdentity operation") ||
			!strings.Contains(out, ": "+want+"\n") {
			t.Errorf("aws sesv2 create-email-identity with a send-only key: %v\n%s", err, out)
		}
		if _, err := k.v2(s).SendEmail(ctx, simpleEmail("app@example.com", "b@example.net", "send-only sdk")); err != nil {
			t.Errorf("SDK SendEmail: %v", err)
		}
		_, err = k.v2(s).CreateEmailIdentity(ctx, &sesv2.CreateEmailIdentityInput{EmailIdentity: aws.String("new.example")})
		accessDenied(t, "SDK CreateEmailIdentity", err, "AccessDeniedException", want)
		_, err = k.v1(s).ListIdentities(ctx, &ses.ListIdentitiesInput{})
		accessDenied(t, "SDK v1 ListIdentities", err, "AccessDenied", denied(k.UserARN, "ses:ListIdentities", "*", false))
		// The account's own key is untouched.
		if _, err := s.SESv2Client(t).ListEmailIdentities(ctx, &sesv2.ListEmailIdentitiesInput{}); err != nil {
			t.Errorf("the first key (no policy): %v", err)
		}
	})

	t.Run("one identity", func(t *testing.T) {
		k := createScopedKey(t, s, "example-com", `{"Version":"2012-10-17","Statement":[
			{"Effect":"Allow","Action":["ses:SendEmail","ses:SendRawEmail"],"Resource":"`+arn("identity", "example.com")+`"}]}`)
		if _, err := k.v2(s).SendEmail(ctx, simpleEmail("app@example.com", "c@example.net", "one identity api")); err != nil {
			t.Errorf("API send as example.com: %v", err)
		}
		_, err := k.v2(s).SendEmail(ctx, simpleEmail("app@other.example", "c@example.net", "other identity api"))
		accessDenied(t, "API send as other.example", err, "AccessDeniedException",
			denied(k.UserARN, "ses:SendEmail", arn("identity", "other.example"), false))

		if err := smtpSendAs(t, s, k, "app@example.com", []string{"d@example.net"}, "one identity smtp"); err != nil {
			t.Errorf("SMTP send as example.com: %v", err)
		}
		err = smtpSendAs(t, s, k, "app@other.example", []string{"d@example.net"}, "other identity smtp")
		smtpRefused(t, "SMTP send as other.example", err, smtpDenied(k.UserARN, arn("identity", "other.example")))

		got := map[string]bool{}
		for _, m := range s.Captured("") {
			got[m.Subject] = true
		}
		if !got["one identity api"] || !got["one identity smtp"] || got["other identity api"] || got["other identity smtp"] {
			t.Errorf("captured subjects %v; want the two sends as example.com only", got)
		}
	})

	t.Run("deny with a condition", func(t *testing.T) {
		k := createScopedKey(t, s, "example-com-recipients", `{"Version":"2012-10-17","Statement":[
			{"Effect":"Allow","Action":"ses:*","Resource":"*"},
			{"Effect":"Deny","Action":"ses:Send*","Resource":"*",
			 "Condition":{"ForAnyValue:StringNotLike":{"ses:Recipients":"*@example.com"}}}]}`)
		if _, err := k.v2(s).SendEmail(ctx, simpleEmail("app@other.example", "team@example.com", "inside")); err != nil {
			t.Errorf("API send to example.com: %v", err)
		}
		_, err := k.v2(s).SendEmail(ctx, simpleEmail("app@other.example", "someone@example.net", "outside"))
		accessDenied(t, "API send outside", err, "AccessDeniedException",
			denied(k.UserARN, "ses:SendEmail", arn("identity", "other.example"), true))
		err = smtpSendAs(t, s, k, "app@other.example", []string{"team@example.com", "someone@example.net"}, "outside smtp")
		smtpRefused(t, "SMTP send with one recipient outside", err, smtpDenied(k.UserARN, arn("identity", "other.example")))
		if err := smtpSendAs(t, s, k, "app@other.example", []string{"team@example.com"}, "inside smtp"); err != nil {
			t.Errorf("SMTP send to example.com: %v", err)
		}
		// The Deny covers sends only: the rest of ses:* is allowed.
		if _, err := k.v2(s).ListEmailIdentities(ctx, &sesv2.ListEmailIdentitiesInput{}); err != nil {
			t.Errorf("ListEmailIdentities under ses:*: %v", err)
		}

		// Clearing the policy reaches the running server within its cache
		// time: the key may then send anywhere.
		s.Admin(nil, "key", "policy", "--key", k.ID, "--clear")
		waitfor.True(t, "the cleared policy to apply", func() bool {
			_, err := k.v2(s).SendEmail(ctx, simpleEmail("app@other.example", "someone@example.net", "after clear"))
			return err == nil
		})
	})
}
