package e2e

import (
	"context"
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ses"
	sesv1types "github.com/aws/aws-sdk-go-v2/service/ses/types"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	"github.com/aws/aws-sdk-go-v2/service/sesv2/types"

	"sesame/internal/testenv"
)

// TestAPIAccount drives the account operations with the real SDK clients:
// GetAccount and its sending and suppression switches (v2), GetSendQuota and
// GetSendStatistics (v1).
func TestAPIAccount(t *testing.T) {
	s := testenv.Start(t, testenv.Options{})
	ctx := context.Background()
	v2, v1 := s.SESv2Client(t), s.SESClient(t)

	acct, err := v2.GetAccount(ctx, &sesv2.GetAccountInput{})
	if err != nil {
		t.Fatal(err)
	}
	if acct.ProductionAccessEnabled || !acct.SendingEnabled || acct.SendQuota == nil ||
		acct.SendQuota.Max24HourSend != 200 || acct.SendQuota.MaxSendRate != 1 {
		t.Errorf("new account: production=%v sending=%v quota=%+v, want SES's sandbox (200/24h, 1/s, sending)",
			acct.ProductionAccessEnabled, acct.SendingEnabled, acct.SendQuota)
	}
	quota, err := v1.GetSendQuota(ctx, &ses.GetSendQuotaInput{})
	if err != nil {
		t.Fatal(err)
	}
	if quota.Max24HourSend != 200 || quota.MaxSendRate != 1 || quota.SentLast24Hours != 0 {
		t.Errorf("GetSendQuota = %+v, want the sandbox's", quota)
	}
	if _, err := v1.GetSendStatistics(ctx, &ses.GetSendStatisticsInput{}); err != nil {
		t.Fatal(err)
	}

	t.Run("PutAccountSendingAttributes", func(t *testing.T) {
		for _, enabled := range []bool{false, true} {
			if _, err := v2.PutAccountSendingAttributes(ctx, &sesv2.PutAccountSendingAttributesInput{SendingEnabled: enabled}); err != nil {
				t.Fatal(err)
			}
			got, err := v2.GetAccount(ctx, &sesv2.GetAccountInput{})
			if err != nil {
				t.Fatal(err)
			}
			if got.SendingEnabled != enabled {
				t.Errorf("SendingEnabled = %v after putting %v", got.SendingEnabled, enabled)
			}
		}
	})

	t.Run("PutAccountSuppressionAttributes", func(t *testing.T) {
		cases := []struct {
			put     []types.SuppressionListReason
			want    []types.SuppressionListReason
			errCode string
		}{
			{put: []types.SuppressionListReason{"BOUNCE"}, want: []types.SuppressionListReason{"BOUNCE"}},
			{put: []types.SuppressionListReason{"COMPLAINT", "BOUNCE"}, want: []types.SuppressionListReason{"BOUNCE", "COMPLAINT"}},
			{put: []types.SuppressionListReason{}, want: nil},
			{put: []types.SuppressionListReason{"SPAM"}, errCode: "BadRequestException"},
		}
		for _, tc := range cases {
			_, err := v2.PutAccountSuppressionAttributes(ctx, &sesv2.PutAccountSuppressionAttributesInput{SuppressedReasons: tc.put})
			if tc.errCode != "" {
				wantCode(t, err, tc.errCode)
				continue
			}
			if err != nil {
				t.Fatal(err)
			}
			got, err := v2.GetAccount(ctx, &sesv2.GetAccountInput{})
			if err != nil {
				t.Fatal(err)
			}
			var reasons []types.SuppressionListReason
			if got.SuppressionAttributes != nil {
				reasons = slices.Clone(got.SuppressionAttributes.SuppressedReasons)
			}
			slices.Sort(reasons)
			if !slices.Equal(reasons, tc.want) {
				t.Errorf("put %v: SuppressedReasons = %v, want %v", tc.put, reasons, tc.want)
			}
		}
	})
}

// TestAPISuppressionList drives Put/Get/List/DeleteSuppressedDestination.
func TestAPISuppressionList(t *testing.T) {
	s := testenv.Start(t, testenv.Options{})
	ctx := context.Background()
	v2 := s.SESv2Client(t)

	puts := []struct {
		addr    string
		reason  types.SuppressionListReason
		errCode string
	}{
		{"bounced@example.com", "BOUNCE", ""},
		{"complained@example.com", "COMPLAINT", ""},
		{"Bounced2@Example.com", "BOUNCE", ""},
		{"bad@example.com", "SPAM", "BadRequestException"},
		{"not an address", "BOUNCE", "BadRequestException"},
	}
	for _, p := range puts {
		_, err := v2.PutSuppressedDestination(ctx, &sesv2.PutSuppressedDestinationInput{EmailAddress: aws.String(p.addr), Reason: p.reason})
		if p.errCode != "" {
			wantCode(t, err, p.errCode)
			continue
		}
		if err != nil {
			t.Fatalf("put %s: %v", p.addr, err)
		}
	}
	got, err := v2.GetSuppressedDestination(ctx, &sesv2.GetSuppressedDestinationInput{EmailAddress: aws.String("complained@example.com")})
	if err != nil {
		t.Fatal(err)
	}
	if d := got.SuppressedDestination; d == nil || aws.ToString(d.EmailAddress) != "complained@example.com" ||
		d.Reason != "COMPLAINT" || d.LastUpdateTime == nil {
		t.Errorf("GetSuppressedDestination = %+v", got.SuppressedDestination)
	}

	list := func(reasons ...types.SuppressionListReason) []string {
		t.Helper()
		var out []string
		p := sesv2.NewListSuppressedDestinationsPaginator(v2, &sesv2.ListSuppressedDestinationsInput{Reasons: reasons, PageSize: aws.Int32(1)})
		for p.HasMorePages() {
			page, err := p.NextPage(ctx)
			if err != nil {
				t.Fatal(err)
			}
			for _, d := range page.SuppressedDestinationSummaries {
				out = append(out, aws.ToString(d.EmailAddress))
			}
		}
		slices.Sort(out)
		return out
	}
	if all := list(); len(all) != 3 {
		t.Errorf("list (pages of 1) = %v, want 3 addresses", all)
	}
	if c := list("COMPLAINT"); !slices.Equal(c, []string{"complained@example.com"}) {
		t.Errorf("list COMPLAINT = %v", c)
	}

	if _, err := v2.DeleteSuppressedDestination(ctx, &sesv2.DeleteSuppressedDestinationInput{EmailAddress: aws.String("complained@example.com")}); err != nil {
		t.Fatal(err)
	}
	_, err = v2.GetSuppressedDestination(ctx, &sesv2.GetSuppressedDestinationInput{EmailAddress: aws.String("complained@example.com")})
	wantCode(t, err, "NotFoundException")
	_, err = v2.DeleteSuppressedDestination(ctx, &sesv2.DeleteSuppressedDestinationInput{EmailAddress: aws.String("complained@example.com")})
	wantCode(t, err, "NotFoundException")
}

