package e2e

import (
	"context"
	"errors"
	"fmt"
	"net/textproto"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ses"
	sesv1types "github.com/aws/aws-sdk-go-v2/service/ses/types"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	"github.com/aws/aws-sdk-go-v2/service/sesv2/types"

	"sesame/internal/awsauth"
	"sesame/internal/testenv"
)

// Reputation enforcement through the real binary: real hard bounces (a sink
// MX answers 550 to RCPT) push the bounce rate past the pause threshold;
// sesame puts the account on PROBATION and pauses its sending, which SMTP,
// v1 and v2 refuse with SES's errors; the sender lifts the pause with
// PutAccountSendingAttributes and the same old bounces do not pause it
// again. The mailbox simulator's mail (the probes here) counts nowhere.
func TestReputationPausesAndLifts(t *testing.T) {
	d := testenv.StartDNS(t)
	gone := map[string]string{}
	var rcpts []string
	for i := range 6 {
		addr := fmt.Sprintf("gone%d@b.test", i)
		gone[addr] = "550 5.1.1 no such user"
		rcpts = append(rcpts, addr)
	}
	for i := range 4 {
		rcpts = append(rcpts, fmt.Sprintf("ok%d@a.test", i))
	}
	sinks, port := testenv.StartSinks(t, testenv.SinkOptions{}, testenv.SinkOptions{Reject: gone})
	d.SetA("mx2.test", "127.0.0.2")
	d.SetA("mx3.test", "127.0.0.3")
	d.SetMX("a.test", 10, "mx2.test")
	d.SetMX("example.com", 10, "mx2.test") // the DSNs to the sender
	d.SetMX("b.test", 10, "mx3.test")
	s := startMXServer(t, d, port, `[reputation]
evaluate_every = "100ms"
min_volume = 5
`)
	s.Verify("example.com")
	ctx := context.Background()
	v2, v1 := s.SESv2Client(t), s.SESClient(t)

	// 10 recipients, 6 hard bounces, and a burst of simulator bounces
	// that must not count either way.
	smtpSendTo(t, s, "sender@example.com", "reputation", rcpts...)
	smtpSendTo(t, s, "sender@example.com", "simulated", "bounce@simulator.amazonses.com", "bounce+2@simulator.amazonses.com")
	waitFor(t, "the deliveries", func() bool { return len(sinks[0].Messages()) >= 1 })

	var acct *sesv2.GetAccountOutput
	waitFor(t, "the pause", func() bool {
		var err error
		acct, err = v2.GetAccount(ctx, &sesv2.GetAccountInput{})
		if err != nil {
			t.Fatal(err)
		}
		return !acct.SendingEnabled
	})
	if got := aws.ToString(acct.EnforcementStatus); got != "PROBATION" {
		t.Errorf("EnforcementStatus = %q, want PROBATION", got)
	}

	probe := func() error {
		_, err := v2.SendEmail(ctx, &sesv2.SendEmailInput{FromEmailAddress: aws.String("sender@example.com"),
			Destination: &types.Destination{ToAddresses: []string{simulator}}, Content: simple("probe", "b", "")})
		return err
	}
	// Sending reads settings through a cache of about a second.
	waitFor(t, "v2 refusing", func() bool { return apiCode(probe()) == "SendingPausedException" })
	_, err := v1.SendEmail(ctx, &ses.SendEmailInput{Source: aws.String("sender@example.com"),
		Destination: &sesv1types.Destination{ToAddresses: []string{simulator}},
		Message: &sesv1types.Message{Subject: &sesv1types.Content{Data: aws.String("s")},
			Body: &sesv1types.Body{Text: &sesv1types.Content{Data: aws.String("b")}}}})
	wantCode(t, err, "AccountSendingPausedException")
	smtpErr := smtpSend(t, s, awsauth.SMTPPassword(s.Secret, s.Regions[0]), "sender@example.com", simulator)
	var reply *textproto.Error
	if !errors.As(smtpErr, &reply) || reply.Code != 554 ||
		reply.Msg != "Message rejected: Sending suspended for this account. For more information, please check the inbox of the email address associated with your AWS account." {
		t.Errorf("SMTP: %v", smtpErr)
	}

	// GetSendStatistics counts the real mail only.
	stats, err := v1.GetSendStatistics(ctx, &ses.GetSendStatisticsInput{})
	if err != nil {
		t.Fatal(err)
	}
	var attempts, bounces int64
	for _, p := range stats.SendDataPoints {
		attempts, bounces = attempts+p.DeliveryAttempts, bounces+p.Bounces
	}
	if attempts != 10 || bounces != 6 {
		t.Errorf("send statistics: %d attempts, %d bounces; want 10, 6", attempts, bounces)
	}

	// The operator sees why.
	type reputation struct {
		Region     string    `json:"region"`
		Sends      int64     `json:"sends"`
		BounceRate float64   `json:"bounce_rate"`
		Status     string    `json:"status"`
		Paused     bool      `json:"paused"`
		CountsFrom time.Time `json:"counts_from"`
	}
	show := func() reputation {
		var out struct {
			Reputation []reputation `json:"reputation"`
		}
		s.Admin(&out, "account", "show", "--account", s.Account)
		for _, r := range out.Reputation {
			if r.Region == s.Regions[0] {
				return r
			}
		}
		t.Fatalf("account show has no reputation for %s: %+v", s.Regions[0], out.Reputation)
		return reputation{}
	}
	if r := show(); r.Sends != 10 || r.BounceRate != 0.6 || r.Status != "PAUSED" || !r.Paused {
		t.Errorf("account show reputation = %+v", r)
	}

	// The sender lifts the pause; mail goes through again, and stays
	// allowed after the evaluator has seen the lift.
	if _, err := v2.PutAccountSendingAttributes(ctx, &sesv2.PutAccountSendingAttributesInput{SendingEnabled: true}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "v2 sending again", func() bool { return probe() == nil })
	waitFor(t, "the lift seen", func() bool { r := show(); return !r.Paused && !r.CountsFrom.IsZero() })
	evaluated := time.Now()
	for time.Since(evaluated) < 500*time.Millisecond { // several evaluation rounds
		if err := probe(); err != nil {
			t.Fatalf("after the lift: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err := smtpSend(t, s, awsauth.SMTPPassword(s.Secret, s.Regions[0]), "sender@example.com", simulator); err != nil {
		t.Errorf("SMTP after the lift: %v", err)
	}
	acct, err = v2.GetAccount(ctx, &sesv2.GetAccountInput{})
	if err != nil {
		t.Fatal(err)
	}
	if !acct.SendingEnabled || aws.ToString(acct.EnforcementStatus) != "PROBATION" {
		t.Errorf("after the lift: SendingEnabled %v, EnforcementStatus %q; want true, PROBATION (until new sends judge)",
			acct.SendingEnabled, aws.ToString(acct.EnforcementStatus))
	}
}
