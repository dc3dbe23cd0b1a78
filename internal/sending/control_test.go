package sending

import (
	"bytes"
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

func TestStripForDelivery(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, in, want string }{
		{"none", "From: a@x.com\r\nSubject: s\r\n\r\nbody\r\n", "From: a@x.com\r\nSubject: s\r\n\r\nbody\r\n"},
		{"every control header, any case, folded, blanks before the colon",
			"X-SES-CONFIGURATION-SET: cs\r\nFrom: a@x.com\r\nx-ses-message-tags: a=b,\r\n\tc=d\r\n" +
				"X-Ses-Source-Arn : arn:aws:ses:us-east-1:1:identity/x.com\r\nX-SES-FROM-ARN: arn:f\r\n" +
				"X-SES-RETURN-PATH-ARN: arn:r\r\nSubject: s\r\nX-SES-LIST-MANAGEMENT-OPTIONS: list;\r\n topic=t\r\n" +
				"X-SES-Outgoing: 2026.11.23-127.0.0.1\r\n\r\nX-SES-CONFIGURATION-SET: in the body stays\r\n",
			"From: a@x.com\r\nSubject: s\r\nX-SES-Outgoing: 2026.11.23-127.0.0.1\r\n\r\nX-SES-CONFIGURATION-SET: in the body stays\r\n"},
		{"LF line ends, no body", "From: a@x.com\nX-SES-CONFIGURATION-SET: cs\n", "From: a@x.com\n"},
		{"last field without a line end", "From: a@x.com\r\nX-SES-MESSAGE-TAGS: a=b", "From: a@x.com\r\n"},
		{"a line that is not a field ends the header", "From: a@x.com\r\nnot a field\r\nX-SES-CONFIGURATION-SET: cs\r\n\r\nb",
			"From: a@x.com\r\nnot a field\r\nX-SES-CONFIGURATION-SET: cs\r\n\r\nb"},
		{"names that only look alike stay", "X-SES-CONFIGURATION-SETS: x\r\nX-SES: y\r\nX-SES-MESSAGE-TAGS-2: z\r\n\r\nb",
			"X-SES-CONFIGURATION-SETS: x\r\nX-SES: y\r\nX-SES-MESSAGE-TAGS-2: z\r\n\r\nb"},
		{"empty header section", "\r\nX-SES-CONFIGURATION-SET: cs\r\n", "\r\nX-SES-CONFIGURATION-SET: cs\r\n"},
		{"sesame's Message-ID and Date first: the client's later ones go",
			"Message-ID: <ses@r.h>\r\nDate: Mon, 23 Nov 2026 14:05:09 +0000\r\nFrom: a@x.com\r\nmessage-id : <mine@x>\r\n" +
				"DATE: Sun, 1 Jan\r\n 2026 00:00:00 +0000\r\nMessage-IDs: stays\r\n\r\nDate: body\r\n",
			"Message-ID: <ses@r.h>\r\nDate: Mon, 23 Nov 2026 14:05:09 +0000\r\nFrom: a@x.com\r\nMessage-IDs: stays\r\n\r\nDate: body\r\n"},
		{"a single Message-ID and Date stay", "Date: d\r\nMessage-ID: <m@x>\r\n\r\nb", "Date: d\r\nMessage-ID: <m@x>\r\n\r\nb"},
		{"Return-Path goes, every instance", "Return-Path: <a@x.com>\r\nFrom: a@x.com\r\nreturn-path:\r\n <b@x.com>\r\n\r\nReturn-Path: body",
			"From: a@x.com\r\n\r\nReturn-Path: body"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := StripForDelivery([]byte(tt.in)); string(got) != tt.want {
				t.Errorf("got  %q\nwant %q", got, tt.want)
			}
		})
	}
}

// The delivery path calls StripForDelivery on every message: without
// control headers it hands back its input, neither copied nor allocated.
func TestStripForDeliveryNoneDoesNotCopy(t *testing.T) {
	msg := []byte("From: a@x.com\r\nTo: b@y.com\r\nSubject: s\r\nMessage-ID: <x@y>\r\n\r\nbody\r\n")
	if got := StripForDelivery(msg); &got[0] != &msg[0] || len(got) != len(msg) {
		t.Fatal("a message without control headers was copied")
	}
	if n := testing.AllocsPerRun(100, func() { StripForDelivery(msg) }); n != 0 {
		t.Errorf("%v allocations, want 0", n)
	}
}

func FuzzStripForDelivery(f *testing.F) {
	f.Add([]byte("X-SES-CONFIGURATION-SET: cs\r\nFrom: a@x.com\r\nX-SES-MESSAGE-TAGS: a=b,\r\n c=d\r\n\r\nbody\r\n"))
	f.Add([]byte("x-ses-from-arn:a\nSubject: s\n\nbody"))
	f.Add([]byte("no header at all"))
	f.Fuzz(func(t *testing.T, msg []byte) {
		out := StripForDelivery(msg)
		if len(out) > len(msg) {
			t.Fatalf("output longer than input: %q → %q", msg, out)
		}
		if end := headerEnd(msg, 0); end >= 0 && !bytes.HasSuffix(out, msg[end:]) {
			t.Fatalf("body changed: %q → %q", msg, out)
		}
		// Nothing left to drop: no control header, no second Message-ID or Date, no Return-Path.
		end := headerEnd(out, 0)
		if end < 0 {
			end = len(out)
		}
		forEachField(out[:end], func(field []byte, drop bool) bool {
			if drop {
				t.Fatalf("field to drop left: %q in %q → %q", field, msg, out)
			}
			return true
		})
		if h2, err := newHeaderRules().parse(out[:end]); err == nil && (h2.hasConfigSet || h2.hasTags) {
			t.Fatalf("parse still finds control headers in %q", out)
		}
		if again := StripForDelivery(out); !bytes.Equal(again, out) {
			t.Fatalf("not idempotent: %q → %q → %q", msg, out, again)
		}
	})
}

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
