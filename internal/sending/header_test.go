package sending

import (
	"errors"
	"io"
	"slices"
	"strings"
	"testing"
	"testing/iotest"

	"sesame/internal/mailmsg"
	"sesame/internal/seserr"
)

func TestHeaderRules(t *testing.T) {
	t.Parallel()
	rules := newHeaderRules()
	tests := []struct {
		name    string
		msg     string
		want    []string // sender addresses when accepted
		wantErr string   // exact SMTP reply when refused
	}{
		{name: "plain", msg: "From: a@example.com\r\nTo: b@example.org\r\nSubject: hi\r\n\r\nbody\r\n",
			want: []string{"a@example.com"}},
		{name: "display name and list", msg: "From: \"Ann, A.\" <ann@example.com>, bob@example.com\r\n\r\n",
			want: []string{"ann@example.com", "bob@example.com"}},
		{name: "sender and return-path", msg: "From: a@example.com\r\nSender: s@example.com\r\nReturn-Path: <r@example.com>\r\n\r\n",
			want: []string{"a@example.com", "s@example.com", "r@example.com"}},
		{name: "null return-path", msg: "From: a@example.com\r\nReturn-Path: <>\r\n\r\n", want: []string{"a@example.com"}},
		{name: "folded from", msg: "From: Ann\r\n <ann@example.com>\r\n\r\n", want: []string{"ann@example.com"}},
		{name: "encoded word, unknown charset", msg: "From: =?x-weird?Q?Ann?= <ann@example.com>\r\n\r\n", want: []string{"ann@example.com"}},
		{name: "LF line endings", msg: "From: a@example.com\nSubject: x\n\nbody\n", want: []string{"a@example.com"}},
		{name: "no body", msg: "From: a@example.com\r\nSubject: x\r\n", want: []string{"a@example.com"}},
		{name: "repeated non-unique headers", msg: "From: a@example.com\r\nReceived: x\r\nReceived: y\r\nTo: b@x\r\nTo: c@x\r\n\r\n",
			want: []string{"a@example.com"}},
		{name: "duplicate header in body is fine", msg: "From: a@example.com\r\n\r\nFrom: b@example.com\r\n", want: []string{"a@example.com"}},

		{name: "duplicate subject", msg: "From: a@example.com\r\nSubject: 1\r\nsubject: 2\r\n\r\n",
			wantErr: "554 Transaction failed: Duplicate header 'Subject'."},
		{name: "duplicate message-id, any case", msg: "MESSAGE-ID: <1@x>\r\nFrom: a@example.com\r\nMessage-Id: <2@x>\r\n\r\n",
			wantErr: "554 Transaction failed: Duplicate header 'Message-ID'."},
		{name: "duplicate from", msg: "From: a@example.com\r\nFrom: b@example.com\r\n\r\n",
			wantErr: "554 Transaction failed: Duplicate header 'From'."},
		{name: "duplicate with space before colon", msg: "From: a@example.com\r\nMIME-Version: 1.0\r\nMIME-Version : 1.0\r\n\r\n",
			wantErr: "554 Transaction failed: Duplicate header 'MIME-Version'."},
		{name: "duplicate acceptLanguage", msg: "From: a@example.com\r\nacceptlanguage: en\r\nAcceptLanguage: fr\r\n\r\n",
			wantErr: "554 Transaction failed: Duplicate header 'acceptLanguage'."},
		{name: "duplicate DKIM-Signature", msg: "DKIM-Signature: a\r\n b\r\nFrom: a@example.com\r\nDKIM-Signature: c\r\n\r\n",
			wantErr: "554 Transaction failed: Duplicate header 'DKIM-Signature'."},
		{name: "missing from", msg: "To: b@example.com\r\n\r\nbody",
			wantErr: "554 Transaction failed: Missing final '@domain'"},
		{name: "empty from", msg: "From: \r\n\r\n", wantErr: "554 Transaction failed: Missing final '@domain'"},
		{name: "from without domain", msg: "From: alice\r\n\r\n", wantErr: "554 Transaction failed: Missing final '@domain'"},
		{name: "from without user", msg: "From: Ann <@example.com>\r\n\r\n",
			wantErr: "554 Transaction failed: User name is missing: 'Ann <@example.com>'"},
		{name: "from with illegal characters", msg: "From: Ann <a(b@example.com>\r\n\r\n",
			wantErr: "554 Transaction failed: Address contains illegal characters in user name: 'Ann <a(b@example.com>'."},
		{name: "from with 8-bit local part", msg: "From: jörg@example.com\r\n\r\n",
			wantErr: "554 Transaction failed: Address contains illegal characters in user name: 'jörg@example.com'."},
		{name: "bad sender", msg: "From: a@example.com\r\nSender: nobody\r\n\r\n",
			wantErr: "554 Transaction failed: Missing final '@domain'"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			buf := make([]byte, 0, 16)
			sec, err := readHeaderSection(iotest.OneByteReader(strings.NewReader(tc.msg)), &buf)
			if err != nil {
				t.Fatal(err)
			}
			h, err := rules.parse(sec)
			var got []string
			if err == nil {
				got, err = h.senderAddresses()
			}
			if tc.wantErr != "" {
				var se *seserr.Error
				if !errors.As(err, &se) || se.SMTPReply() != tc.wantErr {
					t.Fatalf("got %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("refused: %v", err)
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("senders %q, want %q", got, tc.want)
			}
		})
	}
}

func TestReadHeaderSection(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, msg, want string
		lf              bool
	}{
		{name: "crlf", msg: "A: 1\r\nB: 2\r\n\r\nbody\r\n\r\n", want: "A: 1\r\nB: 2\r\n"},
		{name: "lf", msg: "A: 1\nB: 2\n\nbody\n", want: "A: 1\nB: 2\n", lf: true},
		{name: "empty header", msg: "\r\nbody", want: ""},
		{name: "no blank line", msg: "A: 1\r\nB: 2", want: "A: 1\r\nB: 2"},
		{name: "empty message", msg: "", want: ""},
	}
	for _, tc := range tests {
		for _, oneByte := range []bool{false, true} {
			var r io.Reader = strings.NewReader(tc.msg)
			if oneByte {
				r = iotest.OneByteReader(r)
			}
			buf := make([]byte, 0, 4)
			got, err := readHeaderSection(r, &buf)
			if err != nil || string(got) != tc.want {
				t.Errorf("%s (one byte %v): got %q, %v; want %q", tc.name, oneByte, got, err, tc.want)
			}
		}
		h, _ := newHeaderRules().parse([]byte(tc.want))
		if tc.want != "" && h.lf != tc.lf {
			t.Errorf("%s: lf = %v, want %v", tc.name, h.lf, tc.lf)
		}
	}
}

