package console

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"sesame/internal/store"
)

// statsConsole is a console over an in-process API and a real store,
// signed in as the store's one account: the client and the store.
type statsConsole struct {
	t       *testing.T
	st      *store.Store
	account string
	url     string
	c       *http.Client
	csrf    string
}

func newStatsConsole(t *testing.T) *statsConsole {
	t.Helper()
	e := newEnv(t)
	sc := &statsConsole{t: t, st: e.st, account: e.account, url: e.url, c: e.browser()}
	if resp := e.signIn(sc.c, e.keyID, e.secret); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign-in: %s", resp.Status)
	}
	sc.get("/us-east-1/")
	return sc
}

func (sc *statsConsole) get(path string) (int, string) {
	sc.t.Helper()
	resp, err := sc.c.Get(sc.url + path)
	if err != nil {
		sc.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if m := hiddenCSRF.FindSubmatch(b); m != nil {
		sc.csrf = string(m[1])
	}
	return resp.StatusCode, string(b)
}

func (sc *statsConsole) post(path string, form url.Values) *http.Response {
	sc.t.Helper()
	form.Set("csrf", sc.csrf)
	resp, err := sc.c.PostForm(sc.url+path, form)
	if err != nil {
		sc.t.Fatal(err)
	}
	return resp
}

var nextPage = regexp.MustCompile(`href="(/us-east-1/suppression\?[^"]*)" rel="next"`)

// The list pages with ListSuppressedDestinations' NextToken, 50 a page,
// and filters by reason; the search by address shows the entry's
// message and feedback ids.
func TestSuppressionPagesAndFilters(t *testing.T) {
	sc := newStatsConsole(t)
	ctx := context.Background()
	old := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	for i := range 120 {
		reason := store.ReasonBounce
		if i%4 == 0 {
			reason = store.ReasonComplaint
		}
		d := store.SuppressedDestination{AccountID: sc.account, Region: "us-east-1", Address: fmt.Sprintf("r%03d@example.net", i),
			Reason: reason, Updated: time.Now()}
		if i == 7 {
			d.Updated, d.MessageID, d.FeedbackID = old, "0100-msg", "0100-feedback"
		}
		if err := sc.st.PutSuppressedDestination(ctx, d); err != nil {
			t.Fatal(err)
		}
	}
	rows := regexp.MustCompile(`<a href="/us-east-1/suppression\?address=`)
	seen, pages := 0, 0
	for path := "/us-east-1/suppression"; path != "" && pages < 10; pages++ {
		status, body := sc.get(strings.ReplaceAll(path, "&amp;", "&"))
		if status != http.StatusOK {
			t.Fatalf("%s: %d\n%s", path, status, body)
		}
		seen += len(rows.FindAllString(body, -1))
		path = ""
		if m := nextPage.FindStringSubmatch(body); m != nil {
			path = m[1]
		}
	}
	if seen != 120 || pages != 3 {
		t.Errorf("%d addresses on %d pages, want 120 on 3", seen, pages)
	}

	_, body := sc.get("/us-east-1/suppression?reason=COMPLAINT")
	if n := len(rows.FindAllString(body, -1)); n != 30 || strings.Contains(body, ">BOUNCE<") {
		t.Errorf("COMPLAINT filter: %d rows", n)
	}
	// The dates are whole UTC days, both included.
	_, body = sc.get("/us-east-1/suppression?from=2026-01-02&to=2026-01-02")
	if n := len(rows.FindAllString(body, -1)); n != 1 || !strings.Contains(body, "r007@example.net") {
		t.Errorf("date filter: %d rows\n%s", n, body)
	}
	_, body = sc.get("/us-east-1/suppression?from=yesterday")
	if !strings.Contains(body, "The start date must be a date") {
		t.Error("a bad date is not explained")
	}
	_, body = sc.get("/us-east-1/suppression?address=R007@example.net")
	for _, want := range []string{"0100-msg", "0100-feedback", "2026-01-02 03:04:05 UTC"} {
		if !strings.Contains(body, want) {
			t.Errorf("the entry lacks %q", want)
		}
	}
	_, body = sc.get("/us-east-1/suppression?address=nobody@example.net")
	if !strings.Contains(body, "nobody@example.net is not on your suppression list") {
		t.Error("no empty state for an address not on the list")
	}
}

// A refused add shows SES's error with the form as it was.
func TestSuppressionAddRefused(t *testing.T) {
	sc := newStatsConsole(t)
	resp := sc.post("/us-east-1/suppression", url.Values{"email_address": {"not-an-address"}, "reason": {"COMPLAINT"}})
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	body := string(b)
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, "BadRequestException") ||
		!strings.Contains(body, `value="not-an-address"`) || !strings.Contains(body, `value="COMPLAINT" selected`) {
		t.Errorf("%s\n%s", resp.Status, body)
	}
}

// The htmx refresh gets the plots alone, not the page around them.
func TestStatisticsFragment(t *testing.T) {
	sc := newStatsConsole(t)
	status, body := sc.get("/us-east-1/statistics/plots?range=7d")
	if status != http.StatusOK || !strings.HasPrefix(strings.TrimSpace(body), `<section id="stats-plots"`) ||
		strings.Contains(body, "<html") || !strings.Contains(body, `hx-trigger="every 30s"`) || !strings.Contains(body, "range=7d") {
		t.Errorf("%d\n%s", status, body)
	}
	_, page := sc.get("/us-east-1/statistics")
	if !strings.Contains(page, `aria-current="page">Last 14 days`) || !strings.Contains(page, "Nothing was sent in this period") {
		t.Errorf("statistics page:\n%s", page)
	}
}
