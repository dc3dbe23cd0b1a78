package api

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	v2types "github.com/aws/aws-sdk-go-v2/service/sesv2/types"
	"github.com/miekg/dns"

	"sesame/internal/dnsx"
	"sesame/internal/store"
	"sesame/internal/testenv"
)

func validDetails() *sesv2.PutAccountDetailsInput {
	return &sesv2.PutAccountDetailsInput{MailType: v2types.MailTypeTransactional, WebsiteURL: aws.String("https://example.com"),
		UseCaseDescription: aws.String("receipts"), ContactLanguage: v2types.ContactLanguageEn,
		AdditionalContactEmailAddresses: []string{"ops@example.com"}}
}

// Bad details answer SES's validation errors; the SDK's own validation
// (required MailType and WebsiteURL) is bypassed with raw JSON.
func TestPutAccountDetailsValidation(t *testing.T) {
	t.Parallel()
	e := newAcctEnv(t)
	ctx := context.Background()
	cases := []struct {
		name string
		mod  func(*sesv2.PutAccountDetailsInput)
		want string
	}{
		{"bad mail type", func(in *sesv2.PutAccountDetailsInput) { in.MailType = "SPAM" }, "mailType"},
		{"long url", func(in *sesv2.PutAccountDetailsInput) { in.WebsiteURL = aws.String(strings.Repeat("x", 1001)) }, "websiteURL"},
		{"bad language", func(in *sesv2.PutAccountDetailsInput) { in.ContactLanguage = "FR" }, "contactLanguage"},
		{"long use case", func(in *sesv2.PutAccountDetailsInput) { in.UseCaseDescription = aws.String(strings.Repeat("u", 5001)) }, "useCaseDescription"},
		{"five contacts", func(in *sesv2.PutAccountDetailsInput) {
			in.AdditionalContactEmailAddresses = []string{"a1@b.cd", "a2@b.cd", "a3@b.cd", "a4@b.cd", "a5@b.cd"}
		}, "additionalContactEmailAddresses"},
		{"contact without at", func(in *sesv2.PutAccountDetailsInput) {
			in.AdditionalContactEmailAddresses = []string{"nobody.example"}
		},
			"additionalContactEmailAddresses"},
	}
	for _, c := range cases {
		in := validDetails()
		c.mod(in)
		_, err := e.v2.PutAccountDetails(ctx, in)
		if errCode(err) != "BadRequestException" || !strings.Contains(err.Error(), "'"+c.want+"'") {
			t.Errorf("%s: err = %v; want BadRequestException about %s", c.name, err, c.want)
		}
	}
	var out map[string]any
	e.signedJSON(t, "POST", "/v2/email/account/details", 400, &out)
	if !strings.Contains(out["message"].(string), "'mailType'") {
		t.Errorf("empty body: %v; want mailType missing", out)
	}
	got, err := e.v2.GetAccount(ctx, &sesv2.GetAccountInput{})
	if err != nil {
		t.Fatal(err)
	}
	if got.Details != nil {
		t.Errorf("Details after refused puts = %+v; want none", got.Details)
	}
}

// Details without a production request are returned as put, without
// ReviewDetails; a production request is PENDING with a case id, further
// details conflict until the operator decides, and a grant puts the
// account in production.
func TestAccountDetailsAndProductionRequest(t *testing.T) {
	t.Parallel()
	e := newAcctEnv(t)
	ctx := context.Background()
	if _, err := e.v2.PutAccountDetails(ctx, validDetails()); err != nil {
		t.Fatal(err)
	}
	got, err := e.v2.GetAccount(ctx, &sesv2.GetAccountInput{})
	if err != nil {
		t.Fatal(err)
	}
	d := got.Details
	if d == nil || d.MailType != v2types.MailTypeTransactional || aws.ToString(d.WebsiteURL) != "https://example.com" ||
		d.ContactLanguage != v2types.ContactLanguageEn || aws.ToString(d.UseCaseDescription) != "receipts" ||
		len(d.AdditionalContactEmailAddresses) != 1 || d.ReviewDetails != nil {
		t.Fatalf("Details = %+v; want the put details without ReviewDetails", d)
	}

	in := validDetails()
	in.MailType, in.ProductionAccessEnabled = v2types.MailTypeMarketing, aws.Bool(true)
	if _, err := e.v2.PutAccountDetails(ctx, in); err != nil {
		t.Fatal(err)
	}
	got, err = e.v2.GetAccount(ctx, &sesv2.GetAccountInput{})
	if err != nil {
		t.Fatal(err)
	}
	rd := got.Details.ReviewDetails
	if rd == nil || rd.Status != v2types.ReviewStatusPending || aws.ToString(rd.CaseId) == "" || got.ProductionAccessEnabled {
		t.Fatalf("after the request: ReviewDetails = %+v, production %v; want PENDING with a case id, sandbox", rd, got.ProductionAccessEnabled)
	}
	if got.Details.MailType != v2types.MailTypeMarketing {
		t.Errorf("MailType = %s; want MARKETING", got.Details.MailType)
	}
	if _, err := e.v2.PutAccountDetails(ctx, validDetails()); errCode(err) != "ConflictException" {
		t.Fatalf("put while pending: %v; want ConflictException", err)
	}
	// Another region has its own details.
	other, _ := e.clients("us-east-1")
	if got, err := other.GetAccount(ctx, &sesv2.GetAccountInput{}); err != nil || got.Details != nil {
		t.Fatalf("us-east-1 Details = %+v, %v; want none", got.Details, err)
	}

	if _, err := e.st.DecideReview(ctx, e.acct, e.region, true); err != nil {
		t.Fatal(err)
	}
	got, err = e.v2.GetAccount(ctx, &sesv2.GetAccountInput{})
	if err != nil {
		t.Fatal(err)
	}
	if !got.ProductionAccessEnabled || got.Details.ReviewDetails.Status != v2types.ReviewStatusGranted ||
		aws.ToString(got.Details.ReviewDetails.CaseId) != aws.ToString(rd.CaseId) {
		t.Fatalf("after the grant: production %v, ReviewDetails %+v; want production, GRANTED, same case", got.ProductionAccessEnabled, got.Details.ReviewDetails)
	}
	// Decided, details may change again; the decision is kept.
	if _, err := e.v2.PutAccountDetails(ctx, in); err != nil {
		t.Fatal(err)
	}
	got, _ = e.v2.GetAccount(ctx, &sesv2.GetAccountInput{})
	if got.Details.ReviewDetails.Status != v2types.ReviewStatusGranted {
		t.Errorf("after a put in production: %+v; want GRANTED kept", got.Details.ReviewDetails)
	}
}

