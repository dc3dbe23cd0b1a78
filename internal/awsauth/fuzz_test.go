package awsauth

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"testing"

	"sesame/internal/seserr"
)

// FuzzVerifyPresigned: the presigned (query-string) form of SigV4 and the
// payload-hash header take any query, path and hash without panicking, never
// verify what nobody signed, and fail only with a *seserr.Error, the
// client-visible kind.
func FuzzVerifyPresigned(f *testing.F) {
	f.Add("X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKID%2F20261123%2Fus-east-1%2Fses%2Faws4_request&X-Amz-Date=20261123T101010Z&X-Amz-Expires=300&X-Amz-SignedHeaders=host&X-Amz-Signature=00", "/", "")
	f.Add("Action=GetSendQuota&X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Expires=-1&X-Amz-SignedHeaders=host;;x", "/v2/email/../account", "UNSIGNED-PAYLOAD")
	f.Add("X-Amz-Credential=////&X-Amz-Date=&X-Amz-Signature=zz&%zz", "//a/./b", "STREAMING-AWS4-HMAC-SHA256-PAYLOAD")
	f.Fuzz(func(t *testing.T, query, path, payload string) {
		u := &url.URL{Scheme: "http", Host: testHost, Path: path, RawQuery: query}
		r, err := http.NewRequest("POST", u.String(), nil)
		if err != nil {
			return
		}
		if payload != "" {
			r.Header.Set("X-Amz-Content-Sha256", payload)
		}
		_, err = VerifyRequest(context.Background(), r, []byte("Action=SendEmail"), testLookup, signedAt())
		if err == nil {
			t.Fatalf("verified a fuzzed presigned request: %q", query)
		}
		var e *seserr.Error
		if !errors.As(err, &e) {
			t.Fatalf("error %v is not a *seserr.Error", err)
		}
	})
}
