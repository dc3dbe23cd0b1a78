package e2e

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ses"
	sesv1types "github.com/aws/aws-sdk-go-v2/service/ses/types"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	"github.com/aws/aws-sdk-go-v2/service/sesv2/types"

	"sesame/internal/testenv"
)

const simulator = "success@simulator.amazonses.com"

func simple(subject, text, html string) *types.EmailContent {
	body := &types.Body{}
	if text != "" {
		body.Text = &types.Content{Data: aws.String(text)}
	}
	if html != "" {
		body.Html = &types.Content{Data: aws.String(html)}
	}
	return &types.EmailContent{Simple: &types.Message{
		Subject: &types.Content{Data: aws.String(subject), Charset: aws.String("UTF-8")}, Body: body}}
}

// TestAPISendV2 sends every kind of SESv2 content with the real SDK client
// and reads each message back from /_aws/ses.
func TestAPISendV2(t *testing.T) {
	s := startProduction(t, testenv.Options{})
	s.Verify("example.com")
	ctx := context.Background()
	v2 := s.SESv2Client(t)
	if _, err := v2.CreateConfigurationSet(ctx, &sesv2.CreateConfigurationSetInput{ConfigurationSetName: aws.String("cs1")}); err != nil {
		t.Fatal(err)
	}

	t.Run("Simple with every field", func(t *testing.T) {
		content := simple("Grüße v2 simple", "plain text body, ünïcode", "<p>html body</p>")
		content.Simple.Attachments = []types.Attachment{{
			FileName: aws.String("report.csv"), ContentType: aws.String("text/csv"),
			RawContent: []byte("a,b\n1,2\n"), ContentDisposition: types.AttachmentContentDispositionAttachment,
		}}
		out, err := v2.SendEmail(ctx, &sesv2.SendEmailInput{
			FromEmailAddress: aws.String("Sender Name <sender@example.com>"),
			Destination: &types.Destination{ToAddresses: []string{simulator},
				CcAddresses: []string{"success+cc@simulator.amazonses.com"}, BccAddresses: []string{"success+bcc@simulator.amazonses.com"}},
			ReplyToAddresses:               []string{"reply@example.com"},
			FeedbackForwardingEmailAddress: aws.String("bounces@example.com"),
			EmailTags:                      []types.MessageTag{{Name: aws.String("campaign"), Value: aws.String("c1")}},
			ConfigurationSetName:           aws.String("cs1"),
			Content:                        content,
		})
		if err != nil {
			t.Fatal(err)
		}
		m := waitSubject(t, s, "Grüße v2 simple")
		if m.ID != aws.ToString(out.MessageId) {
			t.Errorf("captured id %q, SendEmail returned %q", m.ID, aws.ToString(out.MessageId))
		}
		if len(m.Recipients) != 3 {
			t.Errorf("recipients = %v, want To, Cc and Bcc", m.Recipients)
		}
		if m.Body.TextPart == nil || !strings.Contains(*m.Body.TextPart, "plain text body, ünïcode") ||
			m.Body.HTMLPart == nil || !strings.Contains(*m.Body.HTMLPart, "<p>html body</p>") {
			t.Errorf("captured parts: text %v html %v", m.Body.TextPart, m.Body.HTMLPart)
		}
		raw := m.RawData
		for _, want := range []string{"Reply-To: reply@example.com", "=?UTF-8?", "multipart/alternative",
			"multipart/mixed", "report.csv", "Cc: success+cc@simulator.amazonses.com",
			"Content-Transfer-Encoding: quoted-printable", "=C3=BC"} {
			if !strings.Contains(raw, want) {
				t.Errorf("raw message lacks %q:\n%s", want, raw)
			}
		}
		if strings.Contains(raw, "success+bcc@") {
			t.Errorf("Bcc address leaked into the message:\n%s", raw)
		}
	})

	t.Run("Raw", func(t *testing.T) {
		raw := "From: sender@example.com\r\nTo: " + simulator + "\r\nSubject: v2 raw\r\n\r\nraw body\r\n"
		if _, err := v2.SendEmail(ctx, &sesv2.SendEmailInput{Content: &types.EmailContent{Raw: &types.RawMessage{Data: []byte(raw)}}}); err != nil {
			t.Fatal(err)
		}
		m := waitSubject(t, s, "v2 raw")
		if m.Body.TextPart == nil || !strings.Contains(*m.Body.TextPart, "raw body") {
			t.Errorf("text part = %v", m.Body.TextPart)
		}
	})

	t.Run("Template stored and inline", func(t *testing.T) {
		if _, err := v2.CreateEmailTemplate(ctx, &sesv2.CreateEmailTemplateInput{TemplateName: aws.String("welcome"),
			TemplateContent: &types.EmailTemplateContent{Subject: aws.String("Welcome {{name}}"), Text: aws.String("Hi {{name}} <{{team.lead}}>")}}); err != nil {
			t.Fatal(err)
		}
		if _, err := v2.SendEmail(ctx, &sesv2.SendEmailInput{FromEmailAddress: aws.String("sender@example.com"),
			Destination: &types.Destination{ToAddresses: []string{simulator}},
			Content: &types.EmailContent{Template: &types.Template{TemplateName: aws.String("welcome"),
				TemplateData: aws.String(`{"name":"Ann","team":{"lead":"Bo & Co"}}`)}}}); err != nil {
			t.Fatal(err)
		}
		m := waitSubject(t, s, "Welcome Ann")
		// SES does not HTML-escape substitutions.
		if m.Body.TextPart == nil || !strings.Contains(*m.Body.TextPart, "Hi Ann <Bo & Co>") {
			t.Errorf("text part = %v", m.Body.TextPart)
		}
		if _, err := v2.SendEmail(ctx, &sesv2.SendEmailInput{FromEmailAddress: aws.String("sender@example.com"),
			Destination: &types.Destination{ToAddresses: []string{simulator}},
			Content: &types.EmailContent{Template: &types.Template{
				TemplateContent: &types.EmailTemplateContent{Subject: aws.String("Inline {{x}}"), Html: aws.String("<i>{{x}}</i>")},
				TemplateData:    aws.String(`{"x":"42"}`)}}}); err != nil {
			t.Fatal(err)
		}
		m = waitSubject(t, s, "Inline 42")
		if m.Body.HTMLPart == nil || !strings.Contains(*m.Body.HTMLPart, "<i>42</i>") {
			t.Errorf("html part = %v", m.Body.HTMLPart)
		}
	})

	t.Run("SendBulkEmail", func(t *testing.T) {
		out, err := v2.SendBulkEmail(ctx, &sesv2.SendBulkEmailInput{
			FromEmailAddress: aws.String("sender@example.com"),
			DefaultContent: &types.BulkEmailContent{Template: &types.Template{TemplateName: aws.String("welcome"),
				TemplateData: aws.String(`{"name":"Default","team":{"lead":"x"}}`)}},
			BulkEmailEntries: []types.BulkEmailEntry{
				{Destination: &types.Destination{ToAddresses: []string{"success+1@simulator.amazonses.com"}},
					ReplacementEmailContent: &types.ReplacementEmailContent{ReplacementTemplate: &types.ReplacementTemplate{
						ReplacementTemplateData: aws.String(`{"name":"Bulk1","team":{"lead":"y"}}`)}}},
				{Destination: &types.Destination{ToAddresses: []string{"success+2@simulator.amazonses.com"}}},
			},
		})
		if err != nil {
			t.Fatal(err)
		}
		if len(out.BulkEmailEntryResults) != 2 {
			t.Fatalf("results = %+v", out.BulkEmailEntryResults)
		}
		for i, r := range out.BulkEmailEntryResults {
			if r.Status != types.BulkEmailStatusSuccess || aws.ToString(r.MessageId) == "" {
				t.Errorf("entry %d: %s %q %s", i, r.Status, aws.ToString(r.MessageId), aws.ToString(r.Error))
			}
		}
		waitSubject(t, s, "Welcome Bulk1")
		waitSubject(t, s, "Welcome Default")
	})

	t.Run("errors", func(t *testing.T) {
		send := func(in *sesv2.SendEmailInput) error {
			_, err := v2.SendEmail(ctx, in)
			return err
		}
		to := &types.Destination{ToAddresses: []string{simulator}}
		cases := []struct {
			name string
			in   *sesv2.SendEmailInput
			want string
		}{
			{"unverified sender", &sesv2.SendEmailInput{FromEmailAddress: aws.String("x@unverified.example.net"), Destination: to,
				Content: simple("s", "b", "")}, "MessageRejected"},
			{"CR LF in the subject", &sesv2.SendEmailInput{FromEmailAddress: aws.String("sender@example.com"), Destination: to,
				Content: simple("s\r\nBcc: victim@example.org", "b", "")}, "BadRequestException"},
			{"CR LF in an address", &sesv2.SendEmailInput{FromEmailAddress: aws.String("sender@example.com\r\nBcc: victim@example.org"),
				Destination: to, Content: simple("s", "b", "")}, "BadRequestException"},
			{"unknown configuration set", &sesv2.SendEmailInput{FromEmailAddress: aws.String("sender@example.com"), Destination: to,
				ConfigurationSetName: aws.String("nope"), Content: simple("s", "b", "")}, "NotFoundException"},
			{"unknown template", &sesv2.SendEmailInput{FromEmailAddress: aws.String("sender@example.com"), Destination: to,
				Content: &types.EmailContent{Template: &types.Template{TemplateName: aws.String("nope"), TemplateData: aws.String("{}")}}},
				"NotFoundException"},
			{"no content", &sesv2.SendEmailInput{FromEmailAddress: aws.String("sender@example.com"), Destination: to,
				Content: &types.EmailContent{}}, "BadRequestException"},
			{"51 recipients", &sesv2.SendEmailInput{FromEmailAddress: aws.String("sender@example.com"),
				Destination: &types.Destination{ToAddresses: manyRecipients(51)}, Content: simple("s", "b", "")}, "MessageRejected"},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) { wantCode(t, send(tc.in), tc.want) })
		}
	})

	t.Run("sending paused", func(t *testing.T) {
		if _, err := v2.PutAccountSendingAttributes(ctx, &sesv2.PutAccountSendingAttributesInput{SendingEnabled: false}); err != nil {
			t.Fatal(err)
		}
		defer v2.PutAccountSendingAttributes(ctx, &sesv2.PutAccountSendingAttributesInput{SendingEnabled: true})
		// Account settings reach the sending path within a second (a bounded cache).
		deadline := time.Now().Add(3 * time.Second)
		for {
			_, err := v2.SendEmail(ctx, &sesv2.SendEmailInput{FromEmailAddress: aws.String("sender@example.com"),
				Destination: &types.Destination{ToAddresses: []string{simulator}}, Content: simple("paused?", "b", "")})
			if apiCode(err) == "SendingPausedException" {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("still not paused after 3 s: %v", err)
			}
			time.Sleep(100 * time.Millisecond)
		}
	})
}

