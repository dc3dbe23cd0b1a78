package awsauth

import (
	"bufio"
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"sesame/internal/seserr"
)

// The documentation example key pair (also what sdk-requests.txt's Go
// captures were signed with).
const (
	testKeyID   = "AKIAIOSFODNN7EXAMPLE"
	testSecret  = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
	testAccount = "123456789012"
	testRegion  = "us-east-1"
	testHost    = "127.0.0.1:8787"
)

// signedAt is the brief's example signing time.
func signedAt() time.Time { return time.Date(2026, 11, 23, 10, 10, 10, 0, time.UTC) }

func testLookup(_ context.Context, id string) (string, string, error) {
	if id == testKeyID {
		return testSecret, testAccount, nil
	}
	return "", "", ErrUnknownKey
}

// clientRequest is a request as a client builds it, before signing.
type clientRequest struct {
	method, target, body string
	header               http.Header
}

func (c clientRequest) build(t testing.TB, url string) *http.Request {
	t.Helper()
	var body io.Reader
	if c.body != "" {
		body = strings.NewReader(c.body)
	}
	if url == "" {
		url = "http://" + testHost + c.target
	}
	r, err := http.NewRequest(c.method, url, body)
	if err != nil {
		t.Fatal(err)
	}
	for k, vs := range c.header {
		for _, v := range vs {
			r.Header.Add(k, v)
		}
	}
	return r
}

func sha256Hex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// sdkSign signs c as aws-sdk-go-v2 does (header form) and returns it as a
// server receives it.
func sdkSign(t testing.TB, c clientRequest, secret, service, region string, at time.Time) (*http.Request, []byte) {
	t.Helper()
	r := c.build(t, "")
	creds := aws.Credentials{AccessKeyID: testKeyID, SecretAccessKey: secret}
	if err := v4.NewSigner().SignHTTP(context.Background(), creds, r, sha256Hex(c.body), service, region, at); err != nil {
		t.Fatal(err)
	}
	return onWire(t, r)
}

// sdkPresign presigns c with aws-sdk-go-v2 and returns the request a client
// would then send to the presigned URL.
func sdkPresign(t testing.TB, c clientRequest, payloadHash string, at time.Time) (*http.Request, []byte) {
	t.Helper()
	r := c.build(t, "")
	creds := aws.Credentials{AccessKeyID: testKeyID, SecretAccessKey: testSecret}
	u, hdr, err := v4.NewSigner().PresignHTTP(context.Background(), creds, r, payloadHash, Service, testRegion, at)
	if err != nil {
		t.Fatal(err)
	}
	c.header = http.Header{}
	for k, vs := range hdr {
		if !strings.EqualFold(k, "host") && !strings.EqualFold(k, "content-length") {
			c.header[k] = vs
		}
	}
	return onWire(t, c.build(t, u))
}

// onWire writes r as HTTP/1.1 and parses it back as net/http's server does,
// so the verifier sees what it sees in production (RequestURI, Host out of
// the header map, canonicalised names).
func onWire(t testing.TB, r *http.Request) (*http.Request, []byte) {
	t.Helper()
	var buf bytes.Buffer
	if err := r.Write(&buf); err != nil {
		t.Fatal(err)
	}
	return readWire(t, buf.String())
}

func readWire(t testing.TB, raw string) (*http.Request, []byte) {
	t.Helper()
	r, err := http.ReadRequest(bufio.NewReader(strings.NewReader(raw)))
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		t.Fatal(err)
	}
	return r, body
}

func checkOK(t *testing.T, r *http.Request, body []byte, now time.Time) {
	t.Helper()
	p, err := VerifyRequest(context.Background(), r, body, testLookup, now)
	if err != nil {
		t.Fatalf("VerifyRequest: %v (%s)", err, seserr.As(err).Message)
	}
	want := Principal{AccessKeyID: testKeyID, AccountID: testAccount, Region: testRegion, Service: Service}
	if p != want {
		t.Fatalf("principal = %+v, want %+v", p, want)
	}
}