func insightsOf(t *testing.T, e *acctEnv, addr string) *v2types.MailboxValidation {
	t.Helper()
	out, err := e.v2.GetEmailAddressInsights(context.Background(), &sesv2.GetEmailAddressInsightsInput{EmailAddress: aws.String(addr)})
	if err != nil {
		t.Fatalf("%s: %v", addr, err)
	}
	if out.MailboxValidation == nil || out.MailboxValidation.IsValid == nil || out.MailboxValidation.Evaluations == nil {
		t.Fatalf("%s: %+v; want IsValid and Evaluations", addr, out.MailboxValidation)
	}
	return out.MailboxValidation
}

func confidence(v *v2types.EmailAddressInsightsVerdict) string {
	if v == nil {
		return "-"
	}
	return string(v.ConfidenceVerdict)
}

// Insights from syntax, the domain's MX through the configured resolver,
// role names and the account's suppression list and bounces.
func TestEmailAddressInsights(t *testing.T) {
	t.Parallel()
	e := newAcctEnv(t)
	srvDNS := testenv.StartDNS(t)
	srvDNS.SetMX("mail.example", 10, "mx.mail.example")
	srvDNS.SetTXT("nomx.example", "v=spf1 -all") // exists, no MX and no address
	srvDNS.Fail("broken.example", dns.RcodeServerFailure)
	e.srv.cfg.Router = dnsx.NewRouter(srvDNS.Addr)
	if err := e.st.PutSuppressedDestination(context.Background(), store.SuppressedDestination{AccountID: e.acct, Region: e.region,
		Address: "gone@mail.example", Reason: "BOUNCE"}); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		addr                                         string
		valid, syntax, dns, role, exists, disposable string
	}{
		{"alice@mail.example", "HIGH", "HIGH", "HIGH", "LOW", "-", "-"},
		{"Postmaster@mail.example", "HIGH", "HIGH", "HIGH", "HIGH", "-", "-"},
		{"not an address", "LOW", "LOW", "-", "-", "-", "-"},
		{"a@@mail.example", "LOW", "LOW", "-", "-", "-", "-"},
		{"bob@nomx.example", "LOW", "HIGH", "LOW", "LOW", "-", "-"},
		{"bob@nowhere.example", "LOW", "HIGH", "LOW", "LOW", "-", "-"},
		{"bob@broken.example", "MEDIUM", "HIGH", "-", "LOW", "-", "-"},
		{"gone@mail.example", "LOW", "HIGH", "HIGH", "LOW", "LOW", "-"},
	}
	for _, c := range cases {
		v := insightsOf(t, e, c.addr)
		ev := v.Evaluations
		got := []string{confidence(v.IsValid), confidence(ev.HasValidSyntax), confidence(ev.HasValidDnsRecords),
			confidence(ev.IsRoleAddress), confidence(ev.MailboxExists), confidence(ev.IsDisposable)}
		want := []string{c.valid, c.syntax, c.dns, c.role, c.exists, c.disposable}
		if strings.Join(got, " ") != strings.Join(want, " ") || ev.IsRandomInput != nil {
			t.Errorf("%s: valid/syntax/dns/role/exists/disposable = %v; want %v", c.addr, got, want)
		}
	}
	_, err := e.v2.GetEmailAddressInsights(context.Background(), &sesv2.GetEmailAddressInsightsInput{EmailAddress: aws.String("")})
	if err == nil {
		t.Error("empty address accepted")
	}
	// botocore's route has a trailing slash.
	var out map[string]any
	e.signedJSON(t, "POST", "/v2/email/email-address-insights/", 400, &out)
	if !strings.Contains(out["message"].(string), "'emailAddress'") {
		t.Errorf("trailing slash, no body: %v; want emailAddress missing", out)
	}
}

