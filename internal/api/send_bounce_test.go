package api

import (
	"context"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ses"
	v1types "github.com/aws/aws-sdk-go-v2/service/ses/types"

	"sesame/internal/feedback"
	"sesame/internal/spool"
	"sesame/internal/store"
)

// receive records a received message for the env's account, as the
// receiving pipeline does.
func (e *sendEnv) receive(t *testing.T, id, mailFrom string, at time.Time) {
	t.Helper()
	err := e.st.PutReceivedMessage(context.Background(), store.ReceivedMessage{
		ID: id, AccountID: e.acct, Region: e.region, Received: at, MailFrom: mailFrom,
		Recipients: []string{"gone@verified.com", "full@verified.com"},
		From:       "Bob <bob@sender.example>", Subject: "Hello", MessageID: "<orig-" + id + "@sender.example>",
		Header: []byte("From: Bob <bob@sender.example>\r\nTo: gone@verified.com\r\nSubject: Hello\r\n" +
			"Message-ID: <orig-" + id + "@sender.example>\r\n"),
	})
	if err != nil {
		t.Fatal(err)
	}
}

// SendBounce through the Go SDK: the DSN is spooled as sesame's own mail
// with the null reverse-path, to the received message's sender, and reads
// back as the bounce asked for.
func TestSendBounce(t *testing.T) {
	t.Parallel()
	e := newSendEnv(t, false) // in the sandbox: a bounce goes to an unverified sender all the same
	ctx := context.Background()
	e.receive(t, "rcv-1", "bob@sender.example", e.clk.Now().Add(-time.Hour))
	out, err := e.v1.SendBounce(ctx, &ses.SendBounceInput{
		OriginalMessageId: aws.String("rcv-1"),
		BounceSender:      aws.String("Mail Delivery <mailer@verified.com>"),
		Explanation:       aws.String("These mailboxes are gone."),
		MessageDsn: &v1types.MessageDsn{ReportingMta: aws.String("dns; mx.verified.com"),
			ExtensionFields: []v1types.ExtensionField{{Name: aws.String("X-Reason"), Value: aws.String("cleanup")}}},
		BouncedRecipientInfoList: []v1types.BouncedRecipientInfo{
			{Recipient: aws.String("gone@verified.com"), BounceType: v1types.BounceTypeDoesNotExist},
			{Recipient: aws.String("FULL@verified.com"), RecipientDsnFields: &v1types.RecipientDsnFields{
				Action: v1types.DsnActionDelayed, Status: aws.String("4.2.2"), DiagnosticCode: aws.String("smtp; 452 4.2.2 over quota")}},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	got := e.claim(t, 1)[0]
	if aws.ToString(out.MessageId) != got.env.ID || got.env.MailFrom != "" || got.env.Via != spool.ViaSystem ||
		!reflect.DeepEqual(got.env.Recipients, []string{"bob@sender.example"}) {
		t.Fatalf("MessageId %q, spooled %+v", aws.ToString(out.MessageId), got.env)
	}
	rep, err := feedback.Parse(strings.NewReader(got.raw))
	if err != nil {
		t.Fatal(err)
	}
	want := []feedback.RecipientStatus{
		{Recipient: "gone@verified.com", Action: "failed", Status: "5.1.1", Diagnostic: "smtp; 550 5.1.1 Mailbox does not exist"},
		{Recipient: "FULL@verified.com", Action: "delayed", Status: "4.2.2", Diagnostic: "smtp; 452 4.2.2 over quota"},
	}
	if rep.Kind != feedback.KindBounce || rep.From != "mailer@verified.com" || rep.ReportingMTA != "dns; mx.verified.com" ||
		!reflect.DeepEqual(rep.Recipients, want) || rep.OriginalMessageID != "orig-rcv-1@sender.example" {
		t.Errorf("DSN: %+v\n%s", rep, got.raw)
	}
	for _, s := range []string{"These mailboxes are gone.", "X-Reason: cleanup\r\n", "X-SES-Message-ID: rcv-1\r\n",
		"From: \"Mail Delivery\" <mailer@verified.com>\r\n", "To: bob@sender.example\r\n", "Arrival-Date: "} {
		if !strings.Contains(got.raw, s) {
			t.Errorf("no %q in the DSN:\n%s", s, got.raw)
		}
	}
}

func TestSendBounceRefusals(t *testing.T) {
	t.Parallel()
	e := newSendEnv(t, true)
	ctx := context.Background()
	now := e.clk.Now()
	e.receive(t, "fresh", "bob@sender.example", now.Add(-time.Hour))
	e.receive(t, "stale", "bob@sender.example", now.Add(-store.ReceivedMessageRetention-time.Minute))
	e.receive(t, "nullsender", "", now.Add(-time.Hour))
	ok := []v1types.BouncedRecipientInfo{{Recipient: aws.String("gone@verified.com"), BounceType: v1types.BounceTypeDoesNotExist}}
	for _, tc := range []struct {
		name, id, sender, senderArn string
		rcpts                       []v1types.BouncedRecipientInfo
		code, msg                   string
	}{
		{"unknown message", "nope", "mailer@verified.com", "", ok, "MessageRejected",
			"Message nope was not received by this account in this region within the last 24 hours: SendBounce bounces only such messages."},
		{"past 24 hours", "stale", "mailer@verified.com", "", ok, "MessageRejected",
			"Message stale was not received by this account in this region within the last 24 hours: SendBounce bounces only such messages."},
		{"unverified sender", "fresh", "mailer@unverified.example", "", ok, "MessageRejected",
			"Email address is not verified. The following identities failed the check in region US-EAST-1: mailer@unverified.example"},
		{"not a recipient", "fresh", "mailer@verified.com", "", []v1types.BouncedRecipientInfo{
			{Recipient: aws.String("other@verified.com"), BounceType: v1types.BounceTypeUndefined}}, "MessageRejected",
			"other@verified.com is not a recipient of message fresh."},
		{"null sender", "nullsender", "mailer@verified.com", "", ok, "MessageRejected",
			"Message nullsender has no sender to bounce to: it came with the null reverse-path (MAIL FROM:<>)."},
		{"bad bounce type", "fresh", "mailer@verified.com", "", []v1types.BouncedRecipientInfo{
			{Recipient: aws.String("gone@verified.com"), BounceType: "Gone"}}, "ValidationError",
			"1 validation error detected: Value 'Gone' at 'BouncedRecipientInfoList.member.1.BounceType' failed to satisfy constraint: " +
				"Member must satisfy enum value set: [DoesNotExist, MessageTooLarge, ExceededQuota, ContentRejected, Undefined, TemporaryFailure]"},
		{"neither type nor fields", "fresh", "mailer@verified.com", "", []v1types.BouncedRecipientInfo{
			{Recipient: aws.String("gone@verified.com")}}, "InvalidParameterValue",
			"BouncedRecipientInfo for gone@verified.com must have a BounceType or RecipientDsnFields."},
		{"another account's ARN without a policy", "fresh", "mailer@verified.com",
			"arn:aws:ses:us-east-1:123456789012:identity/verified.com", ok, "MessageRejected",
			"Email address is not verified. The following identities failed the check in region US-EAST-1: mailer@verified.com"},
		{"ARN of another region", "fresh", "mailer@verified.com",
			"arn:aws:ses:eu-west-1:" + e.acct + ":identity/verified.com", ok, "InvalidParameterValue",
			"Invalid BounceSenderArn arn:aws:ses:eu-west-1:" + e.acct + ":identity/verified.com: it must be the ARN of an identity in us-east-1 (arn:aws:ses:us-east-1:ACCOUNT:identity/NAME)."},
		{"ARN not covering the sender", "fresh", "mailer@verified.com",
			"arn:aws:ses:us-east-1:" + e.acct + ":identity/me@example.org", ok, "AccessDenied",
			"User `arn:aws:iam::" + e.acct + ":root' is not authorized to perform `ses:SendBounce' on resource `arn:aws:ses:us-east-1:" + e.acct + ":identity/me@example.org'"},
	} {
		in := &ses.SendBounceInput{OriginalMessageId: aws.String(tc.id), BounceSender: aws.String(tc.sender),
			BouncedRecipientInfoList: tc.rcpts}
		if tc.senderArn != "" {
			in.BounceSenderArn = aws.String(tc.senderArn)
		}
		_, err := e.v1.SendBounce(ctx, in)
		t.Run(tc.name, func(t *testing.T) { wantAPIError(t, err, tc.code, tc.msg) })
	}
	e.claim(t, 0) // nothing was spooled

	// The caller's own identity by ARN is the same as without it.
	if _, err := e.v1.SendBounce(ctx, &ses.SendBounceInput{OriginalMessageId: aws.String("fresh"), BounceSender: aws.String("mailer@verified.com"),
		BounceSenderArn: aws.String("arn:aws:ses:us-east-1:" + e.acct + ":identity/verified.com"), BouncedRecipientInfoList: ok}); err != nil {
		t.Fatal(err)
	}
	e.claim(t, 1)
}

// BounceSenderArn naming another account's identity: its owner's policy
// must allow the caller ses:SendRawEmail on it (identity policies grant
// only sending actions; the DSN is a raw message).
func TestSendBounceDelegatedSender(t *testing.T) {
	t.Parallel()
	e := newSendEnv(t, true)
	ctx := context.Background()
	owner, _, err := e.st.CreateAccount(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.st.PutIdentity(ctx, store.Identity{AccountID: owner.ID, Region: e.region, Name: "owner.example",
		Type: store.Domain, Status: store.StatusSuccess}); err != nil {
		t.Fatal(err)
	}
	e.receive(t, "rcv-d", "bob@sender.example", e.clk.Now().Add(-time.Minute))
	arn := "arn:aws:ses:" + e.region + ":" + owner.ID + ":identity/owner.example"
	bounceAs := func() error {
		_, err := e.v1.SendBounce(ctx, &ses.SendBounceInput{OriginalMessageId: aws.String("rcv-d"),
			BounceSender: aws.String("postmaster@owner.example"), BounceSenderArn: aws.String(arn),
			BouncedRecipientInfoList: []v1types.BouncedRecipientInfo{{Recipient: aws.String("gone@verified.com"), BounceType: v1types.BounceTypeDoesNotExist}}})
		return err
	}
	denied := "User `arn:aws:iam::" + e.acct + ":root' is not authorized to perform `ses:SendBounce' on resource `" + arn + "'"
	wantAPIError(t, bounceAs(), "AccessDenied", denied) // no policy yet
	allow := func(action string) {
		t.Helper()
		doc := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"` + e.acct + `"},` +
			`"Action":["` + action + `"],"Resource":"` + arn + `"}]}`
		if err := e.st.PutIdentityPolicy(ctx, owner.ID, e.region, "owner.example", store.IdentityPolicy{Name: "p", Policy: doc},
			store.PolicyUpsert, 20); err != nil {
			t.Fatal(err)
		}
		// Written beside the server, as a running one's other process
		// would: its policy cache (a second) sees it after that.
		e.clk.Advance(2 * time.Second)
	}
	allow("ses:SendTemplatedEmail") // another action allows nothing here
	wantAPIError(t, bounceAs(), "AccessDenied", denied)
	allow("ses:SendRawEmail")
	if err := bounceAs(); err != nil {
		t.Fatal(err)
	}
	got := e.claim(t, 1)[0]
	if got.env.AccountID != e.acct || !strings.Contains(got.raw, "From: postmaster@owner.example\r\n") {
		t.Errorf("the DSN: %+v\n%s", got.env, got.raw)
	}
}

// A bounce is mail the account asks for: not while its sending is paused.
func TestSendBouncePausedAccount(t *testing.T) {
	t.Parallel()
	e := newSendEnv(t, true)
	ctx := context.Background()
	e.receive(t, "rcv-p", "bob@sender.example", e.clk.Now().Add(-time.Minute))
	set, err := e.st.AccountSettings(ctx, e.acct, e.region)
	if err != nil {
		t.Fatal(err)
	}
	set.SendingEnabled = false
	if err := e.st.PutAccountSettings(ctx, set); err != nil {
		t.Fatal(err)
	}
	_, err = e.v1.SendBounce(ctx, &ses.SendBounceInput{OriginalMessageId: aws.String("rcv-p"), BounceSender: aws.String("mailer@verified.com"),
		BouncedRecipientInfoList: []v1types.BouncedRecipientInfo{{Recipient: aws.String("gone@verified.com"), BounceType: v1types.BounceTypeDoesNotExist}}})
	if code := errCode(err); code != "AccountSendingPausedException" {
		t.Fatalf("SendBounce of a paused account: %v", err)
	}
	e.claim(t, 0)
}
