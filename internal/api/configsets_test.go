package api

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/ses"
	v1types "github.com/aws/aws-sdk-go-v2/service/ses/types"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	v2types "github.com/aws/aws-sdk-go-v2/service/sesv2/types"

	"sesame/internal/seserr"
	"sesame/internal/store"
)

func TestConfigurationSetCreateGetDeleteV2(t *testing.T) {
	t.Parallel()
	e := newAcctEnv(t)
	ctx := context.Background()
	fresh := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

	// SendingPoolName must name a pool of the account.
	if _, err := e.v2.CreateDedicatedIpPool(ctx, &sesv2.CreateDedicatedIpPoolInput{PoolName: aws.String("pool")}); err != nil {
		t.Fatal(err)
	}
	_, err := e.v2.CreateConfigurationSet(ctx, &sesv2.CreateConfigurationSetInput{
		ConfigurationSetName: aws.String("full_Set-1"),
		DeliveryOptions:      &v2types.DeliveryOptions{TlsPolicy: "REQUIRE", SendingPoolName: aws.String("pool"), MaxDeliverySeconds: aws.Int64(600)},
		ReputationOptions:    &v2types.ReputationOptions{ReputationMetricsEnabled: true, LastFreshStart: &fresh},
		SendingOptions:       &v2types.SendingOptions{SendingEnabled: false},
		SuppressionOptions:   &v2types.SuppressionOptions{SuppressedReasons: []v2types.SuppressionListReason{"COMPLAINT"}},
		TrackingOptions:      &v2types.TrackingOptions{CustomRedirectDomain: aws.String("track.example.com"), HttpsPolicy: "REQUIRE"},
		Tags:                 []v2types.Tag{{Key: aws.String("team"), Value: aws.String("mail")}},
	})
	if err != nil {
		t.Fatal(err)
	}
	got, err := e.v2.GetConfigurationSet(ctx, &sesv2.GetConfigurationSetInput{ConfigurationSetName: aws.String("full_Set-1")})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(got.ConfigurationSetName) != "full_Set-1" {
		t.Errorf("name = %q", aws.ToString(got.ConfigurationSetName))
	}
	if d := got.DeliveryOptions; d == nil || d.TlsPolicy != "REQUIRE" || aws.ToString(d.SendingPoolName) != "pool" || aws.ToInt64(d.MaxDeliverySeconds) != 600 {
		t.Errorf("DeliveryOptions = %+v", d)
	}
	if r := got.ReputationOptions; r == nil || !r.ReputationMetricsEnabled || r.LastFreshStart == nil || !r.LastFreshStart.Equal(fresh) {
		t.Errorf("ReputationOptions = %+v", r)
	}
	if s := got.SendingOptions; s == nil || s.SendingEnabled {
		t.Errorf("SendingOptions = %+v", s)
	}
	if s := got.SuppressionOptions; s == nil || len(s.SuppressedReasons) != 1 || s.SuppressedReasons[0] != "COMPLAINT" {
		t.Errorf("SuppressionOptions = %+v", s)
	}
	if tr := got.TrackingOptions; tr == nil || aws.ToString(tr.CustomRedirectDomain) != "track.example.com" || tr.HttpsPolicy != "REQUIRE" {
		t.Errorf("TrackingOptions = %+v", tr)
	}
	if len(got.Tags) != 1 || aws.ToString(got.Tags[0].Key) != "team" || aws.ToString(got.Tags[0].Value) != "mail" {
		t.Errorf("Tags = %+v", got.Tags)
	}

	// A bare set reads back with SES's defaults.
	if _, err := e.v2.CreateConfigurationSet(ctx, &sesv2.CreateConfigurationSetInput{ConfigurationSetName: aws.String("bare")}); err != nil {
		t.Fatal(err)
	}
	got, err = e.v2.GetConfigurationSet(ctx, &sesv2.GetConfigurationSetInput{ConfigurationSetName: aws.String("bare")})
	if err != nil {
		t.Fatal(err)
	}
	if got.DeliveryOptions == nil || got.DeliveryOptions.TlsPolicy != "OPTIONAL" || got.SendingOptions == nil || !got.SendingOptions.SendingEnabled ||
		got.ReputationOptions == nil || got.ReputationOptions.ReputationMetricsEnabled || got.SuppressionOptions != nil || got.TrackingOptions != nil {
		t.Errorf("bare set = delivery %+v sending %+v reputation %+v suppression %+v tracking %+v",
			got.DeliveryOptions, got.SendingOptions, got.ReputationOptions, got.SuppressionOptions, got.TrackingOptions)
	}

	_, err = e.v2.CreateConfigurationSet(ctx, &sesv2.CreateConfigurationSetInput{ConfigurationSetName: aws.String("bare")})
	wantErrCode(t, err, "AlreadyExistsException")
	// Names are case-sensitive, and per region.
	if _, err := e.v2.CreateConfigurationSet(ctx, &sesv2.CreateConfigurationSetInput{ConfigurationSetName: aws.String("BARE")}); err != nil {
		t.Fatal(err)
	}
	other, _ := e.clients("us-east-1")
	if _, err := other.CreateConfigurationSet(ctx, &sesv2.CreateConfigurationSetInput{ConfigurationSetName: aws.String("bare")}); err != nil {
		t.Fatal(err)
	}

	if _, err := e.v2.DeleteConfigurationSet(ctx, &sesv2.DeleteConfigurationSetInput{ConfigurationSetName: aws.String("bare")}); err != nil {
		t.Fatal(err)
	}
	_, err = e.v2.GetConfigurationSet(ctx, &sesv2.GetConfigurationSetInput{ConfigurationSetName: aws.String("bare")})
	wantErrCode(t, err, "NotFoundException")
	if !strings.Contains(err.Error(), "Configuration set <bare> does not exist.") {
		t.Errorf("message: %v", err)
	}
	_, err = e.v2.DeleteConfigurationSet(ctx, &sesv2.DeleteConfigurationSetInput{ConfigurationSetName: aws.String("bare")})
	wantErrCode(t, err, "NotFoundException")
	if _, err := other.GetConfigurationSet(ctx, &sesv2.GetConfigurationSetInput{ConfigurationSetName: aws.String("bare")}); err != nil {
		t.Errorf("us-east-1's set went with eu-west-1's: %v", err)
	}
}

