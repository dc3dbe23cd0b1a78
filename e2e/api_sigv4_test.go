package e2e

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/xml"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ses"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"

	"sesame/internal/testenv"
)

// skewedSigner signs as the SDK does, with a clock off by skew: the SDK's
// own signer takes the signing time, so a real client sends a stale X-Amz-Date.
type skewedSigner struct {
	skew time.Duration
	v4   *v4.Signer
}

func (s skewedSigner) SignHTTP(ctx context.Context, creds aws.Credentials, r *http.Request, payloadHash, service, region string, t time.Time, optFns ...func(*v4.SignerOptions)) error {
	return s.v4.SignHTTP(ctx, creds, r, payloadHash, service, region, t.Add(s.skew), optFns...)
}

// TestAPISigV4 drives the real SDK clients through the server's SigV4 gate:
// a good signature passes in both protocols, every way of getting it wrong
// answers AWS's error code.
func TestAPISigV4(t *testing.T) {
	s := testenv.Start(t, testenv.Options{Regions: []string{"us-east-1", "eu-west-1"}})
	ctx := context.Background()

	badCreds := func(key, secret string) func(*sesv2.Options) {
		return func(o *sesv2.Options) { o.Credentials = credentials.NewStaticCredentialsProvider(key, secret, "") }
	}
	badCredsV1 := func(key, secret string) func(*ses.Options) {
		return func(o *ses.Options) { o.Credentials = credentials.NewStaticCredentialsProvider(key, secret, "") }
	}
	cases := []struct {
		name   string
		v2     []func(*sesv2.Options)
		v1     []func(*ses.Options)
		want   string // "" = success
		wantV1 string
	}{
		{name: "valid signature", want: "", wantV1: ""},
		{name: "second configured region",
			v2: []func(*sesv2.Options){func(o *sesv2.Options) { o.Region = "eu-west-1" }},
			v1: []func(*ses.Options){func(o *ses.Options) { o.Region = "eu-west-1" }}},
		{name: "wrong secret",
			v2: []func(*sesv2.Options){badCreds(s.KeyID, "not-the-secret")}, v1: []func(*ses.Options){badCredsV1(s.KeyID, "not-the-secret")},
			want: "SignatureDoesNotMatch", wantV1: "SignatureDoesNotMatch"},
		{name: "unknown access key",
			v2: []func(*sesv2.Options){badCreds("AKIAUNKNOWNUNKNOWN00", s.Secret)}, v1: []func(*ses.Options){badCredsV1("AKIAUNKNOWNUNKNOWN00", s.Secret)},
			want: "InvalidClientTokenId", wantV1: "InvalidClientTokenId"},
		{name: "region not configured",
			v2:   []func(*sesv2.Options){func(o *sesv2.Options) { o.Region = "ap-south-2" }},
			v1:   []func(*ses.Options){func(o *ses.Options) { o.Region = "ap-south-2" }},
			want: "SignatureDoesNotMatch", wantV1: "SignatureDoesNotMatch"},
		{name: "signed 20 minutes ago",
			v2:   []func(*sesv2.Options){func(o *sesv2.Options) { o.HTTPSignerV4 = skewedSigner{-20 * time.Minute, v4.NewSigner()} }},
			v1:   []func(*ses.Options){func(o *ses.Options) { o.HTTPSignerV4 = skewedSigner{-20 * time.Minute, v4.NewSigner()} }},
			want: "RequestExpired", wantV1: "RequestExpired"},
		{name: "signed 20 minutes ahead",
			v2:   []func(*sesv2.Options){func(o *sesv2.Options) { o.HTTPSignerV4 = skewedSigner{20 * time.Minute, v4.NewSigner()} }},
			v1:   []func(*ses.Options){func(o *ses.Options) { o.HTTPSignerV4 = skewedSigner{20 * time.Minute, v4.NewSigner()} }},
			want: "RequestExpired", wantV1: "RequestExpired"},
	}
	for _, tc := range cases {
		t.Run(tc.name+"/v2 GetAccount", func(t *testing.T) {
			_, err := s.SESv2Client(t, tc.v2...).GetAccount(ctx, &sesv2.GetAccountInput{})
			if tc.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			wantCode(t, err, tc.want)
		})
		t.Run(tc.name+"/v1 GetSendQuota", func(t *testing.T) {
			_, err := s.SESClient(t, tc.v1...).GetSendQuota(ctx, &ses.GetSendQuotaInput{})
			if tc.wantV1 == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			wantCode(t, err, tc.wantV1)
		})
	}

	t.Run("raw requests", func(t *testing.T) { testRawSigV4(t, s) })
}

