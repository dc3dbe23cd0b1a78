package e2e

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ses"
	sesv1types "github.com/aws/aws-sdk-go-v2/service/ses/types"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	"github.com/aws/aws-sdk-go-v2/service/sesv2/types"
	"github.com/aws/aws-sdk-go-v2/service/sns"

	"sesame/internal/testenv"
)

// TestAPIEmailIdentity: an address identity created through the API is
// verified the way a user verifies it — sesame mails a link (captured in
// /_aws/ses), following it verifies — and then it may send.
func TestAPIEmailIdentity(t *testing.T) {
	s := startProduction(t, testenv.Options{Regions: []string{"us-east-1", "eu-west-1"}})
	ctx := context.Background()
	v2, v1 := s.SESv2Client(t), s.SESClient(t)
	const addr = "owner@example.org"

	created, err := v2.CreateEmailIdentity(ctx, &sesv2.CreateEmailIdentityInput{EmailIdentity: aws.String(addr)})
	if err != nil {
		t.Fatal(err)
	}
	if created.IdentityType != types.IdentityTypeEmailAddress || created.VerifiedForSendingStatus {
		t.Errorf("CreateEmailIdentity = %+v", created)
	}
	_, err = v2.CreateEmailIdentity(ctx, &sesv2.CreateEmailIdentityInput{EmailIdentity: aws.String(addr)})
	wantCode(t, err, "AlreadyExistsException")
	_, err = v2.CreateEmailIdentity(ctx, &sesv2.CreateEmailIdentityInput{EmailIdentity: aws.String("not an identity")})
	wantCode(t, err, "BadRequestException")

	// Unverified, it may not send.
	send := func(subject string) error {
		_, err := v2.SendEmail(ctx, &sesv2.SendEmailInput{FromEmailAddress: aws.String(addr),
			Destination: &types.Destination{ToAddresses: []string{simulator}}, Content: simple(subject, "b", "")})
		return err
	}
	wantCode(t, send("before verification"), "MessageRejected")

	followVerificationLink(t, s, addr)
	got, err := v2.GetEmailIdentity(ctx, &sesv2.GetEmailIdentityInput{EmailIdentity: aws.String(addr)})
	if err != nil {
		t.Fatal(err)
	}
	if !got.VerifiedForSendingStatus || got.VerificationStatus != types.VerificationStatusSuccess {
		t.Fatalf("after the link: verified=%v status=%s", got.VerifiedForSendingStatus, got.VerificationStatus)
	}
	// Verifying drops the sending path's cached identities: the very next send passes.
	if err := send("after verification"); err != nil {
		t.Fatal(err)
	}
	waitSubject(t, s, "after verification")

	// Identities live per region.
	other := s.SESv2Client(t, func(o *sesv2.Options) { o.Region = "eu-west-1" })
	_, err = other.GetEmailIdentity(ctx, &sesv2.GetEmailIdentityInput{EmailIdentity: aws.String(addr)})
	wantCode(t, err, "NotFoundException")

	// v1 sees the same identity.
	attrs, err := v1.GetIdentityVerificationAttributes(ctx, &ses.GetIdentityVerificationAttributesInput{Identities: []string{addr}})
	if err != nil {
		t.Fatal(err)
	}
	if a, ok := attrs.VerificationAttributes[addr]; !ok || a.VerificationStatus != sesv1types.VerificationStatusSuccess {
		t.Errorf("v1 verification attributes = %+v", attrs.VerificationAttributes)
	}
	verified, err := v1.ListVerifiedEmailAddresses(ctx, &ses.ListVerifiedEmailAddressesInput{})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(verified.VerifiedEmailAddresses, addr) {
		t.Errorf("ListVerifiedEmailAddresses = %v", verified.VerifiedEmailAddresses)
	}

	// SES turns feedback forwarding off only for an identity with bounce
	// and complaint topics.
	if _, err := s.SNSClient(t).CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String("feedback")}); err != nil {
		t.Fatal(err)
	}
	for _, typ := range []sesv1types.NotificationType{sesv1types.NotificationTypeBounce, sesv1types.NotificationTypeComplaint} {
		if _, err := v1.SetIdentityNotificationTopic(ctx, &ses.SetIdentityNotificationTopicInput{Identity: aws.String(addr),
			NotificationType: typ, SnsTopic: aws.String("arn:aws:sns:" + s.Regions[0] + ":" + s.Account + ":feedback")}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := v2.PutEmailIdentityFeedbackAttributes(ctx, &sesv2.PutEmailIdentityFeedbackAttributesInput{
		EmailIdentity: aws.String(addr), EmailForwardingEnabled: false}); err != nil {
		t.Fatal(err)
	}
	if got, err := v2.GetEmailIdentity(ctx, &sesv2.GetEmailIdentityInput{EmailIdentity: aws.String(addr)}); err != nil || got.FeedbackForwardingStatus {
		t.Errorf("after PutEmailIdentityFeedbackAttributes(false): %v %v", got.FeedbackForwardingStatus, err)
	}

	if _, err := v2.DeleteEmailIdentity(ctx, &sesv2.DeleteEmailIdentityInput{EmailIdentity: aws.String(addr)}); err != nil {
		t.Fatal(err)
	}
	_, err = v2.GetEmailIdentity(ctx, &sesv2.GetEmailIdentityInput{EmailIdentity: aws.String(addr)})
	wantCode(t, err, "NotFoundException")
	_, err = v2.DeleteEmailIdentity(ctx, &sesv2.DeleteEmailIdentityInput{EmailIdentity: aws.String(addr)})
	wantCode(t, err, "NotFoundException")
}

// TestAPIEmailIdentityV1 verifies addresses with v1's VerifyEmailIdentity
// and VerifyEmailAddress and manages them with v1's other actions.
func TestAPIEmailIdentityV1(t *testing.T) {
	s := startProduction(t, testenv.Options{})
	ctx := context.Background()
	v1 := s.SESClient(t)
	if _, err := v1.VerifyEmailIdentity(ctx, &ses.VerifyEmailIdentityInput{EmailAddress: aws.String("one@example.org")}); err != nil {
		t.Fatal(err)
	}
	if _, err := v1.VerifyEmailAddress(ctx, &ses.VerifyEmailAddressInput{EmailAddress: aws.String("two@example.org")}); err != nil {
		t.Fatal(err)
	}
	attrs, err := v1.GetIdentityVerificationAttributes(ctx, &ses.GetIdentityVerificationAttributesInput{Identities: []string{"one@example.org", "two@example.org"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range []string{"one@example.org", "two@example.org"} {
		if attrs.VerificationAttributes[a].VerificationStatus != sesv1types.VerificationStatusPending {
			t.Errorf("%s: %+v, want Pending", a, attrs.VerificationAttributes[a])
		}
	}
	followVerificationLink(t, s, "one@example.org")
	list, err := v1.ListIdentities(ctx, &ses.ListIdentitiesInput{IdentityType: sesv1types.IdentityTypeEmailAddress})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(sorted(list.Identities), []string{"one@example.org", "two@example.org"}) {
		t.Errorf("ListIdentities = %v", list.Identities)
	}
	verified, err := v1.ListVerifiedEmailAddresses(ctx, &ses.ListVerifiedEmailAddressesInput{})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(verified.VerifiedEmailAddresses, []string{"one@example.org"}) {
		t.Errorf("ListVerifiedEmailAddresses = %v", verified.VerifiedEmailAddresses)
	}
	if _, err := v1.DeleteIdentity(ctx, &ses.DeleteIdentityInput{Identity: aws.String("two@example.org")}); err != nil {
		t.Fatal(err)
	}
	list, err = v1.ListIdentities(ctx, &ses.ListIdentitiesInput{})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(list.Identities, []string{"one@example.org"}) {
		t.Errorf("after DeleteIdentity: %v", list.Identities)
	}
}

// waitIdentity polls GetEmailIdentity until ok accepts it (DNS checks run
// in the background).
func waitIdentity(t *testing.T, v2 *sesv2.Client, name string, ok func(*sesv2.GetEmailIdentityOutput) bool) *sesv2.GetEmailIdentityOutput {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		got, err := v2.GetEmailIdentity(context.Background(), &sesv2.GetEmailIdentityInput{EmailIdentity: aws.String(name)})
		if err != nil {
			t.Fatal(err)
		}
		if ok(got) {
			return got
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: still verified=%v status=%s dkim=%+v mailfrom=%+v", name, got.VerifiedForSendingStatus,
				got.VerificationStatus, got.DkimAttributes, got.MailFromAttributes)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestAPIDomainIdentity: domain identities verified through a loopback DNS
// server, as SES verifies them — Easy DKIM CNAMEs (v2), the _amazonses TXT
// token (v1), a BYODKIM key, and a custom MAIL FROM domain's MX.
func TestAPIDomainIdentity(t *testing.T) {
	dns := testenv.StartDNS(t)
	s := startWithDNS(t, dns)
	ctx := context.Background()
	v2, v1 := s.SESv2Client(t), s.SESClient(t)

	t.Run("Easy DKIM", func(t *testing.T) {
		const domain = "easy.example"
		created, err := v2.CreateEmailIdentity(ctx, &sesv2.CreateEmailIdentityInput{EmailIdentity: aws.String(domain)})
		if err != nil {
			t.Fatal(err)
		}
		d := created.DkimAttributes
		if created.IdentityType != types.IdentityTypeDomain || created.VerifiedForSendingStatus || d == nil ||
			len(d.Tokens) != 3 || d.Status != types.DkimStatusPending || d.SigningAttributesOrigin != types.DkimSigningAttributesOriginAwsSes {
			t.Fatalf("CreateEmailIdentity(domain) = %+v dkim %+v", created, d)
		}
		if d.NextSigningKeyLength != "" && d.NextSigningKeyLength != types.DkimSigningKeyLengthRsa2048Bit {
			t.Errorf("default key length %s, want RSA_2048_BIT", d.NextSigningKeyLength)
		}
		dns.SetSOA(domain, "ns1."+domain, "hostmaster."+domain, 7)
		for _, tok := range d.Tokens {
			dns.SetCNAME(tok+"._domainkey."+domain, tok+"."+dkimCNAMEDomain)
		}
		verified := waitIdentity(t, v2, domain, func(g *sesv2.GetEmailIdentityOutput) bool {
			return g.VerifiedForSendingStatus && g.DkimAttributes != nil && g.DkimAttributes.Status == types.DkimStatusSuccess
		})
		// The verifier's check, as GetEmailIdentity reports it.
		if i := verified.VerificationInfo; i == nil || i.LastSuccessTimestamp == nil || i.LastCheckedTimestamp == nil ||
			i.ErrorType != "" || i.SOARecord == nil || aws.ToString(i.SOARecord.AdminEmail) != "hostmaster@"+domain {
			t.Errorf("VerificationInfo = %+v", i)
		}
		// A verified domain covers every address in it.
		if _, err := v2.SendEmail(ctx, &sesv2.SendEmailInput{FromEmailAddress: aws.String("anyone@" + domain),
			Destination: &types.Destination{ToAddresses: []string{simulator}}, Content: simple("from a verified domain", "b", "")}); err != nil {
			t.Fatal(err)
		}
		waitSubject(t, s, "from a verified domain")

		if _, err := v2.PutEmailIdentityDkimAttributes(ctx, &sesv2.PutEmailIdentityDkimAttributesInput{
			EmailIdentity: aws.String(domain), SigningEnabled: false}); err != nil {
			t.Fatal(err)
		}
		got := waitIdentity(t, v2, domain, func(*sesv2.GetEmailIdentityOutput) bool { return true })
		if got.DkimAttributes.SigningEnabled {
			t.Error("SigningEnabled still true after PutEmailIdentityDkimAttributes(false)")
		}
		dk, err := v1.GetIdentityDkimAttributes(ctx, &ses.GetIdentityDkimAttributesInput{Identities: []string{domain}})
		if err != nil {
			t.Fatal(err)
		}
		if a := dk.DkimAttributes[domain]; a.DkimVerificationStatus != sesv1types.VerificationStatusSuccess || len(a.DkimTokens) != 3 {
			t.Errorf("v1 GetIdentityDkimAttributes = %+v", a)
		}
	})

	t.Run("1024-bit key on request", func(t *testing.T) {
		created, err := v2.CreateEmailIdentity(ctx, &sesv2.CreateEmailIdentityInput{EmailIdentity: aws.String("short.example"),
			DkimSigningAttributes: &types.DkimSigningAttributes{NextSigningKeyLength: types.DkimSigningKeyLengthRsa1024Bit}})
		if err != nil {
			t.Fatal(err)
		}
		if created.DkimAttributes == nil || len(created.DkimAttributes.Tokens) != 3 {
			t.Fatalf("dkim = %+v", created.DkimAttributes)
		}
		got := waitIdentity(t, v2, "short.example", func(*sesv2.GetEmailIdentityOutput) bool { return true })
		if k := got.DkimAttributes.CurrentSigningKeyLength; k != "" && k != types.DkimSigningKeyLengthRsa1024Bit {
			t.Errorf("CurrentSigningKeyLength = %s", k)
		}
	})

	t.Run("v1 TXT token and VerifyDomainDkim", func(t *testing.T) {
		const domain = "v1.example"
		out, err := v1.VerifyDomainIdentity(ctx, &ses.VerifyDomainIdentityInput{Domain: aws.String(domain)})
		if err != nil {
			t.Fatal(err)
		}
		if aws.ToString(out.VerificationToken) == "" {
			t.Fatal("no VerificationToken")
		}
		dk, err := v1.VerifyDomainDkim(ctx, &ses.VerifyDomainDkimInput{Domain: aws.String(domain)})
		if err != nil {
			t.Fatal(err)
		}
		if len(dk.DkimTokens) != 3 {
			t.Errorf("VerifyDomainDkim tokens = %v", dk.DkimTokens)
		}
		dns.SetTXT("_amazonses."+domain, aws.ToString(out.VerificationToken))
		deadline := time.Now().Add(15 * time.Second)
		for {
			attrs, err := v1.GetIdentityVerificationAttributes(ctx, &ses.GetIdentityVerificationAttributesInput{Identities: []string{domain}})
			if err != nil {
				t.Fatal(err)
			}
			a := attrs.VerificationAttributes[domain]
			if a.VerificationStatus == sesv1types.VerificationStatusSuccess {
				if aws.ToString(a.VerificationToken) != aws.ToString(out.VerificationToken) {
					t.Errorf("token %q, VerifyDomainIdentity said %q", aws.ToString(a.VerificationToken), aws.ToString(out.VerificationToken))
				}
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("v1 domain still %s", a.VerificationStatus)
			}
			time.Sleep(100 * time.Millisecond)
		}
		list, err := v1.ListIdentities(ctx, &ses.ListIdentitiesInput{IdentityType: sesv1types.IdentityTypeDomain})
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Contains(list.Identities, domain) {
			t.Errorf("ListIdentities(Domain) = %v", list.Identities)
		}
	})

	t.Run("BYODKIM", func(t *testing.T) {
		const domain = "byo.example"
		if _, err := v2.CreateEmailIdentity(ctx, &sesv2.CreateEmailIdentityInput{EmailIdentity: aws.String(domain)}); err != nil {
			t.Fatal(err)
		}
		key, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			t.Fatal(err)
		}
		der, err := x509.MarshalPKCS8PrivateKey(key)
		if err != nil {
			t.Fatal(err)
		}
		pub, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
		if err != nil {
			t.Fatal(err)
		}
		out, err := v2.PutEmailIdentityDkimSigningAttributes(ctx, &sesv2.PutEmailIdentityDkimSigningAttributesInput{
			EmailIdentity: aws.String(domain), SigningAttributesOrigin: types.DkimSigningAttributesOriginExternal,
			SigningAttributes: &types.DkimSigningAttributes{DomainSigningSelector: aws.String("sel1"),
				DomainSigningPrivateKey: aws.String(base64.StdEncoding.EncodeToString(der))}})
		if err != nil {
			t.Fatal(err)
		}
		if out.DkimStatus != types.DkimStatusPending {
			t.Errorf("DkimStatus = %s, want PENDING", out.DkimStatus)
		}
		dns.SetTXT("sel1._domainkey."+domain, "v=DKIM1; k=rsa; p="+base64.StdEncoding.EncodeToString(pub))
		waitIdentity(t, v2, domain, func(g *sesv2.GetEmailIdentityOutput) bool {
			return g.DkimAttributes != nil && g.DkimAttributes.Status == types.DkimStatusSuccess &&
				g.DkimAttributes.SigningAttributesOrigin == types.DkimSigningAttributesOriginExternal
		})
		_, err = v2.PutEmailIdentityDkimSigningAttributes(ctx, &sesv2.PutEmailIdentityDkimSigningAttributesInput{
			EmailIdentity: aws.String(domain), SigningAttributesOrigin: types.DkimSigningAttributesOriginExternal,
			SigningAttributes: &types.DkimSigningAttributes{DomainSigningSelector: aws.String("sel2"),
				DomainSigningPrivateKey: aws.String("bm90IGEga2V5")}})
		wantCode(t, err, "BadRequestException")
	})

	t.Run("custom MAIL FROM", func(t *testing.T) {
		const domain = "mf.example"
		created, err := v2.CreateEmailIdentity(ctx, &sesv2.CreateEmailIdentityInput{EmailIdentity: aws.String(domain)})
		if err != nil {
			t.Fatal(err)
		}
		for _, tok := range created.DkimAttributes.Tokens {
			dns.SetCNAME(tok+"._domainkey."+domain, tok+"."+dkimCNAMEDomain)
		}
		waitIdentity(t, v2, domain, func(g *sesv2.GetEmailIdentityOutput) bool { return g.VerifiedForSendingStatus })
		if _, err := v2.PutEmailIdentityMailFromAttributes(ctx, &sesv2.PutEmailIdentityMailFromAttributesInput{
			EmailIdentity: aws.String(domain), MailFromDomain: aws.String("bounce." + domain),
			BehaviorOnMxFailure: types.BehaviorOnMxFailureRejectMessage}); err != nil {
			t.Fatal(err)
		}
		_, err = v2.PutEmailIdentityMailFromAttributes(ctx, &sesv2.PutEmailIdentityMailFromAttributesInput{
			EmailIdentity: aws.String(domain), MailFromDomain: aws.String("bounce.elsewhere.example")})
		wantCode(t, err, "BadRequestException")
		t.Run("REJECT_MESSAGE before the MX is found", func(t *testing.T) {
			_, err := v2.SendEmail(ctx, &sesv2.SendEmailInput{FromEmailAddress: aws.String("a@" + domain),
				Destination: &types.Destination{ToAddresses: []string{simulator}}, Content: simple("mail from pending", "b", "")})
			wantCode(t, err, "MailFromDomainNotVerifiedException")
			// v1 keeps the Exception suffix on the wire too.
			_, err = v1.SendEmail(ctx, &ses.SendEmailInput{Source: aws.String("a@" + domain),
				Destination: &sesv1types.Destination{ToAddresses: []string{simulator}},
				Message: &sesv1types.Message{Subject: &sesv1types.Content{Data: aws.String("mail from pending")},
					Body: &sesv1types.Body{Text: &sesv1types.Content{Data: aws.String("b")}}}})
			wantCode(t, err, "MailFromDomainNotVerifiedException")
		})

		// verification.mail_from_mx_domain is unset: the MX is under the
		// server's own hostname (testenv's sesame.test), not Amazon's.
		dns.SetMX("bounce."+domain, 10, "feedback-smtp."+s.Regions[0]+".sesame.test")
		got := waitIdentity(t, v2, domain, func(g *sesv2.GetEmailIdentityOutput) bool {
			return g.MailFromAttributes != nil && g.MailFromAttributes.MailFromDomainStatus == types.MailFromDomainStatusSuccess
		})
		if aws.ToString(got.MailFromAttributes.MailFromDomain) != "bounce."+domain {
			t.Errorf("MailFromAttributes = %+v", got.MailFromAttributes)
		}
		if _, err := v2.SendEmail(ctx, &sesv2.SendEmailInput{FromEmailAddress: aws.String("a@" + domain),
			Destination: &types.Destination{ToAddresses: []string{simulator}}, Content: simple("mail from verified", "b", "")}); err != nil {
			t.Fatal(err)
		}
		waitSubject(t, s, "mail from verified")
	})

	t.Run("ListEmailIdentities", func(t *testing.T) {
		var names []string
		p := sesv2.NewListEmailIdentitiesPaginator(v2, &sesv2.ListEmailIdentitiesInput{PageSize: aws.Int32(2)})
		for p.HasMorePages() {
			page, err := p.NextPage(ctx)
			if err != nil {
				t.Fatal(err)
			}
			for _, id := range page.EmailIdentities {
				names = append(names, aws.ToString(id.IdentityName))
			}
		}
		for _, want := range []string{"easy.example", "short.example", "v1.example", "byo.example", "mf.example"} {
			if !slices.Contains(names, want) {
				t.Errorf("ListEmailIdentities = %v, missing %s", names, want)
			}
		}
	})
}

// dkimCNAMEDomain is where the test server's Easy DKIM CNAMEs must point:
// the operator's setting (here the same as the default, dkim.<hostname>).
const dkimCNAMEDomain = "dkim.sesame.test"

// startWithDNS starts sesame asking dns for identity verification, checking
// records every 100 ms.
func startWithDNS(t *testing.T, dns *testenv.DNS) *testenv.Server {
	t.Helper()
	return startProduction(t, testenv.Options{Extra: testenv.VerificationConfig(dns, 100*time.Millisecond, dkimCNAMEDomain)})
}
