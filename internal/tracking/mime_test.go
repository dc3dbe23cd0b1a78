package tracking

import (
	"bytes"
	"encoding/base64"
	"io"
	"mime/quotedprintable"
	"strings"
	"testing"
)

const htmlBody = `<html><body><p>Hello</p><a href="https://example.com/x" ses:tags="k:v">go</a></body></html>`

func crlf(s string) string { return strings.ReplaceAll(s, "\n", "\r\n") }

func TestRewriteMessage(t *testing.T) {
	t.Parallel()
	qp := func(s string) string {
		var b bytes.Buffer
		w := quotedprintable.NewWriter(&b)
		w.Write([]byte(s))
		w.Close()
		return b.String()
	}
	b64 := func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
	for _, c := range []struct {
		name string
		msg  string
		// unchanged: nil result expected
		unchanged bool
		// decodedHTML extracts the rewritten HTML part's text
		cte string
	}{
		{name: "text only", unchanged: true, msg: crlf("From: a@example.com\nSubject: x\n\nhello <a href=\"https://example.com/\">\n")},
		{name: "no content type", unchanged: true, msg: crlf("Subject: x\n\n<a href=\"https://example.com/\">x</a>\n")},
		{name: "html attachment", unchanged: true, msg: crlf("Content-Type: text/html\nContent-Disposition: attachment; filename=a.html\n\n" + htmlBody + "\n")},
		{name: "single html part", cte: "", msg: crlf("From: a@example.com\nContent-Type: text/html; charset=UTF-8\n\n" + htmlBody + "\n")},
		{name: "alternative, quoted-printable", cte: "quoted-printable", msg: crlf(`From: a@example.com
MIME-Version: 1.0
Content-Type: multipart/alternative; boundary="b1"

This is a multi-part message in MIME format.
--b1
Content-Type: text/plain; charset=UTF-8
Content-Transfer-Encoding: quoted-printable

Hello =E2=9C=93 https://example.com/x
--b1
Content-Type: text/html; charset=UTF-8
Content-Transfer-Encoding: quoted-printable

`) + qp(htmlBody+strings.Repeat(" long line", 20)) + crlf(`
--b1--
epilogue
`)},
		{name: "mixed with attachment, base64", cte: "base64", msg: crlf(`From: a@example.com
Content-Type: multipart/mixed; boundary=outer

--outer
Content-Type: multipart/alternative; boundary=inner

--inner
Content-Type: text/plain

plain
--inner
Content-Type: text/html; charset=utf-8
Content-Transfer-Encoding: base64

`) + b64(htmlBody) + crlf(`
--inner--
--outer
Content-Type: application/pdf
Content-Transfer-Encoding: base64

JVBERi0xLjQK
--outer--
`)},
		{name: "LF line endings", cte: "quoted-printable", msg: "Content-Type: multipart/alternative; boundary=b\n\n--b\nContent-Type: text/html\nContent-Transfer-Encoding: quoted-printable\n\n" + htmlBody + "\n--b--\n"},
		{name: "forwarded message untouched", unchanged: true, msg: crlf("Content-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: message/rfc822\n\nContent-Type: text/html\n\n" + htmlBody + "\n--b--\n")},
	} {
		t.Run(c.name, func(t *testing.T) {
			out, err := testRewriter(true, true).Message([]byte(c.msg))
			if err != nil {
				t.Fatal(err)
			}
			if c.unchanged {
				if out != nil {
					t.Fatalf("changed:\n%s", out)
				}
				return
			}
			if out == nil {
				t.Fatal("not rewritten")
			}
			html := extractHTML(t, string(out), c.cte)
			if !strings.Contains(html, `<a href="http://t/click?https://example.com/x|k:v">go</a>`) || !strings.Contains(html, pixel+"</body>") {
				t.Fatalf("HTML part not rewritten:\n%s", html)
			}
			// Everything outside the HTML part keeps its bytes.
			before, after := splitAround(c.msg, c.cte)
			if !strings.HasPrefix(string(out), before) || !strings.HasSuffix(string(out), after) {
				t.Fatalf("bytes around the HTML part changed:\n%s", out)
			}
			if c.name == "LF line endings" && strings.Contains(string(out), "\r") {
				t.Fatalf("CR added to an LF message:\n%q", out)
			}
		})
	}
}

// extractHTML finds the (only) HTML part's body in msg and decodes it.
func extractHTML(t *testing.T, msg, cte string) string {
	t.Helper()
	i := strings.Index(msg, "<html>")
	if cte == "base64" {
		i = strings.Index(msg, "Content-Transfer-Encoding: base64\r\n\r\n") + len("Content-Transfer-Encoding: base64\r\n\r\n")
		j := strings.Index(msg[i:], "\r\n--")
		b, err := base64.StdEncoding.DecodeString(strings.ReplaceAll(msg[i:i+j], "\r\n", ""))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	if i < 0 {
		t.Fatalf("no HTML in %s", msg)
	}
	if cte == "quoted-printable" {
		b, err := io.ReadAll(quotedprintable.NewReader(strings.NewReader(msg[i:])))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	return msg[i:]
}

// splitAround is msg before the HTML part's body and after it.
func splitAround(msg, cte string) (string, string) {
	start := strings.Index(msg, "<html>")
	if cte == "base64" {
		start = strings.Index(msg, "PGh0bWw+")
	}
	end := strings.Index(msg[start:], "\n--")
	if end < 0 {
		return msg[:start], ""
	}
	end += start
	if msg[end-1] == '\r' {
		end--
	}
	return msg[:start], msg[end:]
}

func FuzzRewriteMessage(f *testing.F) {
	f.Add([]byte(crlf("Content-Type: multipart/alternative; boundary=b\n\n--b\nContent-Type: text/html\nContent-Transfer-Encoding: quoted-printable\n\n<a href=3D\"https://x.y/\">x</a>\n--b--\n")))
	f.Add([]byte("Content-Type: text/html\nContent-Transfer-Encoding: base64\n\nPGEgaHJlZj0iaHR0cHM6Ly94LnkvIj54PC9hPg==\n"))
	f.Fuzz(func(t *testing.T, msg []byte) {
		out, err := testRewriter(true, true).Message(msg)
		if err != nil || out == nil {
			return
		}
		// A rewritten message keeps its header section.
		n, _, herr := readHeader(msg)
		if herr != nil || !bytes.HasPrefix(out, msg[:n]) {
			t.Fatalf("header changed:\n%q\n%q", msg, out)
		}
	})
}

func TestMayHaveHTML(t *testing.T) {
	for _, c := range []struct {
		msg  string
		want bool
	}{
		{"Content-Type: text/html; charset=utf-8\r\n\r\n<p>hi</p>", true},
		{"Content-Type: TEXT/HTML\r\n\r\nhi", true},
		{"Content-Type: multipart/alternative; boundary=b\r\n\r\n--b\r\nContent-Type: text/Html\r\n\r\n<p>x</p>\r\n--b--\r\n", true},
		{"Content-Type: text/plain\r\n\r\nsee https://example.com/a/b", false},
		{"Subject: hi\r\n\r\nends with a slash/", false},
		{"Subject: hi\r\n\r\nends with /htm", false},
		{"", false},
	} {
		if got := MayHaveHTML([]byte(c.msg)); got != c.want {
			t.Errorf("MayHaveHTML(%q) = %v, want %v", c.msg, got, c.want)
		}
	}
}