func TestCreateConfigurationSetRefusalsV2(t *testing.T) {
	t.Parallel()
	e := newAcctEnv(t)
	tests := []struct {
		name string
		in   sesv2.CreateConfigurationSetInput
	}{
		{"space in name", sesv2.CreateConfigurationSetInput{ConfigurationSetName: aws.String("my set")}},
		{"dot in name", sesv2.CreateConfigurationSetInput{ConfigurationSetName: aws.String("my.set")}},
		{"65 characters", sesv2.CreateConfigurationSetInput{ConfigurationSetName: aws.String(strings.Repeat("a", 65))}},
		{"non-ASCII", sesv2.CreateConfigurationSetInput{ConfigurationSetName: aws.String("säit")}},
		{"tls policy", sesv2.CreateConfigurationSetInput{ConfigurationSetName: aws.String("a"),
			DeliveryOptions: &v2types.DeliveryOptions{TlsPolicy: "MAYBE"}}},
		{"max delivery 299", sesv2.CreateConfigurationSetInput{ConfigurationSetName: aws.String("a"),
			DeliveryOptions: &v2types.DeliveryOptions{MaxDeliverySeconds: aws.Int64(299)}}},
		{"max delivery 50401", sesv2.CreateConfigurationSetInput{ConfigurationSetName: aws.String("a"),
			DeliveryOptions: &v2types.DeliveryOptions{MaxDeliverySeconds: aws.Int64(50401)}}},
		{"suppression reason", sesv2.CreateConfigurationSetInput{ConfigurationSetName: aws.String("a"),
			SuppressionOptions: &v2types.SuppressionOptions{SuppressedReasons: []v2types.SuppressionListReason{"SPAM"}}}},
		{"https policy", sesv2.CreateConfigurationSetInput{ConfigurationSetName: aws.String("a"),
			TrackingOptions: &v2types.TrackingOptions{CustomRedirectDomain: aws.String("x.example"), HttpsPolicy: "ALWAYS"}}},
		{"duplicate tag", sesv2.CreateConfigurationSetInput{ConfigurationSetName: aws.String("a"),
			Tags: []v2types.Tag{{Key: aws.String("k"), Value: aws.String("1")}, {Key: aws.String("k"), Value: aws.String("2")}}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := e.v2.CreateConfigurationSet(context.Background(), &tc.in)
			wantErrCode(t, err, "BadRequestException")
		})
	}
	// None of the refused sets exists.
	out, err := e.v2.ListConfigurationSets(context.Background(), &sesv2.ListConfigurationSetsInput{})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.ConfigurationSets) != 0 {
		t.Errorf("refused sets were created: %v", out.ConfigurationSets)
	}
	// 64 characters is fine.
	if _, err := e.v2.CreateConfigurationSet(context.Background(), &sesv2.CreateConfigurationSetInput{
		ConfigurationSetName: aws.String(strings.Repeat("a", 64))}); err != nil {
		t.Error(err)
	}
}