func checkRefused(t *testing.T, err error, code string, status int, msg string) {
	t.Helper()
	var e *seserr.Error
	if !errors.As(err, &e) {
		t.Fatalf("error = %v, want a *seserr.Error %s", err, code)
	}
	if e.APICode != code || e.QueryCode != code || e.HTTPStatus != status {
		t.Fatalf("error = %s/%s %d, want %s %d (%s)", e.APICode, e.QueryCode, e.HTTPStatus, code, status, e.Message)
	}
	if msg != "" && e.Message != msg {
		t.Fatalf("message = %q\nwant      %q", e.Message, msg)
	}
}

func TestVerifySDKSignedRequests(t *testing.T) {
	t.Parallel()
	json := http.Header{"Content-Type": {"application/json"}}
	tests := []struct {
		name string
		req  clientRequest
	}{
		{"GET account", clientRequest{method: "GET", target: "/v2/email/account"}},
		{"GET identity with %40", clientRequest{method: "GET", target: "/v2/email/identities/a%40b.com"}},
		{"GET with query", clientRequest{method: "GET", target: "/v2/email/identities?PageSize=10&NextToken=a%2Bb%2F%3D%3D"}},
		{"GET repeated query keys", clientRequest{method: "GET", target: "/v2/email/suppression/addresses?Reason=COMPLAINT&Reason=BOUNCE&StartDate=2026-11-01T00%3A00%3A00Z"}},
		{"POST v2 JSON", clientRequest{method: "POST", target: "/v2/email/outbound-emails", header: json,
			body: `{"Content":{"Simple":{"Body":{"Text":{"Data":"héllo"}},"Subject":{"Data":"s"}}},"FromEmailAddress":"a@b.com"}`}},
		{"POST v1 Query", clientRequest{method: "POST", target: "/", header: http.Header{"Content-Type": {"application/x-www-form-urlencoded; charset=utf-8"}},
			body: "Action=GetSendQuota&Version=2010-12-01"}},
		{"PUT with %40 and body", clientRequest{method: "PUT", target: "/v2/email/identities/a%40b.com/dkim", header: json, body: `{"SigningEnabled":true}`}},
		{"DELETE template", clientRequest{method: "DELETE", target: "/v2/email/templates/my%20template"}},
		{"DELETE suppressed address", clientRequest{method: "DELETE", target: "/v2/email/suppression/addresses/x+y%40example.com"}},
		{"header spaces and repeats", clientRequest{method: "POST", target: "/v2/email/outbound-emails",
			header: http.Header{"Content-Type": {"application/json"}, "X-Custom": {"  a   b  c ", "second"}}, body: `{}`}},
	}
	var v Verifier // shared by the parallel subtests: the cache under -race
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r, body := sdkSign(t, tc.req, testSecret, Service, testRegion, signedAt())
			for _, skew := range []time.Duration{0, -MaxSkew, MaxSkew, 5 * time.Second} {
				checkOK(t, r, body, signedAt().Add(skew))
			}
			// the same request through a Verifier, twice (the second hits the key cache)
			for range 2 {
				if _, err := v.Verify(context.Background(), r, body, testLookup, signedAt()); err != nil {
					t.Fatalf("Verifier.Verify: %v", err)
				}
			}
		})
	}
}

// Real signers differ in how they separate the Authorization parts.
func TestVerifyAuthorizationSeparators(t *testing.T) {
	t.Parallel()
	r, body := sdkSign(t, clientRequest{method: "GET", target: "/v2/email/account"}, testSecret, Service, testRegion, signedAt())
	orig := r.Header.Get("Authorization")
	for _, sep := range []string{", ", ",", " ", " ,  ", ",\t"} {
		r.Header.Set("Authorization", strings.ReplaceAll(orig, ", ", sep))
		checkOK(t, r, body, signedAt())
	}
	r.Header.Set("Authorization", strings.Replace(orig, "AWS4-HMAC-SHA256 ", "AWS4-HMAC-SHA256\t", 1))
	checkOK(t, r, body, signedAt())
}