func manyRecipients(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = "success+" + strings.Repeat("r", i+1) + "@simulator.amazonses.com"
	}
	return out
}

// TestAPISendSandboxThrottle: the sandbox's 1 message/s answers SES's
// TooManyRequestsException (v2) and Throttling (v1) to a burst.
func TestAPISendSandboxThrottle(t *testing.T) {
	s := testenv.Start(t, testenv.Options{})
	s.Verify("example.com")
	ctx := context.Background()
	v2, v1 := s.SESv2Client(t), s.SESClient(t)
	seen := map[string]bool{}
	// Both clients in turn until each has been throttled: the sandbox allows
	// one message a second, so this ends within a few calls unless each call
	// takes a second.
	for i := 0; i < 40 && !(seen["TooManyRequestsException"] && seen["Throttling"]); i++ {
		_, err := v2.SendEmail(ctx, &sesv2.SendEmailInput{FromEmailAddress: aws.String("sender@example.com"),
			Destination: &types.Destination{ToAddresses: []string{simulator}}, Content: simple("burst", "b", "")})
		seen[apiCode(err)] = true
		_, err = v1.SendEmail(ctx, &ses.SendEmailInput{Source: aws.String("sender@example.com"),
			Destination: &sesv1types.Destination{ToAddresses: []string{simulator}},
			Message:     &sesv1types.Message{Subject: &sesv1types.Content{Data: aws.String("burst")}, Body: &sesv1types.Body{Text: &sesv1types.Content{Data: aws.String("b")}}}})
		seen[apiCode(err)] = true
	}
	for code := range seen {
		if code != "" && code != "TooManyRequestsException" && code != "Throttling" {
			t.Errorf("a burst in the sandbox answered %s", code)
		}
	}
	if !seen["TooManyRequestsException"] || !seen["Throttling"] {
		t.Errorf("a burst in the sandbox answered %v, want TooManyRequestsException (v2) and Throttling (v1)", seen)
	}
}

