package mailmsg

import (
	"bytes"
	"testing"
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
		if end := HeaderEnd(msg, 0); end >= 0 && !bytes.HasSuffix(out, msg[end:]) {
			t.Fatalf("body changed: %q → %q", msg, out)
		}
		// Nothing left to drop: no control header, no second Message-ID or Date, no Return-Path.
		end := HeaderEnd(out, 0)
		if end < 0 {
			end = len(out)
		}
		forEachField(out[:end], func(field []byte, drop bool) bool {
			if drop {
				t.Fatalf("field to drop left: %q in %q → %q", field, msg, out)
			}
			return true
		})
		if again := StripForDelivery(out); !bytes.Equal(again, out) {
			t.Fatalf("not idempotent: %q → %q → %q", msg, out, again)
		}
	})
}
