package e2e

import (
	"context"
	"fmt"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ses"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	"github.com/aws/aws-sdk-go-v2/service/sesv2/types"

	"sesame/internal/testenv"
	"sesame/internal/waitfor"
)

// verificationMails counts the captured verification messages to addr.
func verificationMails(s *testenv.Server, addr string) int {
	return len(s.Captured("email=" + addr))
}

// Issue 9, defect 3: an account whose sending is SHUTDOWN (or paused) gets
// the sending error for VerifyEmailIdentity and CreateEmailIdentity, and no
// verification mail goes to the outside address.
func TestVerificationPolicySuspended(t *testing.T) {
	s := testenv.Start(t, testenv.Options{})
	s.Verify("example.com")
	// Before any API call, so no cached settings predate it.
	s.Admin(nil, "account", "set", "--enforcement-status", "SHUTDOWN")
	ctx := context.Background()
	noRetry := func(o *ses.Options) { o.Retryer = aws.NopRetryer{} }
	v1, v2 := s.SESClient(t, noRetry), s.SESv2Client(t, func(o *sesv2.Options) { o.Retryer = aws.NopRetryer{} })

	for i := range 5 {
		_, err := v1.VerifyEmailIdentity(ctx, &ses.VerifyEmailIdentityInput{EmailAddress: aws.String("victim@outside.example")})
		wantCode(t, err, "MessageRejected")
		if i == 0 {
			t.Logf("v1 answer: %v", err)
		}
	}
	_, err := v1.VerifyEmailAddress(ctx, &ses.VerifyEmailAddressInput{EmailAddress: aws.String("victim@outside.example")})
	wantCode(t, err, "MessageRejected")
	_, err = v2.CreateEmailIdentity(ctx, &sesv2.CreateEmailIdentityInput{EmailIdentity: aws.String("victim2@outside.example")})
	wantCode(t, err, "AccountSuspendedException")
	// Nothing was created either.
	_, err = v2.GetEmailIdentity(ctx, &sesv2.GetEmailIdentityInput{EmailIdentity: aws.String("victim@outside.example")})
	wantCode(t, err, "NotFoundException")
	// A domain needs no mail: it may still be created.
	if _, err := v2.CreateEmailIdentity(ctx, &sesv2.CreateEmailIdentityInput{EmailIdentity: aws.String("domain.example")}); err != nil {
		t.Fatalf("domain identity while suspended: %v", err)
	}

	// Lifted, verification mail flows again; it is the only one captured.
	s.Admin(nil, "account", "set", "--enforcement-status", "HEALTHY")
	waitfor.True(t, "the lifted suspension to reach the server", func() bool {
		_, err := v1.VerifyEmailIdentity(ctx, &ses.VerifyEmailIdentityInput{EmailAddress: aws.String("after@outside.example")})
		return err == nil
	})
	waitfor.True(t, "the verification mail after the suspension", func() bool { return verificationMails(s, "after@outside.example") == 1 })
	for _, a := range []string{"victim@outside.example", "victim2@outside.example"} {
		if n := verificationMails(s, a); n != 0 {
			t.Errorf("%d verification mails to %s while suspended", n, a)
		}
	}

	// Sending paused by the account itself: SES's SendingPausedException.
	if _, err := v2.PutAccountSendingAttributes(ctx, &sesv2.PutAccountSendingAttributesInput{SendingEnabled: false}); err != nil {
		t.Fatal(err)
	}
	// Policy data may be a second stale: ask with new addresses until
	// the pause shows, then the refused one has no mail.
	var refused string
	i := 0
	waitfor.True(t, "paused sending to refuse verification", func() bool {
		i++
		addr := fmt.Sprintf("paused%d@outside.example", i)
		_, err := v2.CreateEmailIdentity(ctx, &sesv2.CreateEmailIdentityInput{EmailIdentity: aws.String(addr)})
		if apiCode(err) == "SendingPausedException" {
			refused = addr
			return true
		}
		return false
	})
	_, err = v2.GetEmailIdentity(ctx, &sesv2.GetEmailIdentityInput{EmailIdentity: aws.String(refused)})
	wantCode(t, err, "NotFoundException")
	if n := verificationMails(s, refused); n != 0 {
		t.Errorf("%d verification mails while paused", n)
	}
}

// Rapid verification requests beyond the per-account rate are throttled
// with SES's error, and the mail count stays within the limit.
func TestVerificationPolicyRate(t *testing.T) {
	s := testenv.Start(t, testenv.Options{Extra: "[verification]\nmail_burst = 3\nmail_per_second = 0.001\n"})
	s.Verify("example.com")
	ctx := context.Background()
	v1 := s.SESClient(t, func(o *ses.Options) { o.Retryer = aws.NopRetryer{} })
	v2 := s.SESv2Client(t, func(o *sesv2.Options) { o.Retryer = aws.NopRetryer{} })

	var ok, throttled int
	for i := range 10 {
		_, err := v1.VerifyEmailIdentity(ctx, &ses.VerifyEmailIdentityInput{EmailAddress: aws.String(fmt.Sprintf("r%d@outside.example", i))})
		switch code := apiCode(err); {
		case err == nil:
			ok++
		case code == "Throttling":
			throttled++
		default:
			t.Fatalf("request %d: %v", i, err)
		}
	}
	if ok != 3 || throttled != 7 {
		t.Fatalf("%d accepted, %d throttled; want 3 and 7", ok, throttled)
	}
	_, err := v2.CreateEmailIdentity(ctx, &sesv2.CreateEmailIdentityInput{EmailIdentity: aws.String("v2@outside.example")})
	wantCode(t, err, "TooManyRequestsException")

	// The mail that went out is what was accepted: the marker, spooled
	// after them all, arrives after them.
	if _, err := v2.SendEmail(ctx, &sesv2.SendEmailInput{FromEmailAddress: aws.String("sender@example.com"),
		Destination: &types.Destination{ToAddresses: []string{simulator}}, Content: simple("marker", "b", "")}); err != nil {
		t.Fatal(err)
	}
	waitSubject(t, s, "marker")
	waitfor.True(t, "the accepted verification mails", func() bool {
		n := 0
		for i := range 10 {
			n += verificationMails(s, fmt.Sprintf("r%d@outside.example", i))
		}
		if n > 3 {
			t.Fatalf("%d verification mails, want 3", n)
		}
		return n == 3
	})
	if n := verificationMails(s, "v2@outside.example"); n != 0 {
		t.Errorf("throttled v2 request mailed %d times", n)
	}
}