// TestAPISendV1 sends with every v1 action and the real SES (Query) client.
func TestAPISendV1(t *testing.T) {
	s := startProduction(t, testenv.Options{})
	s.Verify("example.com")
	ctx := context.Background()
	v1 := s.SESClient(t)
	dest := &sesv1types.Destination{ToAddresses: []string{simulator}}

	if _, err := v1.SendEmail(ctx, &ses.SendEmailInput{Source: aws.String("sender@example.com"), Destination: dest,
		ReplyToAddresses: []string{"reply@example.com"},
		Message: &sesv1types.Message{Subject: &sesv1types.Content{Data: aws.String("v1 simple"), Charset: aws.String("UTF-8")},
			Body: &sesv1types.Body{Text: &sesv1types.Content{Data: aws.String("v1 text & more")}, Html: &sesv1types.Content{Data: aws.String("<b>v1</b>")}}},
		Tags: []sesv1types.MessageTag{{Name: aws.String("k"), Value: aws.String("v")}}}); err != nil {
		t.Fatal(err)
	}
	m := waitSubject(t, s, "v1 simple")
	if m.Body.TextPart == nil || !strings.Contains(*m.Body.TextPart, "v1 text & more") || !strings.Contains(m.RawData, "Reply-To: reply@example.com") {
		t.Errorf("captured v1 simple: text %v\n%s", m.Body.TextPart, m.RawData)
	}

	raw := "From: sender@example.com\r\nTo: " + simulator + "\r\nSubject: v1 raw\r\n\r\nraw v1 body\r\n"
	if _, err := v1.SendRawEmail(ctx, &ses.SendRawEmailInput{RawMessage: &sesv1types.RawMessage{Data: []byte(raw)}}); err != nil {
		t.Fatal(err)
	}
	waitSubject(t, s, "v1 raw")
	// SendRawEmail with Destinations overrides the headers' recipients.
	if _, err := v1.SendRawEmail(ctx, &ses.SendRawEmailInput{Destinations: []string{"success+only@simulator.amazonses.com"},
		RawMessage: &sesv1types.RawMessage{Data: []byte(strings.Replace(raw, "v1 raw", "v1 raw destinations", 1))}}); err != nil {
		t.Fatal(err)
	}
	if m := waitSubject(t, s, "v1 raw destinations"); len(m.Recipients) != 1 || m.Recipients[0] != "success+only@simulator.amazonses.com" {
		t.Errorf("SendRawEmail Destinations: recipients %v", m.Recipients)
	}

	if _, err := v1.CreateTemplate(ctx, &ses.CreateTemplateInput{Template: &sesv1types.Template{TemplateName: aws.String("t1"),
		SubjectPart: aws.String("v1 template {{who}}"), TextPart: aws.String("{{#if vip}}VIP {{/if}}{{who}}")}}); err != nil {
		t.Fatal(err)
	}
	if _, err := v1.SendTemplatedEmail(ctx, &ses.SendTemplatedEmailInput{Source: aws.String("sender@example.com"), Destination: dest,
		Template: aws.String("t1"), TemplateData: aws.String(`{"who":"Cy","vip":true}`)}); err != nil {
		t.Fatal(err)
	}
	if m := waitSubject(t, s, "v1 template Cy"); m.Body.TextPart == nil || !strings.Contains(*m.Body.TextPart, "VIP Cy") {
		t.Errorf("templated text = %v", m.Body.TextPart)
	}
	bulk, err := v1.SendBulkTemplatedEmail(ctx, &ses.SendBulkTemplatedEmailInput{Source: aws.String("sender@example.com"),
		Template: aws.String("t1"), DefaultTemplateData: aws.String(`{"who":"Dee"}`),
		Destinations: []sesv1types.BulkEmailDestination{
			{Destination: &sesv1types.Destination{ToAddresses: []string{"success+a@simulator.amazonses.com"}}},
			{Destination: &sesv1types.Destination{ToAddresses: []string{"success+b@simulator.amazonses.com"}},
				ReplacementTemplateData: aws.String(`{"who":"Eve"}`)},
		}})
	if err != nil {
		t.Fatal(err)
	}
	if len(bulk.Status) != 2 {
		t.Fatalf("bulk status = %+v", bulk.Status)
	}
	for i, st := range bulk.Status {
		if st.Status != sesv1types.BulkEmailStatusSuccess || aws.ToString(st.MessageId) == "" {
			t.Errorf("bulk entry %d: %s %s", i, st.Status, aws.ToString(st.Error))
		}
	}
	waitSubject(t, s, "v1 template Dee")
	waitSubject(t, s, "v1 template Eve")

	errs := []struct {
		name string
		call func() error
		want string
	}{
		{"unverified sender", func() error {
			_, err := v1.SendEmail(ctx, &ses.SendEmailInput{Source: aws.String("x@unverified.example.net"), Destination: dest,
				Message: &sesv1types.Message{Subject: &sesv1types.Content{Data: aws.String("s")}, Body: &sesv1types.Body{Text: &sesv1types.Content{Data: aws.String("b")}}}})
			return err
		}, "MessageRejected"},
		{"unknown template", func() error {
			_, err := v1.SendTemplatedEmail(ctx, &ses.SendTemplatedEmailInput{Source: aws.String("sender@example.com"), Destination: dest,
				Template: aws.String("nope"), TemplateData: aws.String("{}")})
			return err
		}, "TemplateDoesNotExist"},
		{"unknown configuration set", func() error {
			_, err := v1.SendEmail(ctx, &ses.SendEmailInput{Source: aws.String("sender@example.com"), Destination: dest,
				ConfigurationSetName: aws.String("nope"),
				Message:              &sesv1types.Message{Subject: &sesv1types.Content{Data: aws.String("s")}, Body: &sesv1types.Body{Text: &sesv1types.Content{Data: aws.String("b")}}}})
			return err
		}, "ConfigurationSetDoesNotExist"},
	}
	for _, tc := range errs {
		t.Run(tc.name, func(t *testing.T) { wantCode(t, tc.call(), tc.want) })
	}
}
