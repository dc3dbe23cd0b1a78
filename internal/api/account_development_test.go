package api

import (
	"context"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ses"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	v2types "github.com/aws/aws-sdk-go-v2/service/sesv2/types"

	"sesame/internal/clock"
	"sesame/internal/quota"
	"sesame/internal/sending"
	"sesame/internal/spool"
	"sesame/internal/store"
)

// In development mode GetAccount and GetSendQuota report what sending
// enforces — production, an unlimited 24-hour quota (-1), the development
// send rate — while the store keeps the sandbox: a server on the same
// store without the mode reports the sandbox again.
func TestAccountReportsDevelopmentMode(t *testing.T) {
	t.Parallel()
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
	_, key, err := st.CreateAccount(ctx)
	if err != nil {
		t.Fatal(err)
	}
	const region = "us-east-1"
	clk := clock.NewFake(time.Now()) // clients sign with the real time
	limiter := quota.New(st, clk, quiet())
	t.Cleanup(func() { limiter.Close() })
	client := func(development bool) (*sesv2.Client, *ses.Client) {
		sender := sending.New(sending.Config{Store: st, Spool: sp, Quota: limiter, Clock: clk, Logger: quiet(), Development: development})
		t.Cleanup(func() { sender.Close() })
		srv := New(Config{Store: st, Sender: sender, Quota: limiter, Regions: []string{region}, Clock: clk, Logger: quiet()})
		hs := httptest.NewServer(srv.Handler())
		t.Cleanup(hs.Close)
		cfg := aws.Config{Region: region, RetryMaxAttempts: 1, BaseEndpoint: aws.String(hs.URL),
			Credentials: credentials.StaticCredentialsProvider{Value: aws.Credentials{AccessKeyID: key.ID, SecretAccessKey: key.Secret}}}
		return sesv2.NewFromConfig(cfg), ses.NewFromConfig(cfg)
	}

	v2, v1 := client(true)
	// An unverified sender to an outside recipient, from an account the
	// store keeps in the sandbox.
	if _, err := v2.SendEmail(ctx, &sesv2.SendEmailInput{
		FromEmailAddress: aws.String("dev@unverified.example"),
		Destination:      &v2types.Destination{ToAddresses: []string{"someone@elsewhere.example"}},
		Content: &v2types.EmailContent{Simple: &v2types.Message{Subject: &v2types.Content{Data: aws.String("s")},
			Body: &v2types.Body{Text: &v2types.Content{Data: aws.String("b")}}}},
	}); err != nil {
		t.Fatalf("development mode refused an unverified sender: %v", err)
	}
	acc, err := v2.GetAccount(ctx, &sesv2.GetAccountInput{})
	if err != nil {
		t.Fatal(err)
	}
	if !acc.ProductionAccessEnabled || acc.SendQuota == nil || acc.SendQuota.Max24HourSend != -1 ||
		acc.SendQuota.MaxSendRate != sending.DevelopmentMaxSendRate || acc.SendQuota.SentLast24Hours != 1 || !acc.SendingEnabled {
		t.Errorf("GetAccount in development mode: production %v, quota %+v, sending %v", acc.ProductionAccessEnabled, acc.SendQuota, acc.SendingEnabled)
	}
	q, err := v1.GetSendQuota(ctx, &ses.GetSendQuotaInput{})
	if err != nil {
		t.Fatal(err)
	}
	if q.Max24HourSend != -1 || q.MaxSendRate != sending.DevelopmentMaxSendRate || q.SentLast24Hours != 1 {
		t.Errorf("GetSendQuota in development mode = %v/%v/%v, want -1/%v/1", q.Max24HourSend, q.MaxSendRate, q.SentLast24Hours, sending.DevelopmentMaxSendRate)
	}

	v2, v1 = client(false)
	acc, err = v2.GetAccount(ctx, &sesv2.GetAccountInput{})
	if err != nil {
		t.Fatal(err)
	}
	if acc.ProductionAccessEnabled || acc.SendQuota.Max24HourSend != 200 || acc.SendQuota.MaxSendRate != 1 {
		t.Errorf("GetAccount without development mode: production %v, quota %+v", acc.ProductionAccessEnabled, acc.SendQuota)
	}
	if q, err := v1.GetSendQuota(ctx, &ses.GetSendQuotaInput{}); err != nil || q.Max24HourSend != 200 || q.MaxSendRate != 1 {
		t.Errorf("GetSendQuota without development mode: %+v, %v", q, err)
	}
}
