package awsauth

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"
)

// SigV4's window is 5 minutes either way (issue 9, defect 5).
func TestSkewWindowIsFiveMinutes(t *testing.T) {
	t.Parallel()
	post := clientRequest{method: "POST", target: "/v2/email/outbound-emails",
		header: http.Header{"Content-Type": {"application/json"}}, body: `{}`}
	for _, tc := range []struct {
		skew time.Duration
		ok   bool
	}{{4 * time.Minute, true}, {-4 * time.Minute, true}, {6 * time.Minute, false}, {-6 * time.Minute, false}} {
		r, body := sdkSign(t, post, testSecret, Service, testRegion, signedAt())
		_, err := VerifyRequest(context.Background(), r, body, testLookup, signedAt().Add(tc.skew))
		if (err == nil) != tc.ok {
			t.Errorf("clock %v from the signing time: err = %v, want ok %v", tc.skew, err, tc.ok)
		}
	}
}

// errBody fails the test if anything reads it.
type errBody struct{ t *testing.T }

func (b errBody) Read([]byte) (int, error) {
	b.t.Error("Check read the body")
	return 0, errors.New("read")
}
func (errBody) Close() error { return nil }

// Check decides without the body: a known key passes to Finish, an unknown
// one is refused, and neither reads a byte of it.
func TestCheckReadsNoBody(t *testing.T) {
	t.Parallel()
	post := clientRequest{method: "POST", target: "/v2/email/outbound-emails",
		header: http.Header{"Content-Type": {"application/json"}}, body: `{"a":1}`}
	r, body := sdkSign(t, post, testSecret, Service, testRegion, signedAt())
	r.Body = errBody{t}
	var v Verifier
	p, err := v.Check(context.Background(), r, testLookup, signedAt())
	if err != nil {
		t.Fatal(err)
	}
	if got := p.Principal(); got.AccountID != testAccount || got.Region != testRegion || got.Service != Service {
		t.Errorf("principal %+v", got)
	}
	if _, err := v.Finish(p, r, body); err != nil {
		t.Errorf("Finish: %v", err)
	}
	_, err = v.Check(context.Background(), r, func(context.Context, string) (string, string, error) {
		return "", "", ErrUnknownKey
	}, signedAt())
	checkRefused(t, err, "InvalidClientTokenId", 403, "")
}