func TestConfigurationSetOptionsV2(t *testing.T) {
	t.Parallel()
	e := newAcctEnv(t)
	ctx := context.Background()
	name := aws.String("opts")
	if _, err := e.v2.CreateConfigurationSet(ctx, &sesv2.CreateConfigurationSetInput{ConfigurationSetName: name}); err != nil {
		t.Fatal(err)
	}
	get := func() *sesv2.GetConfigurationSetOutput {
		t.Helper()
		got, err := e.v2.GetConfigurationSet(ctx, &sesv2.GetConfigurationSetInput{ConfigurationSetName: name})
		if err != nil {
			t.Fatal(err)
		}
		return got
	}

	if _, err := e.v2.PutConfigurationSetDeliveryOptions(ctx, &sesv2.PutConfigurationSetDeliveryOptionsInput{
		ConfigurationSetName: name, TlsPolicy: "REQUIRE", MaxDeliverySeconds: aws.Int64(50400)}); err != nil {
		t.Fatal(err)
	}
	if d := get().DeliveryOptions; d.TlsPolicy != "REQUIRE" || aws.ToInt64(d.MaxDeliverySeconds) != 50400 {
		t.Errorf("delivery = %+v", d)
	}
	// The outbound-delivery side reads the policy from the store.
	cs, err := e.st.ConfigurationSet(ctx, e.acct, e.region, "opts")
	if err != nil || cs.Options.Delivery == nil || cs.Options.Delivery.TlsPolicy != "REQUIRE" {
		t.Errorf("stored delivery options = %+v, %v", cs.Options.Delivery, err)
	}

	if _, err := e.v2.PutConfigurationSetSendingOptions(ctx, &sesv2.PutConfigurationSetSendingOptionsInput{
		ConfigurationSetName: name, SendingEnabled: false}); err != nil {
		t.Fatal(err)
	}
	if got := get(); got.SendingOptions.SendingEnabled {
		t.Error("sending still enabled")
	}
	if _, err := e.v2.PutConfigurationSetSendingOptions(ctx, &sesv2.PutConfigurationSetSendingOptionsInput{
		ConfigurationSetName: name, SendingEnabled: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.v2.PutConfigurationSetReputationOptions(ctx, &sesv2.PutConfigurationSetReputationOptionsInput{
		ConfigurationSetName: name, ReputationMetricsEnabled: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.v2.PutConfigurationSetSuppressionOptions(ctx, &sesv2.PutConfigurationSetSuppressionOptionsInput{
		ConfigurationSetName: name, SuppressedReasons: []v2types.SuppressionListReason{}}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.v2.PutConfigurationSetTrackingOptions(ctx, &sesv2.PutConfigurationSetTrackingOptionsInput{
		ConfigurationSetName: name, CustomRedirectDomain: aws.String("t.example.com")}); err != nil {
		t.Fatal(err)
	}
	got := get()
	if !got.SendingOptions.SendingEnabled || !got.ReputationOptions.ReputationMetricsEnabled ||
		got.SuppressionOptions == nil || len(got.SuppressionOptions.SuppressedReasons) != 0 ||
		got.TrackingOptions == nil || aws.ToString(got.TrackingOptions.CustomRedirectDomain) != "t.example.com" ||
		got.DeliveryOptions.TlsPolicy != "REQUIRE" {
		t.Errorf("after puts: sending %+v reputation %+v suppression %+v tracking %+v delivery %+v",
			got.SendingOptions, got.ReputationOptions, got.SuppressionOptions, got.TrackingOptions, got.DeliveryOptions)
	}

	// Refusals: a bad value leaves the stored options alone; a missing set is NotFound.
	_, err = e.v2.PutConfigurationSetDeliveryOptions(ctx, &sesv2.PutConfigurationSetDeliveryOptionsInput{
		ConfigurationSetName: name, MaxDeliverySeconds: aws.Int64(10)})
	wantErrCode(t, err, "BadRequestException")
	if d := get().DeliveryOptions; d.TlsPolicy != "REQUIRE" || aws.ToInt64(d.MaxDeliverySeconds) != 50400 {
		t.Errorf("refused put changed delivery options: %+v", d)
	}
	missing := aws.String("nope")
	for _, call := range []func() error{
		func() error {
			_, err := e.v2.PutConfigurationSetDeliveryOptions(ctx, &sesv2.PutConfigurationSetDeliveryOptionsInput{ConfigurationSetName: missing})
			return err
		},
		func() error {
			_, err := e.v2.PutConfigurationSetSendingOptions(ctx, &sesv2.PutConfigurationSetSendingOptionsInput{ConfigurationSetName: missing})
			return err
		},
		func() error {
			_, err := e.v2.PutConfigurationSetReputationOptions(ctx, &sesv2.PutConfigurationSetReputationOptionsInput{ConfigurationSetName: missing})
			return err
		},
		func() error {
			_, err := e.v2.PutConfigurationSetSuppressionOptions(ctx, &sesv2.PutConfigurationSetSuppressionOptionsInput{ConfigurationSetName: missing})
			return err
		},
		func() error {
			_, err := e.v2.PutConfigurationSetTrackingOptions(ctx, &sesv2.PutConfigurationSetTrackingOptionsInput{ConfigurationSetName: missing})
			return err
		},
	} {
		wantErrCode(t, call(), "NotFoundException")
	}
}

func TestListConfigurationSetsV2(t *testing.T) {
	t.Parallel()
	e := newAcctEnv(t)
	ctx := context.Background()
	var all []string
	for i := range 12 {
		name := fmt.Sprintf("set-%02d", i)
		if i%3 == 0 {
			name = fmt.Sprintf("marketing-%02d", i)
		}
		all = append(all, name)
		if _, err := e.v2.CreateConfigurationSet(ctx, &sesv2.CreateConfigurationSetInput{ConfigurationSetName: aws.String(name)}); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name   string
		in     sesv2.ListConfigurationSetsInput
		want   int
		pages  int
		substr string
	}{
		{"one page", sesv2.ListConfigurationSetsInput{}, 12, 1, ""},
		{"pages of 5", sesv2.ListConfigurationSetsInput{PageSize: aws.Int32(5)}, 12, 3, ""},
		{"pages of 12", sesv2.ListConfigurationSetsInput{PageSize: aws.Int32(12)}, 12, 1, ""},
		{"filter", sesv2.ListConfigurationSetsInput{PageSize: aws.Int32(3),
			Filter: map[string]string{"CONFIGURATION_SET_NAME_CONTAINS": "marketing"}}, 4, 2, "marketing"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			pages := 0
			in := tc.in
			for {
				out, err := e.v2.ListConfigurationSets(ctx, &in)
				if err != nil {
					t.Fatal(err)
				}
				pages++
				got = append(got, out.ConfigurationSets...)
				if out.NextToken == nil {
					break
				}
				in.NextToken = out.NextToken
			}
			if len(got) != tc.want || pages != tc.pages {
				t.Fatalf("%d sets in %d pages, want %d in %d: %v", len(got), pages, tc.want, tc.pages, got)
			}
			for i, n := range got {
				if !strings.Contains(n, tc.substr) || i > 0 && got[i-1] >= n {
					t.Fatalf("listing %v: out of order or unfiltered", got)
				}
			}
		})
	}

	// Older clients (both CLIs) list with GET and the paging in the query.
	var got []string
	token := ""
	for pages := 0; ; pages++ {
		if pages > 5 {
			t.Fatal("GET listing does not end")
		}
		q := url.Values{"PageSize": {"4"}}
		if token != "" {
			q.Set("NextToken", token)
		}
		var out struct {
			ConfigurationSets []string
			NextToken         string
		}
		e.signedJSON(t, http.MethodGet, "/v2/email/configuration-sets?"+q.Encode(), http.StatusOK, &out)
		got = append(got, out.ConfigurationSets...)
		if token = out.NextToken; token == "" {
			break
		}
	}
	if len(got) != 12 {
		t.Errorf("GET listing: %v", got)
	}

	_, err := e.v2.ListConfigurationSets(ctx, &sesv2.ListConfigurationSetsInput{NextToken: aws.String("!!")})
	wantErrCode(t, err, "BadRequestException")
	_, err = e.v2.ListConfigurationSets(ctx, &sesv2.ListConfigurationSetsInput{PageSize: aws.Int32(0)})
	wantErrCode(t, err, "BadRequestException")
}

// signedJSON sends a SigV4-signed v2 request without a body, as the CLIs
// do for GET operations, and decodes the JSON answer.
func (e *acctEnv) signedJSON(t *testing.T, method, path string, status int, out any) {
	t.Helper()
	req, err := http.NewRequest(method, e.url+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(nil)
	if err := v4.NewSigner().SignHTTP(context.Background(), e.creds, req, hex.EncodeToString(sum[:]), "ses", e.region, time.Now()); err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != status {
		t.Fatalf("%s %s: status %d, want %d", method, path, resp.StatusCode, status)
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		t.Fatal(err)
	}
}

func TestConfigurationSetsV1(t *testing.T) {
	t.Parallel()
	e := newAcctEnv(t)
	ctx := context.Background()

	for i := range 5 {
		if _, err := e.v1.CreateConfigurationSet(ctx, &ses.CreateConfigurationSetInput{
			ConfigurationSet: &v1types.ConfigurationSet{Name: aws.String(fmt.Sprintf("v1-set-%d", i))}}); err != nil {
			t.Fatal(err)
		}
	}
	_, err := e.v1.CreateConfigurationSet(ctx, &ses.CreateConfigurationSetInput{ConfigurationSet: &v1types.ConfigurationSet{Name: aws.String("v1-set-0")}})
	wantErrCode(t, err, "ConfigurationSetAlreadyExists")
	var exists *v1types.ConfigurationSetAlreadyExistsException
	if !errors.As(err, &exists) {
		t.Errorf("not the SDK's typed exception: %T", err)
	}
	_, err = e.v1.CreateConfigurationSet(ctx, &ses.CreateConfigurationSetInput{ConfigurationSet: &v1types.ConfigurationSet{Name: aws.String("bad name")}})
	wantErrCode(t, err, "InvalidConfigurationSet")

	// Paging with MaxItems and NextToken.
	var names []string
	in := &ses.ListConfigurationSetsInput{MaxItems: aws.Int32(2)}
	for pages := 1; ; pages++ {
		out, err := e.v1.ListConfigurationSets(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		for _, cs := range out.ConfigurationSets {
			names = append(names, aws.ToString(cs.Name))
		}
		if out.NextToken == nil {
			if pages != 3 {
				t.Errorf("%d pages of 2 for 5 sets", pages)
			}
			break
		}
		in.NextToken = out.NextToken
	}
	if strings.Join(names, ",") != "v1-set-0,v1-set-1,v1-set-2,v1-set-3,v1-set-4" {
		t.Errorf("listed %v", names)
	}

	// v1 and v2 see the same sets; v1 option updates show in v2.
	if _, err := e.v1.PutConfigurationSetDeliveryOptions(ctx, &ses.PutConfigurationSetDeliveryOptionsInput{
		ConfigurationSetName: aws.String("v1-set-1"), DeliveryOptions: &v1types.DeliveryOptions{TlsPolicy: v1types.TlsPolicyRequire}}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.v1.UpdateConfigurationSetSendingEnabled(ctx, &ses.UpdateConfigurationSetSendingEnabledInput{
		ConfigurationSetName: aws.String("v1-set-1"), Enabled: false}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.v1.UpdateConfigurationSetReputationMetricsEnabled(ctx, &ses.UpdateConfigurationSetReputationMetricsEnabledInput{
		ConfigurationSetName: aws.String("v1-set-1"), Enabled: true}); err != nil {
		t.Fatal(err)
	}
	v2got, err := e.v2.GetConfigurationSet(ctx, &sesv2.GetConfigurationSetInput{ConfigurationSetName: aws.String("v1-set-1")})
	if err != nil {
		t.Fatal(err)
	}
	if v2got.DeliveryOptions.TlsPolicy != "REQUIRE" || v2got.SendingOptions.SendingEnabled || !v2got.ReputationOptions.ReputationMetricsEnabled {
		t.Errorf("v2 view of v1 updates: delivery %+v sending %+v reputation %+v", v2got.DeliveryOptions, v2got.SendingOptions, v2got.ReputationOptions)
	}

	desc, err := e.v1.DescribeConfigurationSet(ctx, &ses.DescribeConfigurationSetInput{ConfigurationSetName: aws.String("v1-set-1"),
		ConfigurationSetAttributeNames: []v1types.ConfigurationSetAttribute{"deliveryOptions", "reputationOptions", "trackingOptions", "eventDestinations"}})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(desc.ConfigurationSet.Name) != "v1-set-1" || desc.DeliveryOptions == nil || desc.DeliveryOptions.TlsPolicy != v1types.TlsPolicyRequire ||
		desc.ReputationOptions == nil || desc.ReputationOptions.SendingEnabled || !desc.ReputationOptions.ReputationMetricsEnabled ||
		desc.TrackingOptions == nil || len(desc.EventDestinations) != 0 {
		t.Errorf("describe = %+v delivery %+v reputation %+v tracking %+v", desc.ConfigurationSet, desc.DeliveryOptions, desc.ReputationOptions, desc.TrackingOptions)
	}
	desc, err = e.v1.DescribeConfigurationSet(ctx, &ses.DescribeConfigurationSetInput{ConfigurationSetName: aws.String("v1-set-2")})
	if err != nil {
		t.Fatal(err)
	}
	if desc.DeliveryOptions != nil || desc.ReputationOptions != nil || desc.TrackingOptions != nil {
		t.Errorf("attributes not asked for were described: %+v", desc)
	}

	if _, err := e.v1.DeleteConfigurationSet(ctx, &ses.DeleteConfigurationSetInput{ConfigurationSetName: aws.String("v1-set-2")}); err != nil {
		t.Fatal(err)
	}
	notFound := []struct {
		name string
		call func() error
	}{
		{"describe", func() error {
			_, err := e.v1.DescribeConfigurationSet(ctx, &ses.DescribeConfigurationSetInput{ConfigurationSetName: aws.String("v1-set-2")})
			return err
		}},
		{"delete", func() error {
			_, err := e.v1.DeleteConfigurationSet(ctx, &ses.DeleteConfigurationSetInput{ConfigurationSetName: aws.String("v1-set-2")})
			return err
		}},
		{"delivery options", func() error {
			_, err := e.v1.PutConfigurationSetDeliveryOptions(ctx, &ses.PutConfigurationSetDeliveryOptionsInput{ConfigurationSetName: aws.String("v1-set-2")})
			return err
		}},
		{"sending enabled", func() error {
			_, err := e.v1.UpdateConfigurationSetSendingEnabled(ctx, &ses.UpdateConfigurationSetSendingEnabledInput{ConfigurationSetName: aws.String("v1-set-2")})
			return err
		}},
	}
	for _, tc := range notFound {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.call()
			wantErrCode(t, err, "ConfigurationSetDoesNotExist")
			var nf *v1types.ConfigurationSetDoesNotExistException
			if !errors.As(err, &nf) {
				t.Errorf("not the SDK's typed exception: %T", err)
			}
		})
	}
}

func TestCheckConfigurationSet(t *testing.T) {
	t.Parallel()
	e := newAcctEnv(t)
	ctx := e.ctx()
	if err := e.st.CreateConfigurationSet(ctx, store.ConfigurationSet{AccountID: e.acct, Region: e.region, Name: "exists"}, 0); err != nil {
		t.Fatal(err)
	}
	if err := e.st.CreateConfigurationSet(ctx, store.ConfigurationSet{AccountID: e.acct, Region: "us-east-1", Name: "elsewhere"}, 0); err != nil {
		t.Fatal(err)
	}
	if err := e.st.CreateConfigurationSet(ctx, store.ConfigurationSet{AccountID: "999999999999", Region: e.region, Name: "theirs"}, 0); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		wantErr bool
	}{
		{"", false},
		{"exists", false},
		{"EXISTS", true}, // names are case-sensitive
		{"elsewhere", true},
		{"theirs", true},
		{"missing", true},
	}
	for _, tc := range tests {
		err := e.srv.checkConfigurationSet(ctx, tc.name)
		if !tc.wantErr {
			if err != nil {
				t.Errorf("%q: %v", tc.name, err)
			}
			continue
		}
		var se *seserr.Error
		if !errors.As(err, &se) {
			t.Fatalf("%q: %v, want a *seserr.Error", tc.name, err)
		}
		want := fmt.Sprintf("Configuration set <%s> does not exist.", tc.name)
		if se.APICode != "NotFoundException" || se.QueryCode != "ConfigurationSetDoesNotExist" || se.HTTPStatus != 404 || se.Message != want {
			t.Errorf("%q: %+v", tc.name, se)
		}
	}
}

// FuzzPageToken: every key survives a round trip, and no input makes the
// decoder panic or answer anything but a BadRequest.
func FuzzPageToken(f *testing.F) {
	f.Add("set-1")
	f.Add("")
	f.Add("user@example.com")
	f.Add("djE6eA")
	f.Fuzz(func(t *testing.T, s string) {
		if s != "" {
			got, err := decodePageToken(encodePageToken(s))
			if err != nil || got != s {
				t.Fatalf("round trip of %q: %q, %v", s, got, err)
			}
		}
		if _, err := decodePageToken(s); err != nil {
			var se *seserr.Error
			if !errors.As(err, &se) || se.APICode != "BadRequestException" {
				t.Fatalf("decode %q: %v", s, err)
			}
		}
	})
}
