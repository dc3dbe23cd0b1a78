package mtasts

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"sesame/internal/clock"
	"sesame/internal/dnsx"
)

type fakeTXT struct {
	mu   sync.Mutex
	txt  map[string][]string
	fail error
	n    int
}

func (f *fakeTXT) TXT(_ context.Context, name string) ([]string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.n++
	if f.fail != nil {
		return nil, f.fail
	}
	if t, ok := f.txt[name]; ok {
		return t, nil
	}
	return nil, fmt.Errorf("TXT %s: %w", name, dnsx.ErrNotFound)
}

func (f *fakeTXT) set(name string, txt ...string) {
	f.mu.Lock()
	f.txt[name] = txt
	f.mu.Unlock()
}

type fakeFetch struct {
	mu     sync.Mutex
	policy map[string]string
	n      int
}

func (f *fakeFetch) Fetch(_ context.Context, domain string) (*Policy, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.n++
	s, ok := f.policy[domain]
	if !ok {
		return nil, fmt.Errorf("%w: 404", ErrFetch)
	}
	return ParsePolicy(s)
}

func (f *fakeFetch) set(domain, policy string) {
	f.mu.Lock()
	f.policy[domain] = policy
	f.mu.Unlock()
}

func (f *fakeFetch) count() int { f.mu.Lock(); defer f.mu.Unlock(); return f.n }

const enforce = "version: STSv1\nmode: enforce\nmx: mx.example.com\nmax_age: 86400\n"

func TestCacheLifecycle(t *testing.T) {
	t.Parallel()
	clk := clock.NewFake(time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC))
	txt := &fakeTXT{txt: map[string][]string{}}
	fetch := &fakeFetch{policy: map[string]string{}}
	path := filepath.Join(t.TempDir(), "mta-sts.json")
	c := &Cache{Resolver: txt, Fetcher: fetch, Clock: clk, Path: path}
	ctx := context.Background()

	if p := c.Get(ctx, "example.com"); p != nil {
		t.Fatalf("no record: %+v", p)
	}
	txt.set("_mta-sts.example.com", "v=spf1 -all", "v=STSv1; id=one")
	fetch.set("example.com", enforce)
	clk.Advance(RecheckInterval) // nothing cached: the record is looked up at once anyway
	p := c.Get(ctx, "example.com")
	if p == nil || p.Mode != ModeEnforce || !p.Matches("mx.example.com") {
		t.Fatalf("policy: %+v", p)
	}
	// Within RecheckInterval neither DNS nor HTTPS is asked.
	lookups := txt.n
	if c.Get(ctx, "example.com") == nil || txt.n != lookups || fetch.count() != 1 {
		t.Fatalf("cached use asked again: %d lookups, %d fetches", txt.n-lookups, fetch.count())
	}
	// The record vanishes or DNS fails: the cached policy stays in force.
	txt.set("_mta-sts.example.com")
	clk.Advance(RecheckInterval)
	if c.Get(ctx, "example.com") == nil {
		t.Fatal("a vanished record dropped the cached policy")
	}
	txt.fail = errors.New("SERVFAIL")
	clk.Advance(RecheckInterval)
	if c.Get(ctx, "example.com") == nil {
		t.Fatal("a DNS failure dropped the cached policy")
	}
	txt.fail = nil
	// Same id: no fetch until half of max_age has passed, then one.
	txt.set("_mta-sts.example.com", "v=STSv1; id=one")
	clk.Advance(RecheckInterval)
	c.Get(ctx, "example.com")
	if fetch.count() != 1 {
		t.Fatalf("fetched again with the same id: %d", fetch.count())
	}
	clk.Advance(12 * time.Hour)
	c.Get(ctx, "example.com")
	if fetch.count() != 2 {
		t.Fatalf("not refreshed at half its max_age: %d fetches", fetch.count())
	}
	// A new id whose policy cannot be fetched keeps the old one; a new id
	// with a policy replaces it.
	txt.set("_mta-sts.example.com", "v=STSv1; id=two")
	fetch.set("example.com", "garbage")
	clk.Advance(RecheckInterval)
	if p := c.Get(ctx, "example.com"); p == nil || p.Mode != ModeEnforce {
		t.Fatalf("a bad new policy replaced the old: %+v", p)
	}
	fetch.set("example.com", "version: STSv1\nmode: testing\nmx: *.example.com\nmax_age: 3600\n")
	clk.Advance(RecheckInterval)
	if p := c.Get(ctx, "example.com"); p == nil || p.Mode != ModeTesting {
		t.Fatalf("new policy not taken: %+v", p)
	}

	// A restart keeps it (the file); once max_age has passed it is gone.
	c2 := &Cache{Resolver: &fakeTXT{txt: map[string][]string{}}, Fetcher: &fakeFetch{policy: map[string]string{}}, Clock: clk, Path: path}
	if p := c2.Get(ctx, "example.com"); p == nil || p.Mode != ModeTesting {
		t.Fatalf("after a restart: %+v", p)
	}
	clk.Advance(time.Hour)
	if p := c2.Get(ctx, "example.com"); p != nil {
		t.Fatalf("expired policy still in force: %+v", p)
	}
	// Mode none is a policy that asks for nothing.
	txt.set("_mta-sts.none.test", "v=STSv1; id=n")
	fetch.set("none.test", "version: STSv1\nmode: none\nmax_age: 3600\n")
	if p := c.Get(ctx, "none.test"); p != nil {
		t.Fatalf("mode none: %+v", p)
	}
	// Two records: as if none (§3.1).
	txt.set("_mta-sts.two.test", "v=STSv1; id=a", "v=STSv1; id=b")
	fetch.set("two.test", enforce)
	if p := c.Get(ctx, "two.test"); p != nil {
		t.Fatalf("two records: %+v", p)
	}
}

