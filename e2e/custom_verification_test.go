package e2e

import (
	"context"
	"encoding/json"
	"html"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	"github.com/aws/aws-sdk-go-v2/service/sesv2/types"

	"sesame/internal/testenv"
)

var customLinkRE = regexp.MustCompile(`href="([^"]+/_sesame/verify-email\?[^"]+)"`)

// TestCustomVerificationEmail drives the real binary as a SES user would:
// the aws CLI creates a custom verification template and sends it, the
// mail is read from /_aws/ses, and its link is followed with an HTTP
// client that shows redirects rather than following them.
func TestCustomVerificationEmail(t *testing.T) {
	testenv.Tool(t, "/usr/bin/aws")
	s := startProduction(t, testenv.Options{})
	s.Verify("brand.example")
	cli := func(args ...string) []byte {
		t.Helper()
		return []byte(s.MustAWSCLI(t, args...))
	}
	cli("sesv2", "create-custom-verification-email-template", "--template-name", "welcome",
		"--from-email-address", "hello@brand.example", "--template-subject", "Confirm your address for Brand",
		"--template-content", "<html><body><h1>Welcome to Brand</h1><p>One last step.</p></body></html>",
		"--success-redirection-url", "https://brand.example/verified", "--failure-redirection-url", "https://brand.example/failed")
	var listed struct {
		CustomVerificationEmailTemplates []struct{ TemplateName, FromEmailAddress string }
	}
	if err := json.Unmarshal(cli("ses", "list-custom-verification-email-templates"), &listed); err != nil {
		t.Fatal(err)
	}
	if len(listed.CustomVerificationEmailTemplates) != 1 || listed.CustomVerificationEmailTemplates[0].FromEmailAddress != "hello@brand.example" {
		t.Fatalf("v1 list: %+v", listed)
	}

	const addr = "customer@example.org"
	var sent struct{ MessageId string }
	if err := json.Unmarshal(cli("sesv2", "send-custom-verification-email", "--email-address", addr, "--template-name", "welcome"), &sent); err != nil {
		t.Fatal(err)
	}
	m := waitID(t, s, sent.MessageId)
	if m.Source != "hello@brand.example" || m.Subject != "Confirm your address for Brand" || m.Body.HTMLPart == nil ||
		!strings.Contains(*m.Body.HTMLPart, "<h1>Welcome to Brand</h1>") {
		t.Fatalf("mail: %+v", m)
	}
	found := customLinkRE.FindStringSubmatch(*m.Body.HTMLPart)
	if found == nil || !strings.HasPrefix(html.UnescapeString(found[1]), s.APIURL()) {
		t.Fatalf("no link to sesame in %q", *m.Body.HTMLPart)
	}
	link := html.UnescapeString(found[1])

	v2 := s.SESv2Client(t)
	status := func() types.VerificationStatus {
		got, err := v2.GetEmailIdentity(context.Background(), &sesv2.GetEmailIdentityInput{EmailIdentity: aws.String(addr)})
		if err != nil {
			t.Fatal(err)
		}
		return got.VerificationStatus
	}
	if st := status(); st != types.VerificationStatusPending {
		t.Fatalf("before the link: %s", st)
	}
	client := &http.Client{Timeout: 10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	redirect := func(u string) string {
		t.Helper()
		resp, err := client.Get(u)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusFound {
			t.Fatalf("GET %s: %d, want 302", u, resp.StatusCode)
		}
		return resp.Header.Get("Location")
	}
	if got := redirect(strings.Replace(link, "token=", "token=bad", 1)); got != "https://brand.example/failed" {
		t.Fatalf("bad link redirects to %q", got)
	}
	if st := status(); st != types.VerificationStatusPending {
		t.Fatalf("after the bad link: %s", st)
	}
	if got := redirect(link); got != "https://brand.example/verified" {
		t.Fatalf("link redirects to %q", got)
	}
	if st := status(); st != types.VerificationStatusSuccess {
		t.Fatalf("after the link: %s", st)
	}

	// A link replaced by a newer mail fails (v1 this time).
	const other = "second@example.org"
	var first string
	for i := range 2 {
		var v1sent struct{ MessageId string }
		if err := json.Unmarshal(cli("ses", "send-custom-verification-email", "--email-address", other, "--template-name", "welcome"), &v1sent); err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			m := waitID(t, s, v1sent.MessageId)
			first = html.UnescapeString(customLinkRE.FindStringSubmatch(*m.Body.HTMLPart)[1])
		}
	}
	if got := redirect(first); got != "https://brand.example/failed" {
		t.Fatalf("replaced link redirects to %q", got)
	}
}
