package e2e

import (
	"errors"
	"html"
	"io"
	"mime/quotedprintable"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/smithy-go"

	"sesame/internal/testenv"
)

// apiCode is the AWS error code a real SDK client decoded from the server's
// answer ("" when err is nil or not an API error).
func apiCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

// wantCode fails the test unless err carries the AWS error code want.
func wantCode(t *testing.T, err error, want string) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error, want %s", want)
	}
	if got := apiCode(err); got != want {
		t.Fatalf("error code = %q, want %q (err: %v)", got, want, err)
	}
}

// startProduction starts sesame with the first account out of the sandbox,
// so a test's burst of sends is not throttled to SES's sandbox 1 message/s.
func startProduction(t *testing.T, opt testenv.Options) *testenv.Server {
	t.Helper()
	s := testenv.Start(t, opt)
	s.Production()
	return s
}

// waitSubject polls /_aws/ses until a message with this subject is captured.
func waitSubject(t *testing.T, s *testenv.Server, subject string) testenv.CapturedMessage {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		for _, m := range s.Captured("") {
			if m.Subject == subject {
				return m
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no message with subject %q captured", subject)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// verificationLinkRE finds the link sesame mails out for an email identity.
var verificationLinkRE = regexp.MustCompile(`https?://[^\s"'<>]+`)

// followVerificationLink finds the verification mail sent to addr in
// /_aws/ses and follows its link, as the address's owner would.
func followVerificationLink(t *testing.T, s *testenv.Server, addr string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		for _, m := range s.Captured("email=" + addr) {
			// The decoded parts first: the raw message may be quoted-printable.
			var text string
			if m.Body.TextPart != nil {
				text += *m.Body.TextPart + "\n"
			}
			if m.Body.HTMLPart != nil {
				text += *m.Body.HTMLPart + "\n"
			}
			for _, link := range verificationLinkRE.FindAllString(text+m.RawData, -1) {
				link = html.UnescapeString(link)
				if strings.HasPrefix(link, s.APIURL()) {
					getOK(t, link)
					return
				}
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no verification link for %s in /_aws/ses", addr)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// getOK fetches url and fails the test unless it answers 200.
func getOK(t *testing.T, url string) []byte {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s\n%s", url, resp.Status, b)
	}
	return b
}

// decodeQP undoes quoted-printable over a whole rendered message, so a test
// can look for body text whatever transfer encoding the renderer chose.
func decodeQP(s string) string {
	b, err := io.ReadAll(quotedprintable.NewReader(strings.NewReader(s)))
	if err != nil && len(b) == 0 {
		return s
	}
	return string(b)
}
