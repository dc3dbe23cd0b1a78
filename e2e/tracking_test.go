package e2e

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	v2types "github.com/aws/aws-sdk-go-v2/service/sesv2/types"
	"github.com/emersion/go-message/mail"

	"sesame/internal/testenv"
)

// engagementRecord is the part of an Open or Click record the test reads.
type engagementRecord struct {
	EventType string `json:"eventType"`
	Mail      struct {
		MessageID     string              `json:"messageId"`
		Tags          map[string][]string `json:"tags"`
		CommonHeaders struct {
			Subject string `json:"subject"`
		} `json:"commonHeaders"`
	} `json:"mail"`
	Open *struct {
		IPAddress string `json:"ipAddress"`
		UserAgent string `json:"userAgent"`
		Timestamp string `json:"timestamp"`
	} `json:"open"`
	Click *struct {
		IPAddress string              `json:"ipAddress"`
		UserAgent string              `json:"userAgent"`
		Link      string              `json:"link"`
		LinkTags  map[string][]string `json:"linkTags"`
	} `json:"click"`
}

// TestOpenAndClickTracking: a configuration set with an SNS destination for
// OPEN and CLICK; an API send with HTML goes out with its HTML rewritten
// (a pixel, tracked links, ses:no-track and ses:tags gone, the text part
// untouched); fetching the pixel answers a GIF, following a link a 302 to
// its target, an edited URL a 404; the subscriber gets an Open and a Click
// record with the link and its tags.
func TestOpenAndClickTracking(t *testing.T) {
	s := testenv.Start(t, testenv.Options{})
	s.Verify("sender@example.com")
	ctx := context.Background()
	sub := newSNSSubscriber(t)
	topic := snsTopic(t, s, "ses-engagement", sub)
	v2 := s.SESv2Client(t)
	snsEventSet(t, v2, "engaged", "opens-clicks", topic, v2types.EventTypeOpen, v2types.EventTypeClick)

	const target = "https://example.com/offer?id=7&src=mail"
	html := `<html><body><p>Hello</p>{{ses:openTracker}}` +
		`<a href="https://example.com/offer?id=7&amp;src=mail" ses:tags="campaign:spring;variant:b">offer</a> ` +
		`<a ses:no-track href="https://example.com/private">private</a></body></html>`
	sent, err := v2.SendEmail(ctx, &sesv2.SendEmailInput{FromEmailAddress: aws.String("sender@example.com"),
		Destination:          &v2types.Destination{ToAddresses: []string{"success@simulator.amazonses.com"}},
		ConfigurationSetName: aws.String("engaged"),
		Content: &v2types.EmailContent{Simple: &v2types.Message{Subject: &v2types.Content{Data: aws.String("tracked")},
			Body: &v2types.Body{Html: &v2types.Content{Data: aws.String(html)},
				Text: &v2types.Content{Data: aws.String("Hello https://example.com/offer")}}}}})
	if err != nil {
		t.Fatal(err)
	}
	id := aws.ToString(sent.MessageId)

	msgs := s.WaitCaptured(1, 15*time.Second)
	if len(msgs) != 1 {
		t.Fatalf("%d captured messages, want 1", len(msgs))
	}
	htmlPart, textPart := parts(t, msgs[0].RawData)
	if textPart != "Hello https://example.com/offer" {
		t.Errorf("text part = %q, want it untouched", textPart)
	}
	if strings.Contains(htmlPart, "ses:") || strings.Contains(htmlPart, "{{") {
		t.Errorf("ses: attributes or the placeholder left in the HTML:\n%s", htmlPart)
	}
	if !strings.Contains(htmlPart, `<a href="https://example.com/private">private</a>`) {
		t.Errorf("the ses:no-track link changed:\n%s", htmlPart)
	}
	base := s.APIURL()
	pix := regexp.MustCompile(`<p>Hello</p><img [^>]*src="(` + regexp.QuoteMeta(base) + `/I0/` + id + `/[^"]+)"`).FindStringSubmatch(htmlPart)
	link := regexp.MustCompile(`<a href="(` + regexp.QuoteMeta(base) + `/L0/[^"]+/1/` + id + `/[^"]+)">offer</a>`).FindStringSubmatch(htmlPart)
	if pix == nil || link == nil {
		t.Fatalf("no pixel at the placeholder or no tracked link in:\n%s", htmlPart)
	}

	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	get := func(u string) *http.Response {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, u, nil)
		req.Header.Set("User-Agent", "sesame-e2e/1.0")
		resp, err := noRedirect.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp
	}
	if resp := get(pix[1]); resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "image/gif" || resp.ContentLength != 43 {
		t.Errorf("pixel: %d %s, %d bytes", resp.StatusCode, resp.Header.Get("Content-Type"), resp.ContentLength)
	}
	if resp := get(link[1]); resp.StatusCode != http.StatusFound || resp.Header.Get("Location") != target {
		t.Errorf("link: %d to %q, want 302 to %q", resp.StatusCode, resp.Header.Get("Location"), target)
	}
	edited := strings.Replace(link[1], "example.com", "evil.example", 1)
	if resp := get(edited); resp.StatusCode != http.StatusNotFound {
		t.Errorf("edited link: %d, want 404", resp.StatusCode)
	}

	var open, click *engagementRecord
	waitFor(t, "an Open and a Click record", func() bool {
		open, click = nil, nil
		for _, m := range sub.notifications() {
			var r engagementRecord
			if json.Unmarshal([]byte(m["Message"]), &r) != nil {
				continue
			}
			switch r.EventType {
			case "Open":
				open = &r
			case "Click":
				click = &r
			}
		}
		return open != nil && click != nil
	})
	if open.Mail.MessageID != id || open.Open == nil || open.Open.IPAddress != "127.0.0.1" || open.Open.UserAgent != "sesame-e2e/1.0" ||
		open.Mail.CommonHeaders.Subject != "tracked" || !slices.Equal(open.Mail.Tags["ses:configuration-set"], []string{"engaged"}) {
		t.Errorf("open record: %+v", open)
	}
	if click.Mail.MessageID != id || click.Click == nil || click.Click.Link != target || click.Click.UserAgent != "sesame-e2e/1.0" ||
		!slices.Equal(click.Click.LinkTags["campaign"], []string{"spring"}) || !slices.Equal(click.Click.LinkTags["variant"], []string{"b"}) {
		t.Errorf("click record: %+v", click)
	}
}