// TestFetch runs the real HTTPS fetch against a local server whose name
// the resolver maps to loopback.
func TestFetch(t *testing.T) {
	t.Parallel()
	var path string
	var status = http.StatusOK
	var body = enforce
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		path = r.Host + r.URL.Path
		if status == http.StatusFound {
			http.Redirect(w, r, "https://elsewhere.test/", status)
			return
		}
		w.WriteHeader(status)
		w.Write([]byte(body))
	}))
	defer srv.Close()
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
	roots := srv.Client().Transport.(*http.Transport).TLSClientConfig.RootCAs
	d := &Dialer{Resolver: loopback{}, Port: port, AllowPrivate: true}
	// httptest's certificate is for example.com and its subdomains.
	f := &Fetcher{Client: NewHTTPClient(roots, d.DialContext)}
	ctx := context.Background()
	p, err := f.Fetch(ctx, "example.com")
	if err != nil || p.Mode != ModeEnforce {
		t.Fatalf("Fetch: %+v, %v", p, err)
	}
	if path != "mta-sts.example.com/.well-known/mta-sts.txt" {
		t.Errorf("fetched %s", path)
	}
	// Loopback is refused unless allowed.
	strict := &Fetcher{Client: NewHTTPClient(roots, (&Dialer{Resolver: loopback{}, Port: port}).DialContext)}
	if _, err := strict.Fetch(ctx, "example.com"); err == nil || !strings.Contains(err.Error(), "non-public") {
		t.Errorf("loopback policy host: %v", err)
	}
	for _, tc := range []struct {
		status int
		body   string
		domain string
	}{
		{http.StatusFound, "", "example.com"},                       // no redirects
		{http.StatusNotFound, "", "example.com"},                    // status
		{http.StatusOK, strings.Repeat("x", 70<<10), "example.com"}, // size
		{http.StatusOK, "version: STSv1\n", "example.com"},          // syntax
		{http.StatusOK, enforce, "example.org"},                     // certificate name
	} {
		status, body = tc.status, tc.body
		if p, err := f.Fetch(ctx, tc.domain); err == nil {
			t.Errorf("status %d, %d bytes, %s: fetched %+v", tc.status, len(tc.body), tc.domain, p)
		}
	}
}

// loopback resolves every name to 127.0.0.1.
type loopback struct{}

func (loopback) LookupIP(context.Context, string) ([]net.IP, time.Duration, error) {
	return []net.IP{net.IPv4(127, 0, 0, 1)}, time.Minute, nil
}
