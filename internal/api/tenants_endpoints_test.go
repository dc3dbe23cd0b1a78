package api

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	v2types "github.com/aws/aws-sdk-go-v2/service/sesv2/types"
)

// The request members that name SES's tenants, multi-region endpoints and
// Auto Validation: refused with why, never accepted and ignored; the
// values that say what sesame does are kept and read back.

func TestTenantNameRefused(t *testing.T) {
	t.Parallel()
	e := newAcctEnv(t)
	ctx := context.Background()
	const want = "Tenant <acme> does not exist."
	tenant := aws.String("acme")
	_, err := e.v2.PutSuppressedDestination(ctx, &sesv2.PutSuppressedDestinationInput{
		EmailAddress: aws.String("a@example.com"), Reason: "BOUNCE", TenantName: tenant})
	wantAPIError(t, err, "NotFoundException", want)
	_, err = e.v2.GetSuppressedDestination(ctx, &sesv2.GetSuppressedDestinationInput{EmailAddress: aws.String("a@example.com"), TenantName: tenant})
	wantAPIError(t, err, "NotFoundException", want)
	_, err = e.v2.DeleteSuppressedDestination(ctx, &sesv2.DeleteSuppressedDestinationInput{EmailAddress: aws.String("a@example.com"), TenantName: tenant})
	wantAPIError(t, err, "NotFoundException", want)
	_, err = e.v2.ListSuppressedDestinations(ctx, &sesv2.ListSuppressedDestinationsInput{TenantName: tenant})
	wantAPIError(t, err, "NotFoundException", want)
	// Nothing was put on the account's list by the refused call.
	out, err := e.v2.ListSuppressedDestinations(ctx, &sesv2.ListSuppressedDestinationsInput{})
	if err != nil || len(out.SuppressedDestinationSummaries) != 0 {
		t.Fatalf("list = %+v, %v", out, err)
	}
}

func TestSendTenantEndpointOverrides(t *testing.T) {
	t.Parallel()
	e := newSendEnv(t, true)
	ctx := context.Background()
	simple := &v2types.EmailContent{Simple: &v2types.Message{Subject: &v2types.Content{Data: aws.String("s")},
		Body: &v2types.Body{Text: &v2types.Content{Data: aws.String("b")}}}}
	dest := &v2types.Destination{ToAddresses: []string{"you@example.net"}}
	send := func(mod func(*sesv2.SendEmailInput)) error {
		in := &sesv2.SendEmailInput{FromEmailAddress: aws.String("me@example.org"), Destination: dest, Content: simple}
		mod(in)
		_, err := e.v2.SendEmail(ctx, in)
		return err
	}
	wantAPIError(t, send(func(in *sesv2.SendEmailInput) { in.TenantName = aws.String("acme") }),
		"NotFoundException", "Tenant <acme> does not exist.")
	// The SDK signs a call with an EndpointId with SigV4a, which sesame
	// does not verify (there is no endpoint to sign for).
	wantAPIError(t, send(func(in *sesv2.SendEmailInput) { in.EndpointId = aws.String("abc.def") }),
		"IncompleteSignature", "Unsupported AWS 'algorithm': 'AWS4-ECDSA-P256-SHA256'")
	wantAPIError(t, send(func(in *sesv2.SendEmailInput) {
		in.ConfigurationOverrides = &v2types.ConfigurationOverrides{Tracking: &v2types.TrackingConfigurationOverrides{OpenTrackingEnabled: "ON"}}
	}), "BadRequestException", "Invalid value <ON> for ConfigurationOverrides.Tracking.OpenTrackingEnabled: it must be one of ENABLED, DISABLED.")

	bulk := func(mod func(*sesv2.SendBulkEmailInput)) error {
		in := &sesv2.SendBulkEmailInput{FromEmailAddress: aws.String("me@example.org"),
			DefaultContent: &v2types.BulkEmailContent{Template: &v2types.Template{TemplateContent: &v2types.EmailTemplateContent{
				Subject: aws.String("s"), Text: aws.String("t")}}},
			BulkEmailEntries: []v2types.BulkEmailEntry{{Destination: dest}}}
		mod(in)
		_, err := e.v2.SendBulkEmail(ctx, in)
		return err
	}
	wantAPIError(t, bulk(func(in *sesv2.SendBulkEmailInput) { in.TenantName = aws.String("acme") }),
		"NotFoundException", "Tenant <acme> does not exist.")
	e.claim(t, 0) // nothing was sent

	// A valid override is accepted (its effect: sending's TestSubmitTrackingOverride).
	if err := send(func(in *sesv2.SendEmailInput) {
		in.ConfigurationOverrides = &v2types.ConfigurationOverrides{Tracking: &v2types.TrackingConfigurationOverrides{
			OpenTrackingEnabled: "ENABLED", ClickTrackingEnabled: "DISABLED"}}
	}); err != nil {
		t.Fatal(err)
	}
	e.claim(t, 1)
}

