package mailmsg

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"mime"
	"mime/quotedprintable"
	"net/mail"
	"strings"
	"unicode/utf8"
)

// The one MIME composer: every message sesame writes (SES's Simple content,
// DSNs and complaint reports, the simulator's answers, SNS mail,
// verification mail) is a Part tree written by Part.Bytes, its header
// fields folded at 78 characters and non-ASCII text in RFC 2047 encoded
// words.

// Field is one header field: its name, and its value as it goes on the
// wire (already encoded: EncodeText, FormatAddress).
type Field struct{ Name, Value string }

// Part is a MIME entity: its header fields and either a body (already
// transfer-encoded, CRLF line ends) or parts between Boundary lines.
type Part struct {
	Header   []Field
	Body     []byte
	Boundary string
	Parts    []*Part
}

// Bytes writes the part: its fields, a blank line, its body or parts.
func (p *Part) Bytes() []byte {
	var b bytes.Buffer
	p.write(&b)
	return b.Bytes()
}

// write writes an entity's header fields, a blank line and its body or its
// parts between boundary lines (RFC 2046 §5.1.1).
func (p *Part) write(b *bytes.Buffer) {
	for _, f := range p.Header {
		writeField(b, f.Name, f.Value)
	}
	b.WriteString("\r\n")
	if p.Parts == nil {
		b.Write(p.Body)
		if len(p.Body) > 0 && !bytes.HasSuffix(p.Body, []byte("\r\n")) {
			b.WriteString("\r\n")
		}
		return
	}
	for _, c := range p.Parts {
		b.WriteString("--" + p.Boundary + "\r\n")
		c.write(b)
		// The CRLF before a boundary line belongs to the boundary (RFC 2046
		// §5.1.1): a part whose content ends in a line break needs one more.
		if c.Parts == nil && bytes.HasSuffix(c.Body, []byte("\r\n")) {
			b.WriteString("\r\n")
		}
	}
	b.WriteString("--" + p.Boundary + "--\r\n")
}

// writeField writes "Name: value" folded at spaces so lines stay within 78
// characters where the value allows (RFC 5322 §2.1.1, §2.2.3).
func writeField(b *bytes.Buffer, name, value string) {
	const limit = 78
	line := name + ":"
	for i, word := range strings.Split(value, " ") {
		switch {
		case i == 0:
			line += " " + word
		case len(line)+1+len(word) > limit && strings.TrimSpace(line) != name+":":
			b.WriteString(line + "\r\n")
			line = " " + word
		default:
			line += " " + word
		}
	}
	b.WriteString(line + "\r\n")
}

// Boundary is a new multipart boundary.
func Boundary() string {
	var b [15]byte
	_, _ = rand.Read(b[:])
	return "sesame-" + hex.EncodeToString(b[:])
}

// Multipart is a multipart/subtype part of parts; params are the
// Content-Type's other parameters (report-type), nil for none.
func Multipart(subtype, boundary string, params map[string]string, parts ...*Part) *Part {
	ps := map[string]string{"boundary": boundary}
	for k, v := range params {
		ps[k] = v
	}
	return &Part{
		Header:   []Field{{Name: "Content-Type", Value: mime.FormatMediaType("multipart/"+subtype, ps)}},
		Boundary: boundary,
		Parts:    parts,
	}
}

// Text is a text part in UTF-8, quoted-printable.
func Text(mediaType, text string) *Part {
	return &Part{
		Header: []Field{
			{Name: "Content-Type", Value: mediaType + "; charset=UTF-8"},
			{Name: "Content-Transfer-Encoding", Value: "quoted-printable"},
		},
		Body: QuotedPrintable([]byte(text)),
	}
}

// Raw is a part of contentType whose body goes as it is (7-bit text: a
// report's machine-readable parts, a returned header section); LF line
// ends become CRLF.
func Raw(contentType string, body []byte) *Part {
	return &Part{Header: []Field{{Name: "Content-Type", Value: contentType}}, Body: crlf(body)}
}

// crlf makes every line end CRLF.
func crlf(b []byte) []byte {
	return bytes.ReplaceAll(bytes.ReplaceAll(b, []byte("\r\n"), []byte("\n")), []byte("\n"), []byte("\r\n"))
}

// QuotedPrintable encodes b (RFC 2045 §6.7).
func QuotedPrintable(b []byte) []byte {
	var out bytes.Buffer
	w := quotedprintable.NewWriter(&out)
	_, _ = w.Write(b) // writes to a bytes.Buffer do not fail
	_ = w.Close()
	return out.Bytes()
}

// SevenBit returns b with CRLF line ends when it is 7-bit text (no NUL, no
// bare CR, lines of at most 998 octets: RFC 5322 §2.1.1, RFC 2045 §2.7).
func SevenBit(b []byte) ([]byte, bool) {
	out := make([]byte, 0, len(b)+len(b)/40)
	line := 0
	for i, c := range b {
		switch {
		case c == 0 || c >= 0x80:
			return nil, false
		case c == '\r':
			if i+1 >= len(b) || b[i+1] != '\n' {
				return nil, false
			}
			continue
		case c == '\n':
			out = append(out, '\r', '\n')
			line = 0
			continue
		}
		if line++; line > 998 {
			return nil, false
		}
		out = append(out, c)
	}
	return out, true
}

// Base64Lines encodes b in lines of 76 characters (RFC 2045 §6.8), CRLF-ended.
func Base64Lines(b []byte) []byte {
	enc := base64.StdEncoding.EncodeToString(b)
	var out bytes.Buffer
	out.Grow(len(enc) + len(enc)/76*2 + 2)
	for len(enc) > 76 {
		out.WriteString(enc[:76])
		out.WriteString("\r\n")
		enc = enc[76:]
	}
	out.WriteString(enc)
	return out.Bytes()
}

// EncodeText is an unstructured header value: as it is when printable
// ASCII, else RFC 2047 encoded words (UTF-8, base64).
func EncodeText(s string) string {
	if isPrintableASCII(s) {
		return s
	}
	return EncodeWords(s)
}

// EncodeWords encodes s as RFC 2047 "B" encoded words of at most 36 octets
// of UTF-8 each, cut at character boundaries: each word is 60 characters, so
// a folded line stays under 78 after a header name (RFC 2047 §2 allows 75).
// Not mime.BEncoding: its words run to 75 characters, so "Subject: " and
// the first word make an 84-character line, and it writes "?b?" where SES
// writes "?B?".
func EncodeWords(s string) string {
	const maxRaw = 36
	var b strings.Builder
	for len(s) > 0 {
		n := min(len(s), maxRaw)
		for n < len(s) && n > 0 && !utf8.RuneStart(s[n]) {
			n--
		}
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		b.WriteString("=?UTF-8?B?")
		b.WriteString(base64.StdEncoding.EncodeToString([]byte(s[:n])))
		b.WriteString("?=")
		s = s[n:]
	}
	return b.String()
}

// FormatAddress writes an address, with its display name when it has one,
// encoded when it is not ASCII.
func FormatAddress(a *mail.Address) string {
	switch {
	case a.Name == "":
		return a.Address
	case !isPrintableASCII(a.Name):
		return EncodeWords(a.Name) + " <" + a.Address + ">"
	}
	return a.String() // quotes the name when it must
}

func isPrintableASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; (c < ' ' && c != '\t') || c > '~' {
			return false
		}
	}
	return true
}
