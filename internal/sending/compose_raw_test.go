package sending

import (
	"bytes"
	"reflect"
	"testing"
)

func TestPrepareRaw(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, in, want string
		d              RawDirectives
	}{
		{"nothing to drop", "From: a@x.com\r\nSubject: s\r\n\r\nbody\r\n", "From: a@x.com\r\nSubject: s\r\n\r\nbody\r\n", RawDirectives{}},
		{"directives and overwritten fields",
			"Message-ID: <old@x>\r\nFrom: a@x.com\r\nX-SES-CONFIGURATION-SET: cs1\r\nx-ses-message-tags: k=v,\r\n k2 = v2\r\nDate: Mon, 1 Jan 2024 00:00:00 +0000\r\nX-SES-SOURCE-ARN: arn:x\r\nSubject: s\r\n\r\nX-SES-CONFIGURATION-SET: in the body stays\r\n",
			"From: a@x.com\r\nSubject: s\r\n\r\nX-SES-CONFIGURATION-SET: in the body stays\r\n",
			RawDirectives{ConfigurationSet: "cs1", Tags: []Header{{"k", "v"}, {"k2", "v2"}}}},
		{"LF line ends, no body", "From: a@x.com\nDate: x\nSubject: s\n", "From: a@x.com\nSubject: s\n", RawDirectives{}},
		{"empty header", "\r\nbody", "\r\nbody", RawDirectives{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, d := PrepareRaw([]byte(tt.in))
			if string(got) != tt.want {
				t.Errorf("message = %q, want %q", got, tt.want)
			}
			if !reflect.DeepEqual(d, tt.d) {
				t.Errorf("directives = %+v, want %+v", d, tt.d)
			}
		})
	}
}

func FuzzPrepareRaw(f *testing.F) {
	f.Add([]byte("Message-ID: <a@b>\r\nFrom: a@x.com\r\nX-SES-MESSAGE-TAGS: k=v, k2=v2\r\n\r\nbody\r\n"))
	f.Add([]byte("Date: x\n continued\nSubject: s\n\nbody"))
	f.Add([]byte("no header at all"))
	f.Fuzz(func(t *testing.T, msg []byte) {
		out, _ := PrepareRaw(msg)
		if len(out) > len(msg) {
			t.Fatalf("output longer than input: %q → %q", msg, out)
		}
		// The body (after the header section) is never touched.
		if end := headerEnd(msg, 0); end >= 0 && !bytes.HasSuffix(out, msg[end:]) {
			t.Fatalf("body changed: %q → %q", msg, out)
		}
	})
}
