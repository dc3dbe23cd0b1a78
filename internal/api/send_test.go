package api

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"io"
	"log/slog"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/http/httptest"
	"net/mail"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ses"
	v1types "github.com/aws/aws-sdk-go-v2/service/ses/types"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	v2types "github.com/aws/aws-sdk-go-v2/service/sesv2/types"

	"sesame/internal/clock"
	"sesame/internal/mailmsg"
	"sesame/internal/quota"
	"sesame/internal/receiving/bounce"
	"sesame/internal/sending"
	"sesame/internal/spool"
	"sesame/internal/store"
)

// sendEnv is the real API server with a real Sender (store, spool, quota)
// on loopback, one account whose verified identities are the domain
// verified.com and the address me@example.org, and real SDK clients.
type sendEnv struct {
	st     *store.Store
	sp     *spool.Spool
	clk    *clock.Fake
	logs   *lockedBuffer // the API server's log
	acct   string
	region string
	v2     *sesv2.Client
	v1     *ses.Client
}

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func newSendEnv(t *testing.T, production bool) *sendEnv {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	st, err := store.Open(filepath.Join(dir, "state"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	sp, err := spool.Open(filepath.Join(dir, "spool"), spool.Options{Logger: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sp.Close() })
	acct, key, err := st.CreateAccount(ctx)
	if err != nil {
		t.Fatal(err)
	}
	const region = "us-east-1"
	for _, id := range []store.Identity{
		{Name: "verified.com", Type: store.Domain, Status: store.StatusSuccess},
		{Name: "me@example.org", Type: store.EmailAddress, Status: store.StatusSuccess},
	} {
		id.AccountID, id.Region = acct.ID, region
		if err := st.PutIdentity(ctx, id); err != nil {
			t.Fatal(err)
		}
	}
	set := store.DefaultSettings(acct.ID, region)
	set.MaxSendRate, set.Max24HourSend, set.Production = 1000, 1000, production
	if err := st.PutAccountSettings(ctx, set); err != nil {
		t.Fatal(err)
	}
	clk := clock.NewFake(time.Now()) // clients sign with the real time
	limiter := quota.New(st, clk, quiet())
	t.Cleanup(func() { limiter.Close() })
	sender := sending.New(sending.Config{Store: st, Spool: sp, Quota: limiter, Clock: clk, Hostname: "mail.test", Logger: quiet()})
	t.Cleanup(func() { sender.Close() })
	logs := &lockedBuffer{}
	srv := New(Config{Store: st, Sender: sender, Bouncer: bounce.New(sender, "mail.test"), Quota: limiter, Regions: []string{region}, Clock: clk,
		Logger: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelWarn}))})
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(hs.Close)
	cfg := aws.Config{Region: region, RetryMaxAttempts: 1, BaseEndpoint: aws.String(hs.URL),
		Credentials: credentials.StaticCredentialsProvider{Value: aws.Credentials{AccessKeyID: key.ID, SecretAccessKey: key.Secret}}}
	return &sendEnv{st: st, sp: sp, clk: clk, logs: logs, acct: acct.ID, region: region, v2: sesv2.NewFromConfig(cfg), v1: ses.NewFromConfig(cfg)}
}

