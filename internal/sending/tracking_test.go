package sending

import (
	"context"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"sesame/internal/store"
	"sesame/internal/tracking"
)

func TestSubmitTracksOpensAndClicks(t *testing.T) {
	t.Parallel()
	links := tracking.NewLinks([]byte("test key"))
	html := "<html><body><a href=\"http://example.com/a\" ses:tags=\"k:v\">a</a> <a ses:no-track href=\"https://example.com/b\">b</a></body></html>"
	msg := func(set string) string {
		return "From: me@example.org\r\nTo: you@verified.com\r\nX-SES-CONFIGURATION-SET: " + set +
			"\r\nSubject: hi\r\nContent-Type: text/html; charset=utf-8\r\n\r\n" + html + "\r\n"
	}
	for _, c := range []struct {
		name, set   string
		events      []string
		enabled     bool
		options     *store.TrackingOptions
		open, click bool
		openBase    string
		clickBase   string
	}{
		{name: "open and click", set: "both", events: []string{"SEND", "OPEN", "CLICK"}, enabled: true, open: true, click: true,
			openBase: "http://track.test", clickBase: "http://track.test"},
		{name: "click only", set: "clicks", events: []string{"CLICK"}, enabled: true, click: true, clickBase: "http://track.test"},
		{name: "no open/click destination", set: "sends", events: []string{"SEND", "DELIVERY"}, enabled: true},
		{name: "disabled destination", set: "off", events: []string{"OPEN", "CLICK"}, enabled: false},
		{name: "custom domain, REQUIRE_OPEN_ONLY", set: "custom", events: []string{"OPEN", "CLICK"}, enabled: true, open: true, click: true,
			options:  &store.TrackingOptions{CustomRedirectDomain: "t.verified.com", HttpsPolicy: "REQUIRE_OPEN_ONLY"},
			openBase: "https://t.verified.com", clickBase: "http://t.verified.com"},
		{name: "custom domain, REQUIRE", set: "customall", events: []string{"OPEN", "CLICK"}, enabled: true, open: true, click: true,
			options:  &store.TrackingOptions{CustomRedirectDomain: "t.verified.com", HttpsPolicy: "REQUIRE"},
			openBase: "https://t.verified.com", clickBase: "https://t.verified.com"},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, nil, 0)
			h.s.tracking = &Tracking{Links: links, BaseURL: "http://track.test"}
			ctx := context.Background()
			if err := h.st.CreateConfigurationSet(ctx, store.ConfigurationSet{AccountID: h.account, Region: region, Name: c.set,
				Options: store.ConfigurationSetOptions{Tracking: c.options}}, 0); err != nil {
				t.Fatal(err)
			}
			if err := h.st.CreateEventDestination(ctx, store.EventDestination{AccountID: h.account, Region: region,
				ConfigurationSet: c.set, Name: "d", Enabled: c.enabled, MatchingEventTypes: c.events,
				SNSTopicARN: "arn:aws:sns:us-east-1:1:t"}, 0); err != nil {
				t.Fatal(err)
			}
			id, err := h.submit(t, "me@example.org", []string{"you@verified.com"}, msg(c.set))
			if err != nil {
				t.Fatal(err)
			}
			_, raw := h.claimOne(t)
			if !c.open && !c.click {
				if !strings.HasSuffix(raw, msg(c.set)) {
					t.Fatalf("untracked message changed:\n%s", raw)
				}
				return
			}
			if strings.Contains(raw, "ses:") && !strings.Contains(raw, "X-SES-") {
				t.Fatalf("ses: attributes left in\n%s", raw)
			}
			if !strings.Contains(raw, `<a href="https://example.com/b">b</a>`) {
				t.Errorf("ses:no-track link changed:\n%s", raw)
			}
			pix := regexp.MustCompile(`src="([^"]+/I0/[^"]+)"`).FindStringSubmatch(raw)
			if c.open != (pix != nil) {
				t.Fatalf("pixel %v, want %v:\n%s", pix, c.open, raw)
			}
			if c.open {
				checkHit(t, links, pix[1], c.openBase, tracking.Hit{Kind: tracking.Open, MessageID: id})
			}
			link := regexp.MustCompile(`href="([^"]+/L0/[^"]+)"`).FindStringSubmatch(raw)
			if c.click != (link != nil) {
				t.Fatalf("tracked link %v, want %v:\n%s", link, c.click, raw)
			}
			if c.click {
				checkHit(t, links, link[1], c.clickBase, tracking.Hit{Kind: tracking.Click, MessageID: id,
					Link: "http://example.com/a", Tags: map[string][]string{"k": {"v"}}})
			}
		})
	}
}

