package api

import (
	"context"
	"errors"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ses"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	v2types "github.com/aws/aws-sdk-go-v2/service/sesv2/types"
	"github.com/aws/smithy-go"

	"sesame/internal/awsauth"
	"sesame/internal/clock"
	"sesame/internal/store"
)

// acctEnv is a real API server on loopback with a real store, one account,
// and the real SDK clients signed with its key (the account, suppression
// and configuration-set tests share it).
type acctEnv struct {
	st     *store.Store
	srv    *Server
	url    string
	clk    *clock.Fake
	acct   string
	region string
	creds  aws.Credentials
	v2     *sesv2.Client
	v1     *ses.Client
}

func newAcctEnv(t *testing.T) *acctEnv {
	t.Helper()
	st, err := store.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	acct, key, err := st.CreateAccount(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	// The fake clock starts at the real time: clients sign with theirs.
	clk := clock.NewFake(time.Now())
	srv := New(Config{Store: st, Regions: []string{"eu-west-1", "us-east-1"}, Clock: clk})
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(hs.Close)
	e := &acctEnv{st: st, srv: srv, url: hs.URL, clk: clk, acct: acct.ID, region: "eu-west-1",
		creds: aws.Credentials{AccessKeyID: key.ID, SecretAccessKey: key.Secret}}
	e.v2, e.v1 = e.clients(e.region)
	return e
}

// clients are SDK clients for another region of the same account.
func (e *acctEnv) clients(region string) (*sesv2.Client, *ses.Client) {
	cfg := aws.Config{Region: region, Credentials: credentials.StaticCredentialsProvider{Value: e.creds},
		RetryMaxAttempts: 1, BaseEndpoint: aws.String(e.url)}
	return sesv2.NewFromConfig(cfg), ses.NewFromConfig(cfg)
}

// ctx is a context carrying the env's principal, for calling server
// methods directly.
func (e *acctEnv) ctx() context.Context {
	return context.WithValue(context.Background(), principalKey{},
		awsauth.Principal{AccessKeyID: e.creds.AccessKeyID, AccountID: e.acct, Region: e.region, Service: "ses"})
}

// errCode is the AWS error code an SDK client decoded ("" for none).
func errCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

func wantErrCode(t *testing.T, err error, want string) {
	t.Helper()
	if got := errCode(err); got != want {
		t.Fatalf("error code = %q, want %q (err: %v)", got, want, err)
	}
}

func TestGetAccountV2(t *testing.T) {
	t.Parallel()
	e := newAcctEnv(t)
	ctx := context.Background()

	got, err := e.v2.GetAccount(ctx, &sesv2.GetAccountInput{})
	if err != nil {
		t.Fatal(err)
	}
	if got.SendQuota == nil || got.SendQuota.Max24HourSend != 200 || got.SendQuota.MaxSendRate != 1 {
		t.Errorf("SendQuota = %+v, want the sandbox's 200/day, 1/s", got.SendQuota)
	}
	if got.ProductionAccessEnabled || !got.SendingEnabled || got.EnforcementStatus == nil || *got.EnforcementStatus != "HEALTHY" {
		t.Errorf("account = production %v, sending %v, enforcement %v", got.ProductionAccessEnabled, got.SendingEnabled, got.EnforcementStatus)
	}
	wantReasons(t, got.SuppressionAttributes, "BOUNCE", "COMPLAINT")

	tests := []struct {
		name string
		put  []v2types.SuppressionListReason
		want []string
	}{
		{"complaint only", []v2types.SuppressionListReason{"COMPLAINT"}, []string{"COMPLAINT"}},
		{"none", []v2types.SuppressionListReason{}, nil},
		{"nil list turns it off too", nil, nil},
		{"both again", []v2types.SuppressionListReason{"BOUNCE", "COMPLAINT"}, []string{"BOUNCE", "COMPLAINT"}},
	}
	for _, tc := range tests {
		if _, err := e.v2.PutAccountSuppressionAttributes(ctx, &sesv2.PutAccountSuppressionAttributesInput{SuppressedReasons: tc.put}); err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		got, err := e.v2.GetAccount(ctx, &sesv2.GetAccountInput{})
		if err != nil {
			t.Fatal(err)
		}
		wantReasons(t, got.SuppressionAttributes, tc.want...)
	}

	_, err = e.v2.PutAccountSuppressionAttributes(ctx, &sesv2.PutAccountSuppressionAttributesInput{
		SuppressedReasons: []v2types.SuppressionListReason{"SPAM"}})
	wantErrCode(t, err, "BadRequestException")

	// The setting is per region.
	other, _ := e.clients("us-east-1")
	if _, err := e.v2.PutAccountSuppressionAttributes(ctx, &sesv2.PutAccountSuppressionAttributesInput{}); err != nil {
		t.Fatal(err)
	}
	got, err = other.GetAccount(ctx, &sesv2.GetAccountInput{})
	if err != nil {
		t.Fatal(err)
	}
	wantReasons(t, got.SuppressionAttributes, "BOUNCE", "COMPLAINT")
}

func wantReasons(t *testing.T, attrs *v2types.SuppressionAttributes, want ...string) {
	t.Helper()
	if attrs == nil {
		t.Fatal("no SuppressionAttributes")
	}
	var got []string
	for _, r := range attrs.SuppressedReasons {
		got = append(got, string(r))
	}
	if len(got) != len(want) {
		t.Fatalf("SuppressedReasons = %v, want %v", got, want)
	}
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("SuppressedReasons = %v, want %v", got, want)
		}
	}
}

