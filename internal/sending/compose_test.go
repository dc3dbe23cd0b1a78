package sending

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/mail"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"sesame/internal/seserr"
)

var update = flag.Bool("update", false, "rewrite golden files")

func str(s string) *string { return &s }

// counter returns boundaries b1, b2, … so golden files are stable.
func counter() func() string {
	n := 0
	return func() string { n++; return fmt.Sprintf("b%d", n) }
}

func TestComposeGolden(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		msg  Simple
	}{
		{"text", Simple{From: "sender@example.com", To: []string{"to@example.com"}, Subject: "Hello",
			Text: str("Hi there\nSecond line")}},
		{"html", Simple{From: "sender@example.com", To: []string{"to@example.com"}, Subject: "Hello",
			HTML: str("<p>Hi</p>")}},
		{"alternative", Simple{From: "Sender Name <sender@example.com>", To: []string{"to@example.com", "Two <two@example.com>"},
			Cc: []string{"cc@example.com"}, ReplyTo: []string{"reply@example.com"}, Subject: "Hello",
			Text: str("Hi & bye"), HTML: str("<p>Hi &amp; bye</p>")}},
		{"utf8", Simple{From: "Zoë Ünicode <zoe@example.com>", To: []string{"\"Doe, John\" <john@example.com>"},
			Subject: "Grüße aus Köln — a subject long enough that its encoded words need to be folded over lines",
			Text:    str("Grüße, Zoë! " + strings.Repeat("lorem ipsum ", 10) + "\nEnd with space "),
			HTML:    str("<p>Grüße</p>")}},
		{"long ascii subject", Simple{From: "sender@example.com", To: []string{"to@example.com"},
			Subject: strings.TrimSpace(strings.Repeat("word ", 30)), Text: str("x")}},
		{"empty body", Simple{From: "sender@example.com", To: []string{"to@example.com"}, Subject: ""}},
		{"headers", Simple{From: "sender@example.com", To: []string{"to@example.com"}, Subject: "s", Text: str("t"),
			Headers: []Header{{"X-Campaign", "c1"}, {"List-Unsubscribe", "<mailto:u@example.com>"}, {"X-Name", "Zoë"}}}},
		{"attachments", Simple{From: "sender@example.com", To: []string{"to@example.com"}, Subject: "files",
			Text: str("see attached"), HTML: str("<img src=\"cid:logo\">"),
			Attachments: []Attachment{
				{Content: bytes.Repeat([]byte("0123456789"), 12), FileName: "report.csv", ContentType: "text/csv"},
				{Content: []byte("GIF89a"), FileName: "logo.gif", Disposition: "INLINE", ContentID: "logo"},
				{Content: []byte("%PDF"), FileName: "résumé.pdf", Description: "CV"},
				{Content: []byte{0, 1, 2}, FileName: "blob"},
				{Content: []byte("naïve\n"), FileName: "qp.txt", TransferEncoding: "QUOTED_PRINTABLE"},
				{Content: []byte("plain\nlines\n"), FileName: "7bit.txt", TransferEncoding: "SEVEN_BIT"},
				{Content: []byte("not 7-bit: é"), FileName: "fallback.txt", TransferEncoding: "SEVEN_BIT"},
			}}},
		{"no from", Simple{Subject: "Rendered", Text: str("t"), HTML: str("h")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := compose(&tt.msg, counter())
			if err != nil {
				t.Fatal(err)
			}
			checkWellFormed(t, got)
			file := filepath.Join("testdata", "compose", strings.ReplaceAll(tt.name, " ", "_")+".eml")
			if *update {
				if err := os.WriteFile(file, got, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(file)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("composed message differs from %s:\n--- got\n%s\n--- want\n%s", file, got, want)
			}
		})
	}
}

// checkWellFormed: CRLF only, lines ≤ 78 in the header and ≤ 76 in base64,
// and the standard library parses it back, every part decoding.
func checkWellFormed(t *testing.T, msg []byte) {
	t.Helper()
	if bytes.Contains(bytes.ReplaceAll(msg, []byte("\r\n"), nil), []byte("\n")) ||
		bytes.Contains(bytes.ReplaceAll(msg, []byte("\r\n"), nil), []byte("\r")) {
		t.Fatal("bare CR or LF in the message")
	}
	for _, line := range strings.Split(string(msg), "\r\n") {
		if len(line) > 78 {
			t.Errorf("line longer than 78: %q", line)
		}
	}
	m, err := mail.ReadMessage(bytes.NewReader(msg))
	if err != nil {
		t.Fatal(err)
	}
	walkParts(t, m.Header.Get("Content-Type"), m.Header.Get("Content-Transfer-Encoding"), m.Body)
	dec := new(mime.WordDecoder)
	if _, err := dec.DecodeHeader(m.Header.Get("Subject")); err != nil {
		t.Errorf("Subject does not decode: %v", err)
	}
}

