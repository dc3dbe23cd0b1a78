package listmgmt

import (
	"bytes"
	"encoding/base64"
	"io"
	"mime/quotedprintable"
	"net/mail"
	"strings"
	"testing"

	gomessage "github.com/emersion/go-message"
	_ "github.com/emersion/go-message/charset"
)

const link = "https://ses.example.net/_sesame/unsubscribe?t=abc.def"

func crlf(s string) string { return strings.ReplaceAll(s, "\n", "\r\n") }

// texts reads msg with go-message and returns each text part, decoded.
func texts(t *testing.T, msg []byte) []string {
	t.Helper()
	e, err := gomessage.Read(bytes.NewReader(msg))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	err = e.Walk(func(_ []int, part *gomessage.Entity, err error) error {
		if err != nil {
			return err
		}
		mt, _, _ := part.Header.ContentType()
		if mt == "text/plain" || mt == "text/html" {
			b, err := io.ReadAll(part.Body)
			if err != nil {
				return err
			}
			out = append(out, string(b))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestApply(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("é long line to force encoding ", 10)
	for _, tc := range []struct {
		name, msg string
		parts     int
	}{
		{"plain, no Content-Type", "From: a@example.com\nSubject: news {{amazonSESUnsubscribeUrl}}\n\nbye: {{amazonSESUnsubscribeUrl}}\n", 1},
		{"client's own List-Unsubscribe replaced", "From: a@example.com\nList-Unsubscribe: <mailto:x@example.com>\nList-Unsubscribe-Post:\n List-Unsubscribe=One-Click\nSubject: s\n\nhi {{amazonSESUnsubscribeUrl}}\n", 1},
		{"multipart, quoted-printable and base64", "From: a@example.com\nSubject: s\nMIME-Version: 1.0\nContent-Type: multipart/alternative; boundary=b\n\n--b\n" +
			"Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: quoted-printable\n\n" +
			qp(long+"{{amazonSESUnsubscribeUrl}}") + "\n--b\n" +
			"Content-Type: text/html; charset=utf-8\nContent-Transfer-Encoding: base64\n\n" +
			b64(`<p>`+long+`<a href="{{amazonSESUnsubscribeUrl}}">unsubscribe</a></p>`) + "\n--b--\n", 2},
	} {
		for _, eol := range []string{"\n", "\r\n"} {
			msg := strings.ReplaceAll(tc.msg, "\n", eol)
			out, err := Apply([]byte(msg), link)
			if err != nil {
				t.Fatalf("%s: %v", tc.name, err)
			}
			if bytes.Contains(out, []byte(Placeholder)) {
				t.Errorf("%s: placeholder left in\n%s", tc.name, out)
			}
			if eol == "\r\n" && bytes.Contains(bytes.ReplaceAll(out, []byte("\r\n"), nil), []byte("\n")) {
				t.Errorf("%s: a bare LF in a CRLF message\n%q", tc.name, out)
			}
			m, err := mail.ReadMessage(bytes.NewReader(out))
			if err != nil {
				t.Fatalf("%s: %v", tc.name, err)
			}
			if got := m.Header["List-Unsubscribe"]; len(got) != 1 || got[0] != "<"+link+">" {
				t.Errorf("%s: List-Unsubscribe = %q", tc.name, got)
			}
			if got := m.Header["List-Unsubscribe-Post"]; len(got) != 1 || got[0] != "List-Unsubscribe=One-Click" {
				t.Errorf("%s: List-Unsubscribe-Post = %q", tc.name, got)
			}
			if s := m.Header.Get("Subject"); strings.Contains(tc.msg, "Subject: news") && s != "news "+link {
				t.Errorf("%s: Subject = %q", tc.name, s)
			}
			parts := texts(t, out)
			if len(parts) != tc.parts {
				t.Fatalf("%s: %d text parts, want %d", tc.name, len(parts), tc.parts)
			}
			for _, p := range parts {
				if !strings.Contains(p, link) {
					t.Errorf("%s: part without the link: %q", tc.name, p)
				}
			}
		}
	}
}

func TestApplyLeavesAttachmentsAlone(t *testing.T) {
	t.Parallel()
	msg := crlf("From: a@example.com\nContent-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: text/plain\n\nhi\n--b\n" +
		"Content-Type: text/plain\nContent-Disposition: attachment; filename=x.txt\n\n{{amazonSESUnsubscribeUrl}}\n--b--\n")
	out, err := Apply([]byte(msg), link)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(out, []byte("\r\n\r\n{{amazonSESUnsubscribeUrl}}\r\n--b--")) {
		t.Errorf("the attachment changed:\n%s", out)
	}
}

func qp(s string) string {
	var b bytes.Buffer
	w := newQP(&b)
	w.Write([]byte(s))
	w.Close()
	return strings.ReplaceAll(b.String(), "\r\n", "\n")
}

func newQP(w io.Writer) *quotedprintable.Writer { return quotedprintable.NewWriter(w) }

func b64(s string) string {
	enc := base64.StdEncoding.EncodeToString([]byte(s))
	var lines []string
	for len(enc) > 76 {
		lines, enc = append(lines, enc[:76]), enc[76:]
	}
	return strings.Join(append(lines, enc), "\n")
}