// parts decodes a message's HTML and text parts.
func parts(t *testing.T, raw string) (html, text string) {
	t.Helper()
	r, err := mail.CreateReader(strings.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	for {
		p, err := r.NextPart()
		if err == io.EOF {
			return html, text
		}
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(p.Body)
		ct := p.Header.Get("Content-Type")
		switch {
		case strings.HasPrefix(ct, "text/html"):
			html = string(b)
		case strings.HasPrefix(ct, "text/plain"):
			text = strings.TrimRight(string(b), "\r\n")
		}
	}
}

// TestTrackedMailDKIMVerifies: in mx mode, a tracked message's DKIM
// signature (made at delivery) covers the rewritten HTML: python3-dkim
// verifies the delivered message, which carries the pixel and the tracked
// link.
func TestTrackedMailDKIMVerifies(t *testing.T) {
	d, sinks, s, dnsAddr := startDKIMCheck(t)
	ctx := context.Background()
	v2 := s.SESv2Client(t)
	const domain = "tracked.example"
	easyDKIMDomain(t, v2, d, domain, e2eDKIMZone)
	s.Production()

	sub := newSNSSubscriber(t)
	topic := snsTopic(t, s, "ses-engagement", sub)
	snsEventSet(t, v2, "engaged", "opens-clicks", topic, v2types.EventTypeOpen, v2types.EventTypeClick)
	if _, err := v2.SendEmail(ctx, &sesv2.SendEmailInput{FromEmailAddress: aws.String("news@" + domain),
		Destination:          &v2types.Destination{ToAddresses: []string{"ann@rcpt.test"}},
		ConfigurationSetName: aws.String("engaged"),
		Content: &v2types.EmailContent{Simple: &v2types.Message{Subject: &v2types.Content{Data: aws.String("tracked and signed")},
			Body: &v2types.Body{Html: &v2types.Content{Data: aws.String(
				`<p>` + strings.Repeat("a long paragraph ", 20) + `<a href="https://example.com/x">x</a></p>`)}}}},
	}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the delivered message", func() bool { return len(sinks[0].Messages()) >= 1 })
	m := sinks[0].Messages()[0]
	html, _ := parts(t, string(m.Data))
	if !strings.Contains(html, "/I0/") || !strings.Contains(html, "/L0/https%3A%2F%2Fexample.com%2Fx/1/") {
		t.Fatalf("delivered HTML not tracked:\n%s", html)
	}
	res, err := pyVerify(t, filepath.Join(t.TempDir(), "m.eml"), m.Data, d.Addr, dnsAddr)
	if err != nil || res.D != domain {
		t.Fatalf("python3-dkim: %+v, %v\n%s", res, err, m.Data)
	}
}