func TestVerifyPresigned(t *testing.T) {
	t.Parallel()
	query := "Action=GetSendQuota&Version=2010-12-01"
	tests := []struct {
		name    string
		req     clientRequest
		payload string
	}{
		{"GET unsigned payload", clientRequest{method: "GET", target: "/v2/email/account"}, unsignedPayload},
		{"GET with %40 and query", clientRequest{method: "GET", target: "/v2/email/identities/a%40b.com?x=1%202"}, unsignedPayload},
		{"GET with X-Amz-Expires", clientRequest{method: "GET", target: "/v2/email/account?X-Amz-Expires=300"}, unsignedPayload},
		{"POST unsigned payload", clientRequest{method: "POST", target: "/?" + query}, unsignedPayload},
		{"POST empty body hash", clientRequest{method: "POST", target: "/?" + query}, sha256Hex("")},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r, b := sdkPresign(t, tc.req, tc.payload, signedAt())
			if r.Header.Get("Authorization") != "" || r.URL.Query().Get("X-Amz-Signature") == "" {
				t.Fatalf("not a presigned request: %s %v", r.RequestURI, r.Header)
			}
			checkOK(t, r, b, signedAt().Add(time.Minute))
		})
	}
}

func TestVerifyRefusals(t *testing.T) {
	t.Parallel()
	post := clientRequest{method: "POST", target: "/v2/email/outbound-emails",
		header: http.Header{"Content-Type": {"application/json"}}, body: `{"FromEmailAddress":"a@b.com"}`}
	signed := func(t *testing.T) (*http.Request, []byte) {
		return sdkSign(t, post, testSecret, Service, testRegion, signedAt())
	}
	withAuth := func(t *testing.T, from, to string) (*http.Request, []byte) {
		r, b := signed(t)
		r.Header.Set("Authorization", strings.Replace(r.Header.Get("Authorization"), from, to, 1))
		return r, b
	}
	mismatch := seserr.MessageSignatureMismatch
	tests := []struct {
		name   string
		req    func(t *testing.T) (*http.Request, []byte)
		now    time.Time
		lookup KeyLookup
		code   string
		status int
		msg    string
	}{
		{name: "tampered body", req: func(t *testing.T) (*http.Request, []byte) {
			r, b := signed(t)
			return r, bytes.Replace(b, []byte("a@b.com"), []byte("x@b.com"), 1)
		}, code: "SignatureDoesNotMatch", status: 403, msg: mismatch},
		{name: "tampered header", req: func(t *testing.T) (*http.Request, []byte) {
			r, b := signed(t)
			r.Header.Set("Content-Type", "text/plain")
			return r, b
		}, code: "SignatureDoesNotMatch", status: 403, msg: mismatch},
		{name: "tampered host", req: func(t *testing.T) (*http.Request, []byte) {
			r, b := signed(t)
			r.Host = "127.0.0.1:8788"
			return r, b
		}, code: "SignatureDoesNotMatch", status: 403},
		{name: "tampered path", req: func(t *testing.T) (*http.Request, []byte) {
			r, b := signed(t)
			r.RequestURI = "/v2/email/outbound-emailz"
			return r, b
		}, code: "SignatureDoesNotMatch", status: 403},
		{name: "tampered signature", req: func(t *testing.T) (*http.Request, []byte) {
			return withAuth(t, "Signature=", "Signature=0")
		}, code: "SignatureDoesNotMatch", status: 403},
		{name: "wrong secret", req: func(t *testing.T) (*http.Request, []byte) {
			return sdkSign(t, post, "not-the-secret", Service, testRegion, signedAt())
		}, code: "SignatureDoesNotMatch", status: 403, msg: mismatch},
		{name: "unknown key", req: signed, lookup: func(context.Context, string) (string, string, error) {
			return "", "", ErrUnknownKey
		}, code: "InvalidClientTokenId", status: 403, msg: "The security token included in the request is invalid."},
		{name: "lookup failure", req: signed, lookup: func(context.Context, string) (string, string, error) {
			return "", "", errors.New("disk on fire")
		}, code: "InternalFailure", status: 500},
		{name: "expired", req: signed, now: signedAt().Add(50 * time.Minute), code: "RequestExpired", status: 400,
			msg: "Signature expired: 20261123T101010Z is now earlier than 20261123T105510Z (20261123T110010Z - 5 min.)"},
		{name: "just expired", req: signed, now: signedAt().Add(MaxSkew + time.Second), code: "RequestExpired", status: 400},
		{name: "from the future", req: signed, now: signedAt().Add(-50 * time.Minute), code: "RequestExpired", status: 400,
			msg: "Signature not yet current: 20261123T101010Z is still later than 20261123T092510Z (20261123T092010Z + 5 min.)"},
		{name: "wrong scope date", req: func(t *testing.T) (*http.Request, []byte) {
			return withAuth(t, "/20261123/", "/20261122/")
		}, code: "SignatureDoesNotMatch", status: 403,
			msg: "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '20261122' != '20261123', from '20261123T101010Z'."},
		{name: "wrong service", req: func(t *testing.T) (*http.Request, []byte) {
			return sdkSign(t, post, testSecret, "email", testRegion, signedAt())
		}, code: "SignatureDoesNotMatch", status: 403, msg: "Credential should be scoped to correct service: 'ses'. "},
		{name: "wrong terminator", req: func(t *testing.T) (*http.Request, []byte) {
			return withAuth(t, "/aws4_request", "/aws4_requesx")
		}, code: "SignatureDoesNotMatch", status: 403,
			msg: "Credential should be scoped with a valid terminator: 'aws4_request', not 'aws4_requesx'. "},
		{name: "missing SignedHeaders", req: func(t *testing.T) (*http.Request, []byte) {
			r, b := signed(t)
			a := r.Header.Get("Authorization")
			i, j := strings.Index(a, "SignedHeaders="), strings.Index(a, "Signature=")
			r.Header.Set("Authorization", a[:i]+a[j:])
			return r, b
		}, code: "IncompleteSignature", status: 400},
		{name: "missing Credential and Signature", req: func(t *testing.T) (*http.Request, []byte) {
			r, b := signed(t)
			r.Header.Set("Authorization", "AWS4-HMAC-SHA256 SignedHeaders=host")
			return r, b
		}, code: "IncompleteSignature", status: 400,
			msg: "Authorization header requires 'Credential' parameter. Authorization header requires 'Signature' parameter. " +
				"Authorization=AWS4-HMAC-SHA256 SignedHeaders=host"},
		{name: "not SigV4", req: func(t *testing.T) (*http.Request, []byte) {
			r, b := signed(t)
			r.Header.Set("Authorization", "Bearer abc")
			return r, b
		}, code: "IncompleteSignature", status: 400},
		{name: "parts without the algorithm", req: func(t *testing.T) (*http.Request, []byte) {
			return withAuth(t, "AWS4-HMAC-SHA256 ", "")
		}, code: "IncompleteSignature", status: 400},
		{name: "SigV2", req: func(t *testing.T) (*http.Request, []byte) {
			r, b := signed(t)
			r.Header.Set("Authorization", "AWS "+testKeyID+":frJIUN8DYpKDtOLCwo//yllqDzg=")
			return r, b
		}, code: "IncompleteSignature", status: 400,
			msg: "Authorization header requires 'Credential' parameter. Authorization header requires 'Signature' parameter. " +
				"Authorization header requires 'SignedHeaders' parameter. Authorization=AWS " + testKeyID + ":frJIUN8DYpKDtOLCwo//yllqDzg="},
		{name: "other algorithm", req: func(t *testing.T) (*http.Request, []byte) {
			return withAuth(t, "AWS4-HMAC-SHA256", "AWS4-ECDSA-P256-SHA256")
		}, code: "IncompleteSignature", status: 400, msg: "Unsupported AWS 'algorithm': 'AWS4-ECDSA-P256-SHA256'"},
		{name: "credential with 4 parts", req: func(t *testing.T) (*http.Request, []byte) {
			return withAuth(t, "/ses/aws4_request", "/ses")
		}, code: "IncompleteSignature", status: 400,
			msg: "Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, got 'AKIAIOSFODNN7EXAMPLE/20261123/us-east-1/ses'"},
		{name: "host not signed", req: func(t *testing.T) (*http.Request, []byte) {
			return withAuth(t, ";host;", ";")
		}, code: "IncompleteSignature", status: 400},
		{name: "no date", req: func(t *testing.T) (*http.Request, []byte) {
			r, b := signed(t)
			r.Header.Del("X-Amz-Date")
			return r, b
		}, code: "IncompleteSignature", status: 400},
		{name: "bad date", req: func(t *testing.T) (*http.Request, []byte) {
			r, b := signed(t)
			r.Header.Set("X-Amz-Date", "2026-11-23T10:10:10Z")
			return r, b
		}, code: "IncompleteSignature", status: 400,
			msg: "Date must be in ISO-8601 'basic format'. Got '2026-11-23T10:10:10Z'. See http://en.wikipedia.org/wiki/ISO_8601"},
		{name: "missing auth", req: func(t *testing.T) (*http.Request, []byte) {
			return onWire(t, post.build(t, ""))
		}, code: "MissingAuthenticationToken", status: 403, msg: "Request is missing Authentication Token"},
		{name: "declared payload hash of another body", req: func(t *testing.T) (*http.Request, []byte) {
			c := post
			c.header = http.Header{"Content-Type": {"application/json"}, "X-Amz-Content-Sha256": {sha256Hex(c.body)}}
			r, b := sdkSign(t, c, testSecret, Service, testRegion, signedAt())
			return r, append(b, ' ')
		}, code: "SignatureDoesNotMatch", status: 403},
		{name: "presigned past X-Amz-Expires", req: func(t *testing.T) (*http.Request, []byte) {
			return sdkPresign(t, clientRequest{method: "GET", target: "/v2/email/account?X-Amz-Expires=60"}, unsignedPayload, signedAt())
		}, now: signedAt().Add(61 * time.Second), code: "RequestExpired", status: 400,
			msg: "Signature expired: 20261123T101010Z is now earlier than 20261123T101011Z (20261123T101111Z - 60 sec.)"},
		{name: "presigned tampered query", req: func(t *testing.T) (*http.Request, []byte) {
			r, b := sdkPresign(t, clientRequest{method: "GET", target: "/v2/email/identities?PageSize=1"}, unsignedPayload, signedAt())
			r.URL.RawQuery = strings.Replace(r.URL.RawQuery, "PageSize=1", "PageSize=2", 1)
			r.RequestURI = r.URL.RequestURI()
			return r, b
		}, code: "SignatureDoesNotMatch", status: 403},
		{name: "presigned missing signature", req: func(t *testing.T) (*http.Request, []byte) {
			r, b := sdkPresign(t, clientRequest{method: "GET", target: "/v2/email/account"}, unsignedPayload, signedAt())
			q := r.URL.Query()
			q.Del("X-Amz-Signature")
			r.URL.RawQuery = q.Encode()
			return r, b
		}, code: "IncompleteSignature", status: 400,
			msg: "AWS query-string parameters must include 'X-Amz-Signature'. Re-examine the query-string parameters."},
		// Issue 9, defect 2: nothing a signature does not cover is accepted.
		{name: "UNSIGNED-PAYLOAD", req: func(t *testing.T) (*http.Request, []byte) {
			c := post
			c.header = http.Header{"Content-Type": {"application/json"}, "X-Amz-Content-Sha256": {unsignedPayload}}
			r := c.build(t, "")
			creds := aws.Credentials{AccessKeyID: testKeyID, SecretAccessKey: testSecret}
			if err := v4.NewSigner().SignHTTP(context.Background(), creds, r, unsignedPayload, Service, testRegion, signedAt()); err != nil {
				t.Fatal(err)
			}
			return onWire(t, r)
		}, code: "SignatureDoesNotMatch", status: 403, msg: seserr.UnsignedPayload().Message},
		{name: "presigned with a body", req: func(t *testing.T) (*http.Request, []byte) {
			form := http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}
			return sdkPresign(t, clientRequest{method: "POST", target: "/?Action=GetSendQuota", header: form,
				body: "Action=SendEmail&Source=a%40b.com"}, unsignedPayload, signedAt())
		}, code: "IncompleteSignature", status: 400, msg: seserr.PresignedWithBody().Message},
		{name: "presigned with a body whose hash it signed", req: func(t *testing.T) (*http.Request, []byte) {
			form := http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}
			body := "Action=GetSendQuota"
			return sdkPresign(t, clientRequest{method: "POST", target: "/", header: form, body: body}, sha256Hex(body), signedAt())
		}, code: "IncompleteSignature", status: 400, msg: seserr.PresignedWithBody().Message},
		{name: "presigned week-long expiry", req: func(t *testing.T) (*http.Request, []byte) {
			return sdkPresign(t, clientRequest{method: "GET", target: "/v2/email/account?X-Amz-Expires=604801"}, unsignedPayload, signedAt())
		}, code: "IncompleteSignature", status: 400},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r, body := tc.req(t)
			now, lookup := tc.now, tc.lookup
			if now.IsZero() {
				now = signedAt()
			}
			if lookup == nil {
				lookup = testLookup
			}
			_, err := VerifyRequest(context.Background(), r, body, lookup, now)
			checkRefused(t, err, tc.code, tc.status, tc.msg)
		})
	}
}

