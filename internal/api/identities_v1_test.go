package api

import (
	"context"
	"net/http"
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ses"
	v1types "github.com/aws/aws-sdk-go-v2/service/ses/types"
)

func TestIdentitiesV1(t *testing.T) {
	t.Parallel()
	e := newIDEnv(t)
	ctx := context.Background()

	// Email addresses: both actions mail a link.
	for _, call := range []func(addr string) error{
		func(addr string) error {
			_, err := e.v1.VerifyEmailIdentity(ctx, &ses.VerifyEmailIdentityInput{EmailAddress: aws.String(addr)})
			return err
		},
		func(addr string) error {
			_, err := e.v1.VerifyEmailAddress(ctx, &ses.VerifyEmailAddressInput{EmailAddress: aws.String(addr)})
			return err
		},
	} {
		if err := call("one@example.net"); err != nil {
			t.Fatal(err)
		}
	}
	if err := (func() error {
		_, err := e.v1.VerifyEmailAddress(ctx, &ses.VerifyEmailAddressInput{EmailAddress: aws.String("two@example.net")})
		return err
	})(); err != nil {
		t.Fatal(err)
	}
	_, err := e.v1.VerifyEmailIdentity(ctx, &ses.VerifyEmailIdentityInput{EmailAddress: aws.String("not-an-address")})
	wantErrCode(t, err, "InvalidParameterValue")

	// Domains: a TXT token, DKIM tokens on request.
	vd, err := e.v1.VerifyDomainIdentity(ctx, &ses.VerifyDomainIdentityInput{Domain: aws.String("Example.net")})
	if err != nil || len(aws.ToString(vd.VerificationToken)) != 44 {
		t.Fatalf("VerifyDomainIdentity: %+v %v", vd, err)
	}
	dk, err := e.v1.VerifyDomainDkim(ctx, &ses.VerifyDomainDkimInput{Domain: aws.String("example.net")})
	if err != nil || len(dk.DkimTokens) != 3 {
		t.Fatalf("VerifyDomainDkim: %+v %v", dk, err)
	}
	_, err = e.v1.VerifyDomainIdentity(ctx, &ses.VerifyDomainIdentityInput{Domain: aws.String("bad domain")})
	wantErrCode(t, err, "InvalidParameterValue")

	va, err := e.v1.GetIdentityVerificationAttributes(ctx, &ses.GetIdentityVerificationAttributesInput{
		Identities: []string{"example.net", "one@example.net", "missing.example"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(va.VerificationAttributes) != 2 {
		t.Fatalf("attributes for %d identities, want 2 (the missing one left out): %+v", len(va.VerificationAttributes), va.VerificationAttributes)
	}
	if a := va.VerificationAttributes["example.net"]; a.VerificationStatus != v1types.VerificationStatusPending || aws.ToString(a.VerificationToken) != aws.ToString(vd.VerificationToken) {
		t.Fatalf("domain attributes: %+v", a)
	}
	if a := va.VerificationAttributes["one@example.net"]; a.VerificationStatus != v1types.VerificationStatusPending || a.VerificationToken != nil {
		t.Fatalf("address attributes: %+v", a)
	}

	// The TXT record verifies the domain.
	e.dns.SetTXT("_amazonses.example.net", aws.ToString(vd.VerificationToken))
	e.checkNow(t)
	va, _ = e.v1.GetIdentityVerificationAttributes(ctx, &ses.GetIdentityVerificationAttributesInput{Identities: []string{"example.net"}})
	if va.VerificationAttributes["example.net"].VerificationStatus != v1types.VerificationStatusSuccess {
		t.Fatalf("after TXT: %+v", va.VerificationAttributes)
	}
	da, err := e.v1.GetIdentityDkimAttributes(ctx, &ses.GetIdentityDkimAttributesInput{Identities: []string{"example.net", "one@example.net"}})
	if err != nil {
		t.Fatal(err)
	}
	if a := da.DkimAttributes["example.net"]; !a.DkimEnabled || a.DkimVerificationStatus != v1types.VerificationStatusPending || !slices.Equal(a.DkimTokens, dk.DkimTokens) {
		t.Fatalf("DKIM attributes: %+v", a)
	}
	if a := da.DkimAttributes["one@example.net"]; a.DkimEnabled || a.DkimVerificationStatus != v1types.VerificationStatusNotStarted {
		t.Fatalf("address DKIM attributes: %+v", a)
	}

	// Settings.
	if _, err := e.v1.SetIdentityDkimEnabled(ctx, &ses.SetIdentityDkimEnabledInput{Identity: aws.String("example.net"), DkimEnabled: false}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.v1.SetIdentityMailFromDomain(ctx, &ses.SetIdentityMailFromDomainInput{Identity: aws.String("example.net"),
		MailFromDomain: aws.String("mail.example.net"), BehaviorOnMXFailure: v1types.BehaviorOnMXFailureRejectMessage}); err != nil {
		t.Fatal(err)
	}
	_, err = e.v1.SetIdentityMailFromDomain(ctx, &ses.SetIdentityMailFromDomainInput{Identity: aws.String("example.net"), MailFromDomain: aws.String("example.org")})
	wantErrCode(t, err, "InvalidParameterValue")
	mf, err := e.v1.GetIdentityMailFromDomainAttributes(ctx, &ses.GetIdentityMailFromDomainAttributesInput{Identities: []string{"example.net"}})
	if err != nil {
		t.Fatal(err)
	}
	if a := mf.MailFromDomainAttributes["example.net"]; aws.ToString(a.MailFromDomain) != "mail.example.net" ||
		a.MailFromDomainStatus != v1types.CustomMailFromStatusPending || a.BehaviorOnMXFailure != v1types.BehaviorOnMXFailureRejectMessage {
		t.Fatalf("MAIL FROM attributes: %+v", a)
	}
	if _, err := e.v1.SetIdentityFeedbackForwardingEnabled(ctx, &ses.SetIdentityFeedbackForwardingEnabledInput{Identity: aws.String("example.net"), ForwardingEnabled: true}); err != nil {
		t.Fatal(err)
	}
	_, err = e.v1.SetIdentityFeedbackForwardingEnabled(ctx, &ses.SetIdentityFeedbackForwardingEnabledInput{Identity: aws.String("missing.example"), ForwardingEnabled: true})
	wantErrCode(t, err, "MessageRejected")

	// Listing: by type, paged with MaxItems.
	all, err := e.v1.ListIdentities(ctx, &ses.ListIdentitiesInput{})
	if err != nil || !slices.Equal(all.Identities, []string{"example.net", "one@example.net", "two@example.net"}) {
		t.Fatalf("ListIdentities: %v %v", all.Identities, err)
	}
	doms, _ := e.v1.ListIdentities(ctx, &ses.ListIdentitiesInput{IdentityType: v1types.IdentityTypeDomain})
	if !slices.Equal(doms.Identities, []string{"example.net"}) {
		t.Fatalf("domains: %v", doms.Identities)
	}
	page, _ := e.v1.ListIdentities(ctx, &ses.ListIdentitiesInput{IdentityType: v1types.IdentityTypeEmailAddress, MaxItems: aws.Int32(1)})
	if !slices.Equal(page.Identities, []string{"one@example.net"}) || page.NextToken == nil {
		t.Fatalf("first page: %v %v", page.Identities, page.NextToken)
	}
	page, _ = e.v1.ListIdentities(ctx, &ses.ListIdentitiesInput{IdentityType: v1types.IdentityTypeEmailAddress, MaxItems: aws.Int32(1), NextToken: page.NextToken})
	if !slices.Equal(page.Identities, []string{"two@example.net"}) || page.NextToken != nil {
		t.Fatalf("second page: %v %v", page.Identities, page.NextToken)
	}

	// ListVerifiedEmailAddresses lists verified addresses only.
	if code, _ := follow(t, e.verificationLink(t, "two@example.net")); code != http.StatusOK {
		t.Fatalf("link: %d", code)
	}
	ve, err := e.v1.ListVerifiedEmailAddresses(ctx, &ses.ListVerifiedEmailAddressesInput{})
	if err != nil || !slices.Equal(ve.VerifiedEmailAddresses, []string{"two@example.net"}) {
		t.Fatalf("ListVerifiedEmailAddresses: %v %v", ve.VerifiedEmailAddresses, err)
	}

	// Deleting: both actions, absent identities are fine.
	if _, err := e.v1.DeleteVerifiedEmailAddress(ctx, &ses.DeleteVerifiedEmailAddressInput{EmailAddress: aws.String("two@example.net")}); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"EXAMPLE.net", "one@example.net", "missing.example"} {
		if _, err := e.v1.DeleteIdentity(ctx, &ses.DeleteIdentityInput{Identity: aws.String(id)}); err != nil {
			t.Fatalf("DeleteIdentity %s: %v", id, err)
		}
	}
	all, _ = e.v1.ListIdentities(ctx, &ses.ListIdentitiesInput{})
	if len(all.Identities) != 0 {
		t.Fatalf("after deletes: %v", all.Identities)
	}
}

// Identities are per region: another region of the same account sees none.
func TestIdentitiesPerRegion(t *testing.T) {
	t.Parallel()
	e := newIDEnv(t)
	ctx := context.Background()
	if _, err := e.v1.VerifyDomainIdentity(ctx, &ses.VerifyDomainIdentityInput{Domain: aws.String("region.example")}); err != nil {
		t.Fatal(err)
	}
	other := ses.NewFromConfig(aws.Config{Region: "eu-west-1", Credentials: e.v1.Options().Credentials,
		RetryMaxAttempts: 1, BaseEndpoint: aws.String(e.url)})
	out, err := other.ListIdentities(ctx, &ses.ListIdentitiesInput{})
	if err != nil || len(out.Identities) != 0 {
		t.Fatalf("eu-west-1: %v %v", out.Identities, err)
	}
}
