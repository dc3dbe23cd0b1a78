package api

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	v2types "github.com/aws/aws-sdk-go-v2/service/sesv2/types"
)

// wantRefusal is a BadRequestException whose message says why (mentions
// what).
func wantRefusal(t *testing.T, err error, what string) {
	t.Helper()
	wantErrCode(t, err, "BadRequestException")
	if !strings.Contains(err.Error(), what) {
		t.Fatalf("refusal does not mention %q: %v", what, err)
	}
}

// S/MIME identity certificates: the identity must exist; associating is
// refused (the certificates are in ACM), disassociating succeeds (nothing
// to remove), listing is empty.
func TestIdentityCertificates(t *testing.T) {
	t.Parallel()
	e := newIDEnv(t)
	ctx := context.Background()
	const cert = "arn:aws:acm:us-east-1:123456789012:certificate/abc"

	_, err := e.v2.AssociateEmailIdentityCertificate(ctx, &sesv2.AssociateEmailIdentityCertificateInput{
		EmailIdentity: aws.String("nobody@nowhere.example"), CertificateArn: aws.String(cert)})
	wantErrCode(t, err, "NotFoundException")
	_, err = e.v2.DisassociateEmailIdentityCertificate(ctx, &sesv2.DisassociateEmailIdentityCertificateInput{
		EmailIdentity: aws.String("nowhere.example"), FromAddress: aws.String("a@nowhere.example")})
	wantErrCode(t, err, "NotFoundException")
	_, err = e.v2.ListEmailIdentityCertificates(ctx, &sesv2.ListEmailIdentityCertificatesInput{EmailIdentity: aws.String("nowhere.example")})
	wantErrCode(t, err, "NotFoundException")

	if _, err := e.v2.CreateEmailIdentity(ctx, &sesv2.CreateEmailIdentityInput{EmailIdentity: aws.String("signer.example")}); err != nil {
		t.Fatal(err)
	}
	_, err = e.v2.AssociateEmailIdentityCertificate(ctx, &sesv2.AssociateEmailIdentityCertificateInput{
		EmailIdentity: aws.String("signer.example"), FromAddress: aws.String("a@signer.example"), CertificateArn: aws.String(cert)})
	wantRefusal(t, err, "Certificate Manager")
	if _, err := e.v2.DisassociateEmailIdentityCertificate(ctx, &sesv2.DisassociateEmailIdentityCertificateInput{
		EmailIdentity: aws.String("signer.example"), FromAddress: aws.String("a@signer.example")}); err != nil {
		t.Fatal(err)
	}
	out, err := e.v2.ListEmailIdentityCertificates(ctx, &sesv2.ListEmailIdentityCertificatesInput{EmailIdentity: aws.String("signer.example")})
	if err != nil {
		t.Fatal(err)
	}
	if out.Certificates == nil || len(out.Certificates) != 0 || out.NextToken != nil {
		t.Fatalf("list: %+v", out)
	}
	_, err = e.v2.ListEmailIdentityCertificates(ctx, &sesv2.ListEmailIdentityCertificatesInput{
		EmailIdentity: aws.String("signer.example"), NextToken: aws.String("more")})
	wantErrCode(t, err, "BadRequestException")
}

