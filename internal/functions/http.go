package functions

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"sesame/internal/receipt"
)

// maxAnswer is Lambda's limit on a synchronous invocation's response
// payload (6 MB); a RequestResponse answer larger than that is an error.
const maxAnswer = 6 << 20

// newHTTPClient is the default client: it dials within connect and
// follows no redirect (a function's URL is configured, not discovered: a
// 3xx is a misconfiguration to report, not to chase with the payload).
func newHTTPClient(connect time.Duration) *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.DialContext = (&net.Dialer{Timeout: connect, KeepAlive: 30 * time.Second}).DialContext
	tr.TLSHandshakeTimeout = connect
	return &http.Client{
		Transport:     tr,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// post invokes an http(s) function the way Lambda's Invoke would run it:
// the event is the request body, the invocation type a header
// (X-Amz-Invocation-Type, Lambda's own) so one URL may serve both.
func (iv *Invoker) post(ctx context.Context, u *url.URL, invocationType string, payload []byte) (string, error) {
	if invocationType != receipt.InvocationEvent && invocationType != receipt.InvocationRequestResponse {
		return "", &Error{Err: fmt.Errorf("invocation type %q is not %s or %s",
			invocationType, receipt.InvocationEvent, receipt.InvocationRequestResponse)}
	}
	ctx, cancel := context.WithTimeout(ctx, iv.opt.FunctionTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), bytes.NewReader(payload))
	if err != nil {
		return "", &Error{Err: err}
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Amz-Invocation-Type", invocationType)
	req.Header.Set("User-Agent", "sesame")
	resp, err := iv.http.Do(req)
	if err != nil {
		return "", &Error{Temporary: true, Err: iv.transportError(ctx, err)}
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10)) // keep the connection reusable
		// A 5xx, 429 (Lambda's TooManyRequests) or 408 may pass; another
		// 4xx is the function saying the request itself is wrong.
		temp := resp.StatusCode >= 500 || resp.StatusCode == http.StatusTooManyRequests ||
			resp.StatusCode == http.StatusRequestTimeout
		return "", &Error{Temporary: temp, Err: fmt.Errorf("function answered HTTP %s", resp.Status)}
	}
	if invocationType == receipt.InvocationEvent {
		// Lambda's asynchronous invoke: accepted is all there is to know.
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		return "", nil
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer+1))
	if err != nil {
		return "", &Error{Temporary: true, Err: fmt.Errorf("reading the answer: %w", iv.transportError(ctx, err))}
	}
	if len(body) > maxAnswer {
		return "", &Error{Err: fmt.Errorf("the answer is larger than %d bytes (Lambda's limit)", maxAnswer)}
	}
	d, ok := disposition(body)
	if !ok {
		iv.opt.Logger.Warn("function answered an unknown disposition; continuing", "target", redact(u), "disposition", d)
		d = DispositionContinue
	}
	return d, nil
}

// disposition reads a RequestResponse answer: {"disposition":"…"},
// upper-cased. An answer that names none (empty, null, not a JSON object,
// no such key) is CONTINUE, as a Lambda function that returns nothing.
// ok is false for a value SES does not know, returned (shortened) for the log.
func disposition(body []byte) (d string, ok bool) {
	var answer struct {
		Disposition string `json:"disposition"`
	}
	if json.Unmarshal(body, &answer) != nil {
		return DispositionContinue, true
	}
	d = strings.ToUpper(strings.TrimSpace(answer.Disposition))
	switch d {
	case "":
		return DispositionContinue, true
	case DispositionContinue, DispositionStopRule, DispositionStopRuleSet:
		return d, true
	}
	if len(d) > 40 {
		d = strings.ToValidUTF8(d[:40], "") + "…" // a whole rune cut in two is dropped
	}
	return d, false
}

// transportError says what went wrong without the URL (its query may hold
// a token), and names a timeout as one.
func (iv *Invoker) transportError(ctx context.Context, err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return fmt.Errorf("no answer within %v: %w", iv.opt.FunctionTimeout, err)
	}
	return err
}
