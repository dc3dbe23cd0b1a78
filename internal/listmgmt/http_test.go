package listmgmt

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"sesame/internal/seserr"
	"sesame/internal/store"
)

// changes keeps what the handler hands its Sink.
type changes struct {
	mu  sync.Mutex
	got []Change
}

func (c *changes) Subscription(_ context.Context, ch Change) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.got = append(c.got, ch)
	return nil
}

func (c *changes) all() []Change {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]Change(nil), c.got...)
}

const acct, region = "111122223333", "us-east-1"

func newTestHandler(t *testing.T) (*Handler, *store.Store, *changes, *httptest.Server) {
	t.Helper()
	st, err := store.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	ctx := context.Background()
	if err := st.CreateContactList(ctx, store.ContactList{AccountID: acct, Region: region, Name: "news",
		Description: "Our <news>", Topics: []store.Topic{
			{Name: "sports", DisplayName: "Sports", DefaultStatus: "OPT_IN"},
			{Name: "cycling", DisplayName: "Cycling", DefaultStatus: "OPT_OUT"},
		}}, 1); err != nil {
		t.Fatal(err)
	}
	if err := st.CreateContact(ctx, store.Contact{AccountID: acct, Region: region, List: "news", Email: "a@example.com"}, nil); err != nil {
		t.Fatal(err)
	}
	sink := &changes{}
	h := &Handler{Links: NewLinks([]byte("key")), Store: st, Sink: sink}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return h, st, sink, srv
}

// oneClick posts as RFC 8058 §3.2 and mailbox providers do.
func oneClick(t *testing.T, u string) (int, string) {
	t.Helper()
	resp, err := http.Post(u, "application/x-www-form-urlencoded", strings.NewReader("List-Unsubscribe=One-Click"))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestOneClick(t *testing.T) {
	t.Parallel()
	h, st, sink, srv := newTestHandler(t)
	ctx := context.Background()

	// A topic link unsubscribes from that topic only.
	u := h.Links.URL(srv.URL, Token{AccountID: acct, Region: region, List: "news", Topic: "sports", Email: "a@example.com", MessageID: "m1"})
	if code, body := oneClick(t, u); code != 200 || !strings.Contains(body, seserr.UnsubscribedText) {
		t.Fatalf("one-click: %d %q", code, body)
	}
	c, l, err := st.Contact(ctx, acct, region, "news", "a@example.com")
	if err != nil {
		t.Fatal(err)
	}
	if c.UnsubscribeAll || !Unsubscribed(c, l, "sports") || Unsubscribed(c, l, "") {
		t.Fatalf("after a topic one-click: %+v", c)
	}
	got := sink.all()
	if len(got) != 1 || got[0].Source != SourceHeader || got[0].Token.MessageID != "m1" ||
		!got[0].Old.Topics[0].OptIn || got[0].New.Topics[0].OptIn {
		t.Fatalf("changes: %+v", got)
	}
	// The same POST again changes nothing: no second event.
	oneClick(t, u)
	if n := len(sink.all()); n != 1 {
		t.Errorf("%d changes after a repeated one-click, want 1", n)
	}

	// A list link unsubscribes from all; a recipient who was no contact
	// becomes one.
	u = h.Links.URL(srv.URL, Token{AccountID: acct, Region: region, List: "news", Email: "new@example.com", MessageID: "m2"})
	if code, _ := oneClick(t, u); code != 200 {
		t.Fatalf("one-click for a non-contact: %d", code)
	}
	c, _, err = st.Contact(ctx, acct, region, "news", "new@example.com")
	if err != nil || !c.UnsubscribeAll {
		t.Fatalf("non-contact after one-click: %+v %v", c, err)
	}
}

func TestRefusals(t *testing.T) {
	t.Parallel()
	h, st, _, srv := newTestHandler(t)
	good := h.Links.URL(srv.URL, Token{AccountID: acct, Region: region, List: "news", Email: "a@example.com"})
	forged := NewLinks([]byte("not the key")).URL(srv.URL, Token{AccountID: acct, Region: region, List: "news", Email: "a@example.com"})
	gone := h.Links.URL(srv.URL, Token{AccountID: acct, Region: region, List: "deleted", Email: "a@example.com"})
	for _, tc := range []struct {
		name, url, body string
		code            int
		text            string
	}{
		{"forged", forged, "List-Unsubscribe=One-Click", 400, "not valid"},
		{"no token", srv.URL + Path, "List-Unsubscribe=One-Click", 400, "not valid"},
		{"other body", good, "List-Unsubscribe=Yes", 400, "neither"},
		{"list deleted", gone, "List-Unsubscribe=One-Click", 404, "no longer exists"},
	} {
		resp, err := http.Post(tc.url, "application/x-www-form-urlencoded", strings.NewReader(tc.body))
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tc.code || !strings.Contains(string(b), tc.text) || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
			t.Errorf("%s: %d %q, want %d with %q", tc.name, resp.StatusCode, b, tc.code, tc.text)
		}
	}
	c, _, err := st.Contact(context.Background(), acct, region, "news", "a@example.com")
	if err != nil || c.UnsubscribeAll || len(c.Preferences) != 0 {
		t.Errorf("a refused request changed the contact: %+v %v", c, err)
	}
}

