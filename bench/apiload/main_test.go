package main

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeSES answers SendEmail like SES (or fails with status when non-zero) and
// records the subjects and connection count it saw.
type fakeSES struct {
	status   int
	mu       sync.Mutex
	subjects map[string]bool
	bad      []string
}

func (f *fakeSES) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	var in struct {
		FromEmailAddress string
		Content          struct {
			Simple struct{ Subject struct{ Data string } }
		}
	}
	err := json.Unmarshal(b, &in)
	f.mu.Lock()
	defer f.mu.Unlock()
	auth := r.Header.Get("Authorization")
	switch {
	case err != nil, r.Method != http.MethodPost, r.URL.Path != "/v2/email/outbound-emails",
		!strings.HasPrefix(auth, "AWS4-HMAC-SHA256 Credential=AKID/"), !strings.Contains(auth, "/eu-west-1/ses/aws4_request"),
		r.Header.Get("X-Amz-Date") == "":
		f.bad = append(f.bad, r.Method+" "+r.URL.Path+" "+auth+" "+string(b))
	}
	f.subjects[in.Content.Simple.Subject.Data] = true
	if f.status != 0 {
		w.Header().Set("x-amzn-ErrorType", "MessageRejected")
		w.WriteHeader(f.status)
		w.Write([]byte(`{"message":"no"}`))
		return
	}
	w.Write([]byte(`{"MessageId":"0100-x"}`))
}

func TestLoad(t *testing.T) {
	tests := []struct {
		name          string
		status        int
		msgs, maxErrs int
		wantOK        int
		wantErrs      int
	}{
		{"all accepted, distinct subjects", 0, 200, 10, 200, 0},
		{"refusals stop the run at -max-errors", 400, 200, 5, 0, 5},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := &fakeSES{status: tc.status, subjects: map[string]bool{}}
			srv := httptest.NewServer(f)
			defer srv.Close()
			o := &options{endpoint: srv.URL, region: "eu-west-1", key: "AKID", secret: "s",
				from: "a@example.com", to: "b@example.com", conns: 4, msgs: tc.msgs, maxErrors: tc.maxErrs,
				timeout: 5 * time.Second, duration: 30 * time.Second, quiet: true}
			tot, errs, _ := load(o)
			if tot.ok != tc.wantOK || len(tot.lat) != tc.wantOK {
				t.Errorf("ok = %d (%d latencies), want %d", tot.ok, len(tot.lat), tc.wantOK)
			}
			// Workers in flight when the brake trips may add a failure each.
			if errs < tc.wantErrs || errs > tc.wantErrs+o.conns {
				t.Errorf("errors = %d, want %d (+ up to %d in flight)", errs, tc.wantErrs, o.conns)
			}
			if len(f.bad) > 0 {
				t.Errorf("malformed requests: %q", f.bad[0])
			}
			if tc.status == 0 && len(f.subjects) != tc.msgs {
				t.Errorf("%d distinct subjects for %d requests", len(f.subjects), tc.msgs)
			}
		})
	}
}

func TestPct(t *testing.T) {
	lat := []time.Duration{1 * time.Millisecond, 2 * time.Millisecond, 3 * time.Millisecond, 4 * time.Millisecond}
	for _, c := range []struct {
		p    int
		want string
	}{{50, "2.00ms"}, {99, "4.00ms"}, {100, "4.00ms"}} {
		if got := pct(lat, c.p); got != c.want {
			t.Errorf("pct(%d) = %s, want %s", c.p, got, c.want)
		}
	}
	if pct(nil, 50) != "-" {
		t.Error("pct of nothing")
	}
}