// TestAPIConfigurationSets drives Create/Get/List/DeleteConfigurationSet in
// both protocols, on one store: what v2 creates, v1 sees.
func TestAPIConfigurationSets(t *testing.T) {
	s := testenv.Start(t, testenv.Options{})
	ctx := context.Background()
	v2, v1 := s.SESv2Client(t), s.SESClient(t)

	creates := []struct {
		name    string
		errCode string
	}{
		{"marketing", ""},
		{"transactional_1", ""},
		{"marketing", "AlreadyExistsException"},
		{"bad name!", "BadRequestException"},
	}
	for _, c := range creates {
		_, err := v2.CreateConfigurationSet(ctx, &sesv2.CreateConfigurationSetInput{
			ConfigurationSetName: aws.String(c.name),
			DeliveryOptions:      &types.DeliveryOptions{TlsPolicy: types.TlsPolicyRequire},
			SendingOptions:       &types.SendingOptions{SendingEnabled: true},
		})
		if c.errCode != "" {
			wantCode(t, err, c.errCode)
			continue
		}
		if err != nil {
			t.Fatalf("create %s: %v", c.name, err)
		}
	}
	got, err := v2.GetConfigurationSet(ctx, &sesv2.GetConfigurationSetInput{ConfigurationSetName: aws.String("marketing")})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(got.ConfigurationSetName) != "marketing" || got.DeliveryOptions == nil || got.DeliveryOptions.TlsPolicy != types.TlsPolicyRequire {
		t.Errorf("GetConfigurationSet = %+v", got)
	}
	_, err = v2.GetConfigurationSet(ctx, &sesv2.GetConfigurationSetInput{ConfigurationSetName: aws.String("nope")})
	wantCode(t, err, "NotFoundException")

	// v2 lists with POST /v2/email/list-configuration-sets (this SDK version).
	listed, err := v2.ListConfigurationSets(ctx, &sesv2.ListConfigurationSetsInput{})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(sorted(listed.ConfigurationSets), []string{"marketing", "transactional_1"}) {
		t.Errorf("v2 ListConfigurationSets = %v", listed.ConfigurationSets)
	}

	// v1 sees the same sets and keeps its own error codes.
	l1, err := v1.ListConfigurationSets(ctx, &ses.ListConfigurationSetsInput{})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, cs := range l1.ConfigurationSets {
		names = append(names, aws.ToString(cs.Name))
	}
	if !slices.Equal(sorted(names), []string{"marketing", "transactional_1"}) {
		t.Errorf("v1 ListConfigurationSets = %v", names)
	}
	_, err = v1.CreateConfigurationSet(ctx, &ses.CreateConfigurationSetInput{ConfigurationSet: &sesv1types.ConfigurationSet{Name: aws.String("marketing")}})
	wantCode(t, err, "ConfigurationSetAlreadyExists")
	if _, err := v1.CreateConfigurationSet(ctx, &ses.CreateConfigurationSetInput{ConfigurationSet: &sesv1types.ConfigurationSet{Name: aws.String("v1set")}}); err != nil {
		t.Fatal(err)
	}
	d, err := v1.DescribeConfigurationSet(ctx, &ses.DescribeConfigurationSetInput{ConfigurationSetName: aws.String("v1set")})
	if err != nil {
		t.Fatal(err)
	}
	if d.ConfigurationSet == nil || aws.ToString(d.ConfigurationSet.Name) != "v1set" {
		t.Errorf("DescribeConfigurationSet = %+v", d.ConfigurationSet)
	}
	if _, err := v1.DeleteConfigurationSet(ctx, &ses.DeleteConfigurationSetInput{ConfigurationSetName: aws.String("v1set")}); err != nil {
		t.Fatal(err)
	}
	_, err = v1.DescribeConfigurationSet(ctx, &ses.DescribeConfigurationSetInput{ConfigurationSetName: aws.String("v1set")})
	wantCode(t, err, "ConfigurationSetDoesNotExist")

	if _, err := v2.DeleteConfigurationSet(ctx, &sesv2.DeleteConfigurationSetInput{ConfigurationSetName: aws.String("marketing")}); err != nil {
		t.Fatal(err)
	}
	_, err = v2.DeleteConfigurationSet(ctx, &sesv2.DeleteConfigurationSetInput{ConfigurationSetName: aws.String("marketing")})
	wantCode(t, err, "NotFoundException")
}

func sorted(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return s
}
