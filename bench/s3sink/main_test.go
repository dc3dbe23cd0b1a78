package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"sesame/internal/objstore"
)

func stats(t *testing.T, base string) string {
	t.Helper()
	resp, err := http.Get(base + StatsPath)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return strings.TrimSpace(string(b))
}

// sesame's own S3 client (the one the S3 action uses) stores into the
// bucket made at start, reads back what it stored, and the counters say
// how many objects arrived; a PUT into a missing bucket is an error, not
// an object.
func TestSinkStoresAndCounts(t *testing.T) {
	h, err := newHandler("bench-inbound")
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	defer srv.Close()
	if got := stats(t, srv.URL); got != "objects=0 bytes=0 puts=0 errors=0" {
		t.Fatalf("fresh stats: %q", got)
	}
	st := objstore.New(objstore.Config{Endpoint: srv.URL, Region: "us-east-1",
		AccessKeyID: "AKIDBENCH", SecretAccessKey: "secret", PathStyle: true})
	ctx := context.Background()
	body := []byte(strings.Repeat("x", 2000))
	for i := range 5 {
		if err := st.Put(ctx, "bench-inbound", fmt.Sprintf("in/msg%d", i), body, "message/rfc822"); err != nil {
			t.Fatal(err)
		}
	}
	got, err := st.Get(ctx, "bench-inbound", "in/msg3", 1<<20)
	if err != nil || string(got) != string(body) {
		t.Fatalf("read back %d bytes, err %v", len(got), err)
	}
	if err := st.Put(ctx, "no-such-bucket", "k", body, "message/rfc822"); err == nil {
		t.Fatal("a PUT into a missing bucket must fail")
	}
	if got := stats(t, srv.URL); got != "objects=5 bytes=10000 puts=6 errors=1" {
		t.Fatalf("stats after 5 stored and 1 refused: %q", got)
	}
}
