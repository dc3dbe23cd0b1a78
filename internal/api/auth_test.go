package api

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"encoding/xml"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ses"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"sesame/internal/store"
)

// authEnv is the API frame on loopback with a real store: SigV4 is checked
// end to end, as real clients sign.
type authEnv struct {
	url      string
	st       *store.Store
	key      store.AccessKey
	inactive store.AccessKey // a second key of the account, disabled
}

func newAuthEnv(t *testing.T) *authEnv {
	t.Helper()
	st, err := store.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	ctx := context.Background()
	acct, key, err := st.CreateAccount(ctx)
	if err != nil {
		t.Fatal(err)
	}
	off, err := st.CreateAccessKey(ctx, acct.ID)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.SetAccessKeyActive(ctx, off.ID, false); err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(New(Config{Store: st, Regions: []string{"us-east-1"}}).Handler())
	t.Cleanup(hs.Close)
	return &authEnv{url: hs.URL, st: st, key: key, inactive: off}
}

func (e *authEnv) sdkClients(keyID, secret, region string) (*sesv2.Client, *ses.Client) {
	cfg := aws.Config{Region: region, RetryMaxAttempts: 1, BaseEndpoint: aws.String(e.url),
		Credentials: credentials.NewStaticCredentialsProvider(keyID, secret, "")}
	return sesv2.NewFromConfig(cfg), ses.NewFromConfig(cfg)
}

// apiFailure is the code, message and HTTP status an SDK decoded.
func apiFailure(err error) (code, msg string, status int) {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		code, msg = ae.ErrorCode(), ae.ErrorMessage()
	}
	var re *smithyhttp.ResponseError
	if errors.As(err, &re) {
		status = re.HTTPStatusCode()
	}
	return code, msg, status
}

func TestSigV4WithSDKClients(t *testing.T) {
	t.Parallel()
	e := newAuthEnv(t)
	tests := []struct {
		name, keyID, secret, region string
		code                        string // "" for success
		status                      int
		msg                         string
	}{
		{name: "valid", keyID: e.key.ID, secret: e.key.Secret, region: "us-east-1"},
		{name: "wrong secret", keyID: e.key.ID, secret: e.key.Secret + "x", region: "us-east-1",
			code: "SignatureDoesNotMatch", status: 403, msg: "The request signature we calculated does not match"},
		{name: "unknown key", keyID: "AKIAUNKNOWNUNKNOWN00", secret: e.key.Secret, region: "us-east-1",
			code: "InvalidClientTokenId", status: 403, msg: "The security token included in the request is invalid."},
		{name: "inactive key", keyID: e.inactive.ID, secret: e.inactive.Secret, region: "us-east-1",
			code: "InvalidClientTokenId", status: 403},
		{name: "region not configured", keyID: e.key.ID, secret: e.key.Secret, region: "eu-west-1",
			code: "SignatureDoesNotMatch", status: 403, msg: "eu-west-1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			v2, v1 := e.sdkClients(tc.keyID, tc.secret, tc.region)
			ctx := context.Background()
			_, errV2 := v2.GetAccount(ctx, &sesv2.GetAccountInput{})
			_, errV1 := v1.GetSendQuota(ctx, &ses.GetSendQuotaInput{})
			for proto, err := range map[string]error{"v2 GetAccount": errV2, "v1 GetSendQuota": errV1} {
				if tc.code == "" {
					if err != nil {
						t.Fatalf("%s: %v", proto, err)
					}
					continue
				}
				code, msg, status := apiFailure(err)
				if code != tc.code || status != tc.status || !strings.Contains(msg, tc.msg) {
					t.Errorf("%s: got %s %d %q, want %s %d containing %q (err: %v)", proto, code, status, msg, tc.code, tc.status, tc.msg, err)
				}
			}
		})
	}
}

// An identity in the path is escaped by the client ("a%40b.com") and signed
// escaped once more; the request must pass the signature check, whatever the
// identities group then answers.
func TestSigV4EscapedPathWithSDK(t *testing.T) {
	t.Parallel()
	e := newAuthEnv(t)
	v2, _ := e.sdkClients(e.key.ID, e.key.Secret, "us-east-1")
	for _, id := range []string{"someone+tag@example.com", "example.com", "we ird@exa mple.com"} {
		_, err := v2.GetEmailIdentity(context.Background(), &sesv2.GetEmailIdentityInput{EmailIdentity: aws.String(id)})
		if code, _, status := apiFailure(err); status == 403 || code == "SignatureDoesNotMatch" || code == "IncompleteSignature" {
			t.Errorf("GetEmailIdentity(%q) refused by the signature check: %v", id, err)
		}
	}
}

