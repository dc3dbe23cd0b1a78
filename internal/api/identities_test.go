package api

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ses"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	v2types "github.com/aws/aws-sdk-go-v2/service/sesv2/types"

	"sesame/internal/clock"
	"sesame/internal/delivery"
	"sesame/internal/dnsx"
	"sesame/internal/sending"
	"sesame/internal/spool"
	"sesame/internal/store"
	"sesame/internal/testenv"
	"sesame/internal/verify"
)

// idEnv is a real API server on loopback wired as `sesame serve` wires it
// (store, spool, sender, capture delivery, verifier) with a loopback DNS
// server. The verifier has its own fake clock, so links can expire while
// the API keeps the real time SigV4 needs.
type idEnv struct {
	st    *store.Store
	url   string
	dns   *testenv.DNS
	vclk  *clock.Fake
	ver   *verify.Verifier
	creds aws.Credentials
	v2    *sesv2.Client
	v1    *ses.Client
}

const idRegion = "us-east-1"

func newIDEnv(t *testing.T, opts ...func(*verify.Config)) *idEnv {
	t.Helper()
	dir := t.TempDir()
	st, err := store.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	sp, err := spool.Open(dir+"/spool", spool.Options{})
	if err != nil {
		t.Fatal(err)
	}
	_, key, err := st.CreateAccount(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	quiet := slog.New(slog.DiscardHandler)
	sender := sending.New(sending.Config{Store: st, Spool: sp, Hostname: "sesame.test", Logger: quiet})
	srvDNS := testenv.StartDNS(t)
	vclk := clock.NewFake(time.Now())
	vc := verify.Config{Store: st, Resolver: dnsx.New(srvDNS.Addr), Sender: sender, Clock: vclk,
		Logger: quiet, Hostname: "sesame.test", DKIMCNAMEDomain: "dkim.mail.example.net"}
	for _, o := range opts {
		o(&vc)
	}
	ver := verify.New(vc)
	var h http.Handler
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { h.ServeHTTP(w, r) }))
	srv := New(Config{Store: st, Sender: sender, Regions: []string{idRegion, "eu-west-1"}, Logger: quiet,
		BaseURL: hs.URL, Verifier: ver})
	h = srv.Handler()
	ctx, cancel := context.WithCancel(context.Background())
	capDone := make(chan struct{})
	go func() {
		defer close(capDone)
		_ = (&delivery.Capture{Spool: sp, Store: st, Logger: quiet}).Run(ctx)
	}()
	t.Cleanup(func() {
		hs.Close()
		cancel()
		<-capDone
		sender.Close()
		sp.Close()
	})
	e := &idEnv{st: st, url: hs.URL, dns: srvDNS, vclk: vclk, ver: ver,
		creds: aws.Credentials{AccessKeyID: key.ID, SecretAccessKey: key.Secret}}
	cfg := aws.Config{Region: idRegion, Credentials: credentials.StaticCredentialsProvider{Value: e.creds},
		RetryMaxAttempts: 1, BaseEndpoint: aws.String(hs.URL)}
	e.v2, e.v1 = sesv2.NewFromConfig(cfg), ses.NewFromConfig(cfg)
	return e
}

func (e *idEnv) checkNow(t *testing.T) {
	t.Helper()
	if err := e.ver.CheckNow(context.Background()); err != nil {
		t.Fatal(err)
	}
}

var verifyLinkRE = regexp.MustCompile(`http://\S+/_sesame/verify-email\?token=\S+`)