// refSign is an independent, string-built SigV4 signer for what no SDK
// produces: a Date header instead of X-Amz-Date, paths with dot segments.
func refSign(r *http.Request, body []byte, uri, amzDate string, signed []string) string {
	var hdrs strings.Builder
	for _, h := range signed {
		v := r.Header.Get(h)
		if h == "host" {
			v = r.Host
		}
		hdrs.WriteString(h + ":" + strings.Join(strings.Fields(v), " ") + "\n")
	}
	canonical := strings.Join([]string{r.Method, uri, "", hdrs.String(), strings.Join(signed, ";"), sha256Hex(string(body))}, "\n")
	scope := amzDate[:8] + "/" + testRegion + "/ses/aws4_request"
	sts := "AWS4-HMAC-SHA256\n" + amzDate + "\n" + scope + "\n" + sha256Hex(canonical)
	mac := func(k []byte, m string) []byte { h := hmac.New(sha256.New, k); h.Write([]byte(m)); return h.Sum(nil) }
	k := mac([]byte("AWS4"+testSecret), amzDate[:8])
	for _, p := range []string{testRegion, "ses", "aws4_request"} {
		k = mac(k, p)
	}
	return "AWS4-HMAC-SHA256 Credential=" + testKeyID + "/" + scope + ", SignedHeaders=" + strings.Join(signed, ";") +
		", Signature=" + hex.EncodeToString(mac(k, sts))
}

