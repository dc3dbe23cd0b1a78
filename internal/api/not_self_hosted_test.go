package api

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/ses"
	v1types "github.com/aws/aws-sdk-go-v2/service/ses/types"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	v2types "github.com/aws/aws-sdk-go-v2/service/sesv2/types"
)

// refusal is one call that must fail with code and a message holding say.
type refusal struct {
	name string
	call func() error
	code string
	say  string
}

func checkRefusals(t *testing.T, cases []refusal) {
	t.Helper()
	for _, tc := range cases {
		err := tc.call()
		if errCode(err) != tc.code {
			t.Errorf("%s: %v, want %s", tc.name, err, tc.code)
			continue
		}
		if !strings.Contains(err.Error(), tc.say) {
			t.Errorf("%s: %v, want a message saying %q", tc.name, err, tc.say)
		}
	}
}

// The Deliverability dashboard and VDM: the SDK parses the truthful answers
// (dashboard disabled, no reports, campaigns or recommendations) and turning
// either on is a BadRequest that says why.
func TestDeliverabilityDashboardIsDisabled(t *testing.T) {
	t.Parallel()
	e := newAcctEnv(t)
	ctx := context.Background()
	day := aws.Time(time.Now().Add(-24 * time.Hour))
	now := aws.Time(time.Now())

	opts, err := e.v2.GetDeliverabilityDashboardOptions(ctx, &sesv2.GetDeliverabilityDashboardOptionsInput{})
	if err != nil {
		t.Fatal(err)
	}
	if opts.DashboardEnabled || opts.AccountStatus != "" || opts.SubscriptionExpiryDate != nil || len(opts.ActiveSubscribedDomains) != 0 {
		t.Errorf("GetDeliverabilityDashboardOptions = %+v, want disabled without a subscription", opts)
	}
	if _, err := e.v2.PutDeliverabilityDashboardOption(ctx, &sesv2.PutDeliverabilityDashboardOptionInput{DashboardEnabled: false}); err != nil {
		t.Errorf("PutDeliverabilityDashboardOption(false): %v", err)
	}
	reports, err := e.v2.ListDeliverabilityTestReports(ctx, &sesv2.ListDeliverabilityTestReportsInput{PageSize: aws.Int32(10)})
	if err != nil || len(reports.DeliverabilityTestReports) != 0 || reports.NextToken != nil {
		t.Errorf("ListDeliverabilityTestReports = %+v, %v; want an empty list", reports, err)
	}
	campaigns, err := e.v2.ListDomainDeliverabilityCampaigns(ctx, &sesv2.ListDomainDeliverabilityCampaignsInput{
		SubscribedDomain: aws.String("example.com"), StartDate: day, EndDate: now})
	if err != nil || len(campaigns.DomainDeliverabilityCampaigns) != 0 {
		t.Errorf("ListDomainDeliverabilityCampaigns = %+v, %v; want an empty list", campaigns, err)
	}
	recs, err := e.v2.ListRecommendations(ctx, &sesv2.ListRecommendationsInput{})
	if err != nil || len(recs.Recommendations) != 0 {
		t.Errorf("ListRecommendations = %+v, %v; want an empty list", recs, err)
	}
	disabled := v2types.FeatureStatusDisabled
	if _, err := e.v2.PutAccountVdmAttributes(ctx, &sesv2.PutAccountVdmAttributesInput{VdmAttributes: &v2types.VdmAttributes{
		VdmEnabled: disabled, DashboardAttributes: &v2types.DashboardAttributes{EngagementMetrics: disabled}}}); err != nil {
		t.Errorf("PutAccountVdmAttributes(DISABLED): %v", err)
	}
	if _, err := e.v2.CreateConfigurationSet(ctx, &sesv2.CreateConfigurationSetInput{ConfigurationSetName: aws.String("cs")}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.v2.PutConfigurationSetVdmOptions(ctx, &sesv2.PutConfigurationSetVdmOptionsInput{ConfigurationSetName: aws.String("cs"),
		VdmOptions: &v2types.VdmOptions{GuardianOptions: &v2types.GuardianOptions{OptimizedSharedDelivery: disabled}}}); err != nil {
		t.Errorf("PutConfigurationSetVdmOptions(DISABLED): %v", err)
	}

	enabled := v2types.FeatureStatusEnabled
	content := &v2types.EmailContent{Simple: &v2types.Message{Subject: &v2types.Content{Data: aws.String("s")},
		Body: &v2types.Body{Text: &v2types.Content{Data: aws.String("b")}}}}
	checkRefusals(t, []refusal{
		{"PutDeliverabilityDashboardOption(true)", func() error {
			_, err := e.v2.PutDeliverabilityDashboardOption(ctx, &sesv2.PutDeliverabilityDashboardOptionInput{DashboardEnabled: true})
			return err
		}, "BadRequestException", "sesame has no Deliverability dashboard"},
		{"PutDeliverabilityDashboardOption(false, domains)", func() error {
			_, err := e.v2.PutDeliverabilityDashboardOption(ctx, &sesv2.PutDeliverabilityDashboardOptionInput{
				SubscribedDomains: []v2types.DomainDeliverabilityTrackingOption{{Domain: aws.String("example.com")}}})
			return err
		}, "BadRequestException", "sesame has no Deliverability dashboard"},
		{"CreateDeliverabilityTestReport", func() error {
			_, err := e.v2.CreateDeliverabilityTestReport(ctx, &sesv2.CreateDeliverabilityTestReportInput{
				FromEmailAddress: aws.String("a@example.com"), Content: content})
			return err
		}, "BadRequestException", "inbox placement tests"},
		{"GetDeliverabilityTestReport", func() error {
			_, err := e.v2.GetDeliverabilityTestReport(ctx, &sesv2.GetDeliverabilityTestReportInput{ReportId: aws.String("r1")})
			return err
		}, "NotFoundException", "<r1>"},
		{"GetBlacklistReports", func() error {
			_, err := e.v2.GetBlacklistReports(ctx, &sesv2.GetBlacklistReportsInput{BlacklistItemNames: []string{"192.0.2.1"}})
			return err
		}, "BadRequestException", "does not monitor blocklists"},
		{"GetDomainDeliverabilityCampaign", func() error {
			_, err := e.v2.GetDomainDeliverabilityCampaign(ctx, &sesv2.GetDomainDeliverabilityCampaignInput{CampaignId: aws.String("c1")})
			return err
		}, "NotFoundException", "<c1>"},
		{"GetDomainStatisticsReport", func() error {
			_, err := e.v2.GetDomainStatisticsReport(ctx, &sesv2.GetDomainStatisticsReportInput{Domain: aws.String("example.com"),
				StartDate: day, EndDate: now})
			return err
		}, "BadRequestException", "inbox from spam-folder placement"},
		{"ListDeliverabilityTestReports(NextToken)", func() error {
			_, err := e.v2.ListDeliverabilityTestReports(ctx, &sesv2.ListDeliverabilityTestReportsInput{NextToken: aws.String("x")})
			return err
		}, "BadRequestException", "NextToken"},
		{"PutAccountVdmAttributes(ENABLED)", func() error {
			_, err := e.v2.PutAccountVdmAttributes(ctx, &sesv2.PutAccountVdmAttributesInput{VdmAttributes: &v2types.VdmAttributes{VdmEnabled: enabled}})
			return err
		}, "BadRequestException", "no Virtual Deliverability Manager"},
		{"PutAccountVdmAttributes(DISABLED, engagement ENABLED)", func() error {
			_, err := e.v2.PutAccountVdmAttributes(ctx, &sesv2.PutAccountVdmAttributesInput{VdmAttributes: &v2types.VdmAttributes{
				VdmEnabled: disabled, DashboardAttributes: &v2types.DashboardAttributes{EngagementMetrics: enabled}}})
			return err
		}, "BadRequestException", "no Virtual Deliverability Manager"},
		{"PutAccountVdmAttributes(bogus)", func() error {
			_, err := e.v2.PutAccountVdmAttributes(ctx, &sesv2.PutAccountVdmAttributesInput{VdmAttributes: &v2types.VdmAttributes{VdmEnabled: "ON"}})
			return err
		}, "BadRequestException", "Invalid value <ON> for VdmEnabled"},
		{"PutConfigurationSetVdmOptions(ENABLED)", func() error {
			_, err := e.v2.PutConfigurationSetVdmOptions(ctx, &sesv2.PutConfigurationSetVdmOptionsInput{ConfigurationSetName: aws.String("cs"),
				VdmOptions: &v2types.VdmOptions{DashboardOptions: &v2types.DashboardOptions{EngagementMetrics: enabled}}})
			return err
		}, "BadRequestException", "no Virtual Deliverability Manager"},
		{"PutConfigurationSetVdmOptions(missing set)", func() error {
			_, err := e.v2.PutConfigurationSetVdmOptions(ctx, &sesv2.PutConfigurationSetVdmOptionsInput{ConfigurationSetName: aws.String("nope"),
				VdmOptions: &v2types.VdmOptions{}})
			return err
		}, "NotFoundException", "<nope>"},
	})
}

// Multi-region endpoints, tenants and reputation entities:
// empty lists, NotFound for lookups, a BadRequest saying why for creation.
func TestNotSelfHostedOperations(t *testing.T) {
	t.Parallel()
	e := newAcctEnv(t)
	ctx := context.Background()

	mre, err := e.v2.ListMultiRegionEndpoints(ctx, &sesv2.ListMultiRegionEndpointsInput{PageSize: aws.Int32(5)})
	if err != nil || len(mre.MultiRegionEndpoints) != 0 || mre.NextToken != nil {
		t.Errorf("ListMultiRegionEndpoints = %+v, %v; want an empty list", mre, err)
	}
	tenants, err := e.v2.ListTenants(ctx, &sesv2.ListTenantsInput{})
	if err != nil || len(tenants.Tenants) != 0 {
		t.Errorf("ListTenants = %+v, %v; want an empty list", tenants, err)
	}
	arn := "arn:aws:ses:eu-west-1:" + e.acct + ":configuration-set/cs"
	rt, err := e.v2.ListResourceTenants(ctx, &sesv2.ListResourceTenantsInput{ResourceArn: aws.String(arn)})
	if err != nil || len(rt.ResourceTenants) != 0 {
		t.Errorf("ListResourceTenants = %+v, %v; want an empty list", rt, err)
	}
	ents, err := e.v2.ListReputationEntities(ctx, &sesv2.ListReputationEntitiesInput{})
	if err != nil || len(ents.ReputationEntities) != 0 {
		t.Errorf("ListReputationEntities = %+v, %v; want an empty list", ents, err)
	}

	checkRefusals(t, []refusal{
		{"CreateMultiRegionEndpoint", func() error {
			_, err := e.v2.CreateMultiRegionEndpoint(ctx, &sesv2.CreateMultiRegionEndpointInput{EndpointName: aws.String("g"),
				Details: &v2types.Details{RoutesDetails: []v2types.RouteDetails{{Region: aws.String("us-east-1")}}}})
			return err
		}, "BadRequestException", "no multi-region endpoints"},
		{"GetMultiRegionEndpoint", func() error {
			_, err := e.v2.GetMultiRegionEndpoint(ctx, &sesv2.GetMultiRegionEndpointInput{EndpointName: aws.String("g")})
			return err
		}, "NotFoundException", "<g>"},
		{"DeleteMultiRegionEndpoint", func() error {
			_, err := e.v2.DeleteMultiRegionEndpoint(ctx, &sesv2.DeleteMultiRegionEndpointInput{EndpointName: aws.String("g")})
			return err
		}, "NotFoundException", "<g>"},
		{"ListMultiRegionEndpoints(PageSize 0)", func() error {
			_, err := e.v2.ListMultiRegionEndpoints(ctx, &sesv2.ListMultiRegionEndpointsInput{PageSize: aws.Int32(0)})
			return err
		}, "BadRequestException", "PageSize must be between 1 and 1000."},
		{"CreateTenant", func() error {
			_, err := e.v2.CreateTenant(ctx, &sesv2.CreateTenantInput{TenantName: aws.String("t")})
			return err
		}, "BadRequestException", "sesame has no tenants"},
		{"GetTenant", func() error {
			_, err := e.v2.GetTenant(ctx, &sesv2.GetTenantInput{TenantName: aws.String("t")})
			return err
		}, "NotFoundException", "Tenant <t> does not exist."},
		{"DeleteTenant", func() error {
			_, err := e.v2.DeleteTenant(ctx, &sesv2.DeleteTenantInput{TenantName: aws.String("t")})
			return err
		}, "NotFoundException", "Tenant <t>"},
		{"CreateTenantResourceAssociation", func() error {
			_, err := e.v2.CreateTenantResourceAssociation(ctx, &sesv2.CreateTenantResourceAssociationInput{
				TenantName: aws.String("t"), ResourceArn: aws.String(arn)})
			return err
		}, "NotFoundException", "Tenant <t>"},
		{"DeleteTenantResourceAssociation", func() error {
			_, err := e.v2.DeleteTenantResourceAssociation(ctx, &sesv2.DeleteTenantResourceAssociationInput{
				TenantName: aws.String("t"), ResourceArn: aws.String(arn)})
			return err
		}, "NotFoundException", "Tenant <t>"},
		{"ListTenantResources", func() error {
			_, err := e.v2.ListTenantResources(ctx, &sesv2.ListTenantResourcesInput{TenantName: aws.String("t")})
			return err
		}, "NotFoundException", "Tenant <t>"},
		{"PutTenantSuppressionAttributes", func() error {
			_, err := e.v2.PutTenantSuppressionAttributes(ctx, &sesv2.PutTenantSuppressionAttributesInput{TenantName: aws.String("t")})
			return err
		}, "NotFoundException", "Tenant <t>"},
		{"GetReputationEntity", func() error {
			_, err := e.v2.GetReputationEntity(ctx, &sesv2.GetReputationEntityInput{
				ReputationEntityType: v2types.ReputationEntityTypeResource, ReputationEntityReference: aws.String(arn)})
			return err
		}, "NotFoundException", "<" + arn + ">"},
		{"UpdateReputationEntityCustomerManagedStatus", func() error {
			_, err := e.v2.UpdateReputationEntityCustomerManagedStatus(ctx, &sesv2.UpdateReputationEntityCustomerManagedStatusInput{
				ReputationEntityType: v2types.ReputationEntityTypeResource, ReputationEntityReference: aws.String(arn),
				SendingStatus: v2types.SendingStatusDisabled})
			return err
		}, "BadRequestException", "sesame has no reputation entities"},
		{"UpdateReputationEntityPolicy", func() error {
			_, err := e.v2.UpdateReputationEntityPolicy(ctx, &sesv2.UpdateReputationEntityPolicyInput{
				ReputationEntityType: v2types.ReputationEntityTypeResource, ReputationEntityReference: aws.String(arn),
				ReputationEntityPolicy: aws.String("arn:aws:ses:eu-west-1:aws:reputation-policy/strict")})
			return err
		}, "BadRequestException", "sesame has no reputation entities"},
	})
}

// SendBounce: sesame has received no message to bounce.
func TestSendBounceV1(t *testing.T) {
	t.Parallel()
	e := newAcctEnv(t)
	ctx := context.Background()
	checkRefusals(t, []refusal{
		{"SendBounce", func() error {
			_, err := e.v1.SendBounce(ctx, &ses.SendBounceInput{OriginalMessageId: aws.String("m1"), BounceSender: aws.String("mailer@example.com"),
				BouncedRecipientInfoList: []v1types.BouncedRecipientInfo{{Recipient: aws.String("a@example.com"), BounceType: v1types.BounceTypeDoesNotExist}}})
			return err
		}, "MessageRejected", "Message m1 was not received by this account in this region within the last 24 hours"},
		{"ListReceiptRuleSets(NextToken)", func() error {
			_, err := e.v1.ListReceiptRuleSets(ctx, &ses.ListReceiptRuleSetsInput{NextToken: aws.String("x")})
			return err
		}, "InvalidParameterValue", "NextToken"},
	})
}

// signedCall sends a SigV4-signed request with a body (JSON for v2, a form
// for v1) — what the SDKs' own validation never lets through — and returns
// the status and body.
func (e *acctEnv) signedCall(t *testing.T, method, path, contentType, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, e.url+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", contentType)
	sum := sha256.Sum256([]byte(body))
	if err := v4.NewSigner().SignHTTP(context.Background(), e.creds, req, hex.EncodeToString(sum[:]), "ses", e.region, time.Now()); err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// Required parameters are checked before the truthful answer, with SES's
// validation message, in both protocols.
func TestNotSelfHostedRequiredParameters(t *testing.T) {
	t.Parallel()
	e := newAcctEnv(t)
	const form = "application/x-www-form-urlencoded"
	for _, tc := range []struct {
		method, path, ctype, body string
		status                    int
		say                       string
	}{
		{"PUT", "/v2/email/deliverability-dashboard", "application/json", `{}`, 400, "Value null at 'DashboardEnabled'"},
		{"POST", "/v2/email/deliverability-dashboard/test", "application/json", `{"Content":{}}`, 400, "'FromEmailAddress'"},
		{"GET", "/v2/email/deliverability-dashboard/blacklist-report", "application/json", ``, 400, "'BlacklistItemNames'"},
		{"GET", "/v2/email/deliverability-dashboard/statistics-report/example.com?StartDate=2024-01-01T00:00:00Z", "application/json", ``, 400, "'EndDate'"},
		{"GET", "/v2/email/deliverability-dashboard/domains/example.com/campaigns?StartDate=soon&EndDate=2024-01-01T00:00:00Z", "application/json", ``, 400, "StartDate must be an ISO-8601 timestamp."},
		{"PUT", "/v2/email/account/vdm", "application/json", `{"VdmAttributes":{}}`, 400, "'VdmAttributes.VdmEnabled'"},
		{"POST", "/v2/email/tenants", "application/json", `{}`, 400, "'TenantName'"},
		{"POST", "/v2/email/tenants/get", "application/json", `{"TenantName":`, 400, "Could not parse the request body"},
		{"POST", "/v2/email/resources/tenants/list", "application/json", `{}`, 400, "'ResourceArn'"},
		{"POST", "/v2/email/export-jobs", "application/json", `{"ExportDataSource":{}}`, 400, "'ExportDestination'"},
		{"POST", "/v2/email/multi-region-endpoints", "application/json", `{"EndpointName":"g"}`, 400, "'Details'"},
		{"GET", "/v2/email/reputation/entities/TENANT/x", "application/json", ``, 400, "Invalid value <TENANT> for ReputationEntityType"},
		{"PUT", "/v2/email/reputation/entities/RESOURCE/x/policy", "application/json", `{}`, 400, "'ReputationEntityPolicy'"},
		{"POST", "/", form, "Action=CreateReceiptRuleSet&Version=2010-12-01", 400, "<Code>ValidationError</Code>"},
		{"POST", "/", form, "Action=CreateReceiptRule&Version=2010-12-01&RuleSetName=rs", 400, "at &#39;Rule&#39;"},
		{"POST", "/", form, "Action=ReorderReceiptRuleSet&Version=2010-12-01&RuleSetName=rs", 400, "at &#39;RuleNames&#39;"},
		{"POST", "/", form, "Action=DeleteReceiptFilter&Version=2010-12-01", 400, "at &#39;FilterName&#39;"},
		{"POST", "/", form, "Action=DescribeReceiptRule&Version=2010-12-01&RuleSetName=rs", 400, "at &#39;RuleName&#39;"},
		{"POST", "/", form, "Action=SendBounce&Version=2010-12-01&OriginalMessageId=m&BounceSender=a@example.com", 400, "at &#39;BouncedRecipientInfoList&#39;"},
		// The empty answers as they are on the wire.
		{"GET", "/v2/email/deliverability-dashboard", "application/json", ``, 200,
			`{"DashboardEnabled":false,"ActiveSubscribedDomains":[],"PendingExpirationSubscribedDomains":[]}`},
		{"POST", "/", form, "Action=DescribeActiveReceiptRuleSet&Version=2010-12-01", 200,
			"<DescribeActiveReceiptRuleSetResult></DescribeActiveReceiptRuleSetResult>"},
		{"POST", "/", form, "Action=ListReceiptRuleSets&Version=2010-12-01", 200, "<ListReceiptRuleSetsResult><RuleSets></RuleSets></ListReceiptRuleSetsResult>"},
	} {
		status, body := e.signedCall(t, tc.method, tc.path, tc.ctype, tc.body)
		if status != tc.status || !strings.Contains(body, tc.say) {
			t.Errorf("%s %s %s: %d %s\nwant %d and %q", tc.method, tc.path, tc.body, status, body, tc.status, tc.say)
		}
	}
}
