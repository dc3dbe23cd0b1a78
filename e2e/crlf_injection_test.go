package e2e

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ses"
	v1types "github.com/aws/aws-sdk-go-v2/service/ses/types"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	v2types "github.com/aws/aws-sdk-go-v2/service/sesv2/types"

	"sesame/internal/testenv"
)

// inject is what every header-bound field gets: a line break and a header
// of the attacker's, in each line-break spelling.
var injections = []string{
	"x\r\nX-Injected: yes",
	"x\nX-Injected: yes",
	"x\rX-Injected: yes",
	"x\r\n\r\nX-Injected: yes",
	"x\r\nBcc: evil@evil.test",
	"=?utf-8?q?x=0D=0AX-Injected:_yes?=",
}

// TestCRLFInjectionInAPIFields: a CR or LF in any API field that ends up in
// a header (subject, display names, Reply-To, Return-Path, tags, template
// data, destinations, configuration set names, v2 custom headers) is either
// refused with an AWS error, or encoded so that the captured message has no
// header the caller did not ask for and no recipient it did not name.
func TestCRLFInjectionInAPIFields(t *testing.T) {
	s := startProduction(t, testenv.Options{})
	s.Verify("example.com")
	ctx := context.Background()
	v2 := s.SESv2Client(t)
	v1 := s.SESClient(t)
	if _, err := v2.CreateConfigurationSet(ctx, &sesv2.CreateConfigurationSetInput{ConfigurationSetName: aws.String("plain")}); err != nil {
		t.Fatal(err)
	}
	if _, err := v2.CreateEmailTemplate(ctx, &sesv2.CreateEmailTemplateInput{TemplateName: aws.String("inj"),
		TemplateContent: &v2types.EmailTemplateContent{Subject: aws.String("Hi {{name}}"), Text: aws.String("Hello {{name}}")}}); err != nil {
		t.Fatal(err)
	}

	type attempt struct {
		field string
		send  func(v string) (string, error) // returns the MessageId
	}
	dest := func(to ...string) *v2types.Destination { return &v2types.Destination{ToAddresses: to} }
	v2send := func(in *sesv2.SendEmailInput) (string, error) {
		if in.FromEmailAddress == nil {
			in.FromEmailAddress = aws.String("sender@example.com")
		}
		if in.Destination == nil {
			in.Destination = dest("rcpt@example.net")
		}
		if in.Content == nil {
			in.Content = simple("crlf", "body", "")
		}
		out, err := v2.SendEmail(ctx, in)
		if err != nil {
			return "", err
		}
		return aws.ToString(out.MessageId), nil
	}
	v1send := func(in *ses.SendEmailInput) (string, error) {
		if in.Source == nil {
			in.Source = aws.String("sender@example.com")
		}
		if in.Destination == nil {
			in.Destination = &v1types.Destination{ToAddresses: []string{"rcpt@example.net"}}
		}
		if in.Message == nil {
			in.Message = &v1types.Message{Subject: &v1types.Content{Data: aws.String("crlf")},
				Body: &v1types.Body{Text: &v1types.Content{Data: aws.String("body")}}}
		}
		out, err := v1.SendEmail(ctx, in)
		if err != nil {
			return "", err
		}
		return aws.ToString(out.MessageId), nil
	}
	attempts := []attempt{
		{"v2 Subject", func(v string) (string, error) {
			return v2send(&sesv2.SendEmailInput{Content: simple(v, "body", "")})
		}},
		{"v2 From display name", func(v string) (string, error) {
			return v2send(&sesv2.SendEmailInput{FromEmailAddress: aws.String(`"` + v + `" <sender@example.com>`)})
		}},
		{"v2 From display name, unquoted", func(v string) (string, error) {
			return v2send(&sesv2.SendEmailInput{FromEmailAddress: aws.String(v + " <sender@example.com>")})
		}},
		{"v2 ReplyToAddresses", func(v string) (string, error) {
			return v2send(&sesv2.SendEmailInput{ReplyToAddresses: []string{v + " <r@example.com>"}})
		}},
		{"v2 FeedbackForwardingEmailAddress", func(v string) (string, error) {
			return v2send(&sesv2.SendEmailInput{FeedbackForwardingEmailAddress: aws.String(v + "@example.com")})
		}},
		{"v2 ToAddresses", func(v string) (string, error) {
			return v2send(&sesv2.SendEmailInput{Destination: dest(`"` + v + `" <rcpt@example.net>`)})
		}},
		{"v2 ToAddresses, bare", func(v string) (string, error) {
			return v2send(&sesv2.SendEmailInput{Destination: dest("rcpt@example.net" + strings.TrimPrefix(v, "x"))})
		}},
		{"v2 EmailTags value", func(v string) (string, error) {
			return v2send(&sesv2.SendEmailInput{EmailTags: []v2types.MessageTag{{Name: aws.String("t"), Value: aws.String(v)}}})
		}},
		{"v2 ConfigurationSetName", func(v string) (string, error) {
			return v2send(&sesv2.SendEmailInput{ConfigurationSetName: aws.String("plain" + strings.TrimPrefix(v, "x"))})
		}},
		{"v2 Simple.Headers value", func(v string) (string, error) {
			c := simple("crlf", "body", "")
			c.Simple.Headers = []v2types.MessageHeader{{Name: aws.String("X-Custom"), Value: aws.String(v)}}
			return v2send(&sesv2.SendEmailInput{Content: c})
		}},
		{"v2 Simple.Headers name", func(v string) (string, error) {
			c := simple("crlf", "body", "")
			c.Simple.Headers = []v2types.MessageHeader{{Name: aws.String("X-Custom" + strings.TrimPrefix(v, "x")), Value: aws.String("v")}}
			return v2send(&sesv2.SendEmailInput{Content: c})
		}},
		{"v2 template data", func(v string) (string, error) {
			data := `{"name":` + jsonString(v) + `}`
			return v2send(&sesv2.SendEmailInput{Content: &v2types.EmailContent{Template: &v2types.Template{
				TemplateName: aws.String("inj"), TemplateData: aws.String(data)}}})
		}},
		{"v2 inline template subject", func(v string) (string, error) {
			return v2send(&sesv2.SendEmailInput{Content: &v2types.EmailContent{Template: &v2types.Template{
				TemplateContent: &v2types.EmailTemplateContent{Subject: aws.String("{{s}}"), Text: aws.String("b")},
				TemplateData:    aws.String(`{"s":` + jsonString(v) + `}`)}}})
		}},
		{"v1 Subject", func(v string) (string, error) {
			return v1send(&ses.SendEmailInput{Message: &v1types.Message{Subject: &v1types.Content{Data: aws.String(v)},
				Body: &v1types.Body{Text: &v1types.Content{Data: aws.String("b")}}}})
		}},
		{"v1 Source display name", func(v string) (string, error) {
			return v1send(&ses.SendEmailInput{Source: aws.String(`"` + v + `" <sender@example.com>`)})
		}},
		{"v1 ReplyToAddresses", func(v string) (string, error) {
			return v1send(&ses.SendEmailInput{ReplyToAddresses: []string{v + " <r@example.com>"}})
		}},
		{"v1 ReturnPath", func(v string) (string, error) {
			return v1send(&ses.SendEmailInput{ReturnPath: aws.String(v + "@example.com")})
		}},
		{"v1 Tags value", func(v string) (string, error) {
			return v1send(&ses.SendEmailInput{Tags: []v1types.MessageTag{{Name: aws.String("t"), Value: aws.String(v)}}})
		}},
		{"v1 ToAddresses", func(v string) (string, error) {
			return v1send(&ses.SendEmailInput{Destination: &v1types.Destination{ToAddresses: []string{`"` + v + `" <rcpt@example.net>`}}})
		}},
		{"v1 ConfigurationSetName", func(v string) (string, error) {
			return v1send(&ses.SendEmailInput{ConfigurationSetName: aws.String("plain" + strings.TrimPrefix(v, "x"))})
		}},
	}
	refused, encoded := 0, 0
	for _, a := range attempts {
		for _, inj := range injections {
			id, err := a.send(inj)
			if err != nil {
				if apiCode(err) == "" {
					t.Errorf("%s %q: not an AWS error: %v", a.field, inj, err)
				}
				refused++
				continue
			}
			encoded++
			t.Logf("%s %q: accepted, encoded", a.field, inj)
			m := waitID(t, s, id)
			header, _, _ := strings.Cut(m.RawData, "\r\n\r\n")
			for _, line := range strings.Split(header, "\r\n") {
				l := strings.ToLower(line)
				if strings.HasPrefix(l, "x-injected") || strings.HasPrefix(l, "bcc:") {
					t.Errorf("%s %q: the message got a header of the caller's: %q", a.field, inj, line)
				}
			}
			if strings.ContainsAny(strings.ReplaceAll(header, "\r\n", ""), "\r\n") {
				t.Errorf("%s %q: a bare CR or LF in the header section", a.field, inj)
			}
			for _, r := range m.Recipients {
				if strings.Contains(r, "evil") {
					t.Errorf("%s %q: delivered to %q", a.field, inj, r)
				}
			}
		}
	}
	t.Logf("%d attempts refused with an AWS error, %d accepted with the value encoded", refused, encoded)
}

func jsonString(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\r", `\r`, "\n", `\n`)
	return `"` + r.Replace(s) + `"`
}

// waitID polls /_aws/ses until the message with this id is captured.
func waitID(t *testing.T, s *testenv.Server, id string) testenv.CapturedMessage {
	t.Helper()
	var got testenv.CapturedMessage
	waitFor(t, "message "+id+" captured", func() bool {
		for _, m := range s.Captured("id=" + id) {
			if m.ID == id {
				got = m
				return true
			}
		}
		return false
	})
	return got
}