func TestPutAccountSendingAttributesV2(t *testing.T) {
	t.Parallel()
	e := newAcctEnv(t)
	ctx := context.Background()
	for _, enabled := range []bool{false, true} {
		if _, err := e.v2.PutAccountSendingAttributes(ctx, &sesv2.PutAccountSendingAttributesInput{SendingEnabled: enabled}); err != nil {
			t.Fatal(err)
		}
		got, err := e.v2.GetAccount(ctx, &sesv2.GetAccountInput{})
		if err != nil {
			t.Fatal(err)
		}
		if got.SendingEnabled != enabled {
			t.Errorf("SendingEnabled = %v after putting %v", got.SendingEnabled, enabled)
		}
	}
}

func TestAccountSendingEnabledV1(t *testing.T) {
	t.Parallel()
	e := newAcctEnv(t)
	ctx := context.Background()
	got, err := e.v1.GetAccountSendingEnabled(ctx, &ses.GetAccountSendingEnabledInput{})
	if err != nil || !got.Enabled {
		t.Fatalf("new account: enabled %v, %v", got != nil && got.Enabled, err)
	}
	for _, enabled := range []bool{false, true} {
		if _, err := e.v1.UpdateAccountSendingEnabled(ctx, &ses.UpdateAccountSendingEnabledInput{Enabled: enabled}); err != nil {
			t.Fatal(err)
		}
		got, err := e.v1.GetAccountSendingEnabled(ctx, &ses.GetAccountSendingEnabledInput{})
		if err != nil || got.Enabled != enabled {
			t.Fatalf("after %v: %v, %v", enabled, got != nil && got.Enabled, err)
		}
		// v2 sees the same setting.
		acct, err := e.v2.GetAccount(ctx, &sesv2.GetAccountInput{})
		if err != nil || acct.SendingEnabled != enabled {
			t.Fatalf("v2 after %v: %v, %v", enabled, acct != nil && acct.SendingEnabled, err)
		}
	}
}

