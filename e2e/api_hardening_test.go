package e2e

import (
	"bufio"
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ses"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	"github.com/aws/aws-sdk-go-v2/service/sesv2/types"

	"sesame/internal/testenv"
)

// Issue 9 on the real binary: the API listener over HTTPS, /_aws/ses by
// mode and on its own listener, SigV4's 5-minute window, and a huge
// unsigned body refused before it is read.

// TestAPIHardeningTLS: with [api] cert_file and key_file the API answers
// HTTPS only, TLS 1.2 and up, and the SDK works through it trusting the
// certificate by a CA pool of its own.
func TestAPIHardeningTLS(t *testing.T) {
	cert := testenv.NewAPITLS(t)
	s := testenv.Start(t, testenv.Options{APIExtra: cert.Config()})
	cfg := aws.Config{Region: s.Regions[0], RetryMaxAttempts: 1, BaseEndpoint: aws.String("https://" + s.API),
		HTTPClient: cert.Client(), Credentials: credentials.NewStaticCredentialsProvider(s.KeyID, s.Secret, "")}
	ctx := context.Background()
	v2 := sesv2.NewFromConfig(cfg)
	if _, err := v2.GetAccount(ctx, &sesv2.GetAccountInput{}); err != nil {
		t.Fatalf("GetAccount over HTTPS: %v", err)
	}
	s.Verify("sender@example.com")
	out, err := v2.SendEmail(ctx, &sesv2.SendEmailInput{
		FromEmailAddress: aws.String("sender@example.com"),
		Destination:      &types.Destination{ToAddresses: []string{"success@simulator.amazonses.com"}},
		Content: &types.EmailContent{Simple: &types.Message{Subject: &types.Content{Data: aws.String("over TLS")},
			Body: &types.Body{Text: &types.Content{Data: aws.String("hello")}}}},
	})
	if err != nil || aws.ToString(out.MessageId) == "" {
		t.Fatalf("SendEmail over HTTPS: %v", err)
	}
	if _, err := ses.NewFromConfig(cfg).GetSendQuota(ctx, &ses.GetSendQuotaInput{}); err != nil {
		t.Fatalf("v1 GetSendQuota over HTTPS: %v", err)
	}

	// Below TLS 1.2 there is no handshake.
	c, err := tls.Dial("tcp", s.API, &tls.Config{RootCAs: cert.Pool, MaxVersion: tls.VersionTLS11})
	if err == nil {
		c.Close()
		t.Fatal("a TLS 1.1 handshake succeeded")
	}
	// Plain HTTP gets no API answer.
	resp, err := http.Get("http://" + s.API + "/_sesame/health")
	if err == nil {
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK {
			t.Fatal("plain HTTP was served on the HTTPS listener")
		}
	}
	// A client that does not trust the certificate is refused.
	if _, err := http.Get("https://" + s.API + "/_sesame/health"); err == nil {
		t.Fatal("an untrusted self-signed certificate was accepted: the test's pool proves nothing")
	}
}

// getStatus is the status of GET url (0 when nothing answers).
func getStatus(t *testing.T, url string) int {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		return 0
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

// TestAPIHardeningCapturedMailMX: in mx mode /_aws/ses is off unless the
// operator turns it on.
func TestAPIHardeningCapturedMailMX(t *testing.T) {
	d := testenv.StartDNS(t)
	mx := func(extra string) testenv.Options {
		return testenv.Options{APIExtra: extra, Extra: fmt.Sprintf("[delivery]\nmode = \"mx\"\nresolver = %q\n", d.Addr)}
	}
	s := testenv.Start(t, mx(""))
	for _, method := range []string{"GET", "DELETE"} {
		req, _ := http.NewRequest(method, "http://"+s.API+"/_aws/ses", nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusNotFound {
			t.Errorf("mx mode, %s /_aws/ses: %s, want 404", method, resp.Status)
		}
	}
	on := testenv.Start(t, mx(`captured_mail = "on"`))
	if got := getStatus(t, "http://"+on.API+"/_aws/ses"); got != http.StatusOK {
		t.Errorf("mx mode with captured_mail = \"on\": GET /_aws/ses %d, want 200", got)
	}
}

// TestAPIHardeningCapturedMailListener: with captured_mail_listen,
// /_aws/ses is served there and no longer on the API listener.
func TestAPIHardeningCapturedMailListener(t *testing.T) {
	own := testenv.FreeAddr(t)
	s := testenv.Start(t, testenv.Options{APIExtra: fmt.Sprintf("captured_mail_listen = %q", own)})
	s.Verify("sender@example.com")
	smtpSendTo(t, s, "sender@example.com", "captured elsewhere", "success@simulator.amazonses.com")
	if got := getStatus(t, "http://"+s.API+"/_aws/ses"); got != http.StatusNotFound {
		t.Errorf("GET /_aws/ses on the API listener: %d, want 404", got)
	}
	waitFor(t, "the message on the captured-mail listener", func() bool {
		resp, err := http.Get("http://" + own + "/_aws/ses")
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode == 200 && strings.Contains(string(b), "captured elsewhere")
	})
}

// TestAPIHardeningSkew: SigV4's 5 minutes, not SES's observed 15.
func TestAPIHardeningSkew(t *testing.T) {
	s := testenv.Start(t, testenv.Options{})
	ctx := context.Background()
	for _, tc := range []struct {
		skew time.Duration
		want string
	}{{-4 * time.Minute, ""}, {4 * time.Minute, ""}, {-6 * time.Minute, "RequestExpired"}, {6 * time.Minute, "RequestExpired"}} {
		t.Run(tc.skew.String(), func(t *testing.T) {
			signer := skewedSigner{tc.skew, v4.NewSigner()}
			_, err := s.SESv2Client(t, func(o *sesv2.Options) { o.HTTPSignerV4 = signer }).GetAccount(ctx, &sesv2.GetAccountInput{})
			_, errV1 := s.SESClient(t, func(o *ses.Options) { o.HTTPSignerV4 = signer }).GetSendQuota(ctx, &ses.GetSendQuotaInput{})
			if tc.want == "" {
				if err != nil || errV1 != nil {
					t.Fatalf("clock %v off: v2 %v, v1 %v", tc.skew, err, errV1)
				}
				return
			}
			wantCode(t, err, tc.want)
			wantCode(t, errV1, tc.want)
		})
	}
}

// TestAPIHardeningUnsignedBody: an unsigned POST announcing 60 MB is
// answered after a sliver of it, and the connection closed.
func TestAPIHardeningUnsignedBody(t *testing.T) {
	s := testenv.Start(t, testenv.Options{})
	for _, target := range []string{"/", "/v2/email/outbound-emails"} {
		c, err := net.Dial("tcp", s.API)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		fmt.Fprintf(c, "POST %s HTTP/1.1\r\nHost: %s\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: %d\r\n\r\n",
			target, s.API, 60<<20)
		io.WriteString(c, "Action=SendRawEmail&RawMessage.Data="+strings.Repeat("QUFB", 8<<10))
		c.SetReadDeadline(time.Now().Add(15 * time.Second))
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			t.Fatalf("POST %s: no answer after 32 KB of 60 MB: %v", target, err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusForbidden || !resp.Close {
			t.Errorf("POST %s: %s (close %v), want 403 and the connection closed", target, resp.Status, resp.Close)
		}
	}
}