// A client that signs an EndpointId with SigV4 reaches the operation:
// the endpoint does not exist.
func TestSendEndpointIdRefused(t *testing.T) {
	t.Parallel()
	e := newAcctEnv(t)
	for path, body := range map[string]string{
		"/v2/email/outbound-emails": `{"EndpointId":"abc.def","FromEmailAddress":"me@example.org",` +
			`"Destination":{"ToAddresses":["you@example.net"]},"Content":{"Simple":{"Subject":{"Data":"s"},"Body":{"Text":{"Data":"b"}}}}}`,
		"/v2/email/outbound-bulk-emails": `{"EndpointId":"abc.def","FromEmailAddress":"me@example.org",` +
			`"DefaultContent":{"Template":{"TemplateName":"t"}},"BulkEmailEntries":[{"Destination":{"ToAddresses":["you@example.net"]}}]}`,
	} {
		var out struct{ Message string }
		e.signedBody(t, "POST", path, body, http.StatusNotFound, &out)
		if out.Message != "Multi-region endpoint <abc.def> does not exist." {
			t.Errorf("%s: %q", path, out.Message)
		}
	}
}

// signedBody sends a SigV4-signed v2 request with a JSON body and decodes
// the JSON answer.
func (e *acctEnv) signedBody(t *testing.T, method, path, body string, status int, out any) {
	t.Helper()
	req, err := http.NewRequest(method, e.url+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	sum := sha256.Sum256([]byte(body))
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

func TestSuppressionScopeAndValidation(t *testing.T) {
	t.Parallel()
	e := newAcctEnv(t)
	ctx := context.Background()
	threshold := func(enabled v2types.FeatureStatus, verdict v2types.SuppressionConfidenceVerdictThreshold) *v2types.SuppressionConditionThreshold {
		c := &v2types.SuppressionConditionThreshold{ConditionThresholdEnabled: enabled}
		if verdict != "" {
			c.OverallConfidenceThreshold = &v2types.SuppressionConfidenceThreshold{ConfidenceVerdictThreshold: verdict}
		}
		return c
	}
	const noAuto = "sesame has no Auto Validation: it does not score addresses' deliverability, so nothing is " +
		"suppressed by a confidence threshold; addresses are suppressed after a bounce or complaint, or by " +
		"PutSuppressedDestination. Only DISABLED is accepted."
	const noTenant = "SuppressionScope TENANT is not available: sesame has no tenants, and each account has " +
		"one suppression list of its own. Only ACCOUNT is accepted."

	// The account: DISABLED only, and GetAccount says so.
	_, err := e.v2.PutAccountSuppressionAttributes(ctx, &sesv2.PutAccountSuppressionAttributesInput{
		SuppressedReasons:    []v2types.SuppressionListReason{"BOUNCE"},
		ValidationAttributes: &v2types.SuppressionValidationAttributes{ConditionThreshold: threshold("ENABLED", "HIGH")}})
	wantAPIError(t, err, "BadRequestException", noAuto)
	if _, err := e.v2.PutAccountSuppressionAttributes(ctx, &sesv2.PutAccountSuppressionAttributesInput{
		SuppressedReasons:    []v2types.SuppressionListReason{"BOUNCE"},
		ValidationAttributes: &v2types.SuppressionValidationAttributes{ConditionThreshold: threshold("DISABLED", "")}}); err != nil {
		t.Fatal(err)
	}
	acct, err := e.v2.GetAccount(ctx, &sesv2.GetAccountInput{})
	if err != nil {
		t.Fatal(err)
	}
	if sa := acct.SuppressionAttributes; len(sa.SuppressedReasons) != 1 || sa.ValidationAttributes == nil ||
		sa.ValidationAttributes.ConditionThreshold.ConditionThresholdEnabled != "DISABLED" {
		t.Errorf("GetAccount SuppressionAttributes = %+v", sa)
	}
	// … and it has no pricing plan (PutAccountPricingAttributes takes only NONE).
	if pa := acct.PricingAttributes; pa == nil || pa.CurrentPlan != v2types.PricingPlanNone || pa.NextPlan != "" {
		t.Errorf("GetAccount PricingAttributes = %+v", pa)
	}

	// A configuration set: ACCOUNT and DISABLED kept and read back.
	if _, err := e.v2.CreateConfigurationSet(ctx, &sesv2.CreateConfigurationSetInput{ConfigurationSetName: aws.String("cs"),
		SuppressionOptions: &v2types.SuppressionOptions{SuppressedReasons: []v2types.SuppressionListReason{"COMPLAINT"},
			SuppressionScope: "ACCOUNT"}}); err != nil {
		t.Fatal(err)
	}
	get := func() *v2types.SuppressionOptions {
		t.Helper()
		out, err := e.v2.GetConfigurationSet(ctx, &sesv2.GetConfigurationSetInput{ConfigurationSetName: aws.String("cs")})
		if err != nil {
			t.Fatal(err)
		}
		return out.SuppressionOptions
	}
	if so := get(); so == nil || so.SuppressionScope != "ACCOUNT" || so.ValidationOptions != nil || len(so.SuppressedReasons) != 1 {
		t.Fatalf("after create: %+v", so)
	}
	put := func(scope v2types.SuppressionListScope, v *v2types.SuppressionConditionThreshold) error {
		in := &sesv2.PutConfigurationSetSuppressionOptionsInput{ConfigurationSetName: aws.String("cs"),
			SuppressedReasons: []v2types.SuppressionListReason{"BOUNCE"}, SuppressionScope: scope}
		if v != nil {
			in.ValidationOptions = &v2types.SuppressionValidationOptions{ConditionThreshold: v}
		}
		_, err := e.v2.PutConfigurationSetSuppressionOptions(ctx, in)
		return err
	}
	wantAPIError(t, put("TENANT", nil), "BadRequestException", noTenant)
	wantAPIError(t, put("ACCOUNT", threshold("ENABLED", "")), "BadRequestException", noAuto)
	wantAPIError(t, put("ACCOUNT", threshold("DISABLED", "LOW")), "BadRequestException",
		"Invalid value <LOW> for ConfidenceVerdictThreshold: it must be one of MEDIUM, HIGH, MANAGED.")
	if so := get(); so.SuppressionScope != "ACCOUNT" || so.SuppressedReasons[0] != "COMPLAINT" {
		t.Fatalf("a refused put changed the set: %+v", so)
	}
	if err := put("ACCOUNT", threshold("DISABLED", "MEDIUM")); err != nil {
		t.Fatal(err)
	}
	so := get()
	if so.SuppressionScope != "ACCOUNT" || so.SuppressedReasons[0] != "BOUNCE" || so.ValidationOptions == nil ||
		so.ValidationOptions.ConditionThreshold.ConditionThresholdEnabled != "DISABLED" ||
		so.ValidationOptions.ConditionThreshold.OverallConfidenceThreshold.ConfidenceVerdictThreshold != "MEDIUM" {
		t.Errorf("after put: %+v", so)
	}
	_, err = e.v2.CreateConfigurationSet(ctx, &sesv2.CreateConfigurationSetInput{ConfigurationSetName: aws.String("cs2"),
		SuppressionOptions: &v2types.SuppressionOptions{SuppressionScope: "TENANT"}})
	wantAPIError(t, err, "BadRequestException", noTenant)
}
