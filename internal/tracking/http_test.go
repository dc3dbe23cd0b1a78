package tracking

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

type sink struct {
	mu  sync.Mutex
	got []Engagement
}

func (s *sink) Engage(_ context.Context, e Engagement) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.got = append(s.got, e)
	return nil
}

func TestHandler(t *testing.T) {
	t.Parallel()
	links := NewLinks([]byte("k"))
	rec := &sink{}
	at := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	srv := httptest.NewServer(&Handler{Links: links, Sink: rec, Now: func() time.Time { return at }})
	defer srv.Close()
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	do := func(method, u string) *http.Response {
		t.Helper()
		req, _ := http.NewRequest(method, u, nil)
		req.Header.Set("User-Agent", "UA")
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	open := links.OpenURL(srv.URL, testID)
	click := links.ClickURL(srv.URL, testID, "https://example.com/a?b=c", "k:v")

	if r := do("GET", open); r.StatusCode != 200 || r.Header.Get("Content-Type") != "image/gif" || r.ContentLength != int64(len(gif)) ||
		!strings.Contains(r.Header.Get("Cache-Control"), "no-store") {
		t.Errorf("open: %d %v", r.StatusCode, r.Header)
	}
	if r := do("GET", click); r.StatusCode != 302 || r.Header.Get("Location") != "https://example.com/a?b=c" {
		t.Errorf("click: %d %v", r.StatusCode, r.Header)
	}
	if r := do("HEAD", click); r.StatusCode != 302 {
		t.Errorf("HEAD click: %d", r.StatusCode)
	}
	if r := do("GET", strings.Replace(click, "k:v", "k:w", 1)); r.StatusCode != 404 {
		t.Errorf("edited click: %d, want 404", r.StatusCode)
	}
	if r := do("POST", open); r.StatusCode != 405 {
		t.Errorf("POST: %d, want 405", r.StatusCode)
	}
	if len(rec.got) != 2 {
		t.Fatalf("%d engagements recorded, want 2 (GETs only): %+v", len(rec.got), rec.got)
	}
	o, k := rec.got[0], rec.got[1]
	if o.Kind != Open || o.MessageID != testID || o.IPAddress != "127.0.0.1" || o.UserAgent != "UA" || !o.Time.Equal(at) {
		t.Errorf("open engagement %+v", o)
	}
	if k.Kind != Click || k.Link != "https://example.com/a?b=c" || k.Tags["k"][0] != "v" {
		t.Errorf("click engagement %+v", k)
	}
}
