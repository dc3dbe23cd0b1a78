package api

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	v2types "github.com/aws/aws-sdk-go-v2/service/sesv2/types"
)

// GetAccount and GetConfigurationSet show VDM as DISABLED, the only state
// sesame has, and CreateConfigurationSet refuses VdmOptions that enable
// it (as PutConfigurationSetVdmOptions does) instead of dropping them.
func TestVdmReadBack(t *testing.T) {
	t.Parallel()
	e := newAcctEnv(t)
	ctx := context.Background()

	acct, err := e.v2.GetAccount(ctx, &sesv2.GetAccountInput{})
	if err != nil {
		t.Fatal(err)
	}
	va := acct.VdmAttributes
	if va == nil || va.VdmEnabled != v2types.FeatureStatusDisabled ||
		va.DashboardAttributes == nil || va.DashboardAttributes.EngagementMetrics != v2types.FeatureStatusDisabled ||
		va.GuardianAttributes == nil || va.GuardianAttributes.OptimizedSharedDelivery != v2types.FeatureStatusDisabled {
		t.Fatalf("VdmAttributes: %+v", va)
	}

	_, err = e.v2.CreateConfigurationSet(ctx, &sesv2.CreateConfigurationSetInput{ConfigurationSetName: aws.String("vdm-on"),
		VdmOptions: &v2types.VdmOptions{DashboardOptions: &v2types.DashboardOptions{EngagementMetrics: v2types.FeatureStatusEnabled}}})
	wantErrCode(t, err, "BadRequestException")
	_, err = e.v2.CreateConfigurationSet(ctx, &sesv2.CreateConfigurationSetInput{ConfigurationSetName: aws.String("vdm-on"),
		VdmOptions: &v2types.VdmOptions{GuardianOptions: &v2types.GuardianOptions{OptimizedSharedDelivery: "SOMETIMES"}}})
	wantErrCode(t, err, "BadRequestException")
	if _, err := e.v2.GetConfigurationSet(ctx, &sesv2.GetConfigurationSetInput{ConfigurationSetName: aws.String("vdm-on")}); errCode(err) != "NotFoundException" {
		t.Fatalf("a refused set was created: %v", err)
	}

	_, err = e.v2.CreateConfigurationSet(ctx, &sesv2.CreateConfigurationSetInput{ConfigurationSetName: aws.String("vdm-off"),
		VdmOptions: &v2types.VdmOptions{DashboardOptions: &v2types.DashboardOptions{EngagementMetrics: v2types.FeatureStatusDisabled}}})
	if err != nil {
		t.Fatal(err)
	}
	cs, err := e.v2.GetConfigurationSet(ctx, &sesv2.GetConfigurationSetInput{ConfigurationSetName: aws.String("vdm-off")})
	if err != nil {
		t.Fatal(err)
	}
	vo := cs.VdmOptions
	if vo == nil || vo.DashboardOptions == nil || vo.DashboardOptions.EngagementMetrics != v2types.FeatureStatusDisabled ||
		vo.GuardianOptions == nil || vo.GuardianOptions.OptimizedSharedDelivery != v2types.FeatureStatusDisabled {
		t.Fatalf("VdmOptions: %+v", vo)
	}
}