// verificationLink waits for the verification mail to addr to show in
// /_aws/ses (it goes through the spool and capture delivery) and returns
// its link.
func (e *idEnv) verificationLink(t *testing.T, addr string) string {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		resp, err := http.Get(e.url + "/_aws/ses?email=no-reply@sesame.test")
		if err != nil {
			t.Fatal(err)
		}
		var out struct{ Messages []capturedMessage }
		err = json.NewDecoder(resp.Body).Decode(&out)
		resp.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		var link string
		for _, m := range out.Messages {
			if slices.Contains(m.Destination.ToAddresses, addr) || slices.Contains(m.Recipients, addr) {
				if !strings.HasPrefix(m.Subject, "Amazon Web Services - Email Address Verification Request in region ") {
					t.Fatalf("subject %q", m.Subject)
				}
				link = verifyLinkRE.FindString(m.RawData)
			}
		}
		if link != "" {
			return link
		}
		if time.Now().After(deadline) {
			t.Fatalf("no verification mail to %s in /_aws/ses: %+v", addr, out.Messages)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func follow(t *testing.T, link string) (int, string) {
	t.Helper()
	resp, err := http.Get(link)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestEmailIdentityV2LinkFlow(t *testing.T) {
	t.Parallel()
	e := newIDEnv(t)
	ctx := context.Background()
	const addr = "Sender@Example.com"
	out, err := e.v2.CreateEmailIdentity(ctx, &sesv2.CreateEmailIdentityInput{EmailIdentity: aws.String(addr)})
	if err != nil {
		t.Fatal(err)
	}
	if out.IdentityType != v2types.IdentityTypeEmailAddress || out.VerifiedForSendingStatus {
		t.Fatalf("create: %+v", out)
	}
	_, err = e.v2.CreateEmailIdentity(ctx, &sesv2.CreateEmailIdentityInput{EmailIdentity: aws.String(addr)})
	wantErrCode(t, err, "AlreadyExistsException")

	link := e.verificationLink(t, addr)
	if code, body := follow(t, link+"x"); code != http.StatusNotFound || !strings.Contains(body, "not valid") {
		t.Fatalf("wrong token: %d %s", code, body)
	}
	if code, body := follow(t, link); code != http.StatusOK || !strings.Contains(body, "Congratulations") {
		t.Fatalf("link: %d %s", code, body)
	}
	got, err := e.v2.GetEmailIdentity(ctx, &sesv2.GetEmailIdentityInput{EmailIdentity: aws.String(addr)})
	if err != nil {
		t.Fatal(err)
	}
	if got.VerificationStatus != v2types.VerificationStatusSuccess || !got.VerifiedForSendingStatus || !got.FeedbackForwardingStatus {
		t.Fatalf("get: %+v", got)
	}
	// Addresses are case-sensitive.
	_, err = e.v2.GetEmailIdentity(ctx, &sesv2.GetEmailIdentityInput{EmailIdentity: aws.String(strings.ToLower(addr))})
	wantErrCode(t, err, "NotFoundException")
}

func TestEmailIdentityLinkExpires(t *testing.T) {
	t.Parallel()
	e := newIDEnv(t)
	ctx := context.Background()
	const addr = "late@example.com"
	if _, err := e.v1.VerifyEmailIdentity(ctx, &ses.VerifyEmailIdentityInput{EmailAddress: aws.String(addr)}); err != nil {
		t.Fatal(err)
	}
	link := e.verificationLink(t, addr)
	e.vclk.Advance(verify.EmailLinkTTL + time.Minute)
	if code, body := follow(t, link); code != http.StatusGone || !strings.Contains(body, "expired") {
		t.Fatalf("expired link: %d %s", code, body)
	}
	got, err := e.v2.GetEmailIdentity(ctx, &sesv2.GetEmailIdentityInput{EmailIdentity: aws.String(addr)})
	if err != nil || got.VerificationStatus != v2types.VerificationStatusFailed {
		t.Fatalf("after expiry: %+v %v", got, err)
	}
}

func TestDomainIdentityV2(t *testing.T) {
	t.Parallel()
	e := newIDEnv(t)
	ctx := context.Background()
	out, err := e.v2.CreateEmailIdentity(ctx, &sesv2.CreateEmailIdentityInput{EmailIdentity: aws.String("Example.COM"),
		DkimSigningAttributes: &v2types.DkimSigningAttributes{NextSigningKeyLength: v2types.DkimSigningKeyLengthRsa1024Bit}})
	if err != nil {
		t.Fatal(err)
	}
	dk := out.DkimAttributes
	if out.IdentityType != v2types.IdentityTypeDomain || dk == nil || dk.Status != v2types.DkimStatusPending || len(dk.Tokens) != 3 ||
		!dk.SigningEnabled || dk.SigningAttributesOrigin != v2types.DkimSigningAttributesOriginAwsSes {
		t.Fatalf("create: %+v %+v", out, dk)
	}
	for _, tok := range dk.Tokens {
		e.dns.SetCNAME(tok+"._domainkey.example.com", tok+".dkim.mail.example.net")
	}
	e.checkNow(t)
	got, err := e.v2.GetEmailIdentity(ctx, &sesv2.GetEmailIdentityInput{EmailIdentity: aws.String("example.com")})
	if err != nil {
		t.Fatal(err)
	}
	if got.VerificationStatus != v2types.VerificationStatusSuccess || got.DkimAttributes.Status != v2types.DkimStatusSuccess ||
		got.DkimAttributes.CurrentSigningKeyLength != v2types.DkimSigningKeyLengthRsa1024Bit || got.DkimAttributes.LastKeyGenerationTimestamp == nil ||
		got.MailFromAttributes == nil || got.MailFromAttributes.BehaviorOnMxFailure != v2types.BehaviorOnMxFailureUseDefaultValue {
		t.Fatalf("get: %+v %+v", got, got.DkimAttributes)
	}

	// Settings.
	if _, err := e.v2.PutEmailIdentityDkimAttributes(ctx, &sesv2.PutEmailIdentityDkimAttributesInput{EmailIdentity: aws.String("example.com"), SigningEnabled: false}); err != nil {
		t.Fatal(err)
	}
	// SES: forwarding stays on while the identity lacks bounce and complaint topics.
	_, err = e.v2.PutEmailIdentityFeedbackAttributes(ctx, &sesv2.PutEmailIdentityFeedbackAttributesInput{EmailIdentity: aws.String("example.com"), EmailForwardingEnabled: false})
	wantErrCode(t, err, "BadRequestException")
	_, err = e.v2.PutEmailIdentityMailFromAttributes(ctx, &sesv2.PutEmailIdentityMailFromAttributesInput{EmailIdentity: aws.String("example.com"), MailFromDomain: aws.String("bounce.other.org")})
	wantErrCode(t, err, "BadRequestException")
	if _, err := e.v2.PutEmailIdentityMailFromAttributes(ctx, &sesv2.PutEmailIdentityMailFromAttributesInput{EmailIdentity: aws.String("example.com"),
		MailFromDomain: aws.String("bounce.example.com"), BehaviorOnMxFailure: v2types.BehaviorOnMxFailureRejectMessage}); err != nil {
		t.Fatal(err)
	}
	got, _ = e.v2.GetEmailIdentity(ctx, &sesv2.GetEmailIdentityInput{EmailIdentity: aws.String("example.com")})
	if got.DkimAttributes.SigningEnabled || !got.FeedbackForwardingStatus || aws.ToString(got.MailFromAttributes.MailFromDomain) != "bounce.example.com" ||
		got.MailFromAttributes.MailFromDomainStatus != v2types.MailFromDomainStatusPending || got.MailFromAttributes.BehaviorOnMxFailure != v2types.BehaviorOnMxFailureRejectMessage {
		t.Fatalf("after settings: %+v %+v %+v", got, got.DkimAttributes, got.MailFromAttributes)
	}
	// verification.mail_from_mx_domain unset: the MX is under the server's hostname.
	e.dns.SetMX("bounce.example.com", 10, "feedback-smtp.us-east-1.sesame.test")
	e.checkNow(t)
	got, _ = e.v2.GetEmailIdentity(ctx, &sesv2.GetEmailIdentityInput{EmailIdentity: aws.String("example.com")})
	if got.MailFromAttributes.MailFromDomainStatus != v2types.MailFromDomainStatusSuccess {
		t.Fatalf("MAIL FROM after MX: %+v", got.MailFromAttributes)
	}

	// BYODKIM, then back to Easy DKIM.
	k, _ := rsa.GenerateKey(rand.Reader, 1024)
	pk := base64.StdEncoding.EncodeToString(x509.MarshalPKCS1PrivateKey(k))
	sig, err := e.v2.PutEmailIdentityDkimSigningAttributes(ctx, &sesv2.PutEmailIdentityDkimSigningAttributesInput{
		EmailIdentity: aws.String("example.com"), SigningAttributesOrigin: v2types.DkimSigningAttributesOriginExternal,
		SigningAttributes: &v2types.DkimSigningAttributes{DomainSigningSelector: aws.String("sel"), DomainSigningPrivateKey: aws.String(pk)}})
	if err != nil || sig.DkimStatus != v2types.DkimStatusPending || !slices.Equal(sig.DkimTokens, []string{"sel"}) {
		t.Fatalf("BYODKIM: %+v %v", sig, err)
	}
	got, _ = e.v2.GetEmailIdentity(ctx, &sesv2.GetEmailIdentityInput{EmailIdentity: aws.String("example.com")})
	if got.DkimAttributes.SigningAttributesOrigin != v2types.DkimSigningAttributesOriginExternal ||
		!slices.Equal(got.DkimAttributes.Tokens, []string{"sel"}) {
		t.Fatalf("origin %s", got.DkimAttributes.SigningAttributesOrigin)
	}
	_, err = e.v2.PutEmailIdentityDkimSigningAttributes(ctx, &sesv2.PutEmailIdentityDkimSigningAttributesInput{
		EmailIdentity: aws.String("example.com"), SigningAttributesOrigin: v2types.DkimSigningAttributesOriginExternal,
		SigningAttributes: &v2types.DkimSigningAttributes{DomainSigningSelector: aws.String("sel"), DomainSigningPrivateKey: aws.String("bm90IGEga2V5")}})
	wantErrCode(t, err, "BadRequestException")
	sig, err = e.v2.PutEmailIdentityDkimSigningAttributes(ctx, &sesv2.PutEmailIdentityDkimSigningAttributesInput{
		EmailIdentity: aws.String("example.com"), SigningAttributesOrigin: v2types.DkimSigningAttributesOriginAwsSes,
		SigningAttributes: &v2types.DkimSigningAttributes{NextSigningKeyLength: v2types.DkimSigningKeyLengthRsa1024Bit}})
	if err != nil || sig.DkimStatus != v2types.DkimStatusPending || len(sig.DkimTokens) != 3 {
		t.Fatalf("back to Easy DKIM: %+v %v", sig, err)
	}

	if _, err := e.v2.DeleteEmailIdentity(ctx, &sesv2.DeleteEmailIdentityInput{EmailIdentity: aws.String("EXAMPLE.com")}); err != nil {
		t.Fatal(err)
	}
	_, err = e.v2.GetEmailIdentity(ctx, &sesv2.GetEmailIdentityInput{EmailIdentity: aws.String("example.com")})
	wantErrCode(t, err, "NotFoundException")
}

func TestIdentityErrorsV2(t *testing.T) {
	t.Parallel()
	e := newIDEnv(t)
	ctx := context.Background()
	tests := []struct {
		name string
		call func() error
		want string
	}{
		{"create no identity", func() error {
			_, err := e.v2.CreateEmailIdentity(ctx, &sesv2.CreateEmailIdentityInput{EmailIdentity: aws.String("")})
			return err
		}, "BadRequestException"},
		{"create bad domain", func() error {
			_, err := e.v2.CreateEmailIdentity(ctx, &sesv2.CreateEmailIdentityInput{EmailIdentity: aws.String("not a domain")})
			return err
		}, "BadRequestException"},
		{"create bad address", func() error {
			_, err := e.v2.CreateEmailIdentity(ctx, &sesv2.CreateEmailIdentityInput{EmailIdentity: aws.String("a@b@c.com")})
			return err
		}, "BadRequestException"},
		{"create bad key length", func() error {
			_, err := e.v2.CreateEmailIdentity(ctx, &sesv2.CreateEmailIdentityInput{EmailIdentity: aws.String("x.example"),
				DkimSigningAttributes: &v2types.DkimSigningAttributes{NextSigningKeyLength: "RSA_4096_BIT"}})
			return err
		}, "BadRequestException"},
		{"get missing", func() error {
			_, err := e.v2.GetEmailIdentity(ctx, &sesv2.GetEmailIdentityInput{EmailIdentity: aws.String("nope.example")})
			return err
		}, "NotFoundException"},
		{"delete missing", func() error {
			_, err := e.v2.DeleteEmailIdentity(ctx, &sesv2.DeleteEmailIdentityInput{EmailIdentity: aws.String("nope@example.com")})
			return err
		}, "NotFoundException"},
		{"dkim on missing", func() error {
			_, err := e.v2.PutEmailIdentityDkimAttributes(ctx, &sesv2.PutEmailIdentityDkimAttributesInput{EmailIdentity: aws.String("nope.example"), SigningEnabled: true})
			return err
		}, "NotFoundException"},
		{"mail-from on missing", func() error {
			_, err := e.v2.PutEmailIdentityMailFromAttributes(ctx, &sesv2.PutEmailIdentityMailFromAttributesInput{EmailIdentity: aws.String("nope.example")})
			return err
		}, "NotFoundException"},
		{"feedback on missing", func() error {
			_, err := e.v2.PutEmailIdentityFeedbackAttributes(ctx, &sesv2.PutEmailIdentityFeedbackAttributesInput{EmailIdentity: aws.String("nope.example")})
			return err
		}, "NotFoundException"},
		{"signing on missing", func() error {
			_, err := e.v2.PutEmailIdentityDkimSigningAttributes(ctx, &sesv2.PutEmailIdentityDkimSigningAttributesInput{EmailIdentity: aws.String("nope.example"),
				SigningAttributesOrigin: v2types.DkimSigningAttributesOriginAwsSes})
			return err
		}, "NotFoundException"},
		{"list bad token", func() error {
			_, err := e.v2.ListEmailIdentities(ctx, &sesv2.ListEmailIdentitiesInput{NextToken: aws.String("garbage!")})
			return err
		}, "BadRequestException"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { wantErrCode(t, tt.call(), tt.want) })
	}
}

// signedGet sends a SigV4-signed GET, as older clients call ListEmailIdentities.
func (e *idEnv) signedGet(t *testing.T, path string) map[string]any {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, e.url+path, nil)
	const emptyHash = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
	if err := v4.NewSigner().SignHTTP(context.Background(), e.creds, req, emptyHash, "ses", idRegion, time.Now()); err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || resp.StatusCode != 200 {
		t.Fatalf("GET %s: %d %v %v", path, resp.StatusCode, out, err)
	}
	return out
}

func TestListEmailIdentities(t *testing.T) {
	t.Parallel()
	e := newIDEnv(t)
	ctx := context.Background()
	var want []string
	for _, d := range []string{"e.example", "a.example", "c.example", "b.example", "d.example"} {
		if _, err := e.v1.VerifyDomainIdentity(ctx, &ses.VerifyDomainIdentityInput{Domain: aws.String(d)}); err != nil {
			t.Fatal(err)
		}
		want = append(want, d)
	}
	if _, err := e.v1.VerifyEmailIdentity(ctx, &ses.VerifyEmailIdentityInput{EmailAddress: aws.String("z@a.example")}); err != nil {
		t.Fatal(err)
	}
	want = append(want, "z@a.example")
	slices.Sort(want)

	// The SDK's paginator (POST /v2/email/list-identities), 2 a page.
	var got []string
	pages := sesv2.NewListEmailIdentitiesPaginator(e.v2, &sesv2.ListEmailIdentitiesInput{PageSize: aws.Int32(2)})
	for n := 0; pages.HasMorePages(); n++ {
		page, err := pages.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(page.EmailIdentities) > 2 || n > 3 {
			t.Fatalf("page %d has %d", n, len(page.EmailIdentities))
		}
		for _, id := range page.EmailIdentities {
			if id.SendingEnabled || id.VerificationStatus != v2types.VerificationStatusPending {
				t.Fatalf("item %+v", id)
			}
			got = append(got, aws.ToString(id.IdentityName))
		}
	}
	if !slices.Equal(got, want) {
		t.Fatalf("paged: %v, want %v", got, want)
	}

	// Older clients: GET /v2/email/identities.
	out := e.signedGet(t, "/v2/email/identities?PageSize=4")
	items, _ := out["EmailIdentities"].([]any)
	if len(items) != 4 || out["NextToken"] == nil {
		t.Fatalf("GET page: %v", out)
	}
	first := items[0].(map[string]any)
	if first["IdentityName"] != "a.example" || first["IdentityType"] != "DOMAIN" || first["VerificationStatus"] != "PENDING" {
		t.Fatalf("GET item: %v", first)
	}
	out = e.signedGet(t, "/v2/email/identities?NextToken="+out["NextToken"].(string))
	if items, _ := out["EmailIdentities"].([]any); len(items) != 2 || out["NextToken"] != nil {
		t.Fatalf("GET second page: %v", out)
	}
}

// A domain verified through DNS covers every address in it for sending
// (the one policy path), and verification mail goes out even while the
// account's sending is paused (it is sesame's mail, not the account's).
func TestVerifiedDomainSends(t *testing.T) {
	t.Parallel()
	e := newIDEnv(t)
	ctx := context.Background()
	send := func(from string) error {
		_, err := e.v2.SendEmail(ctx, &sesv2.SendEmailInput{
			FromEmailAddress: aws.String(from),
			Destination:      &v2types.Destination{ToAddresses: []string{"success@simulator.amazonses.com"}},
			Content: &v2types.EmailContent{Simple: &v2types.Message{
				Subject: &v2types.Content{Data: aws.String("hi")},
				Body:    &v2types.Body{Text: &v2types.Content{Data: aws.String("hello")}},
			}},
		})
		return err
	}
	out, err := e.v2.CreateEmailIdentity(ctx, &sesv2.CreateEmailIdentityInput{EmailIdentity: aws.String("covered.example"),
		DkimSigningAttributes: &v2types.DkimSigningAttributes{NextSigningKeyLength: v2types.DkimSigningKeyLengthRsa1024Bit}})
	if err != nil {
		t.Fatal(err)
	}
	wantErrCode(t, send("anyone@covered.example"), "MessageRejected")
	for _, tok := range out.DkimAttributes.Tokens {
		e.dns.SetCNAME(tok+"._domainkey.covered.example", tok+".dkim.mail.example.net")
	}
	e.checkNow(t)
	// sending caches identities for up to a second.
	deadline := time.Now().Add(3 * time.Second)
	for {
		err := send("anyone@sub.covered.example")
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("send from a verified domain: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}

	if _, err := e.v2.PutAccountSendingAttributes(ctx, &sesv2.PutAccountSendingAttributesInput{SendingEnabled: false}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.v2.CreateEmailIdentity(ctx, &sesv2.CreateEmailIdentityInput{EmailIdentity: aws.String("paused@example.org")}); err != nil {
		t.Fatal(err)
	}
	if link := e.verificationLink(t, "paused@example.org"); link == "" {
		t.Fatal("no link")
	}
}

// aws CLI 2.9.x sends PutEmailIdentityDkimSigningAttributes to /v1/email/….
func TestDkimSigningOldCLIRoute(t *testing.T) {
	t.Parallel()
	e := newIDEnv(t)
	if _, err := e.v1.VerifyDomainIdentity(context.Background(), &ses.VerifyDomainIdentityInput{Domain: aws.String("old.example")}); err != nil {
		t.Fatal(err)
	}
	body := `{"SigningAttributesOrigin":"AWS_SES","SigningAttributes":{"NextSigningKeyLength":"RSA_1024_BIT"}}`
	req, _ := http.NewRequest(http.MethodPut, e.url+"/v1/email/identities/old.example/dkim/signing", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	sum := sha256.Sum256([]byte(body))
	if err := v4.NewSigner().SignHTTP(context.Background(), e.creds, req, hex.EncodeToString(sum[:]), "ses", idRegion, time.Now()); err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct {
		DkimStatus string
		DkimTokens []string
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || resp.StatusCode != 200 || out.DkimStatus != "PENDING" || len(out.DkimTokens) != 3 {
		t.Fatalf("%d %+v %v", resp.StatusCode, out, err)
	}
}

// The identity limit per region (SES: 10,000; lowered here) answers
// LimitExceededException (v2) / LimitExceeded (v1).
func TestIdentityLimit(t *testing.T) {
	t.Parallel()
	e := newIDEnv(t, func(c *verify.Config) { c.MaxIdentities = 2 })
	ctx := context.Background()
	if _, err := e.v1.VerifyDomainIdentity(ctx, &ses.VerifyDomainIdentityInput{Domain: aws.String("one.example")}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.v2.CreateEmailIdentity(ctx, &sesv2.CreateEmailIdentityInput{EmailIdentity: aws.String("two@example.com")}); err != nil {
		t.Fatal(err)
	}
	_, err := e.v2.CreateEmailIdentity(ctx, &sesv2.CreateEmailIdentityInput{EmailIdentity: aws.String("three@example.com")})
	wantErrCode(t, err, "LimitExceededException")
	_, err = e.v1.VerifyEmailIdentity(ctx, &ses.VerifyEmailIdentityInput{EmailAddress: aws.String("three@example.com")})
	wantErrCode(t, err, "LimitExceeded")
	// Re-verifying an existing identity is no new identity.
	if _, err := e.v1.VerifyDomainIdentity(ctx, &ses.VerifyDomainIdentityInput{Domain: aws.String("one.example")}); err != nil {
		t.Fatal(err)
	}
}