func walkParts(t *testing.T, ct, cte string, body io.Reader) {
	t.Helper()
	mt, params, err := mime.ParseMediaType(ct)
	if err != nil {
		t.Fatalf("Content-Type %q: %v", ct, err)
	}
	if !strings.HasPrefix(mt, "multipart/") {
		if _, err := io.ReadAll(body); err != nil {
			t.Errorf("part %s (%s): %v", mt, cte, err)
		}
		return
	}
	r := multipart.NewReader(body, params["boundary"])
	for {
		p, err := r.NextRawPart()
		if err == io.EOF {
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		walkParts(t, p.Header.Get("Content-Type"), p.Header.Get("Content-Transfer-Encoding"), p)
	}
}

func TestComposeRefusals(t *testing.T) {
	t.Parallel()
	ok := Simple{From: "s@example.com", To: []string{"t@example.com"}, Subject: "s", Text: str("t")}
	tests := []struct {
		name   string
		change func(*Simple)
		want   string // in the message
	}{
		{"CR in subject", func(m *Simple) { m.Subject = "a\rBcc: x@example.com" }, "Invalid Subject"},
		{"LF in subject", func(m *Simple) { m.Subject = "a\nBcc: x@example.com" }, "Invalid Subject"},
		{"LF in from", func(m *Simple) { m.From = "s@example.com\nBcc: x@example.com" }, "Invalid From"},
		{"LF in to", func(m *Simple) { m.To = []string{"t@example.com\r\nX: y"} }, "Invalid To"},
		{"LF in reply-to", func(m *Simple) { m.ReplyTo = []string{"Name\n <r@example.com>"} }, "Invalid Reply-To"},
		{"LF in header value", func(m *Simple) { m.Headers = []Header{{"X-A", "v\r\nBcc: x"}} }, "Invalid header X-A"},
		{"colon in header name", func(m *Simple) { m.Headers = []Header{{"X-A:", "v"}} }, "Invalid header name"},
		{"space in header name", func(m *Simple) { m.Headers = []Header{{"X A", "v"}} }, "Invalid header name"},
		{"LF in file name", func(m *Simple) { m.Attachments = []Attachment{{FileName: "a\n.txt"}} }, "Invalid attachment FileName"},
		{"no file name", func(m *Simple) { m.Attachments = []Attachment{{}} }, "needs a FileName"},
		{"bad transfer encoding", func(m *Simple) { m.Attachments = []Attachment{{FileName: "a", TransferEncoding: "uu"}} }, "ContentTransferEncoding"},
		{"bad disposition", func(m *Simple) { m.Attachments = []Attachment{{FileName: "a", Disposition: "x"}} }, "ContentDisposition"},
		{"16 headers", func(m *Simple) {
			for i := range 16 {
				m.Headers = append(m.Headers, Header{fmt.Sprintf("X-%d", i), "v"})
			}
		}, "exceeds the limit of 15"},
		{"bad address", func(m *Simple) { m.To = []string{"not an address"} }, "Invalid To address"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			m := ok
			tt.change(&m)
			_, err := Compose(&m)
			var e *seserr.Error
			if !errors.As(err, &e) || e.APICode != "BadRequestException" || !strings.Contains(e.Message, tt.want) {
				t.Fatalf("Compose error = %v, want BadRequest containing %q", err, tt.want)
			}
		})
	}
}

func TestAddrSpec(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"a@example.com": "a@example.com", "Name <a@example.com>": "a@example.com",
		"\"Doe, J\" <a@example.com>": "a@example.com", "=?UTF-8?B?Wm/Dqw==?= <z@example.com>": "z@example.com",
	} {
		got, err := AddrSpec("From", in)
		if err != nil || got != want {
			t.Errorf("AddrSpec(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "x", "a@", "a@example.com\n", "a b@example.com"} {
		if _, err := AddrSpec("From", bad); err == nil {
			t.Errorf("AddrSpec(%q) succeeded", bad)
		}
	}
}

func FuzzCompose(f *testing.F) {
	f.Add("Grüße", "text\nline", "<p>html</p>", "Zoë <z@example.com>", "report.csv")
	f.Add("", "", "", "a@example.com", "x")
	f.Fuzz(func(t *testing.T, subject, text, html, from, file string) {
		m := &Simple{From: from, To: []string{"to@example.com"}, Subject: subject, Text: &text, HTML: &html,
			Attachments: []Attachment{{Content: []byte(text), FileName: file}}}
		msg, err := Compose(m)
		if err != nil {
			var e *seserr.Error
			if !errors.As(err, &e) || e.APICode != "BadRequestException" {
				t.Fatalf("Compose error is not a BadRequest: %v", err)
			}
			return
		}
		if bytes.Contains(bytes.ReplaceAll(msg, []byte("\r\n"), nil), []byte("\n")) {
			t.Fatalf("bare LF in %q", msg)
		}
		parsed, err := mail.ReadMessage(bytes.NewReader(msg))
		if err != nil {
			t.Fatalf("composed message does not parse: %v\n%q", err, msg)
		}
		if got, err := new(mime.WordDecoder).DecodeHeader(parsed.Header.Get("Subject")); err != nil || got != subject {
			// Folding may only ever add, never change, characters.
			if strings.Join(strings.Fields(got), " ") != strings.Join(strings.Fields(subject), " ") {
				t.Fatalf("Subject %q came back as %q (%v)", subject, got, err)
			}
		}
	})
}

func BenchmarkCompose(b *testing.B) {
	m := &Simple{From: "Sender <sender@example.com>", To: []string{"to@example.com"}, Subject: "Grüße aus Köln",
		Text: str(strings.Repeat("Hello, world. ", 200)), HTML: str("<p>" + strings.Repeat("Hello, world. ", 200) + "</p>")}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Compose(m); err != nil {
			b.Fatal(err)
		}
	}
}