func TestPreferencePage(t *testing.T) {
	t.Parallel()
	h, st, sink, srv := newTestHandler(t)
	u := h.Links.URL(srv.URL, Token{AccountID: acct, Region: region, List: "news", Topic: "sports", Email: "a@example.com", MessageID: "m1"})
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	page := string(b)
	for _, want := range []string{`name="topic" value="sports" checked`, `name="topic" value="cycling">`, "Our &lt;news&gt;",
		`name="unsubscribe_all"`, `value="unsubscribe_all"`, "a@example.com"} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q:\n%s", want, page)
		}
	}
	// The page's form: keep cycling, drop sports.
	resp, err = http.PostForm(u, url.Values{"action": {"save"}, "topic": {"cycling"}})
	if err != nil {
		t.Fatal(err)
	}
	b, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(b), seserr.PreferencesSavedText) || !strings.Contains(string(b), `value="cycling" checked`) {
		t.Fatalf("save: %d\n%s", resp.StatusCode, b)
	}
	ctx := context.Background()
	c, l, _ := st.Contact(ctx, acct, region, "news", "a@example.com")
	if !Unsubscribed(c, l, "sports") || Unsubscribed(c, l, "cycling") || c.UnsubscribeAll {
		t.Fatalf("after save: %+v", c)
	}
	if got := sink.all(); len(got) != 1 || got[0].Source != SourceLink {
		t.Fatalf("changes: %+v", got)
	}
	// Unsubscribe from all.
	resp, err = http.PostForm(u, url.Values{"action": {"unsubscribe_all"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	c, l, _ = st.Contact(ctx, acct, region, "news", "a@example.com")
	if !c.UnsubscribeAll || !Unsubscribed(c, l, "cycling") || !Unsubscribed(c, l, "") {
		t.Fatalf("after unsubscribe all: %+v", c)
	}
}

func TestUnsubscribed(t *testing.T) {
	t.Parallel()
	l := store.ContactList{Topics: []store.Topic{{Name: "in", DefaultStatus: "OPT_IN"}, {Name: "out", DefaultStatus: "OPT_OUT"}}}
	for _, tc := range []struct {
		name  string
		c     store.Contact
		topic string
		want  bool
	}{
		{"no topic, subscribed", store.Contact{}, "", false},
		{"no topic, unsubscribed from all", store.Contact{UnsubscribeAll: true}, "", true},
		{"default OPT_IN", store.Contact{}, "in", false},
		{"default OPT_OUT", store.Contact{}, "out", true},
		{"own OPT_IN over default OPT_OUT", store.Contact{Preferences: []store.TopicPreference{{Topic: "out", Status: "OPT_IN"}}}, "out", false},
		{"own OPT_OUT over default OPT_IN", store.Contact{Preferences: []store.TopicPreference{{Topic: "in", Status: "OPT_OUT"}}}, "in", true},
		{"unsubscribed from all beats OPT_IN", store.Contact{UnsubscribeAll: true, Preferences: []store.TopicPreference{{Topic: "in", Status: "OPT_IN"}}}, "in", true},
	} {
		if got := Unsubscribed(tc.c, l, tc.topic); got != tc.want {
			t.Errorf("%s: Unsubscribed = %v, want %v", tc.name, got, tc.want)
		}
	}
}
