package console

import (
	"testing"
	"unicode/utf8"
)

// FuzzParseMail: captured mail is whatever a client sent; reading it for
// its page never panics, and what it shows as text is valid UTF-8 (the
// page would otherwise carry broken characters).
func FuzzParseMail(f *testing.F) {
	f.Add([]byte(testMail))
	f.Add([]byte("Subject: x\r\n\r\nbody"))
	f.Add([]byte("Content-Type: multipart/alternative; boundary=\"q\"\r\n\r\n--q\r\nContent-Type: text/html\r\n\r\n<p>x</p>\r\n--q--\r\n"))
	f.Add([]byte("Content-Type: text/plain; charset=iso-8859-1\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\nGr=FC=DFe"))
	f.Fuzz(func(t *testing.T, raw []byte) {
		mv := parseMail(raw)
		shown := []string{mv.Subject, mv.From, mv.To, mv.Text}
		for _, f := range mv.Fields {
			shown = append(shown, f.Name, f.Value)
		}
		for _, a := range mv.Attachments {
			shown = append(shown, a.Name)
		}
		from, to, subject := mailSummary(raw)
		for _, s := range append(shown, from, to, subject) {
			if !utf8.ValidString(s) {
				t.Errorf("not UTF-8: %q", s)
			}
		}
	})
}