// lockedBuffer is a log sink safe for the server's goroutines.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// claim takes the n spooled messages, in order.
func (e *sendEnv) claim(t *testing.T, n int) []spooled {
	t.Helper()
	if got := e.sp.Len(); got != n {
		t.Fatalf("spool holds %d messages, want %d", got, n)
	}
	if n == 0 {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	entries, err := e.sp.Claim(ctx, n)
	if err != nil || len(entries) != n {
		t.Fatalf("Claim: %d entries, %v", len(entries), err)
	}
	out := make([]spooled, n)
	for i, en := range entries {
		r, err := en.Open()
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(r)
		r.Close()
		if err != nil {
			t.Fatal(err)
		}
		msg, err := mail.ReadMessage(bytes.NewReader(b))
		if err != nil {
			t.Fatalf("spooled message does not parse: %v\n%s", err, b)
		}
		out[i] = spooled{en.Envelope, string(b), msg}
		if err := e.sp.Done(ctx, en.ID); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

type spooled struct {
	env spool.Envelope
	raw string
	msg *mail.Message
}

// parts returns the decoded leaf parts of a message: content type → body.
func (m spooled) parts(t *testing.T) map[string]string {
	t.Helper()
	out := map[string]string{}
	var walk func(h textprotoHeader, body io.Reader)
	walk = func(h textprotoHeader, body io.Reader) {
		mt, params, err := mime.ParseMediaType(h.Get("Content-Type"))
		if err != nil {
			t.Fatalf("Content-Type %q: %v", h.Get("Content-Type"), err)
		}
		if strings.HasPrefix(mt, "multipart/") {
			r := multipart.NewReader(body, params["boundary"])
			for {
				p, err := r.NextPart() // decodes quoted-printable
				if err == io.EOF {
					return
				}
				if err != nil {
					t.Fatal(err)
				}
				walk(p.Header, p)
			}
		}
		b, _ := io.ReadAll(body)
		switch h.Get("Content-Transfer-Encoding") {
		case "quoted-printable":
			b, _ = io.ReadAll(qpReader(b))
		case "base64":
			b, _ = base64.StdEncoding.DecodeString(strings.ReplaceAll(string(b), "\r\n", ""))
		}
		key := mt
		if _, ok := out[key]; ok {
			key = mt + " " + params["name"]
		}
		out[key] = string(b)
	}
	walk(m.msg.Header, m.msg.Body)
	return out
}

// textprotoHeader is what mail.Header and textproto.MIMEHeader share.
type textprotoHeader interface{ Get(string) string }

func qpReader(b []byte) io.Reader { return quotedprintable.NewReader(bytes.NewReader(b)) }

func TestSendEmailV2Simple(t *testing.T) {
	t.Parallel()
	e := newSendEnv(t, true)
	ctx := context.Background()
	out, err := e.v2.SendEmail(ctx, &sesv2.SendEmailInput{
		FromEmailAddress: aws.String("Zoë <me@example.org>"),
		Destination: &v2types.Destination{ToAddresses: []string{"to@example.com"}, CcAddresses: []string{"cc@example.com"},
			BccAddresses: []string{"hidden@example.com"}},
		ReplyToAddresses:               []string{"reply@example.com"},
		FeedbackForwardingEmailAddress: aws.String("bounces@verified.com"),
		EmailTags:                      []v2types.MessageTag{{Name: aws.String("campaign"), Value: aws.String("c1")}},
		Content: &v2types.EmailContent{Simple: &v2types.Message{
			Subject: &v2types.Content{Data: aws.String("Grüße"), Charset: aws.String("UTF-8")},
			Body:    &v2types.Body{Text: &v2types.Content{Data: aws.String("Hi & bye")}, Html: &v2types.Content{Data: aws.String("<p>Hi</p>")}},
			Headers: []v2types.MessageHeader{{Name: aws.String("X-Campaign"), Value: aws.String("c1")}},
			Attachments: []v2types.Attachment{{FileName: aws.String("a.txt"), RawContent: []byte("attached"),
				ContentType: aws.String("text/plain")}},
		}},
	})
	if err != nil {
		t.Fatal(err)
	}
	m := e.claim(t, 1)[0]
	if m.env.ID != aws.ToString(out.MessageId) || m.env.MailFrom != "bounces@verified.com" || m.env.Via != "api" {
		t.Errorf("envelope = %+v, MessageId %s", m.env, aws.ToString(out.MessageId))
	}
	if want := []string{"to@example.com", "cc@example.com", "hidden@example.com"}; !slices.Equal(m.env.Recipients, want) {
		t.Errorf("recipients = %v, want %v", m.env.Recipients, want)
	}
	if !reflect.DeepEqual(m.env.Tags, []spool.Tag{{Name: "campaign", Value: "c1"}}) || m.env.FeedbackTo != "bounces@verified.com" ||
		m.env.Operation == "" || m.env.SourceIP != "127.0.0.1" || m.env.CallerIdentity == "" {
		t.Errorf("meta = %+v", m.env.Meta)
	}
	h := m.msg.Header
	dec := new(mime.WordDecoder)
	subject, _ := dec.DecodeHeader(h.Get("Subject"))
	from, _ := dec.DecodeHeader(h.Get("From"))
	for name, got := range map[string]string{
		"Subject": subject, "From": from, "To": h.Get("To"), "Cc": h.Get("Cc"), "Reply-To": h.Get("Reply-To"),
		"Bcc": h.Get("Bcc"), "X-Campaign": h.Get("X-Campaign"), "MIME-Version": h.Get("MIME-Version"),
		"Message-ID": h.Get("Message-ID"),
	} {
		want := map[string]string{"Subject": "Grüße", "From": "Zoë <me@example.org>", "To": "to@example.com",
			"Cc": "cc@example.com", "Reply-To": "reply@example.com", "Bcc": "", "X-Campaign": "c1", "MIME-Version": "1.0",
			"Message-ID": "<" + m.env.ID + "@us-east-1.mail.test>"}[name]
		if got != want {
			t.Errorf("%s = %q, want %q", name, got, want)
		}
	}
	if h.Get("Date") == "" {
		t.Error("no Date header")
	}
	parts := m.parts(t)
	if parts["text/plain"] != "Hi & bye" || parts["text/html"] != "<p>Hi</p>" || parts["text/plain a.txt"] != "attached" {
		t.Errorf("parts = %q", parts)
	}
}

func TestSendEmailV2Raw(t *testing.T) {
	t.Parallel()
	e := newSendEnv(t, true)
	ctx := context.Background()
	raw := "From: Me <me@example.org>\r\nTo: a@example.com, B <b@example.com>\r\nCc: c@example.com\r\nSubject: raw\r\n\r\nbody\r\n"
	// No FromEmailAddress, no Destination: both come from the header. SES's
	// directives are read and removed, Message-ID and Date overwritten.
	withSES := "Message-ID: <mine@example.org>\r\nX-SES-MESSAGE-TAGS: k=v\r\nDate: Mon, 1 Jan 2024 00:00:00 +0000\r\n" + raw
	if _, err := e.v2.SendEmail(ctx, &sesv2.SendEmailInput{Content: &v2types.EmailContent{Raw: &v2types.RawMessage{Data: []byte(withSES)}}}); err != nil {
		t.Fatal(err)
	}
	_, err := e.v2.SendEmail(ctx, &sesv2.SendEmailInput{Content: &v2types.EmailContent{Raw: &v2types.RawMessage{
		Data: []byte("X-SES-CONFIGURATION-SET: nope\r\n" + raw)}}})
	wantErrCode(t, err, "NotFoundException")
	// Explicit destinations replace the header's; bare LF line ends (as the
	// CLI sends them) are stored as CRLF, as over SMTP.
	lf := "From: me@example.org\nSubject: x\n\nbody"
	if _, err := e.v2.SendEmail(ctx, &sesv2.SendEmailInput{Destination: &v2types.Destination{ToAddresses: []string{"only@example.com"}},
		Content: &v2types.EmailContent{Raw: &v2types.RawMessage{Data: []byte(lf)}}}); err != nil {
		t.Fatal(err)
	}
	// A From SES cannot use: SES's own refusal, as over SMTP.
	_, err = e.v2.SendEmail(ctx, &sesv2.SendEmailInput{Content: &v2types.EmailContent{Raw: &v2types.RawMessage{
		Data: []byte("From: nobody\r\nTo: a@example.com\r\nSubject: s\r\n\r\nb\r\n")}}})
	wantErrCode(t, err, "MessageRejected")
	if !strings.Contains(err.Error(), "Missing final '@domain'") {
		t.Errorf("bad From: %v", err)
	}
	ms := e.claim(t, 2)
	if want := []string{"a@example.com", "b@example.com", "c@example.com"}; !slices.Equal(ms[0].env.Recipients, want) || ms[0].env.MailFrom != "me@example.org" {
		t.Errorf("first envelope = %+v", ms[0].env)
	}
	// The spool keeps the message as given behind sesame's Message-ID and
	// Date; what leaves has neither the client's nor the directives.
	out := string(mailmsg.StripForDelivery([]byte(ms[0].raw)))
	if !strings.HasSuffix(out, raw) || strings.Contains(out, "mine@") || strings.Contains(out, "2024") || strings.Contains(out, "X-SES-") ||
		!strings.HasPrefix(out, "Message-ID: <"+ms[0].env.ID+"@") || !reflect.DeepEqual(ms[0].env.Tags, []spool.Tag{{Name: "k", Value: "v"}}) {
		t.Errorf("raw message: %+v\n%s", ms[0].env.Meta, out)
	}
	if !slices.Equal(ms[1].env.Recipients, []string{"only@example.com"}) || !strings.HasSuffix(ms[1].raw, strings.ReplaceAll(lf, "\n", "\r\n")) {
		t.Errorf("second: %+v\n%s", ms[1].env, ms[1].raw)
	}
}

func TestSendEmailV2Template(t *testing.T) {
	t.Parallel()
	e := newSendEnv(t, true)
	ctx := context.Background()
	_, err := e.v2.CreateEmailTemplate(ctx, &sesv2.CreateEmailTemplateInput{TemplateName: aws.String("welcome"),
		TemplateContent: &v2types.EmailTemplateContent{Subject: aws.String("Hi {{name}}"),
			Text: aws.String("{{#each items}}- {{this}}\n{{/each}}"), Html: aws.String("<b>{{name}}</b>")}})
	if err != nil {
		t.Fatal(err)
	}
	send := func(tmpl *v2types.Template) (*sesv2.SendEmailOutput, error) {
		return e.v2.SendEmail(ctx, &sesv2.SendEmailInput{FromEmailAddress: aws.String("me@example.org"),
			Destination: &v2types.Destination{ToAddresses: []string{"to@example.com"}},
			Content:     &v2types.EmailContent{Template: tmpl}})
	}
	if _, err := send(&v2types.Template{TemplateName: aws.String("welcome"), TemplateData: aws.String(`{"name":"<Ann>","items":["a","b"]}`)}); err != nil {
		t.Fatal(err)
	}
	// Inline TemplateContent needs no stored template.
	if _, err := send(&v2types.Template{TemplateContent: &v2types.EmailTemplateContent{Subject: aws.String("S {{x}}"), Text: aws.String("T {{x}}")},
		TemplateData: aws.String(`{"x":1}`)}); err != nil {
		t.Fatal(err)
	}
	ms := e.claim(t, 2)
	if got := ms[0].msg.Header.Get("Subject"); got != "Hi <Ann>" {
		t.Errorf("Subject = %q", got)
	}
	if p := ms[0].parts(t); p["text/plain"] != "- a\r\n- b\r\n" || p["text/html"] != "<b><Ann></b>" {
		t.Errorf("parts = %q", p)
	}
	if ms[0].env.Template != "welcome" {
		t.Errorf("meta = %+v", ms[0].env.Meta)
	}
	if got := ms[1].msg.Header.Get("Subject"); got != "S 1" {
		t.Errorf("inline Subject = %q", got)
	}

	// A missing attribute: the call succeeds; what is spooled is marked
	// with the failure (it becomes a Rendering Failure event, never mail).
	out, err := send(&v2types.Template{TemplateName: aws.String("welcome"), TemplateData: aws.String(`{"items":[]}`)})
	if err != nil || aws.ToString(out.MessageId) == "" {
		t.Fatalf("missing attribute: %v, want a MessageId", err)
	}
	failed := e.claim(t, 1)[0].env
	if failed.ID != aws.ToString(out.MessageId) || failed.Template != "welcome" ||
		failed.RenderingFailure != "Attribute 'name' is not present in the rendering data." {
		t.Errorf("spooled %+v", failed)
	}
	logged := e.logs.String()
	for _, want := range []string{`level=WARN msg="api: rendering failure"`, "message_id=" + aws.ToString(out.MessageId),
		"template=welcome", `error_message="Attribute 'name' is not present in the rendering data."`} {
		if !strings.Contains(logged, want) {
			t.Errorf("log lacks %s:\n%s", want, logged)
		}
	}

	// …but it is checked as any send: an unverified sender is refused.
	_, err = e.v2.SendEmail(ctx, &sesv2.SendEmailInput{FromEmailAddress: aws.String("x@unverified.com"),
		Destination: &v2types.Destination{ToAddresses: []string{"to@example.com"}},
		Content:     &v2types.EmailContent{Template: &v2types.Template{TemplateName: aws.String("welcome"), TemplateData: aws.String(`{}`)}}})
	wantErrCode(t, err, "MessageRejected")

	_, err = send(&v2types.Template{TemplateName: aws.String("nope"), TemplateData: aws.String(`{}`)})
	wantErrCode(t, err, "NotFoundException")
	_, err = send(&v2types.Template{TemplateName: aws.String("welcome"), TemplateData: aws.String(`{not json`)})
	wantErrCode(t, err, "BadRequestException")
	_, err = send(&v2types.Template{TemplateName: aws.String("welcome"), TemplateData: aws.String(`{"name":"` + strings.Repeat("x", maxTemplateDataChars) + `"}`)})
	wantErrCode(t, err, "BadRequestException")
}

func TestSendEmailV2Refusals(t *testing.T) {
	t.Parallel()
	e := newSendEnv(t, false) // the sandbox
	ctx := context.Background()
	simple := func(subject string) *v2types.EmailContent {
		return &v2types.EmailContent{Simple: &v2types.Message{Subject: &v2types.Content{Data: aws.String(subject)},
			Body: &v2types.Body{Text: &v2types.Content{Data: aws.String("b")}}}}
	}
	to := func(addrs ...string) *v2types.Destination { return &v2types.Destination{ToAddresses: addrs} }
	tests := []struct {
		name string
		in   *sesv2.SendEmailInput
		code string
		msg  string
	}{
		{"unverified sender", &sesv2.SendEmailInput{FromEmailAddress: aws.String("x@unverified.com"), Destination: to("me@example.org"), Content: simple("s")},
			"MessageRejected", "Email address is not verified. The following identities failed the check in region US-EAST-1: x@unverified.com"},
		{"sandbox recipient", &sesv2.SendEmailInput{FromEmailAddress: aws.String("me@example.org"), Destination: to("someone@else.com"), Content: simple("s")},
			"MessageRejected", "Email address is not verified. The following identities failed the check in region US-EAST-1: someone@else.com"},
		{"CRLF in subject", &sesv2.SendEmailInput{FromEmailAddress: aws.String("me@example.org"), Destination: to("me@example.org"), Content: simple("a\r\nBcc: x@y.com")},
			"BadRequestException", "Invalid Subject: line breaks (CR or LF) are not allowed."},
		{"LF in address", &sesv2.SendEmailInput{FromEmailAddress: aws.String("me@example.org"), Destination: to("me@example.org\nBcc: x@y.com"), Content: simple("s")},
			"BadRequestException", "Invalid To: line breaks (CR or LF) are not allowed."},
		{"no from", &sesv2.SendEmailInput{Destination: to("me@example.org"), Content: simple("s")},
			"BadRequestException", ""},
		{"no recipients", &sesv2.SendEmailInput{FromEmailAddress: aws.String("me@example.org"), Content: simple("s")},
			"BadRequestException", ""},
		{"51 recipients", &sesv2.SendEmailInput{FromEmailAddress: aws.String("me@example.org"),
			Destination: to(slices.Repeat([]string{"success@simulator.amazonses.com"}, 51)...), Content: simple("s")},
			"MessageRejected", "Recipient count exceeds 50."},
		{"unknown configuration set", &sesv2.SendEmailInput{FromEmailAddress: aws.String("me@example.org"), Destination: to("me@example.org"),
			ConfigurationSetName: aws.String("nope"), Content: simple("s")}, "NotFoundException", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := e.v2.SendEmail(ctx, tt.in)
			wantErrCode(t, err, tt.code)
			if tt.msg != "" && !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("error %q does not say %q", err, tt.msg)
			}
		})
	}
	var rejected *v2types.MessageRejected
	_, err := e.v2.SendEmail(ctx, tests[0].in)
	if !errors.As(err, &rejected) {
		t.Errorf("unverified sender: %T, want *types.MessageRejected", err)
	}
	// The simulator is always allowed, even in the sandbox.
	if _, err := e.v2.SendEmail(ctx, &sesv2.SendEmailInput{FromEmailAddress: aws.String("me@example.org"),
		Destination: to("success@simulator.amazonses.com"), Content: simple("s")}); err != nil {
		t.Fatal(err)
	}
	e.claim(t, 1)

	// Paused sending: SendingPausedException, as SMTP's 554.
	if _, err := e.v2.PutAccountSendingAttributes(ctx, &sesv2.PutAccountSendingAttributesInput{SendingEnabled: false}); err != nil {
		t.Fatal(err)
	}
	e.clk.Advance(2 * time.Second) // past the Sender's settings cache
	_, err = e.v2.SendEmail(ctx, &sesv2.SendEmailInput{FromEmailAddress: aws.String("me@example.org"),
		Destination: to("success@simulator.amazonses.com"), Content: simple("s")})
	wantErrCode(t, err, "SendingPausedException")
}

func TestSendBulkEmailV2(t *testing.T) {
	t.Parallel()
	e := newSendEnv(t, true)
	ctx := context.Background()
	if _, err := e.v2.CreateEmailTemplate(ctx, &sesv2.CreateEmailTemplateInput{TemplateName: aws.String("t"),
		TemplateContent: &v2types.EmailTemplateContent{Subject: aws.String("Hi {{name}} from {{company}}"), Text: aws.String("x")}}); err != nil {
		t.Fatal(err)
	}
	entry := func(data string, to ...string) v2types.BulkEmailEntry {
		return v2types.BulkEmailEntry{Destination: &v2types.Destination{ToAddresses: to},
			ReplacementEmailContent: &v2types.ReplacementEmailContent{ReplacementTemplate: &v2types.ReplacementTemplate{ReplacementTemplateData: aws.String(data)}}}
	}
	in := &sesv2.SendBulkEmailInput{FromEmailAddress: aws.String("me@example.org"),
		DefaultContent: &v2types.BulkEmailContent{Template: &v2types.Template{TemplateName: aws.String("t"),
			TemplateData: aws.String(`{"name":"friend","company":"ACME"}`)}},
		BulkEmailEntries: []v2types.BulkEmailEntry{
			entry(`{"name":"Ann"}`, "ann@example.com"),
			entry(`{}`, "bob@example.com"),
			entry(`{}`, slices.Repeat([]string{"x@example.com"}, 51)...),
			entry(`{}`, "bad address"),
			{Destination: &v2types.Destination{ToAddresses: []string{"tagged@example.com"}},
				ReplacementTags: []v2types.MessageTag{{Name: aws.String("k"), Value: aws.String("not allowed")}}},
		}}
	out, err := e.v2.SendBulkEmail(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	var statuses []string
	for _, r := range out.BulkEmailEntryResults {
		statuses = append(statuses, string(r.Status))
	}
	if want := []string{"SUCCESS", "SUCCESS", "MESSAGE_REJECTED", "INVALID_PARAMETER", "INVALID_PARAMETER"}; !slices.Equal(statuses, want) {
		t.Fatalf("statuses = %v, want %v", statuses, want)
	}
	if r := out.BulkEmailEntryResults[2]; aws.ToString(r.Error) != "Recipient count exceeds 50." || r.MessageId != nil {
		t.Errorf("rejected entry = %+v", r)
	}
	byID := subjectsByID(e.claim(t, 2))
	if byID[aws.ToString(out.BulkEmailEntryResults[0].MessageId)] != "Hi Ann from ACME" ||
		byID[aws.ToString(out.BulkEmailEntryResults[1].MessageId)] != "Hi friend from ACME" {
		t.Errorf("subjects by id: %v", byID)
	}

	in.DefaultContent.Template.TemplateName = aws.String("missing")
	out, err = e.v2.SendBulkEmail(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range out.BulkEmailEntryResults {
		if r.Status != v2types.BulkEmailStatusTemplateNotFound {
			t.Errorf("missing template: status %s", r.Status)
		}
	}
	in.BulkEmailEntries = slices.Repeat(in.BulkEmailEntries[:1], 51)
	_, err = e.v2.SendBulkEmail(ctx, in)
	wantErrCode(t, err, "BadRequestException")
}

// subjectsByID maps spooled messages' ids to their subjects.
func subjectsByID(ms []spooled) map[string]string {
	out := map[string]string{}
	for _, m := range ms {
		out[m.env.ID] = m.msg.Header.Get("Subject")
	}
	return out
}

func TestSendV1(t *testing.T) {
	t.Parallel()
	e := newSendEnv(t, true)
	ctx := context.Background()
	out, err := e.v1.SendEmail(ctx, &ses.SendEmailInput{Source: aws.String("me@example.org"),
		Destination: &v1types.Destination{ToAddresses: []string{"to@example.com"}, BccAddresses: []string{"bcc@example.com"}},
		Message: &v1types.Message{Subject: &v1types.Content{Data: aws.String("Hello v1")},
			Body: &v1types.Body{Text: &v1types.Content{Data: aws.String("Hi & bye")}}},
		ReturnPath: aws.String("bounce@verified.com"), Tags: []v1types.MessageTag{{Name: aws.String("k"), Value: aws.String("v")}}})
	if err != nil {
		t.Fatal(err)
	}
	raw := "From: me@example.org\r\nTo: header@example.com\r\nSubject: raw\r\n\r\nbody\r\n"
	rawOut, err := e.v1.SendRawEmail(ctx, &ses.SendRawEmailInput{RawMessage: &v1types.RawMessage{Data: []byte(raw)},
		Destinations: []string{"envelope@example.com"}})
	if err != nil {
		t.Fatal(err)
	}
	ms := e.claim(t, 2)
	if ms[0].env.ID != aws.ToString(out.MessageId) || ms[0].env.MailFrom != "bounce@verified.com" ||
		!slices.Equal(ms[0].env.Recipients, []string{"to@example.com", "bcc@example.com"}) || ms[0].msg.Header.Get("Bcc") != "" {
		t.Errorf("SendEmail: %+v\n%s", ms[0].env, ms[0].raw)
	}
	if p := ms[0].parts(t); p["text/plain"] != "Hi & bye\r\n" { // a single part: the message's last line break is the body's
		t.Errorf("SendEmail parts = %q", p)
	}
	if ms[1].env.ID != aws.ToString(rawOut.MessageId) || !slices.Equal(ms[1].env.Recipients, []string{"envelope@example.com"}) ||
		!strings.HasSuffix(ms[1].raw, raw) {
		t.Errorf("SendRawEmail: %+v\n%s", ms[1].env, ms[1].raw)
	}

	// v1's 10 MB limit (v2 and SMTP allow 40 MB).
	big := raw + strings.Repeat("x", 10<<20)
	_, err = e.v1.SendRawEmail(ctx, &ses.SendRawEmailInput{RawMessage: &v1types.RawMessage{Data: []byte(big)}})
	wantErrCode(t, err, "MessageRejected")
	_, err = e.v1.SendEmail(ctx, &ses.SendEmailInput{Source: aws.String("x@unverified.com"),
		Destination: &v1types.Destination{ToAddresses: []string{"to@example.com"}},
		Message:     &v1types.Message{Subject: &v1types.Content{Data: aws.String("s")}, Body: &v1types.Body{Text: &v1types.Content{Data: aws.String("b")}}}})
	var rejected *v1types.MessageRejected
	if !errors.As(err, &rejected) {
		t.Errorf("unverified v1 sender: %v, want *types.MessageRejected", err)
	}
	_, err = e.v1.SendEmail(ctx, &ses.SendEmailInput{Source: aws.String("me@example.org"),
		Destination: &v1types.Destination{ToAddresses: []string{"to@example.com"}},
		Message:     &v1types.Message{Subject: &v1types.Content{Data: aws.String("a\nb")}, Body: &v1types.Body{Text: &v1types.Content{Data: aws.String("b")}}}})
	wantErrCode(t, err, "InvalidParameterValue")
	e.claim(t, 0)
}

func TestSendTemplatedV1(t *testing.T) {
	t.Parallel()
	e := newSendEnv(t, true)
	ctx := context.Background()
	if _, err := e.v1.CreateTemplate(ctx, &ses.CreateTemplateInput{Template: &v1types.Template{TemplateName: aws.String("t"),
		SubjectPart: aws.String("Hi {{name}}"), HtmlPart: aws.String("<p>{{name}}</p>")}}); err != nil {
		t.Fatal(err)
	}
	out, err := e.v1.SendTemplatedEmail(ctx, &ses.SendTemplatedEmailInput{Source: aws.String("me@example.org"),
		Destination: &v1types.Destination{ToAddresses: []string{"to@example.com"}}, Template: aws.String("t"),
		TemplateData: aws.String(`{"name":"Ann"}`)})
	if err != nil {
		t.Fatal(err)
	}
	_, err = e.v1.SendTemplatedEmail(ctx, &ses.SendTemplatedEmailInput{Source: aws.String("me@example.org"),
		Destination: &v1types.Destination{ToAddresses: []string{"to@example.com"}}, Template: aws.String("nope"), TemplateData: aws.String(`{}`)})
	wantErrCode(t, err, "TemplateDoesNotExist")

	bulk, err := e.v1.SendBulkTemplatedEmail(ctx, &ses.SendBulkTemplatedEmailInput{Source: aws.String("me@example.org"),
		Template: aws.String("t"), DefaultTemplateData: aws.String(`{"name":"friend"}`),
		Destinations: []v1types.BulkEmailDestination{
			{Destination: &v1types.Destination{ToAddresses: []string{"a@example.com"}}, ReplacementTemplateData: aws.String(`{"name":"A"}`)},
			{Destination: &v1types.Destination{ToAddresses: []string{"b@example.com"}}},
			{Destination: &v1types.Destination{ToAddresses: slices.Repeat([]string{"c@example.com"}, 51)}},
		}})
	if err != nil {
		t.Fatal(err)
	}
	var statuses []string
	for _, s := range bulk.Status {
		statuses = append(statuses, string(s.Status))
	}
	if want := []string{"Success", "Success", "MessageRejected"}; !slices.Equal(statuses, want) {
		t.Fatalf("statuses = %v, want %v", statuses, want)
	}
	ms := e.claim(t, 3)
	if ms[0].env.ID != aws.ToString(out.MessageId) || ms[0].msg.Header.Get("Subject") != "Hi Ann" {
		t.Errorf("templated: %+v %q", ms[0].env, ms[0].msg.Header.Get("Subject"))
	}
	// Bulk entries are submitted concurrently: match them by MessageId.
	byID := subjectsByID(ms[1:])
	if byID[aws.ToString(bulk.Status[0].MessageId)] != "Hi A" || byID[aws.ToString(bulk.Status[1].MessageId)] != "Hi friend" {
		t.Errorf("bulk subjects by id: %v", byID)
	}
}
