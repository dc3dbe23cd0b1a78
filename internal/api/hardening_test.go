package api

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"net"
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
	v2types "github.com/aws/aws-sdk-go-v2/service/sesv2/types"

	"sesame/internal/store"
	"sesame/internal/waitfor"
)

// Issue 9: what an API request may cost before it proves who sent it, and
// what a signature must cover.

// hardEnv is a Server served on loopback through Serve (so the connection
// cap applies), with one account.
type hardEnv struct {
	s    *Server
	addr string
	key  store.AccessKey
}

func newHardEnv(t *testing.T, adjust func(*Config)) *hardEnv {
	t.Helper()
	st, err := store.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	_, key, err := st.CreateAccount(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	cfg := Config{Store: st, Regions: []string{"us-east-1"}, ReadTimeout: 30 * time.Second}
	if adjust != nil {
		adjust(&cfg)
	}
	s := New(cfg)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go s.Serve(l)
	t.Cleanup(func() { s.Shutdown(context.Background()) })
	return &hardEnv{s: s, addr: l.Addr().String(), key: key}
}

func (e *hardEnv) clients() (*sesv2.Client, *ses.Client) {
	cfg := aws.Config{Region: "us-east-1", RetryMaxAttempts: 1, BaseEndpoint: aws.String("http://" + e.addr),
		Credentials: credentials.NewStaticCredentialsProvider(e.key.ID, e.key.Secret, "")}
	return sesv2.NewFromConfig(cfg), ses.NewFromConfig(cfg)
}

// rawRequest is a request written by hand: its headers, then only part of
// the body it announces, so a test sees whether the server answers before
// reading the rest.
type rawRequest struct {
	method, target string
	header         http.Header
	length         int64 // Content-Length announced
}

// signed returns the request signed with key for payloadHash (the hash of
// a body the test may never send: Check does not look at it).
func (e *hardEnv) signed(t *testing.T, method, target, contentType string, length int64, payloadHash string) rawRequest {
	t.Helper()
	r, err := http.NewRequest(method, "http://"+e.addr+target, nil)
	if err != nil {
		t.Fatal(err)
	}
	r.Header.Set("Content-Type", contentType)
	creds := aws.Credentials{AccessKeyID: e.key.ID, SecretAccessKey: e.key.Secret}
	if err := v4.NewSigner().SignHTTP(context.Background(), creds, r, payloadHash, "ses", "us-east-1", time.Now()); err != nil {
		t.Fatal(err)
	}
	return rawRequest{method: method, target: target, header: r.Header, length: length}
}

// send writes the request's headers and the first part of its body, and
// returns the server's answer, which must come without the rest.
func (e *hardEnv) send(t *testing.T, rr rawRequest, part string) (*http.Response, []byte) {
	t.Helper()
	c, err := net.Dial("tcp", e.addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s HTTP/1.1\r\nHost: %s\r\nContent-Length: %d\r\n", rr.method, rr.target, e.addr, rr.length)
	for k, vs := range rr.header {
		for _, v := range vs {
			fmt.Fprintf(&b, "%s: %s\r\n", k, v)
		}
	}
	b.WriteString("\r\n")
	b.WriteString(part)
	if _, err := io.WriteString(c, b.String()); err != nil {
		t.Fatal(err)
	}
	// Generous for a loaded machine, and far below the read timeout (30 s)
	// a server waiting for the whole body would need.
	c.SetReadDeadline(time.Now().Add(15 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatalf("no answer while the body is %d of %d bytes: %v", len(part), rr.length, err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp, body
}

// errorCode reads the code of a v2 (x-amzn-ErrorType) or Query (XML) error.
func errorCode(resp *http.Response, body []byte) (code, msg string) {
	if c := resp.Header.Get("x-amzn-ErrorType"); c != "" {
		var m struct{ Message string }
		_ = json.Unmarshal(body, &m)
		return c, m.Message
	}
	var er struct {
		Error struct{ Code, Message string }
	}
	_ = xml.Unmarshal(body, &er)
	return er.Error.Code, er.Error.Message
}

// A body is read only after everything but the signature has passed, and
// at most up to its operation's limit: each request announces a large body,
// sends a sliver, and is answered at once.
func TestAPIRefusesBeforeReadingTheBody(t *testing.T) {
	t.Parallel()
	e := newHardEnv(t, nil)
	const huge = 60 << 20
	sliver := strings.Repeat("x", 32<<10)
	emptyHash := "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
	unsigned := func(method, target, ctype string) rawRequest {
		return rawRequest{method: method, target: target, header: http.Header{"Content-Type": {ctype}}, length: huge}
	}
	otherKey := e.signed(t, "POST", "/v2/email/outbound-emails", "application/json", huge, emptyHash)
	otherKey.header.Set("Authorization", strings.Replace(otherKey.header.Get("Authorization"), e.key.ID, "AKIANOTAKEY000000000", 1))
	badRegion := e.signed(t, "POST", "/v2/email/outbound-emails", "application/json", huge, emptyHash)
	badRegion.header.Set("Authorization", strings.Replace(badRegion.header.Get("Authorization"), "/us-east-1/", "/xx-east-9/", 1))
	stale := e.signed(t, "POST", "/v2/email/outbound-emails", "application/json", huge, emptyHash)
	stale.header.Set("X-Amz-Date", time.Now().Add(-time.Hour).UTC().Format("20060102T150405Z"))
	unsignedPayload := e.signed(t, "POST", "/v2/email/outbound-emails", "application/json", huge, "UNSIGNED-PAYLOAD")
	unsignedPayload.header.Set("X-Amz-Content-Sha256", "UNSIGNED-PAYLOAD")
	form := "application/x-www-form-urlencoded"
	tests := []struct {
		name   string
		req    rawRequest
		part   string
		status int
		code   string
	}{
		{"unsigned v2", unsigned("POST", "/v2/email/outbound-emails", "application/json"), sliver, 403, "MissingAuthenticationToken"},
		{"unsigned v1", unsigned("POST", "/", form), "Action=SendRawEmail&" + sliver, 403, "MissingAuthenticationToken"},
		{"unknown key", otherKey, sliver, 403, "InvalidClientTokenId"},
		{"region not served", badRegion, sliver, 403, "SignatureDoesNotMatch"},
		{"signed an hour ago", stale, sliver, 400, "RequestExpired"},
		{"unknown v2 operation", e.signed(t, "POST", "/v2/email/no-such-thing", "application/json", huge, emptyHash), sliver, 404, "UnknownOperationException"},
		{"v2 send over its limit", e.signed(t, "POST", "/v2/email/outbound-emails", "application/json", 80<<20, emptyHash), sliver, 400, "MessageRejected"},
		{"v2 template over its limit", e.signed(t, "POST", "/v2/email/templates", "application/json", 5<<20, emptyHash), sliver, 413, "RequestEntityTooLarge"},
		{"v2 small operation over 1 MiB", e.signed(t, "PUT", "/v2/email/account/sending", "application/json", 2<<20, emptyHash), sliver, 413, "RequestEntityTooLarge"},
		{"v1 send over its limit", e.signed(t, "POST", "/", form, huge, emptyHash), "Action=SendRawEmail&RawMessage.Data=" + sliver, 400, "MessageRejected"},
		{"v1 small action over 1 MiB", e.signed(t, "POST", "/", form, 2<<20, emptyHash), "Action=GetSendQuota&" + strings.Repeat("x", 1<<20), 400, "RequestEntityTooLarge"},
		{"v1 action past the first MiB", e.signed(t, "POST", "/", form, huge, emptyHash), "X=" + strings.Repeat("x", 1<<20), 400, "RequestEntityTooLarge"},
		{"v1 unknown action in the URL", e.signed(t, "POST", "/?Action=Nope", form, huge, emptyHash), sliver, 400, "InvalidAction"},
		{"UNSIGNED-PAYLOAD", unsignedPayload, sliver, 403, "SignatureDoesNotMatch"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			resp, body := e.send(t, tc.req, tc.part)
			code, msg := errorCode(resp, body)
			if resp.StatusCode != tc.status || code != tc.code {
				t.Fatalf("got %d %s (%s), want %d %s", resp.StatusCode, code, msg, tc.status, tc.code)
			}
			if !resp.Close {
				t.Error("the connection stays open: the server would go on to read the body")
			}
		})
	}
}

// Within its limit, a body is read and the operation runs (the limits do
// not refuse what real clients send).
func TestAPIBodyWithinLimit(t *testing.T) {
	t.Parallel()
	e := newHardEnv(t, nil)
	v2, v1 := e.clients()
	ctx := context.Background()
	big := strings.Repeat("<p>template</p>", 30000) // 450 KB: under SES's 500 KB
	if _, err := v2.CreateEmailTemplate(ctx, &sesv2.CreateEmailTemplateInput{TemplateName: aws.String("big"),
		TemplateContent: &v2types.EmailTemplateContent{Subject: aws.String("s"), Html: aws.String(big)}}); err != nil {
		t.Fatalf("CreateEmailTemplate of 450 KB: %v", err)
	}
	if _, err := v1.GetSendQuota(ctx, &ses.GetSendQuotaInput{}); err != nil {
		t.Fatal(err)
	}
}

// Issue 9, defect 2: a presigned POST /?Action=GetSendQuota carried a body
// Action=SendEmail…, and the body won. Now a presigned request has no body,
// and no parameter may be given both in the URL and in the body.
func TestAPIUnsignedParametersDoNotOverride(t *testing.T) {
	t.Parallel()
	e := newHardEnv(t, nil)
	creds := aws.Credentials{AccessKeyID: e.key.ID, SecretAccessKey: e.key.Secret}
	smuggled := "Action=SendEmail&Source=a%40example.com&Destination.ToAddresses.member.1=x%40example.net" +
		"&Message.Subject.Data=s&Message.Body.Text.Data=t"
	presigned := func(t *testing.T, body string) *http.Request {
		r, _ := http.NewRequest("POST", "http://"+e.addr+"/?Action=GetSendQuota&Version=2010-12-01", nil)
		u, hdr, err := v4.NewSigner().PresignHTTP(context.Background(), creds, r, "UNSIGNED-PAYLOAD", "ses", "us-east-1", time.Now())
		if err != nil {
			t.Fatal(err)
		}
		var rd io.Reader
		if body != "" {
			rd = strings.NewReader(body)
		}
		p, _ := http.NewRequest("POST", u, rd)
		for k, vs := range hdr {
			if !strings.EqualFold(k, "host") {
				p.Header[k] = vs
			}
		}
		p.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		return p
	}
	headerSigned := func(t *testing.T, query, body string) *http.Request {
		r, _ := http.NewRequest("POST", "http://"+e.addr+"/?"+query, strings.NewReader(body))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if err := v4.NewSigner().SignHTTP(context.Background(), creds, r, sha256Hex(body), "ses", "us-east-1", time.Now()); err != nil {
			t.Fatal(err)
		}
		return r
	}
	tests := []struct {
		name   string
		req    func(t *testing.T) *http.Request
		status int
		code   string
	}{
		{"presigned without a body", func(t *testing.T) *http.Request { return presigned(t, "") }, 200, ""},
		{"presigned with a body", func(t *testing.T) *http.Request { return presigned(t, smuggled) }, 400, "IncompleteSignature"},
		{"Action in the URL and the body", func(t *testing.T) *http.Request {
			return headerSigned(t, "Action=GetSendQuota", smuggled)
		}, 400, "InvalidParameterValue"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			resp, err := http.DefaultClient.Do(tc.req(t))
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tc.status, body)
			}
			if code, _ := errorCode(resp, body); code != tc.code {
				t.Fatalf("code %q, want %q: %s", code, tc.code, body)
			}
			if tc.status == 200 && !strings.Contains(string(body), "<GetSendQuotaResponse") {
				t.Fatalf("not GetSendQuota's answer: %s", body)
			}
		})
	}
}

// At most max_inflight requests are in progress; the next is throttled in
// each protocol's way, and SDKs retry that.
func TestAPIInflightCap(t *testing.T) {
	t.Parallel()
	e := newHardEnv(t, func(c *Config) { c.MaxInflight = 1 })
	// One request holds the only slot: its body has not all come.
	held := e.signed(t, "PUT", "/v2/email/account/sending", "application/json", 100,
		"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
	c, err := net.Dial("tcp", e.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	head := fmt.Sprintf("PUT %s HTTP/1.1\r\nHost: %s\r\nContent-Length: %d\r\n", held.target, e.addr, held.length)
	for k, vs := range held.header {
		head += k + ": " + vs[0] + "\r\n"
	}
	if _, err := io.WriteString(c, head+"\r\n{"); err != nil {
		t.Fatal(err)
	}
	waitfor.True(t, "the slot to be taken", func() bool { return len(e.s.inflight) == 1 })

	v2, v1 := e.clients()
	_, err = v2.GetAccount(context.Background(), &sesv2.GetAccountInput{})
	if code, _, status := apiFailure(err); code != "TooManyRequestsException" || status != 429 {
		t.Errorf("v2 over the cap: %v (code %q, status %d)", err, code, status)
	}
	_, err = v1.GetSendQuota(context.Background(), &ses.GetSendQuotaInput{})
	if code, _, status := apiFailure(err); code != "Throttling" || status != 400 {
		t.Errorf("v1 over the cap: %v (code %q, status %d)", err, code, status)
	}
	c.Close()
	waitfor.True(t, "the slot to be free", func() bool { return len(e.s.inflight) == 0 })
	if _, err := v2.GetAccount(context.Background(), &sesv2.GetAccountInput{}); err != nil {
		t.Errorf("after the slot is free: %v", err)
	}
}

// At most max_connections connections are open; the next waits until one
// closes (it is not accepted meanwhile, so it holds no descriptor).
func TestAPIConnectionCap(t *testing.T) {
	t.Parallel()
	e := newHardEnv(t, func(c *Config) { c.MaxConnections = 2 })
	health := func(timeout time.Duration) error {
		c, err := net.Dial("tcp", e.addr)
		if err != nil {
			return err
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(timeout))
		if _, err := io.WriteString(c, "GET /_sesame/health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"); err != nil {
			return err
		}
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			return err
		}
		resp.Body.Close()
		return nil
	}
	var held []net.Conn
	for range 2 {
		c, err := net.Dial("tcp", e.addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		io.WriteString(c, "GET /_sesame/health HTTP/1.1\r\n") // a request begun, never ended
		held = append(held, c)
	}
	waitfor.True(t, "both connections to be accepted", func() bool {
		l := e.s.listener() // nil until Serve has begun, in its own goroutine
		return l != nil && len(l.slots) == 2
	})
	// Not answered while both slots are held: a wait of a second, far more
	// than a loopback answer takes when the listener is not full.
	if err := health(time.Second); err == nil {
		t.Fatal("a third connection was served while the cap of 2 was held")
	}
	held[0].Close()
	if err := health(15 * time.Second); err != nil {
		t.Fatalf("after a connection closed: %v", err)
	}
}

// With captured mail off on this listener (mx mode, or its own listener),
// /_aws/ses is not found; CapturedMailHandler still serves it.
func TestAPICapturedMailHidden(t *testing.T) {
	t.Parallel()
	e := newHardEnv(t, func(c *Config) { c.HideCapturedMail = true })
	for _, method := range []string{"GET", "DELETE"} {
		req, _ := http.NewRequest(method, "http://"+e.addr+"/_aws/ses", nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusNotFound {
			t.Errorf("%s /_aws/ses on the API listener: %s, want 404", method, resp.Status)
		}
	}
	rec := httptest.NewRecorder()
	e.s.CapturedMailHandler().ServeHTTP(rec, httptest.NewRequest("GET", "/_aws/ses", nil))
	if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), `"messages"`) {
		t.Errorf("CapturedMailHandler: %d %s", rec.Code, rec.Body.String())
	}
}

func sha256Hex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}
