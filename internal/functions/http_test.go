package functions

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"sesame/internal/receipt"
)

const (
	arn     = "arn:aws:lambda:us-east-1:123456789012:function:inbox"
	payload = `{"Records":[{"eventSource":"aws:ses","eventVersion":"1.0","ses":{"mail":{"messageId":"m1","source":"a@b.test"},"receipt":{"recipients":["u@x.test"],"action":{"type":"Lambda","functionArn":"` + arn + `","invocationType":"RequestResponse"}}}}]}`
)

// lambda is an httptest server standing in for a Lambda function: it
// keeps what it was sent and answers status and body.
type lambda struct {
	*httptest.Server
	mu       sync.Mutex
	bodies   [][]byte
	headers  []http.Header
	status   int
	answer   string
	released chan struct{} // non-nil: the function hangs until closed
}

func startLambda(t *testing.T, status int, answer string) *lambda {
	t.Helper()
	l := &lambda{status: status, answer: answer}
	l.Server = httptest.NewServer(http.HandlerFunc(l.serve))
	t.Cleanup(l.Close)
	return l
}

func (l *lambda) serve(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	l.mu.Lock()
	l.bodies = append(l.bodies, b)
	l.headers = append(l.headers, r.Header.Clone())
	l.mu.Unlock()
	if l.released != nil {
		select {
		case <-l.released:
		case <-r.Context().Done():
		}
	}
	w.WriteHeader(l.status)
	io.WriteString(w, l.answer)
}

func (l *lambda) requests() ([][]byte, []http.Header) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.bodies, l.headers
}

func newInvoker(t *testing.T, targets map[string]string, opt Options) (*Invoker, *bytes.Buffer) {
	t.Helper()
	var logs bytes.Buffer
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.NewTextHandler(&syncWriter{w: &logs}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	iv, err := New(targets, opt)
	if err != nil {
		t.Fatal(err)
	}
	return iv, &logs
}

type syncWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}

func TestHTTPPayloadArrivesIntact(t *testing.T) {
	t.Parallel()
	for _, typ := range []string{receipt.InvocationEvent, receipt.InvocationRequestResponse, ""} {
		t.Run("type="+typ, func(t *testing.T) {
			t.Parallel()
			// Even a disposition is ignored for Event: Lambda's
			// asynchronous invoke answers 202 with no result.
			l := startLambda(t, http.StatusAccepted, `{"disposition":"STOP_RULE"}`)
			iv, logs := newInvoker(t, map[string]string{arn: l.URL + "/2015-03-31/functions/inbox/invocations"}, Options{})
			d, err := iv.Invoke(context.Background(), arn, typ, []byte(payload), Message{Message: []byte("Subject: secret body\r\n\r\nBODY-MARKER\r\n")})
			if err != nil {
				t.Fatal(err)
			}
			want, wantType := "", typ
			if typ == receipt.InvocationRequestResponse {
				want = DispositionStopRule
			}
			if typ == "" {
				wantType = receipt.InvocationEvent // SES's default
			}
			if d != want {
				t.Errorf("disposition = %q, want %q", d, want)
			}
			bodies, headers := l.requests()
			if len(bodies) != 1 || string(bodies[0]) != payload {
				t.Fatalf("function got %q, want the payload once", bodies)
			}
			if ct := headers[0].Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type = %q", ct)
			}
			if it := headers[0].Get("X-Amz-Invocation-Type"); it != wantType {
				t.Errorf("X-Amz-Invocation-Type = %q, want %q", it, wantType)
			}
			if strings.Contains(logs.String(), "BODY-MARKER") || strings.Contains(logs.String(), "messageId") {
				t.Errorf("the log shows a body or the payload:\n%s", logs)
			}
			if !strings.Contains(logs.String(), "function invoked") {
				t.Errorf("no log line for the invocation:\n%s", logs)
			}
		})
	}
}