func TestReadHeaderSectionBounded(t *testing.T) {
	t.Parallel()
	huge := "X-Big: " + strings.Repeat("a", maxHeaderBytes) + "\r\n\r\nbody"
	buf := make([]byte, 0, 8<<10)
	if _, err := readHeaderSection(strings.NewReader(huge), &buf); !errors.Is(err, errHeaderTooLong) {
		t.Fatalf("got %v, want errHeaderTooLong", err)
	}
	if cap(buf) > 2*maxHeaderBytes+64 {
		t.Errorf("buffer grew to %d bytes", cap(buf))
	}
	// A large body after a small header is never read.
	msg := io.MultiReader(strings.NewReader("From: a@example.com\r\n\r\n"), iotest.ErrReader(errors.New("body read")))
	buf = buf[:0]
	if got, err := readHeaderSection(msg, &buf); err != nil || string(got) != "From: a@example.com\r\n" {
		t.Fatalf("got %q, %v", got, err)
	}
}

func TestUniqueHeaderCount(t *testing.T) {
	t.Parallel()
	if len(uniqueHeaders) != 59 {
		t.Errorf("%d unique headers, spec §9 lists 59", len(uniqueHeaders))
	}
	if len(newHeaderRules().unique) != len(uniqueHeaders) {
		t.Error("two unique headers share a lower-case name")
	}
	for _, n := range uniqueHeaders {
		if len(n) > mailmsg.MaxNameLen {
			t.Errorf("%s longer than mailmsg.MaxNameLen", n)
		}
	}
}

// FuzzSimpleAddress checks the fast path against net/mail: whatever it
// accepts, net/mail parses to the same address.
func FuzzSimpleAddress(f *testing.F) {
	for _, s := range []string{"a@b.c", "Ann <a@b.c>", "=?utf-8?q?Ann?= <a@b.c>", "A. B. <a@b.c>", `"A" <a@b.c>`,
		"a@b.c, d@e.f", "Ann <a@b.c> x", "<a@b.c>", "Ann<a@b.c>", " a@b.c"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		got, ok := simpleAddress(v)
		if !ok {
			return
		}
		a, err := addressParser.Parse(v)
		if err != nil {
			t.Fatalf("simpleAddress(%q) = %q, net/mail: %v", v, got, err)
		}
		if a.Address != got {
			t.Fatalf("simpleAddress(%q) = %q, net/mail %q", v, got, a.Address)
		}
	})
}