// Raw HTTP for what SDKs never send: no signature, a stale one, a presigned
// URL; each protocol's error shape checked as sent.
func TestSigV4RawRequests(t *testing.T) {
	t.Parallel()
	e := newAuthEnv(t)
	creds := aws.Credentials{AccessKeyID: e.key.ID, SecretAccessKey: e.key.Secret}
	v1Body := "Action=GetSendQuota&Version=2010-12-01"
	newReq := func(t *testing.T, v1 bool) *http.Request {
		var r *http.Request
		var err error
		if v1 {
			r, err = http.NewRequest("POST", e.url+"/", strings.NewReader(v1Body))
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		} else {
			r, err = http.NewRequest("GET", e.url+"/v2/email/account", nil)
		}
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	// A presigned v1 request names its action in the signed query and
	// has no body (a body would be parameters nobody signed).
	newPresignable := func(t *testing.T, v1 bool) *http.Request {
		if !v1 {
			return newReq(t, v1)
		}
		r, err := http.NewRequest("POST", e.url+"/?"+v1Body, nil)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	bodyHash := func(v1 bool) string {
		b := ""
		if v1 {
			b = v1Body
		}
		sum := sha256.Sum256([]byte(b))
		return hex.EncodeToString(sum[:])
	}
	sign := func(at time.Time) func(t *testing.T, v1 bool) *http.Request {
		return func(t *testing.T, v1 bool) *http.Request {
			r := newReq(t, v1)
			if err := v4.NewSigner().SignHTTP(context.Background(), creds, r, bodyHash(v1), "ses", "us-east-1", at); err != nil {
				t.Fatal(err)
			}
			return r
		}
	}
	tests := []struct {
		name   string
		req    func(t *testing.T, v1 bool) *http.Request
		status int
		code   string
		msg    string
	}{
		{name: "no authentication", req: newReq, status: 403, code: "MissingAuthenticationToken", msg: "Request is missing Authentication Token"},
		{name: "signed 20 minutes ago", req: sign(time.Now().Add(-20 * time.Minute)), status: 400, code: "RequestExpired", msg: "Signature expired: "},
		{name: "signed 20 minutes ahead", req: sign(time.Now().Add(20 * time.Minute)), status: 400, code: "RequestExpired", msg: "Signature not yet current: "},
		{name: "malformed authorization", req: func(t *testing.T, v1 bool) *http.Request {
			r := sign(time.Now())(t, v1)
			r.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential="+e.key.ID+"/x")
			return r
		}, status: 400, code: "IncompleteSignature", msg: "Authorization header requires 'Signature' parameter."},
		{name: "presigned", req: func(t *testing.T, v1 bool) *http.Request {
			r := newPresignable(t, v1)
			u, hdr, err := v4.NewSigner().PresignHTTP(context.Background(), creds, r, "UNSIGNED-PAYLOAD", "ses", "us-east-1", time.Now())
			if err != nil {
				t.Fatal(err)
			}
			p := newPresignable(t, v1)
			if p.URL, err = p.URL.Parse(u); err != nil {
				t.Fatal(err)
			}
			for k, vs := range hdr {
				if !strings.EqualFold(k, "host") && !strings.EqualFold(k, "content-length") {
					p.Header[k] = vs
				}
			}
			return p
		}, status: 200},
	}
	for _, tc := range tests {
		for _, v1 := range []bool{false, true} {
			name := tc.name + map[bool]string{false: " (v2)", true: " (v1)"}[v1]
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				resp, err := http.DefaultClient.Do(tc.req(t, v1))
				if err != nil {
					t.Fatal(err)
				}
				defer resp.Body.Close()
				raw, _ := io.ReadAll(resp.Body)
				if resp.StatusCode != tc.status {
					t.Fatalf("status %d, want %d: %s", resp.StatusCode, tc.status, raw)
				}
				if resp.Header.Get("Date") == "" {
					t.Error("no Date header: SDKs correct clock skew from it")
				}
				if tc.status == 200 {
					return
				}
				var code, msg string
				if v1 {
					var er struct {
						Error struct{ Type, Code, Message string }
					}
					if err := xml.Unmarshal(raw, &er); err != nil {
						t.Fatalf("v1 error body: %v: %s", err, raw)
					}
					if er.Error.Type != "Sender" {
						t.Errorf("v1 error Type %q, want Sender", er.Error.Type)
					}
					code, msg = er.Error.Code, er.Error.Message
				} else {
					var er struct{ Message string }
					if err := json.Unmarshal(raw, &er); err != nil {
						t.Fatalf("v2 error body: %v: %s", err, raw)
					}
					code, msg = resp.Header.Get("x-amzn-ErrorType"), er.Message
				}
				if code != tc.code || !strings.Contains(msg, tc.msg) {
					t.Errorf("got %s %q, want %s containing %q", code, msg, tc.code, tc.msg)
				}
			})
		}
	}
}