func TestHTTPRequestResponseDisposition(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		answer, want string
	}{
		{`{"disposition":"STOP_RULE"}`, DispositionStopRule},
		{`{"disposition":"STOP_RULE_SET"}`, DispositionStopRuleSet},
		{`{"disposition":"CONTINUE"}`, DispositionContinue},
		{`{"disposition":"stop_rule_set"}`, DispositionStopRuleSet}, // upper-cased
		{` {"disposition" : "Stop_Rule"} `, DispositionStopRule},
		{``, DispositionContinue}, // no answer
		{`null`, DispositionContinue},
		{`{}`, DispositionContinue},
		{`{"statusCode":200}`, DispositionContinue},
		{`"done"`, DispositionContinue},
		{`OK`, DispositionContinue}, // not JSON: names no disposition
		{`{"disposition":"DROP"}`, DispositionContinue},
	} {
		t.Run(tc.answer, func(t *testing.T) {
			t.Parallel()
			l := startLambda(t, http.StatusOK, tc.answer)
			iv, _ := newInvoker(t, map[string]string{arn: l.URL}, Options{})
			d, err := iv.Invoke(context.Background(), arn, receipt.InvocationRequestResponse, []byte(payload), Message{})
			if err != nil {
				t.Fatal(err)
			}
			if d != tc.want {
				t.Errorf("disposition = %q, want %q", d, tc.want)
			}
		})
	}
}

func TestHTTPFailures(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		status    int
		typ       string
		temporary bool
	}{
		{500, receipt.InvocationRequestResponse, true},
		{500, receipt.InvocationEvent, true},
		{502, receipt.InvocationEvent, true},
		{503, receipt.InvocationRequestResponse, true},
		{429, receipt.InvocationEvent, true}, // Lambda's TooManyRequestsException
		{400, receipt.InvocationRequestResponse, false},
		{403, receipt.InvocationEvent, false},
		{404, receipt.InvocationEvent, false},
		{302, receipt.InvocationEvent, false}, // not followed
	} {
		t.Run(http.StatusText(tc.status)+"/"+tc.typ, func(t *testing.T) {
			t.Parallel()
			l := startLambda(t, tc.status, `{"errorMessage":"boom","disposition":"STOP_RULE"}`)
			iv, _ := newInvoker(t, map[string]string{arn: l.URL + "/fn?token=s3cret"}, Options{})
			d, err := iv.Invoke(context.Background(), arn, tc.typ, []byte(payload), Message{})
			if err == nil {
				t.Fatalf("HTTP %d: no error (disposition %q)", tc.status, d)
			}
			if d != "" {
				t.Errorf("disposition %q with an error", d)
			}
			if IsTemporary(err) != tc.temporary {
				t.Errorf("IsTemporary = %v, want %v (%v)", IsTemporary(err), tc.temporary, err)
			}
			var e *Error
			if !errors.As(err, &e) || e.FunctionArn != arn {
				t.Errorf("error %v is not an *Error for %s", err, arn)
			}
			if !strings.Contains(err.Error(), fmt.Sprintf("HTTP %d", tc.status)) {
				t.Errorf("error %q does not name the status", err)
			}
			if strings.Contains(err.Error(), "s3cret") {
				t.Errorf("error %q shows the URL's query", err)
			}
		})
	}
}

func TestHTTPSlowFunctionTimesOut(t *testing.T) {
	t.Parallel()
	l := startLambda(t, http.StatusOK, `{"disposition":"STOP_RULE"}`)
	l.released = make(chan struct{})
	t.Cleanup(func() { close(l.released) })
	iv, _ := newInvoker(t, map[string]string{arn: l.URL}, Options{FunctionTimeout: 100 * time.Millisecond})
	start := time.Now()
	d, err := iv.Invoke(context.Background(), arn, receipt.InvocationRequestResponse, []byte(payload), Message{})
	if err == nil {
		t.Fatalf("a function that never answers succeeded (disposition %q)", d)
	}
	if !IsTemporary(err) || !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "no answer within 100ms") {
		t.Errorf("error = %v; want a temporary timeout", err)
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("gave up after %v, the timeout is 100ms", took)
	}
}

