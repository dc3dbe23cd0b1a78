package sending

import (
	"context"
	"io"
	"net/url"
	"slices"
	"strings"
	"testing"

	"sesame/internal/listmgmt"
	"sesame/internal/spool"
	"sesame/internal/store"
)

func TestParseListManagementOptions(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in   string
		want *spool.ListManagement
	}{
		{"news", &spool.ListManagement{ContactList: "news"}},
		{"news; topic=sports", &spool.ListManagement{ContactList: "news", Topic: "sports"}},
		{" news ;TOPIC = sports ", &spool.ListManagement{ContactList: "news", Topic: "sports"}},
		{"", nil},
		{"; topic=sports", nil},
		{"news; sports", nil},
		{"news; topic=", nil},
		{"news; kind=sports", nil},
	} {
		got, err := ParseListManagementOptions(tc.in)
		switch {
		case tc.want == nil && err == nil:
			t.Errorf("%q: accepted as %+v", tc.in, got)
		case tc.want != nil && (err != nil || *got != *tc.want):
			t.Errorf("%q: %+v, %v; want %+v", tc.in, got, err, tc.want)
		}
	}
}

func TestSubmitListManagement(t *testing.T) {
	t.Parallel()
	h := newHarness(t, func(s *store.AccountSettings) { s.Production = true }, 0)
	links := listmgmt.NewLinks([]byte("key"))
	h.s = New(Config{Store: h.st, Spool: h.sp, Clock: h.clk, Hostname: "mail.test", Logger: quietLogger(),
		ListManagement: &ListManagement{Links: links, BaseURL: "https://ses.example.net"}})
	t.Cleanup(func() { h.s.Close() })
	ctx := context.Background()
	if err := h.st.CreateContactList(ctx, store.ContactList{AccountID: h.account, Region: region, Name: "news",
		Topics: []store.Topic{{Name: "sports", DefaultStatus: "OPT_IN"}, {Name: "cycling", DefaultStatus: "OPT_OUT"}}}, 1); err != nil {
		t.Fatal(err)
	}
	for _, c := range []store.Contact{
		{Email: "gone@example.net", UnsubscribeAll: true},
		{Email: "nosports@example.net", Preferences: []store.TopicPreference{{Topic: "sports", Status: "OPT_OUT"}}},
		{Email: "fan@example.net"},
	} {
		c.AccountID, c.Region, c.List = h.account, region, "news"
		if err := h.st.CreateContact(ctx, c, nil); err != nil {
			t.Fatal(err)
		}
	}
	const body = "From: me@example.org\r\nSubject: Hi {{amazonSESUnsubscribeUrl}}\r\n\r\nbye {{amazonSESUnsubscribeUrl}}\r\n"
	for _, tc := range []struct {
		name, header string
		meta         *spool.ListManagement
		rcpts        []string
		unsubscribed []string
		link         bool   // the message gets the one recipient's link
		refusal      string // SMTP reply
	}{
		{name: "API options, topic, subscribed by default", meta: &spool.ListManagement{ContactList: "news", Topic: "sports"},
			rcpts: []string{"fan@example.net"}, link: true},
		{name: "header options, not a contact", header: "X-SES-LIST-MANAGEMENT-OPTIONS: news; topic=sports\r\n",
			rcpts: []string{"stranger@example.net"}, link: true},
		{name: "unsubscribed from the topic", header: "X-SES-LIST-MANAGEMENT-OPTIONS: news; topic=sports\r\n",
			rcpts: []string{"nosports@example.net"}, unsubscribed: []string{"nosports@example.net"}},
		{name: "OPT_OUT default", meta: &spool.ListManagement{ContactList: "news", Topic: "cycling"},
			rcpts: []string{"fan@example.net", "gone@example.net"}, unsubscribed: []string{"fan@example.net", "gone@example.net"}},
		{name: "the list as a whole", meta: &spool.ListManagement{ContactList: "news"},
			rcpts: []string{"nosports@example.net", "gone@example.net"}, unsubscribed: []string{"gone@example.net"}},
		{name: "the API's options win over the header", header: "X-SES-LIST-MANAGEMENT-OPTIONS: missing\r\n",
			meta: &spool.ListManagement{ContactList: "news"}, rcpts: []string{"fan@example.net"}, link: true},
		{name: "unknown list", header: "X-SES-LIST-MANAGEMENT-OPTIONS: missing\r\n", rcpts: []string{"fan@example.net"},
			refusal: "554 Transaction failed: List with name missing does not exist."},
		{name: "unknown topic", meta: &spool.ListManagement{ContactList: "news", Topic: "golf"}, rcpts: []string{"fan@example.net"},
			refusal: "554 Transaction failed: Topic golf does not exist in list news."},
		{name: "malformed header", header: "X-SES-LIST-MANAGEMENT-OPTIONS: news; sports\r\n", rcpts: []string{"fan@example.net"},
			refusal: `554 Transaction failed: Invalid X-SES-LIST-MANAGEMENT-OPTIONS header value: "news; sports".`},
	} {
		d, err := h.s.NewDraft()
		if err != nil {
			t.Fatal(err)
		}
		io.WriteString(d, tc.header+body)
		id, err := h.s.Submit(ctx, &Submission{AccountID: h.account, Region: region, MailFrom: "me@example.org",
			Recipients: tc.rcpts, Draft: d, Via: "smtp", Meta: spool.Meta{ListManagement: tc.meta}})
		if tc.refusal != "" {
			wantReply(t, err, tc.refusal)
			continue
		}
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		e, msg := h.claimOne(t)
		if !slices.Equal(e.Unsubscribed, tc.unsubscribed) || e.ListManagement == nil {
			t.Errorf("%s: Unsubscribed %q (list %+v), want %q", tc.name, e.Unsubscribed, e.ListManagement, tc.unsubscribed)
		}
		hasLink := strings.Contains(msg, "\r\nList-Unsubscribe: <https://ses.example.net/_sesame/unsubscribe?t=")
		if hasLink != tc.link || strings.Contains(msg, listmgmt.Placeholder) == tc.link {
			t.Errorf("%s: link placed %v, want %v:\n%s", tc.name, hasLink, tc.link, msg)
			continue
		}
		if !tc.link {
			continue
		}
		if !strings.Contains(msg, "\r\nList-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n") {
			t.Errorf("%s: no List-Unsubscribe-Post:\n%s", tc.name, msg)
		}
		_, rest, _ := strings.Cut(msg, "List-Unsubscribe: <")
		raw, _, _ := strings.Cut(rest, ">")
		u, err := url.Parse(raw)
		if err != nil {
			t.Fatal(err)
		}
		tok, err := links.Parse(u.Query().Get("t"))
		want := listmgmt.Token{AccountID: h.account, Region: region, List: "news", Topic: e.ListManagement.Topic, Email: tc.rcpts[0], MessageID: id}
		if err != nil || tok != want {
			t.Errorf("%s: token %+v, %v; want %+v", tc.name, tok, err, want)
		}
		if !strings.Contains(msg, "Subject: Hi "+raw+"\r\n") || !strings.Contains(msg, "bye "+raw+"\r\n") {
			t.Errorf("%s: placeholder not replaced by the link:\n%s", tc.name, msg)
		}
	}
}

// FuzzParseListManagementOptions: any header value is refused or names a
// list, and never a list or topic with a ';' or '=' of the syntax in it.
func FuzzParseListManagementOptions(f *testing.F) {
	for _, s := range []string{"news", "news; topic=sports", " a ;topic = b ", "a;b", ";", "a; topic="} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		lm, err := ParseListManagementOptions(v)
		if err != nil {
			return
		}
		if lm.ContactList == "" || strings.Contains(lm.ContactList, ";") {
			t.Fatalf("%q gave list %q", v, lm.ContactList)
		}
	})
}