func checkHit(t *testing.T, links *tracking.Links, raw, base string, want tracking.Hit) {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil || !strings.HasPrefix(raw, base+"/") {
		t.Fatalf("tracking URL %s (%v), want one under %s", raw, err, base)
	}
	hit, err := links.Parse(u.EscapedPath())
	if err != nil || hit.Kind != want.Kind || hit.MessageID != want.MessageID || hit.Link != want.Link ||
		len(hit.Tags) != len(want.Tags) || (want.Tags != nil && hit.Tags["k"][0] != "v") {
		t.Fatalf("Parse(%s) = %+v, %v; want %+v", raw, hit, err, want)
	}
}

// ConfigurationOverrides.Tracking beats the configuration set both ways,
// and tracks a message sent without one.
func TestSubmitTrackingOverride(t *testing.T) {
	t.Parallel()
	links := tracking.NewLinks([]byte("test key"))
	const html = "<html><body><a href=\"http://example.com/a\">a</a></body></html>"
	for _, c := range []struct {
		name, set   string // set "both" has an OPEN and CLICK destination
		override    TrackingOverride
		open, click bool
	}{
		{name: "no set, open enabled", override: TrackingOverride{Open: TrackingEnabled}, open: true},
		{name: "no set, both enabled", override: TrackingOverride{Open: TrackingEnabled, Click: TrackingEnabled}, open: true, click: true},
		{name: "no set, nothing", override: TrackingOverride{}},
		{name: "set, click disabled", set: "both", override: TrackingOverride{Click: TrackingDisabled}, open: true},
		{name: "set, both disabled", set: "both", override: TrackingOverride{Open: TrackingDisabled, Click: TrackingDisabled}},
		{name: "set, no override", set: "both", open: true, click: true},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, nil, 0)
			h.s.tracking = &Tracking{Links: links, BaseURL: "http://track.test"}
			ctx := context.Background()
			header := ""
			if c.set != "" {
				if err := h.st.CreateConfigurationSet(ctx, store.ConfigurationSet{AccountID: h.account, Region: region, Name: c.set}, 0); err != nil {
					t.Fatal(err)
				}
				if err := h.st.CreateEventDestination(ctx, store.EventDestination{AccountID: h.account, Region: region,
					ConfigurationSet: c.set, Name: "d", Enabled: true, MatchingEventTypes: []string{"OPEN", "CLICK"},
					SNSTopicARN: "arn:aws:sns:us-east-1:1:t"}, 0); err != nil {
					t.Fatal(err)
				}
				header = "X-SES-CONFIGURATION-SET: " + c.set + "\r\n"
			}
			d, err := h.s.NewDraft()
			if err != nil {
				t.Fatal(err)
			}
			if _, err := d.Write([]byte("From: me@example.org\r\nTo: you@verified.com\r\n" + header +
				"Subject: hi\r\nContent-Type: text/html; charset=utf-8\r\n\r\n" + html + "\r\n")); err != nil {
				t.Fatal(err)
			}
			if _, err := h.s.Submit(ctx, &Submission{AccountID: h.account, Region: region, MailFrom: "me@example.org",
				Recipients: []string{"you@verified.com"}, Draft: d, Via: "api", Tracking: c.override}); err != nil {
				t.Fatal(err)
			}
			_, raw := h.claimOne(t)
			if got := strings.Contains(raw, "/I0/"); got != c.open {
				t.Errorf("pixel %v, want %v:\n%s", got, c.open, raw)
			}
			if got := strings.Contains(raw, "/L0/"); got != c.click {
				t.Errorf("tracked link %v, want %v:\n%s", got, c.click, raw)
			}
		})
	}
}