func TestHTTPDefaultTimeoutIsSES30Seconds(t *testing.T) {
	iv, _ := newInvoker(t, nil, Options{})
	if iv.opt.FunctionTimeout != 30*time.Second {
		t.Errorf("FunctionTimeout = %v, want SES's 30s", iv.opt.FunctionTimeout)
	}
}

func TestHTTPConnectionRefused(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	iv, _ := newInvoker(t, map[string]string{arn: "http://" + addr + "/"}, Options{})
	_, err = iv.Invoke(context.Background(), arn, receipt.InvocationEvent, []byte(payload), Message{})
	if err == nil || !IsTemporary(err) {
		t.Fatalf("error = %v; want a temporary one", err)
	}
}

func TestHTTPS(t *testing.T) {
	t.Parallel()
	var got []byte
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got, _ = io.ReadAll(r.Body)
		io.WriteString(w, `{"disposition":"STOP_RULE_SET"}`)
	}))
	t.Cleanup(srv.Close)
	iv, _ := newInvoker(t, map[string]string{arn: srv.URL}, Options{HTTPClient: srv.Client()})
	d, err := iv.Invoke(context.Background(), arn, receipt.InvocationRequestResponse, []byte(payload), Message{})
	if err != nil || d != DispositionStopRuleSet || string(got) != payload {
		t.Fatalf("Invoke = %q, %v; function got %q", d, err, got)
	}
}

func TestUnknownFunctionAndBadType(t *testing.T) {
	t.Parallel()
	l := startLambda(t, http.StatusOK, ``)
	iv, _ := newInvoker(t, map[string]string{arn: l.URL}, Options{})
	if !iv.Known(arn) || iv.Known(arn+"2") {
		t.Errorf("Known(%s) = %v, Known(other) = %v", arn, iv.Known(arn), iv.Known(arn+"2"))
	}
	_, err := iv.Invoke(context.Background(), arn+"2", receipt.InvocationEvent, []byte(payload), Message{})
	if !errors.Is(err, ErrUnknownFunction) || IsTemporary(err) {
		t.Errorf("unknown ARN: error = %v", err)
	}
	_, err = iv.Invoke(context.Background(), arn, "DryRun", []byte(payload), Message{})
	if err == nil || IsTemporary(err) {
		t.Errorf("invocation type DryRun: error = %v", err)
	}
	if bodies, _ := l.requests(); len(bodies) != 0 {
		t.Errorf("the function was called %d times", len(bodies))
	}
}

func TestNewChecksTargets(t *testing.T) {
	t.Parallel()
	for _, target := range []string{"ftp://x.test/", "x.test:25", "lmtp://", "http://%zz"} {
		if _, err := New(map[string]string{arn: target}, Options{}); err == nil {
			t.Errorf("New accepted target %q", target)
		}
	}
	iv, err := New(map[string]string{arn: "lmtp://127.0.0.1", arn + "2": "smtp://[::1]"}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if h := iv.targets[arn].Host; h != "127.0.0.1:24" {
		t.Errorf("lmtp without a port: host %q, want port 24", h)
	}
	if h := iv.targets[arn+"2"].Host; h != "[::1]:25" {
		t.Errorf("smtp without a port: host %q, want port 25", h)
	}
}

// FuzzDisposition: any answer a function gives yields one of SES's three
// dispositions, or an unknown value short enough for a log line.
func FuzzDisposition(f *testing.F) {
	for _, s := range []string{`{"disposition":"STOP_RULE"}`, `{"disposition":"stop_rule_set"}`, ``, `null`, `[1]`,
		`{"disposition":7}`, `{"disposition":"` + strings.Repeat("é", 50) + `"}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		d, ok := disposition(body)
		known := d == DispositionContinue || d == DispositionStopRule || d == DispositionStopRuleSet
		if ok != known || len(d) > 43 || d == "" {
			t.Errorf("disposition(%q) = %q, %v", body, d, ok)
		}
	})
}