func TestGetSendQuotaV1(t *testing.T) {
	t.Parallel()
	e := newAcctEnv(t)
	got, err := e.v1.GetSendQuota(context.Background(), &ses.GetSendQuotaInput{})
	if err != nil {
		t.Fatal(err)
	}
	if got.Max24HourSend != 200 || got.MaxSendRate != 1 || got.SentLast24Hours != 0 {
		t.Errorf("quota = %v/%v/%v, want 200/1/0", got.Max24HourSend, got.MaxSendRate, got.SentLast24Hours)
	}
}

func TestGetSendStatisticsV1(t *testing.T) {
	t.Parallel()
	e := newAcctEnv(t)
	ctx := context.Background()
	now := e.clk.Now()
	base := now.Add(-3 * time.Hour).Truncate(statisticsBucket)
	stat := func(acct, region, set string, at time.Time, n, bounces, complaints int64) store.SendStat {
		return store.SendStat{AccountID: acct, Region: region, ConfigurationSet: set, Bucket: at,
			DeliveryAttempts: n, Bounces: bounces, HardBounces: bounces, Complaints: complaints}
	}
	// Buckets of configuration sets add up; other accounts and regions,
	// buckets older than two weeks and empty ones do not appear.
	stats := []store.SendStat{
		stat(e.acct, e.region, "", base, 2, 0, 0),
		stat(e.acct, e.region, "cs", base, 3, 0, 0),
		stat(e.acct, e.region, "", base.Add(15*time.Minute), 5, 2, 0),
		stat(e.acct, e.region, "", base.Add(2*time.Hour), 7, 0, 0),
		stat(e.acct, e.region, "", base.Add(2*time.Hour+15*time.Minute), 0, 0, 1),
		stat(e.acct, e.region, "", base.Add(-5*24*time.Hour), 0, 1, 0),
		stat(e.acct, e.region, "", base.Add(-15*24*time.Hour), 9, 9, 9),
		stat(e.acct, e.region, "", base.Add(time.Hour), 0, 0, 0),
		stat(e.acct, "us-east-1", "", base, 100, 0, 0),
		stat("999999999999", e.region, "", base, 100, 0, 0),
	}
	stats[1].Rejects = 1
	if err := e.st.AddSendStats(ctx, stats); err != nil {
		t.Fatal(err)
	}
	got, err := e.v1.GetSendStatistics(ctx, &ses.GetSendStatisticsInput{})
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		at                         time.Time
		n, bounces, compl, rejects int64
	}{
		{base.Add(-5 * 24 * time.Hour), 0, 1, 0, 0},
		{base, 5, 0, 0, 1},
		{base.Add(15 * time.Minute), 5, 2, 0, 0},
		{base.Add(2 * time.Hour), 7, 0, 0, 0},
		{base.Add(2*time.Hour + 15*time.Minute), 0, 0, 1, 0},
	}
	if len(got.SendDataPoints) != len(want) {
		t.Fatalf("%d data points, want %d: %+v", len(got.SendDataPoints), len(want), got.SendDataPoints)
	}
	for i, w := range want {
		p := got.SendDataPoints[i]
		if p.Timestamp == nil || !p.Timestamp.Equal(w.at) || p.DeliveryAttempts != w.n || p.Bounces != w.bounces ||
			p.Complaints != w.compl || p.Rejects != w.rejects {
			t.Errorf("point %d = %v %d/%d/%d/%d, want %v %d/%d/%d/%d", i, p.Timestamp, p.DeliveryAttempts, p.Bounces,
				p.Complaints, p.Rejects, w.at, w.n, w.bounces, w.compl, w.rejects)
		}
	}

	// An account that never sent has no data points.
	fresh := newAcctEnv(t)
	got, err = fresh.v1.GetSendStatistics(ctx, &ses.GetSendStatisticsInput{})
	if err != nil {
		t.Fatal(err)
	}
	if len(got.SendDataPoints) != 0 {
		t.Errorf("fresh account: %d data points", len(got.SendDataPoints))
	}
}

// The server passes a *store.Store as the Store.
var _ Store = (*store.Store)(nil)
