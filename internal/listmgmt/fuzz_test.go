package listmgmt

import (
	"bytes"
	"strings"
	"testing"
)

// FuzzParse: any t parameter is refused or, when it verifies, names a
// list and a recipient; a token sesame made parses back to itself.
func FuzzParse(f *testing.F) {
	l := NewLinks([]byte("k"))
	f.Add(l.Encode(Token{AccountID: "1", Region: "r", List: "news", Topic: "t", Email: "a@example.com", MessageID: "m"}), "a@example.com")
	f.Add("x.y", "")
	f.Add("", "\x00")
	f.Fuzz(func(t *testing.T, s, email string) {
		if tok, err := l.Parse(s); err == nil && (tok.List == "" || tok.Email == "") {
			t.Fatalf("Parse(%q) = %+v without a list or an address", s, tok)
		}
		tok := Token{AccountID: "1", Region: "r", List: "news", Topic: s, Email: email, MessageID: s}
		if email == "" {
			return
		}
		if got, err := l.Parse(l.Encode(tok)); err != nil || got != tok {
			t.Fatalf("round trip of %+v: %+v, %v", tok, got, err)
		}
	})
}

// FuzzApply: any message gets exactly one List-Unsubscribe field on top,
// and Apply never panics or fails on what it cannot read.
func FuzzApply(f *testing.F) {
	f.Add([]byte("Subject: {{amazonSESUnsubscribeUrl}}\r\n\r\n{{amazonSESUnsubscribeUrl}}"))
	f.Add([]byte("Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Transfer-Encoding: base64\r\n\r\n!!\r\n--b--"))
	f.Add([]byte("List-Unsubscribe: <x>\n\n"))
	f.Fuzz(func(t *testing.T, msg []byte) {
		out, err := Apply(msg, link)
		if err != nil {
			return // an encoding the walk cannot write back: the caller refuses the send
		}
		if !bytes.HasPrefix(out, []byte("List-Unsubscribe: <"+link+">")) {
			t.Fatalf("no List-Unsubscribe on top:\n%q", out)
		}
		end := bytes.Index(out, []byte("\n\n"))
		if i := bytes.Index(out, []byte("\r\n\r\n")); i >= 0 && (end < 0 || i < end) {
			end = i
		}
		if end < 0 {
			end = len(out)
		}
		if n := strings.Count(strings.ToLower(string(out[:end])), "\nlist-unsubscribe:"); n != 0 {
			t.Fatalf("%d more List-Unsubscribe fields:\n%q", n, out)
		}
	})
}
