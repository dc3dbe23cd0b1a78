package api

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ses"
	v1types "github.com/aws/aws-sdk-go-v2/service/ses/types"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
)

func TestTrackingOptionsV1(t *testing.T) {
	t.Parallel()
	e := newAcctEnv(t)
	ctx := context.Background()
	if _, err := e.v1.CreateConfigurationSet(ctx, &ses.CreateConfigurationSetInput{
		ConfigurationSet: &v1types.ConfigurationSet{Name: aws.String("t1")}}); err != nil {
		t.Fatal(err)
	}
	opts := func(d string) *v1types.TrackingOptions {
		return &v1types.TrackingOptions{CustomRedirectDomain: aws.String(d)}
	}
	describe := func() *v1types.TrackingOptions {
		t.Helper()
		out, err := e.v1.DescribeConfigurationSet(ctx, &ses.DescribeConfigurationSetInput{ConfigurationSetName: aws.String("t1"),
			ConfigurationSetAttributeNames: []v1types.ConfigurationSetAttribute{"trackingOptions"}})
		if err != nil {
			t.Fatal(err)
		}
		return out.TrackingOptions
	}

	_, err := e.v1.UpdateConfigurationSetTrackingOptions(ctx, &ses.UpdateConfigurationSetTrackingOptionsInput{
		ConfigurationSetName: aws.String("t1"), TrackingOptions: opts("a.example.com")})
	wantAPIError(t, err, "TrackingOptionsDoesNotExistException", "Configuration set <t1> does not contain a TrackingOptions object.")
	_, err = e.v1.DeleteConfigurationSetTrackingOptions(ctx, &ses.DeleteConfigurationSetTrackingOptionsInput{ConfigurationSetName: aws.String("t1")})
	wantAPIError(t, err, "TrackingOptionsDoesNotExistException", "Configuration set <t1> does not contain a TrackingOptions object.")
	_, err = e.v1.CreateConfigurationSetTrackingOptions(ctx, &ses.CreateConfigurationSetTrackingOptionsInput{
		ConfigurationSetName: aws.String("nope"), TrackingOptions: opts("a.example.com")})
	wantAPIError(t, err, "ConfigurationSetDoesNotExist", "Configuration set <nope> does not exist.")
	_, err = e.v1.CreateConfigurationSetTrackingOptions(ctx, &ses.CreateConfigurationSetTrackingOptionsInput{
		ConfigurationSetName: aws.String("t1"), TrackingOptions: opts("not a domain")})
	wantAPIError(t, err, "InvalidTrackingOptions", "Invalid custom redirect domain <not a domain>: it must be a valid domain or subdomain.")

	if _, err := e.v1.CreateConfigurationSetTrackingOptions(ctx, &ses.CreateConfigurationSetTrackingOptionsInput{
		ConfigurationSetName: aws.String("t1"), TrackingOptions: opts("a.example.com")}); err != nil {
		t.Fatal(err)
	}
	if got := describe(); got == nil || aws.ToString(got.CustomRedirectDomain) != "a.example.com" {
		t.Fatalf("trackingOptions = %+v", got)
	}
	_, err = e.v1.CreateConfigurationSetTrackingOptions(ctx, &ses.CreateConfigurationSetTrackingOptionsInput{
		ConfigurationSetName: aws.String("t1"), TrackingOptions: opts("b.example.com")})
	wantAPIError(t, err, "TrackingOptionsAlreadyExistsException", "Configuration set <t1> already contains a TrackingOptions object.")

	if _, err := e.v1.UpdateConfigurationSetTrackingOptions(ctx, &ses.UpdateConfigurationSetTrackingOptionsInput{
		ConfigurationSetName: aws.String("t1"), TrackingOptions: opts("b.example.com")}); err != nil {
		t.Fatal(err)
	}
	got, err := e.v2.GetConfigurationSet(ctx, &sesv2.GetConfigurationSetInput{ConfigurationSetName: aws.String("t1")})
	if err != nil || got.TrackingOptions == nil || aws.ToString(got.TrackingOptions.CustomRedirectDomain) != "b.example.com" {
		t.Fatalf("v2 TrackingOptions = %+v, %v", got, err)
	}

	if _, err := e.v1.DeleteConfigurationSetTrackingOptions(ctx, &ses.DeleteConfigurationSetTrackingOptionsInput{
		ConfigurationSetName: aws.String("t1")}); err != nil {
		t.Fatal(err)
	}
	if got := describe(); got == nil || got.CustomRedirectDomain != nil {
		t.Fatalf("trackingOptions after delete = %+v", got)
	}
}

func TestPutTrackingOptionsV2(t *testing.T) {
	t.Parallel()
	e := newAcctEnv(t)
	ctx := context.Background()
	if _, err := e.v2.CreateConfigurationSet(ctx, &sesv2.CreateConfigurationSetInput{ConfigurationSetName: aws.String("t2")}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.v2.PutConfigurationSetTrackingOptions(ctx, &sesv2.PutConfigurationSetTrackingOptionsInput{
		ConfigurationSetName: aws.String("t2"), CustomRedirectDomain: aws.String("track.example.com"), HttpsPolicy: "REQUIRE_OPEN_ONLY"}); err != nil {
		t.Fatal(err)
	}
	got, err := e.v2.GetConfigurationSet(ctx, &sesv2.GetConfigurationSetInput{ConfigurationSetName: aws.String("t2")})
	if err != nil || got.TrackingOptions == nil || aws.ToString(got.TrackingOptions.CustomRedirectDomain) != "track.example.com" ||
		got.TrackingOptions.HttpsPolicy != "REQUIRE_OPEN_ONLY" {
		t.Fatalf("TrackingOptions = %+v, %v", got.TrackingOptions, err)
	}
	_, err = e.v2.PutConfigurationSetTrackingOptions(ctx, &sesv2.PutConfigurationSetTrackingOptionsInput{
		ConfigurationSetName: aws.String("t2"), CustomRedirectDomain: aws.String("-bad-.example.com")})
	wantAPIError(t, err, "BadRequestException", "Invalid custom redirect domain <-bad-.example.com>: it must be a valid domain or subdomain.")
	_, err = e.v2.PutConfigurationSetTrackingOptions(ctx, &sesv2.PutConfigurationSetTrackingOptionsInput{
		ConfigurationSetName: aws.String("nope"), CustomRedirectDomain: aws.String("track.example.com")})
	wantAPIError(t, err, "NotFoundException", "Configuration set <nope> does not exist.")
}