// Archiving and S/MIME signing of a configuration set: no archive and the
// default signing scheme are accepted (at create, Put/UpdateConfigurationSet),
// an archive ARN and the S/MIME scheme are refused; the set must exist.
func TestConfigurationSetArchivingAndSigning(t *testing.T) {
	t.Parallel()
	e := newAcctEnv(t)
	ctx := context.Background()
	const archive = "arn:aws:ses:us-east-1:123456789012:mailmanager-archive/a-1"
	smime := &v2types.MessageSecurityOptions{SigningScheme: &v2types.SigningSchemeMemberSmimeScheme{
		Value: v2types.SmimeSigningScheme{SignatureFormat: "DETACHED"}}}
	plain := &v2types.MessageSecurityOptions{SigningScheme: &v2types.SigningSchemeMemberDefaultScheme{}}

	_, err := e.v2.PutConfigurationSetArchivingOptions(ctx, &sesv2.PutConfigurationSetArchivingOptionsInput{ConfigurationSetName: aws.String("nope")})
	wantErrCode(t, err, "NotFoundException")
	_, err = e.v2.UpdateConfigurationSet(ctx, &sesv2.UpdateConfigurationSetInput{ConfigurationSetName: aws.String("nope"), MessageSecurityOptions: plain})
	wantErrCode(t, err, "NotFoundException")

	_, err = e.v2.CreateConfigurationSet(ctx, &sesv2.CreateConfigurationSetInput{ConfigurationSetName: aws.String("cs"),
		ArchivingOptions: &v2types.ArchivingOptions{ArchiveArn: aws.String(archive)}})
	wantRefusal(t, err, "MailManager")
	_, err = e.v2.CreateConfigurationSet(ctx, &sesv2.CreateConfigurationSetInput{ConfigurationSetName: aws.String("cs"), MessageSecurityOptions: smime})
	wantRefusal(t, err, "S/MIME")
	if _, err := e.v2.GetConfigurationSet(ctx, &sesv2.GetConfigurationSetInput{ConfigurationSetName: aws.String("cs")}); errCode(err) != "NotFoundException" {
		t.Fatalf("a refused set was created: %v", err)
	}
	if _, err := e.v2.CreateConfigurationSet(ctx, &sesv2.CreateConfigurationSetInput{ConfigurationSetName: aws.String("cs"),
		ArchivingOptions: &v2types.ArchivingOptions{}, MessageSecurityOptions: plain}); err != nil {
		t.Fatal(err)
	}
	got, err := e.v2.GetConfigurationSet(ctx, &sesv2.GetConfigurationSetInput{ConfigurationSetName: aws.String("cs")})
	if err != nil {
		t.Fatal(err)
	}
	if got.ArchivingOptions != nil {
		t.Fatalf("ArchivingOptions read back: %+v", got.ArchivingOptions)
	}

	_, err = e.v2.PutConfigurationSetArchivingOptions(ctx, &sesv2.PutConfigurationSetArchivingOptionsInput{
		ConfigurationSetName: aws.String("cs"), ArchiveArn: aws.String(archive)})
	wantRefusal(t, err, "MailManager")
	if _, err := e.v2.PutConfigurationSetArchivingOptions(ctx, &sesv2.PutConfigurationSetArchivingOptionsInput{ConfigurationSetName: aws.String("cs")}); err != nil {
		t.Fatal(err)
	}
	_, err = e.v2.UpdateConfigurationSet(ctx, &sesv2.UpdateConfigurationSetInput{ConfigurationSetName: aws.String("cs"), MessageSecurityOptions: smime})
	wantRefusal(t, err, "S/MIME")
	if _, err := e.v2.UpdateConfigurationSet(ctx, &sesv2.UpdateConfigurationSetInput{ConfigurationSetName: aws.String("cs"), MessageSecurityOptions: plain}); err != nil {
		t.Fatal(err)
	}
}

// PutAccountPricingAttributes: NONE is the truth (sesame has no plans),
// a plan is refused, anything else is not a plan.
func TestPutAccountPricingAttributes(t *testing.T) {
	t.Parallel()
	e := newAcctEnv(t)
	ctx := context.Background()
	if _, err := e.v2.PutAccountPricingAttributes(ctx, &sesv2.PutAccountPricingAttributesInput{Plan: v2types.PricingPlanNone}); err != nil {
		t.Fatal(err)
	}
	_, err := e.v2.PutAccountPricingAttributes(ctx, &sesv2.PutAccountPricingAttributesInput{Plan: v2types.PricingPlanPro})
	wantRefusal(t, err, "no pricing plans")
	_, err = e.v2.PutAccountPricingAttributes(ctx, &sesv2.PutAccountPricingAttributesInput{Plan: "GOLD"})
	wantErrCode(t, err, "BadRequestException")
}

// BatchGetMetricData: VDM's metrics, which sesame does not have, are
// refused with where its own counts are; a malformed request is refused
// for that first.
func TestBatchGetMetricData(t *testing.T) {
	t.Parallel()
	e := newAcctEnv(t)
	ctx := context.Background()
	now := time.Now()
	q := v2types.BatchGetMetricDataQuery{Id: aws.String("sends"), Namespace: v2types.MetricNamespaceVdm,
		Metric: v2types.MetricSend, StartDate: aws.Time(now.Add(-48 * time.Hour)), EndDate: aws.Time(now)}
	_, err := e.v2.BatchGetMetricData(ctx, &sesv2.BatchGetMetricDataInput{Queries: []v2types.BatchGetMetricDataQuery{q}})
	wantRefusal(t, err, "GetSendStatistics")

	many := make([]v2types.BatchGetMetricDataQuery, 11)
	for i := range many {
		many[i] = q
	}
	_, err = e.v2.BatchGetMetricData(ctx, &sesv2.BatchGetMetricDataInput{Queries: many})
	wantRefusal(t, err, "less than or equal to 10")
}