func TestVerifyDateHeaderAndPaths(t *testing.T) {
	t.Parallel()
	iso := signedAt().Format(amzDateFormat)
	tests := []struct {
		name, target, signedURI, dateHeader string
	}{
		{"Date header, ISO basic", "/v2/email/account", "/v2/email/account", iso},
		{"Date header, HTTP date", "/v2/email/account", "/v2/email/account", signedAt().Format(http.TimeFormat)},
		{"dot segments normalised (botocore, JS)", "/v2/email/./identities/x/../a%40b.com", "/v2/email/identities/a%2540b.com", iso},
		{"dot segments as sent (aws-sdk-go-v2)", "/v2/email/./identities/a%40b.com", "/v2/email/./identities/a%2540b.com", iso},
		{"double slash collapsed", "/v2//email/account/", "/v2/email/account/", iso},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r, body := readWire(t, "GET "+tc.target+" HTTP/1.1\r\nHost: "+testHost+"\r\nDate: "+tc.dateHeader+"\r\n\r\n")
			r.Header.Set("Authorization", refSign(r, body, tc.signedURI, iso, []string{"date", "host"}))
			checkOK(t, r, body, signedAt())
		})
	}
}

func TestNormalizePath(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"":                 "/",
		"/":                "/",
		"/v2/email/a%40b":  "/v2/email/a%40b",
		"/a/./b/../c":      "/a/c",
		"//a//b/":          "/a/b/",
		"/..":              "/",
		"/a/b/..":          "/a",
		"/.well-known/x":   "/.well-known/x",
		"/a/%2E%2E/b":      "/a/%2E%2E/b",
		"/a/b/../../../..": "/",
	} {
		if got := normalizePath(in); got != want {
			t.Errorf("normalizePath(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestMACMatchesCryptoHMAC(t *testing.T) {
	t.Parallel()
	for _, key := range []string{"", "k", strings.Repeat("x", 64), strings.Repeat("y", 65), "AWS4" + testSecret} {
		for _, msg := range []string{"", "20261123", strings.Repeat("m", 300)} {
			h := hmac.New(sha256.New, []byte(key))
			h.Write([]byte(msg))
			got := macSHA256([]byte(key), msg)
			if !hmac.Equal(got[:], h.Sum(nil)) {
				t.Errorf("macSHA256(len %d, len %d) differs from crypto/hmac", len(key), len(msg))
			}
		}
	}
}

func FuzzVerifyAuthorization(f *testing.F) {
	f.Add("AWS4-HMAC-SHA256 Credential=AKID/20261123/us-east-1/ses/aws4_request, SignedHeaders=host;x-amz-date, Signature=00", "20261123T101010Z")
	f.Add("AWS4-HMAC-SHA256 Credential=//// Signature= SignedHeaders=;;", "")
	f.Add("AWS4-HMAC-SHA256", "Mon, 23 Nov 2026 10:10:10 GMT")
	f.Fuzz(func(t *testing.T, auth, date string) {
		r, _ := http.NewRequest("GET", "http://"+testHost+"/v2/email/account?a=%zz&b", nil)
		r.Header.Set("Authorization", auth)
		r.Header.Set("X-Amz-Date", date)
		_, err := VerifyRequest(context.Background(), r, nil, testLookup, signedAt())
		if err == nil {
			t.Fatalf("verified a fuzzed signature: %q", auth)
		}
		var e *seserr.Error
		if !errors.As(err, &e) {
			t.Fatalf("error %v is not a *seserr.Error", err)
		}
	})
}

func BenchmarkVerifyRequest(b *testing.B) {
	body := `{"Content":{"Simple":{"Body":{"Html":{"Data":"<p>Hi there</p>"},"Text":{"Data":"Hi there"}},"Subject":{"Charset":"UTF-8","Data":"Hello"}}},` +
		`"Destination":{"ToAddresses":["to@example.com"]},"FromEmailAddress":"sender@example.com"}`
	c := clientRequest{method: "POST", target: "/v2/email/outbound-emails", body: body, header: http.Header{
		"Content-Type": {"application/json"}, "Amz-Sdk-Invocation-Id": {"60adab5a-528a-460f-8d80-43ec4e6fe84b"},
		"Amz-Sdk-Request": {"attempt=1; max=3"}}}
	r, raw := sdkSign(b, c, testSecret, Service, testRegion, signedAt())
	ctx := context.Background()
	b.Run("cached key", func(b *testing.B) {
		var v Verifier
		b.ReportAllocs()
		for b.Loop() {
			if _, err := v.Verify(ctx, r, raw, testLookup, signedAt()); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("derived key", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := VerifyRequest(ctx, r, raw, testLookup, signedAt()); err != nil {
				b.Fatal(err)
			}
		}
	})
}
