package api

import (
	"context"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	v2types "github.com/aws/aws-sdk-go-v2/service/sesv2/types"

	"sesame/internal/clock"
	"sesame/internal/store"
)

// newIPEnv is an acctEnv whose server has these dedicated IPs configured.
func newIPEnv(t *testing.T, ips ...string) *acctEnv {
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
	clk := clock.NewFake(time.Now())
	srv := New(Config{Store: st, Regions: []string{"eu-west-1", "us-east-1"}, Clock: clk, DedicatedIPs: ips})
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(hs.Close)
	e := &acctEnv{st: st, srv: srv, url: hs.URL, clk: clk, acct: acct.ID, region: "eu-west-1",
		creds: aws.Credentials{AccessKeyID: key.ID, SecretAccessKey: key.Secret}}
	e.v2, e.v1 = e.clients(e.region)
	return e
}

func ipList(t *testing.T, c *sesv2.Client, in *sesv2.GetDedicatedIpsInput) []string {
	t.Helper()
	out, err := c.GetDedicatedIps(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, ip := range out.DedicatedIps {
		got = append(got, aws.ToString(ip.Ip)+"="+aws.ToString(ip.PoolName))
	}
	return got
}

// Pools: create (tags kept), get, list with paging, move addresses in,
// filter by pool, refuse to delete a pool in use, delete.
func TestDedicatedIPPoolsV2(t *testing.T) {
	t.Parallel()
	e := newIPEnv(t, "127.0.0.3", "127.0.0.2", "2001:db8::25")
	ctx := context.Background()

	// Every configured address is the account's, in no pool, warmed up.
	if got := strings.Join(ipList(t, e.v2, &sesv2.GetDedicatedIpsInput{}), " "); got != "127.0.0.2= 127.0.0.3= 2001:db8::25=" {
		t.Errorf("GetDedicatedIps = %s", got)
	}
	one, err := e.v2.GetDedicatedIp(ctx, &sesv2.GetDedicatedIpInput{Ip: aws.String("127.0.0.2")})
	if err != nil {
		t.Fatal(err)
	}
	if d := one.DedicatedIp; d.WarmupStatus != v2types.WarmupStatusDone || d.WarmupPercentage == nil || *d.WarmupPercentage != 100 || d.PoolName != nil {
		t.Errorf("GetDedicatedIp = %+v", d)
	}

	if _, err := e.v2.CreateDedicatedIpPool(ctx, &sesv2.CreateDedicatedIpPoolInput{PoolName: aws.String("marketing"),
		Tags: []v2types.Tag{{Key: aws.String("team"), Value: aws.String("growth")}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.v2.CreateDedicatedIpPool(ctx, &sesv2.CreateDedicatedIpPoolInput{PoolName: aws.String("transactional"),
		ScalingMode: v2types.ScalingModeStandard}); err != nil {
		t.Fatal(err)
	}
	got, err := e.v2.GetDedicatedIpPool(ctx, &sesv2.GetDedicatedIpPoolInput{PoolName: aws.String("marketing")})
	if err != nil {
		t.Fatal(err)
	}
	if p := got.DedicatedIpPool; aws.ToString(p.PoolName) != "marketing" || p.ScalingMode != v2types.ScalingModeStandard {
		t.Errorf("GetDedicatedIpPool = %+v", p)
	}
	arn := "arn:aws:ses:eu-west-1:" + e.acct + ":dedicated-ip-pool/marketing"
	tags, err := e.v2.ListTagsForResource(ctx, &sesv2.ListTagsForResourceInput{ResourceArn: aws.String(arn)})
	if err != nil {
		t.Fatal(err)
	}
	if len(tags.Tags) != 1 || aws.ToString(tags.Tags[0].Key) != "team" {
		t.Errorf("tags = %+v", tags.Tags)
	}

	// Paging: one a page.
	page1, err := e.v2.ListDedicatedIpPools(ctx, &sesv2.ListDedicatedIpPoolsInput{PageSize: aws.Int32(1)})
	if err != nil {
		t.Fatal(err)
	}
	page2, err := e.v2.ListDedicatedIpPools(ctx, &sesv2.ListDedicatedIpPoolsInput{PageSize: aws.Int32(1), NextToken: page1.NextToken})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(page1.DedicatedIpPools, ",") != "marketing" || page1.NextToken == nil ||
		strings.Join(page2.DedicatedIpPools, ",") != "transactional" || page2.NextToken != nil {
		t.Errorf("pages: %v %v / %v %v", page1.DedicatedIpPools, page1.NextToken, page2.DedicatedIpPools, page2.NextToken)
	}

	// Move addresses in (and one from pool to pool); filter by pool.
	for _, mv := range []struct{ ip, pool string }{{"127.0.0.2", "transactional"}, {"2001:db8::25", "marketing"}, {"127.0.0.2", "marketing"}, {"127.0.0.3", "transactional"}} {
		if _, err := e.v2.PutDedicatedIpInPool(ctx, &sesv2.PutDedicatedIpInPoolInput{Ip: aws.String(mv.ip), DestinationPoolName: aws.String(mv.pool)}); err != nil {
			t.Fatalf("%s into %s: %v", mv.ip, mv.pool, err)
		}
	}
	if got := strings.Join(ipList(t, e.v2, &sesv2.GetDedicatedIpsInput{PoolName: aws.String("marketing")}), " "); got != "127.0.0.2=marketing 2001:db8::25=marketing" {
		t.Errorf("GetDedicatedIps marketing = %s", got)
	}
	// Paging the addresses: one a page, filtered.
	ips1, err := e.v2.GetDedicatedIps(ctx, &sesv2.GetDedicatedIpsInput{PoolName: aws.String("marketing"), PageSize: aws.Int32(1)})
	if err != nil {
		t.Fatal(err)
	}
	ips2, err := e.v2.GetDedicatedIps(ctx, &sesv2.GetDedicatedIpsInput{PoolName: aws.String("marketing"), PageSize: aws.Int32(1), NextToken: ips1.NextToken})
	if err != nil {
		t.Fatal(err)
	}
	if len(ips1.DedicatedIps) != 1 || aws.ToString(ips1.DedicatedIps[0].Ip) != "127.0.0.2" || ips1.NextToken == nil ||
		len(ips2.DedicatedIps) != 1 || aws.ToString(ips2.DedicatedIps[0].Ip) != "2001:db8::25" || ips2.NextToken != nil {
		t.Errorf("address pages: %+v %v / %+v %v", ips1.DedicatedIps, ips1.NextToken, ips2.DedicatedIps, ips2.NextToken)
	}

	// Another account sees the same addresses, in none of its pools.
	acct2, key2, err := e.st.CreateAccount(ctx)
	if err != nil {
		t.Fatal(err)
	}
	other := *e
	other.acct, other.creds = acct2.ID, aws.Credentials{AccessKeyID: key2.ID, SecretAccessKey: key2.Secret}
	v2other, _ := other.clients(e.region)
	if got := strings.Join(ipList(t, v2other, &sesv2.GetDedicatedIpsInput{}), " "); got != "127.0.0.2= 127.0.0.3= 2001:db8::25=" {
		t.Errorf("other account's GetDedicatedIps = %s", got)
	}

	// A pool holding addresses stays; emptied, it goes, tags and all.
	_, err = e.v2.DeleteDedicatedIpPool(ctx, &sesv2.DeleteDedicatedIpPoolInput{PoolName: aws.String("transactional")})
	wantErrCode(t, err, "BadRequestException")
	if _, err := e.v2.PutDedicatedIpInPool(ctx, &sesv2.PutDedicatedIpInPoolInput{Ip: aws.String("127.0.0.3"), DestinationPoolName: aws.String("marketing")}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.v2.DeleteDedicatedIpPool(ctx, &sesv2.DeleteDedicatedIpPoolInput{PoolName: aws.String("transactional")}); err != nil {
		t.Fatal(err)
	}
	_, err = e.v2.GetDedicatedIpPool(ctx, &sesv2.GetDedicatedIpPoolInput{PoolName: aws.String("transactional")})
	wantErrCode(t, err, "NotFoundException")
	_, err = e.v2.ListTagsForResource(ctx, &sesv2.ListTagsForResourceInput{ResourceArn: aws.String(strings.Replace(arn, "marketing", "transactional", 1))})
	wantErrCode(t, err, "NotFoundException")
}

// Bad input gets SES's exceptions.
func TestDedicatedIPErrorsV2(t *testing.T) {
	t.Parallel()
	e := newIPEnv(t, "127.0.0.2")
	ctx := context.Background()
	if _, err := e.v2.CreateDedicatedIpPool(ctx, &sesv2.CreateDedicatedIpPoolInput{PoolName: aws.String("p")}); err != nil {
		t.Fatal(err)
	}
	for name, tc := range map[string]struct {
		call func() error
		want string
	}{
		"create again": {func() error {
			_, err := e.v2.CreateDedicatedIpPool(ctx, &sesv2.CreateDedicatedIpPoolInput{PoolName: aws.String("p")})
			return err
		}, "AlreadyExistsException"},
		"MANAGED refused": {func() error {
			_, err := e.v2.CreateDedicatedIpPool(ctx, &sesv2.CreateDedicatedIpPoolInput{PoolName: aws.String("m"), ScalingMode: v2types.ScalingModeManaged})
			return err
		}, "BadRequestException"},
		"bad name": {func() error {
			_, err := e.v2.CreateDedicatedIpPool(ctx, &sesv2.CreateDedicatedIpPoolInput{PoolName: aws.String("Upper Case")})
			return err
		}, "BadRequestException"},
		"bad tag": {func() error {
			_, err := e.v2.CreateDedicatedIpPool(ctx, &sesv2.CreateDedicatedIpPoolInput{PoolName: aws.String("t"),
				Tags: []v2types.Tag{{Key: aws.String("aws:x"), Value: aws.String("v")}}})
			return err
		}, "BadRequestException"},
		"get missing pool": {func() error {
			_, err := e.v2.GetDedicatedIpPool(ctx, &sesv2.GetDedicatedIpPoolInput{PoolName: aws.String("nope")})
			return err
		}, "NotFoundException"},
		"delete missing pool": {func() error {
			_, err := e.v2.DeleteDedicatedIpPool(ctx, &sesv2.DeleteDedicatedIpPoolInput{PoolName: aws.String("nope")})
			return err
		}, "NotFoundException"},
		"list by missing pool": {func() error {
			_, err := e.v2.GetDedicatedIps(ctx, &sesv2.GetDedicatedIpsInput{PoolName: aws.String("nope")})
			return err
		}, "NotFoundException"},
		"page size": {func() error {
			_, err := e.v2.ListDedicatedIpPools(ctx, &sesv2.ListDedicatedIpPoolsInput{PageSize: aws.Int32(0)})
			return err
		}, "BadRequestException"},
		"address not configured": {func() error {
			_, err := e.v2.GetDedicatedIp(ctx, &sesv2.GetDedicatedIpInput{Ip: aws.String("192.0.2.1")})
			return err
		}, "NotFoundException"},
		"put unconfigured address": {func() error {
			_, err := e.v2.PutDedicatedIpInPool(ctx, &sesv2.PutDedicatedIpInPoolInput{Ip: aws.String("192.0.2.1"), DestinationPoolName: aws.String("p")})
			return err
		}, "NotFoundException"},
		"put into missing pool": {func() error {
			_, err := e.v2.PutDedicatedIpInPool(ctx, &sesv2.PutDedicatedIpInPoolInput{Ip: aws.String("127.0.0.2"), DestinationPoolName: aws.String("nope")})
			return err
		}, "NotFoundException"},
		"warm-up above 100": {func() error {
			_, err := e.v2.PutDedicatedIpWarmupAttributes(ctx, &sesv2.PutDedicatedIpWarmupAttributesInput{Ip: aws.String("127.0.0.2"), WarmupPercentage: aws.Int32(101)})
			return err
		}, "BadRequestException"},
		"warm-up below 0": {func() error {
			_, err := e.v2.PutDedicatedIpWarmupAttributes(ctx, &sesv2.PutDedicatedIpWarmupAttributesInput{Ip: aws.String("127.0.0.2"), WarmupPercentage: aws.Int32(-1)})
			return err
		}, "BadRequestException"},
		"warm-up of unconfigured address": {func() error {
			_, err := e.v2.PutDedicatedIpWarmupAttributes(ctx, &sesv2.PutDedicatedIpWarmupAttributesInput{Ip: aws.String("192.0.2.1"), WarmupPercentage: aws.Int32(50)})
			return err
		}, "NotFoundException"},
		"scaling MANAGED refused": {func() error {
			_, err := e.v2.PutDedicatedIpPoolScalingAttributes(ctx, &sesv2.PutDedicatedIpPoolScalingAttributesInput{PoolName: aws.String("p"), ScalingMode: v2types.ScalingModeManaged})
			return err
		}, "BadRequestException"},
		"scaling of missing pool": {func() error {
			_, err := e.v2.PutDedicatedIpPoolScalingAttributes(ctx, &sesv2.PutDedicatedIpPoolScalingAttributesInput{PoolName: aws.String("nope"), ScalingMode: v2types.ScalingModeStandard})
			return err
		}, "NotFoundException"},
	} {
		t.Run(name, func(t *testing.T) { wantErrCode(t, tc.call(), tc.want) })
	}
	// MANAGED's refusal says why.
	_, err := e.v2.CreateDedicatedIpPool(ctx, &sesv2.CreateDedicatedIpPoolInput{PoolName: aws.String("m"), ScalingMode: v2types.ScalingModeManaged})
	if err == nil || !strings.Contains(err.Error(), "sesame has no managed dedicated IP pools") {
		t.Errorf("MANAGED: %v", err)
	}
	// STANDARD again is fine.
	if _, err := e.v2.PutDedicatedIpPoolScalingAttributes(ctx, &sesv2.PutDedicatedIpPoolScalingAttributesInput{PoolName: aws.String("p"), ScalingMode: v2types.ScalingModeStandard}); err != nil {
		t.Error(err)
	}
	// The limit.
	for i := 1; i < maxDedicatedIPPools; i++ {
		if _, err := e.v2.CreateDedicatedIpPool(ctx, &sesv2.CreateDedicatedIpPoolInput{PoolName: aws.String("pool-" + string(rune('a'+i/26)) + string(rune('a'+i%26)))}); err != nil {
			t.Fatal(err)
		}
	}
	_, err = e.v2.CreateDedicatedIpPool(ctx, &sesv2.CreateDedicatedIpPoolInput{PoolName: aws.String("one-more")})
	wantErrCode(t, err, "LimitExceededException")
}

// Warm-up: a percentage below 100 is IN_PROGRESS, 100 DONE; the account's
// automatic warm-up switch is GetAccount's DedicatedIpAutoWarmupEnabled.
func TestDedicatedIPWarmupV2(t *testing.T) {
	t.Parallel()
	e := newIPEnv(t, "127.0.0.2")
	ctx := context.Background()
	for _, tc := range []struct {
		pct  int32
		want v2types.WarmupStatus
	}{{0, v2types.WarmupStatusInProgress}, {42, v2types.WarmupStatusInProgress}, {100, v2types.WarmupStatusDone}} {
		if _, err := e.v2.PutDedicatedIpWarmupAttributes(ctx, &sesv2.PutDedicatedIpWarmupAttributesInput{Ip: aws.String("127.0.0.2"), WarmupPercentage: aws.Int32(tc.pct)}); err != nil {
			t.Fatal(err)
		}
		got, err := e.v2.GetDedicatedIp(ctx, &sesv2.GetDedicatedIpInput{Ip: aws.String("127.0.0.2")})
		if err != nil {
			t.Fatal(err)
		}
		if d := got.DedicatedIp; d.WarmupStatus != tc.want || aws.ToInt32(d.WarmupPercentage) != tc.pct {
			t.Errorf("after %d: %s %d, want %s", tc.pct, d.WarmupStatus, aws.ToInt32(d.WarmupPercentage), tc.want)
		}
	}
	// Warm-up and pool are kept apart.
	if _, err := e.v2.PutDedicatedIpWarmupAttributes(ctx, &sesv2.PutDedicatedIpWarmupAttributesInput{Ip: aws.String("127.0.0.2"), WarmupPercentage: aws.Int32(30)}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.v2.CreateDedicatedIpPool(ctx, &sesv2.CreateDedicatedIpPoolInput{PoolName: aws.String("p")}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.v2.PutDedicatedIpInPool(ctx, &sesv2.PutDedicatedIpInPoolInput{Ip: aws.String("127.0.0.2"), DestinationPoolName: aws.String("p")}); err != nil {
		t.Fatal(err)
	}
	got, err := e.v2.GetDedicatedIp(ctx, &sesv2.GetDedicatedIpInput{Ip: aws.String("127.0.0.2")})
	if err != nil {
		t.Fatal(err)
	}
	if d := got.DedicatedIp; aws.ToInt32(d.WarmupPercentage) != 30 || aws.ToString(d.PoolName) != "p" {
		t.Errorf("after the move: %+v", d)
	}

	for _, on := range []bool{true, false} {
		if _, err := e.v2.PutAccountDedicatedIpWarmupAttributes(ctx, &sesv2.PutAccountDedicatedIpWarmupAttributesInput{AutoWarmupEnabled: on}); err != nil {
			t.Fatal(err)
		}
		acct, err := e.v2.GetAccount(ctx, &sesv2.GetAccountInput{})
		if err != nil {
			t.Fatal(err)
		}
		if acct.DedicatedIpAutoWarmupEnabled != on {
			t.Errorf("DedicatedIpAutoWarmupEnabled = %v, want %v", acct.DedicatedIpAutoWarmupEnabled, on)
		}
	}
}

// A configuration set's SendingPoolName must name a pool of the account.
func TestConfigurationSetSendingPoolV2(t *testing.T) {
	t.Parallel()
	e := newIPEnv(t, "127.0.0.2")
	ctx := context.Background()
	_, err := e.v2.CreateConfigurationSet(ctx, &sesv2.CreateConfigurationSetInput{ConfigurationSetName: aws.String("cs"),
		DeliveryOptions: &v2types.DeliveryOptions{SendingPoolName: aws.String("nope")}})
	wantErrCode(t, err, "NotFoundException")
	if _, err := e.v2.CreateDedicatedIpPool(ctx, &sesv2.CreateDedicatedIpPoolInput{PoolName: aws.String("pool")}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.v2.CreateConfigurationSet(ctx, &sesv2.CreateConfigurationSetInput{ConfigurationSetName: aws.String("cs"),
		DeliveryOptions: &v2types.DeliveryOptions{SendingPoolName: aws.String("pool")}}); err != nil {
		t.Fatal(err)
	}
	_, err = e.v2.PutConfigurationSetDeliveryOptions(ctx, &sesv2.PutConfigurationSetDeliveryOptionsInput{
		ConfigurationSetName: aws.String("cs"), SendingPoolName: aws.String("nope")})
	wantErrCode(t, err, "NotFoundException")
	got, err := e.v2.GetConfigurationSet(ctx, &sesv2.GetConfigurationSetInput{ConfigurationSetName: aws.String("cs")})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(got.DeliveryOptions.SendingPoolName) != "pool" {
		t.Errorf("SendingPoolName = %v, want pool (the refused put changed it)", got.DeliveryOptions.SendingPoolName)
	}
	// Another account's pool of that name is not this account's.
	acct2, key2, err := e.st.CreateAccount(ctx)
	if err != nil {
		t.Fatal(err)
	}
	other := *e
	other.acct, other.creds = acct2.ID, aws.Credentials{AccessKeyID: key2.ID, SecretAccessKey: key2.Secret}
	v2other, _ := other.clients(e.region)
	_, err = v2other.CreateConfigurationSet(ctx, &sesv2.CreateConfigurationSetInput{ConfigurationSetName: aws.String("cs"),
		DeliveryOptions: &v2types.DeliveryOptions{SendingPoolName: aws.String("pool")}})
	wantErrCode(t, err, "NotFoundException")
}

// TestDedicatedIPAutomaticWarmupV2: a percentage set nine days ago shows as
// set while automatic warm-up is off, and advanced by SES's 45-day plan
// (100/45 a day: 10 + 20) once it is on.
func TestDedicatedIPAutomaticWarmupV2(t *testing.T) {
	t.Parallel()
	e := newIPEnv(t, "127.0.0.2")
	ctx := context.Background()
	if err := e.st.SetDedicatedIPWarmup(ctx, e.acct, e.region, "127.0.0.2", 10, e.clk.Now().Add(-9*24*time.Hour-time.Hour)); err != nil {
		t.Fatal(err)
	}
	get := func() (int32, v2types.WarmupStatus) {
		t.Helper()
		out, err := e.v2.GetDedicatedIp(ctx, &sesv2.GetDedicatedIpInput{Ip: aws.String("127.0.0.2")})
		if err != nil {
			t.Fatal(err)
		}
		return aws.ToInt32(out.DedicatedIp.WarmupPercentage), out.DedicatedIp.WarmupStatus
	}
	if p, st := get(); p != 10 || st != v2types.WarmupStatusInProgress {
		t.Fatalf("automatic warm-up off: %d %s; want 10 IN_PROGRESS", p, st)
	}
	if _, err := e.v2.PutAccountDedicatedIpWarmupAttributes(ctx, &sesv2.PutAccountDedicatedIpWarmupAttributesInput{AutoWarmupEnabled: true}); err != nil {
		t.Fatal(err)
	}
	if p, st := get(); p != 30 || st != v2types.WarmupStatusInProgress {
		t.Fatalf("automatic warm-up on: %d %s; want 30 IN_PROGRESS", p, st)
	}
	if _, err := e.v2.PutDedicatedIpWarmupAttributes(ctx, &sesv2.PutDedicatedIpWarmupAttributesInput{Ip: aws.String("127.0.0.2"),
		WarmupPercentage: aws.Int32(5)}); err != nil {
		t.Fatal(err)
	}
	if p, _ := get(); p != 5 {
		t.Fatalf("after setting 5 again: %d; want 5 (the plan restarts from the value set)", p)
	}
}