// testRawSigV4 signs requests by hand (as the SDKs do) and then breaks them
// on the wire: what a proxy or an attacker could change after signing.
func testRawSigV4(t *testing.T, s *testenv.Server) {
	creds := aws.Credentials{AccessKeyID: s.KeyID, SecretAccessKey: s.Secret}
	signer := v4.NewSigner()
	ctx := context.Background()
	v1Body := "Action=GetSendQuota&Version=2010-12-01"
	sign := func(t *testing.T, method, path, body string) *http.Request {
		req, err := http.NewRequest(method, s.APIURL()+path, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		if body != "" {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		sum := sha256.Sum256([]byte(body))
		if err := signer.SignHTTP(ctx, creds, req, hex.EncodeToString(sum[:]), "ses", s.Regions[0], time.Now()); err != nil {
			t.Fatal(err)
		}
		return req
	}
	cases := []struct {
		name       string
		req        func(t *testing.T) *http.Request
		wantStatus int
		wantCode   string
	}{
		{"signed v1 request as sent", func(t *testing.T) *http.Request { return sign(t, "POST", "/", v1Body) }, 200, ""},
		{"body changed after signing", func(t *testing.T) *http.Request {
			req := sign(t, "POST", "/", v1Body)
			tampered := strings.Replace(v1Body, "GetSendQuota", "GetSendQuotb", 1)
			req.Body = io.NopCloser(strings.NewReader(tampered))
			return req
		}, 403, "SignatureDoesNotMatch"},
		{"signed header changed after signing", func(t *testing.T) *http.Request {
			req := sign(t, "POST", "/", v1Body)
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
			return req
		}, 403, "SignatureDoesNotMatch"},
		{"path changed after signing", func(t *testing.T) *http.Request {
			req := sign(t, "GET", "/v2/email/account", "")
			req.URL.Path = "/v2/email/templates"
			return req
		}, 403, "SignatureDoesNotMatch"},
		{"no Authorization at all", func(t *testing.T) *http.Request {
			req, _ := http.NewRequest("GET", s.APIURL()+"/v2/email/account", nil)
			return req
		}, 403, "MissingAuthenticationToken"},
		{"malformed Authorization", func(t *testing.T) *http.Request {
			req := sign(t, "GET", "/v2/email/account", "")
			req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=garbage")
			return req
		}, 400, "IncompleteSignature"},
		{"presigned query form", func(t *testing.T) *http.Request {
			req, _ := http.NewRequest("GET", s.APIURL()+"/v2/email/account", nil)
			url, hdr, err := signer.PresignHTTP(ctx, creds, req, hex.EncodeToString(sha256.New().Sum(nil)), "ses", s.Regions[0], time.Now())
			if err != nil {
				t.Fatal(err)
			}
			pre, _ := http.NewRequest("GET", url, nil)
			for k, v := range hdr {
				if !strings.EqualFold(k, "host") {
					pre.Header[k] = v
				}
			}
			return pre
		}, 200, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			resp, err := http.DefaultClient.Do(tc.req(t))
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tc.wantStatus {
				t.Fatalf("status = %d, want %d\n%s", resp.StatusCode, tc.wantStatus, body)
			}
			if tc.wantCode == "" {
				return
			}
			code := resp.Header.Get("x-amzn-ErrorType")
			if code == "" { // v1: <ErrorResponse><Error><Code>
				var e struct {
					Code string `xml:"Error>Code"`
				}
				_ = xml.Unmarshal(bytes.TrimSpace(body), &e)
				code = e.Code
			}
			if code != tc.wantCode {
				t.Fatalf("error code = %q, want %q\n%s", code, tc.wantCode, body)
			}
		})
	}
}
