package sending

import (
	"context"
	"io"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"sesame/internal/seserr"
	"sesame/internal/spool"
	"sesame/internal/store"
)

func TestParseMessageTags(t *testing.T) {
	t.Parallel()
	got, err := ParseMessageTags(" a=1, b_c = x-y ,, n=v.w@x, ok=2,")
	want := []Header{{"a", "1"}, {"b_c", "x-y"}, {"n", "v.w@x"}, {"ok", "2"}}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("got %v %v, want %v", got, err, want)
	}
	for _, tc := range []struct{ in, want string }{
		{"a=1, bad name=v", seserr.InvalidTagName("bad name").Message},
		{"k=caf\u00e9", seserr.InvalidTagValue("caf\u00e9").Message},
		{"=v", seserr.TagNameMissing().Message},
		{"k", seserr.TagValueMissing().Message},
		{"n=", seserr.TagValueMissing().Message},
		{"a@b=c@d", seserr.InvalidTagName("a@b").Message},
	} {
		if _, err := ParseMessageTags(tc.in); err == nil || seserr.As(err).Message != tc.want {
			t.Errorf("%q: err = %v, want %q", tc.in, err, tc.want)
		}
	}
}

// Over SMTP the control headers are the only way to name a configuration
// set and tags: Submit takes them into the spool attributes (the first
// instance of each), holds the set and the tags to SES's rules, lets a submission's own attributes win, and spools the message
// as received.
func TestSubmitControlHeaders(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil, 0)
	ctx := context.Background()
	paused := store.ConfigurationSet{AccountID: h.account, Region: region, Name: "paused"}
	paused.Options.Sending = &store.SendingOptions{SendingEnabled: false}
	for _, cs := range []store.ConfigurationSet{{AccountID: h.account, Region: region, Name: "tls"}, paused} {
		if err := h.st.CreateConfigurationSet(ctx, cs, 0); err != nil {
			t.Fatal(err)
		}
	}
	const from = "From: me@example.org\r\nSubject: cs\r\n"
	for _, tc := range []struct {
		name, header string
		meta         spool.Meta // the submission's own
		want         spool.Meta // the spooled message's
		refusal      string     // SMTP reply
	}{
		{name: "set and tags", header: "X-SES-CONFIGURATION-SET: tls\r\nX-SES-MESSAGE-TAGS: campaign=fall, tier=gold\r\n",
			want: spool.Meta{ConfigurationSet: "tls", Tags: []spool.Tag{{Name: "campaign", Value: "fall"}, {Name: "tier", Value: "gold"}}}},
		{name: "first instance wins", header: "x-ses-configuration-set:  tls \r\nX-SES-CONFIGURATION-SET: paused\r\nX-SES-MESSAGE-TAGS: a=1\r\nX-SES-MESSAGE-TAGS: b=2\r\n",
			want: spool.Meta{ConfigurationSet: "tls", Tags: []spool.Tag{{Name: "a", Value: "1"}}}},
		{name: "a bad tag refuses the message", header: "X-SES-MESSAGE-TAGS: ok=1, bad tag=x, k=caf\u00e9\r\n",
			refusal: "554 Transaction failed: Invalid tag name <bad tag>: only alphanumeric ASCII characters, '_',  '-' are allowed."},
		{name: "a tag value may hold '.' and '@'", header: "X-SES-MESSAGE-TAGS: to=a.b@c\r\n",
			want: spool.Meta{Tags: []spool.Tag{{Name: "to", Value: "a.b@c"}}}},
		{name: "header tags the call's tags replace are not checked", header: "X-SES-MESSAGE-TAGS: bad tag=x\r\n",
			meta: spool.Meta{Tags: []spool.Tag{{Name: "api", Value: "1"}}}, want: spool.Meta{Tags: []spool.Tag{{Name: "api", Value: "1"}}}},
		{name: "the submission's own attributes win", header: "X-SES-CONFIGURATION-SET: missing\r\nX-SES-MESSAGE-TAGS: a=1\r\n",
			meta: spool.Meta{ConfigurationSet: "tls", Tags: []spool.Tag{{Name: "api", Value: "1"}}, Template: "t"},
			want: spool.Meta{ConfigurationSet: "tls", Tags: []spool.Tag{{Name: "api", Value: "1"}}, Template: "t"}},
		{name: "tags from the header, set from the call", header: "X-SES-MESSAGE-TAGS: a=1\r\n",
			meta: spool.Meta{ConfigurationSet: "tls"},
			want: spool.Meta{ConfigurationSet: "tls", Tags: []spool.Tag{{Name: "a", Value: "1"}}}},
		{name: "a Return-Path header says where feedback goes", header: "Return-Path: <fb@verified.com>\r\n",
			want: spool.Meta{FeedbackTo: "fb@verified.com"}},
		{name: "the call's ReturnPath beats the header", header: "Return-Path: fb@verified.com\r\n",
			meta: spool.Meta{FeedbackTo: "api@example.org"}, want: spool.Meta{FeedbackTo: "api@example.org"}},
		{name: "the null Return-Path names nobody", header: "Return-Path: <>\r\n"},
		{name: "a set that does not exist", header: "X-SES-CONFIGURATION-SET: missing\r\n",
			refusal: seserr.ConfigurationSetDoesNotExist("missing").SMTPReply()},
		{name: "a set with sending paused", header: "X-SES-CONFIGURATION-SET: paused\r\n",
			refusal: seserr.ConfigurationSetSendingPaused("paused").SMTPReply()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h.clk.Advance(2 * time.Second) // a fresh rate-limit second for each send
			msg := tc.header + from + "\r\nbody\r\n"
			d, _ := h.s.NewDraft()
			io.WriteString(d, msg)
			own := tc.meta
			own.Tags = slices.Clone(tc.meta.Tags)
			_, err := h.s.Submit(ctx, &Submission{AccountID: h.account, Region: region, MailFrom: "me@example.org",
				Recipients: []string{"you@verified.com"}, Draft: d, Via: "smtp", Meta: tc.meta})
			if tc.refusal != "" {
				wantReply(t, err, tc.refusal)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(tc.meta, own) {
				t.Errorf("the submission's meta was changed: %v", tc.meta)
			}
			e, raw := h.claimOne(t)
			if !reflect.DeepEqual(e.Meta, tc.want) {
				t.Errorf("meta = %+v, want %+v", e.Meta, tc.want)
			}
			if !strings.HasSuffix(raw, msg) {
				t.Errorf("the spool does not keep the message as received:\n%s", raw)
			}
		})
	}
}
