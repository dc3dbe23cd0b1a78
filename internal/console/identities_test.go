package console

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"html"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	"github.com/aws/aws-sdk-go-v2/service/sesv2/types"

	"sesame/internal/store"
	"sesame/internal/verify"
)

// identitiesEnv is an env with one session of its account, and the DNS
// record domains of a real configuration.
type identitiesEnv struct {
	*env
	sess *session
}

func newIdentitiesEnv(t *testing.T) *identitiesEnv {
	e := newEnv(t, func(c *Config) {
		c.DKIMCNAMEDomain, c.MailFromMXDomain, c.Hostname = "dkim.mail.example.net", "mail.example.net", "mail.example.net"
	})
	return &identitiesEnv{env: e, sess: e.session()}
}

func (e *identitiesEnv) do(method, path string, form url.Values) *httptest.ResponseRecorder {
	return e.env.do(e.sess, method, path, form)
}

func (e *identitiesEnv) view() *view { return e.env.view(e.sess) }

func TestConsoleIdentityCreateAndRecords(t *testing.T) {
	e := newIdentitiesEnv(t)

	// A bad domain: the form again, with SES's error and the input kept.
	w := e.do("POST", "/us-east-1/identities", url.Values{"kind": {"domain"}, "domain": {"no_dots"}})
	body := html.UnescapeString(w.Body.String())
	if w.Code != http.StatusOK || !strings.Contains(body, "BadRequestException") || !strings.Contains(body, `value="no_dots"`) {
		t.Fatalf("bad domain: %d\n%s", w.Code, body)
	}
	// An address in the domain field is refused before SES sees it.
	w = e.do("POST", "/us-east-1/identities", url.Values{"kind": {"domain"}, "domain": {"a@example.com"}})
	if w.Code != http.StatusOK || !strings.Contains(w.Body.String(), "A domain has no @") {
		t.Fatalf("address as a domain: %d", w.Code)
	}

	w = e.do("POST", "/us-east-1/identities", url.Values{"kind": {"domain"}, "domain": {"Example.COM"},
		"key_length": {"RSA_1024_BIT"}, "use_mail_from": {"1"}, "mail_from": {"bounce.example.com"}, "behavior": {"REJECT_MESSAGE"}})
	if w.Code != http.StatusSeeOther || w.Header().Get("Location") != "/us-east-1/identities/example.com" {
		t.Fatalf("create: %d %s\n%s", w.Code, w.Header().Get("Location"), w.Body)
	}
	id, err := e.view().SESv2().GetEmailIdentity(context.Background(), &sesv2.GetEmailIdentityInput{EmailIdentity: aws.String("example.com")})
	if err != nil {
		t.Fatal(err)
	}
	if id.DkimAttributes.NextSigningKeyLength != types.DkimSigningKeyLengthRsa1024Bit ||
		aws.ToString(id.MailFromAttributes.MailFromDomain) != "bounce.example.com" ||
		id.MailFromAttributes.BehaviorOnMxFailure != types.BehaviorOnMxFailureRejectMessage {
		t.Fatalf("created %+v %+v", id.DkimAttributes, id.MailFromAttributes)
	}

	// The page shows every record verify.Records makes of the identity.
	w = e.do("GET", "/us-east-1/identities/example.com", nil)
	body = html.UnescapeString(w.Body.String())
	if w.Code != http.StatusOK || !strings.Contains(body, "Created the identity example.com.") {
		t.Fatalf("page: %d\n%s", w.Code, body)
	}
	recs, err := verify.Records(verify.RecordsInput{Domain: "example.com", Region: "us-east-1", DKIMOrigin: store.DKIMOriginAWS,
		DKIMTokens: id.DkimAttributes.Tokens, MailFromDomain: "bounce.example.com", DKIMCNAMEDomain: "dkim.mail.example.net",
		MailFromMXDomain: "mail.example.net", Hostname: "mail.example.net"})
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 6 {
		t.Fatalf("records %+v", recs)
	}
	for _, r := range recs {
		if !strings.Contains(body, `<code class="rec-name">`+r.Name+`</code>`) || !strings.Contains(body, `<code class="rec-value">`+r.Value+`</code>`) ||
			!strings.Contains(body, `data-copy="`+r.Value+`"`) {
			t.Errorf("the page lacks %+v", r)
		}
	}
	if !strings.Contains(body, "_amazonses.example.com") {
		t.Errorf("no _amazonses record while pending")
	}

	// Clearing the MAIL FROM domain drops its records.
	w = e.do("POST", "/us-east-1/identities/example.com/mail-from", url.Values{"action": {"clear"}})
	if w.Code != http.StatusSeeOther {
		t.Fatalf("clear MAIL FROM: %d\n%s", w.Code, w.Body)
	}
	if body := e.do("GET", "/us-east-1/identities/example.com", nil).Body.String(); strings.Contains(body, "feedback-smtp") {
		t.Errorf("MAIL FROM records after clearing")
	}
	// A bad MAIL FROM domain: the page again with SES's words and the input.
	w = e.do("POST", "/us-east-1/identities/example.com/mail-from", url.Values{"action": {"set"}, "mail_from": {"other.test"}})
	if body := html.UnescapeString(w.Body.String()); w.Code != http.StatusOK || !strings.Contains(body, "BadRequestException") ||
		!strings.Contains(body, `value="other.test"`) {
		t.Errorf("bad MAIL FROM: %d\n%s", w.Code, body)
	}
}

// BYODKIM: the key is the user's, so the page says where its public half
// goes instead of a value.
func TestConsoleIdentityBYODKIM(t *testing.T) {
	e := newIdentitiesEnv(t)
	k, _ := rsa.GenerateKey(rand.Reader, 1024)
	pk := base64.StdEncoding.EncodeToString(x509.MarshalPKCS1PrivateKey(k))
	if _, err := e.view().SESv2().CreateEmailIdentity(context.Background(), &sesv2.CreateEmailIdentityInput{
		EmailIdentity: aws.String("byo.test"), DkimSigningAttributes: &types.DkimSigningAttributes{
			DomainSigningSelector: aws.String("s1"), DomainSigningPrivateKey: aws.String(pk)}}); err != nil {
		t.Fatal(err)
	}
	body := html.UnescapeString(e.do("GET", "/us-east-1/identities/byo.test", nil).Body.String())
	if !strings.Contains(body, "._domainkey.byo.test</code>") || !strings.Contains(body, "<your public key, base64>") ||
		strings.Contains(body, ".dkim.mail.example.net") {
		t.Errorf("BYODKIM page:\n%s", body)
	}
}

func TestConsoleIdentityDeleteAndMissing(t *testing.T) {
	e := newIdentitiesEnv(t)
	if w := e.do("GET", "/us-east-1/identities", nil); !strings.Contains(w.Body.String(), "No identities yet") {
		t.Fatalf("empty list:\n%s", w.Body)
	}
	e.do("POST", "/us-east-1/identities", url.Values{"kind": {"domain"}, "domain": {"gone.test"}})
	if w := e.do("POST", "/us-east-1/identities/gone.test/delete", url.Values{}); w.Code != http.StatusSeeOther ||
		w.Header().Get("Location") != "/us-east-1/identities" {
		t.Fatalf("delete: %d %s", w.Code, w.Header().Get("Location"))
	}
	if w := e.do("GET", "/us-east-1/identities/gone.test", nil); w.Code != http.StatusNotFound || !strings.Contains(w.Body.String(), "NotFoundException") {
		t.Fatalf("deleted identity's page: %d\n%s", w.Code, w.Body)
	}
}