// GetEmailIdentity returns the identity's default configuration set, an
// empty Policies map, and VerificationInfo's ErrorType when a DNS check got
// no answer (TestEmailIdentityVerificationInfo has the rest); the regional AWS_SES_<REGION> DKIM origins are refused.
func TestEmailIdentityDetails(t *testing.T) {
	t.Parallel()
	e := newIDEnv(t)
	ctx := context.Background()
	if _, err := e.v2.CreateConfigurationSet(ctx, &sesv2.CreateConfigurationSetInput{ConfigurationSetName: aws.String("default-set")}); err != nil {
		t.Fatal(err)
	}
	created, err := e.v2.CreateEmailIdentity(ctx, &sesv2.CreateEmailIdentityInput{EmailIdentity: aws.String("details.example"),
		ConfigurationSetName: aws.String("default-set")})
	if err != nil {
		t.Fatal(err)
	}
	got, err := e.v2.GetEmailIdentity(ctx, &sesv2.GetEmailIdentityInput{EmailIdentity: aws.String("details.example")})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(got.ConfigurationSetName) != "default-set" || got.Policies == nil || len(got.Policies) != 0 || got.VerificationInfo != nil {
		t.Fatalf("GetEmailIdentity: set %q, policies %v, info %+v; want default-set, {}, none",
			aws.ToString(got.ConfigurationSetName), got.Policies, got.VerificationInfo)
	}

	for _, tok := range created.DkimAttributes.Tokens {
		e.dns.Fail(tok+"._domainkey.details.example", dns.RcodeServerFailure)
	}
	e.checkNow(t)
	got, err = e.v2.GetEmailIdentity(ctx, &sesv2.GetEmailIdentityInput{EmailIdentity: aws.String("details.example")})
	if err != nil {
		t.Fatal(err)
	}
	if got.VerificationStatus != v2types.VerificationStatusTemporaryFailure || got.VerificationInfo == nil ||
		got.VerificationInfo.ErrorType != v2types.VerificationErrorDnsServerError || got.VerificationInfo.LastCheckedTimestamp == nil ||
		got.VerificationInfo.LastSuccessTimestamp != nil {
		t.Fatalf("after SERVFAIL: status %s, info %+v; want TEMPORARY_FAILURE with DNS_SERVER_ERROR, checked, never succeeded",
			got.VerificationStatus, got.VerificationInfo)
	}

	_, err = e.v2.PutEmailIdentityDkimSigningAttributes(ctx, &sesv2.PutEmailIdentityDkimSigningAttributesInput{
		EmailIdentity: aws.String("details.example"), SigningAttributesOrigin: v2types.DkimSigningAttributesOriginAwsSesUsEast1})
	if errCode(err) != "BadRequestException" || !strings.Contains(err.Error(), "Deterministic Easy DKIM") {
		t.Errorf("AWS_SES_US_EAST_1: %v; want BadRequestException naming DEED", err)
	}
	_, err = e.v2.PutEmailIdentityDkimSigningAttributes(ctx, &sesv2.PutEmailIdentityDkimSigningAttributesInput{
		EmailIdentity: aws.String("details.example"), SigningAttributesOrigin: "AWS_SES_MARS_1X"})
	if errCode(err) != "BadRequestException" || !strings.Contains(err.Error(), "must be AWS_SES or EXTERNAL") {
		t.Errorf("AWS_SES_MARS_1X: %v; want the invalid-origin BadRequestException", err)
	}
	_, err = e.v2.CreateEmailIdentity(ctx, &sesv2.CreateEmailIdentityInput{EmailIdentity: aws.String("replica.example"),
		DkimSigningAttributes: &v2types.DkimSigningAttributes{DomainSigningAttributesOrigin: v2types.DkimSigningAttributesOriginAwsSesEuWest1}})
	if errCode(err) != "BadRequestException" || !strings.Contains(err.Error(), "Deterministic Easy DKIM") {
		t.Errorf("CreateEmailIdentity AWS_SES_EU_WEST_1: %v; want BadRequestException naming DEED", err)
	}
	if _, err := e.v2.GetEmailIdentity(ctx, &sesv2.GetEmailIdentityInput{EmailIdentity: aws.String("replica.example")}); errCode(err) != "NotFoundException" {
		t.Errorf("refused replica created anyway: %v", err)
	}
}
