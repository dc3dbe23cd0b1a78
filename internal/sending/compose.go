package sending

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"mime"
	"mime/quotedprintable"
	"net/mail"
	"path"
	"strings"
	"unicode/utf8"

	"sesame/internal/seserr"
)

// MaxCustomHeaders is SES's limit on Simple content's Headers.
const MaxCustomHeaders = 15

// Simple is SES's Simple (and rendered Template) content with the addresses
// that go into the header. Bcc never appears in the header: it is only in
// the envelope the caller builds.
type Simple struct {
	From        string // header From; "" leaves it out (TestRenderTemplate)
	To, Cc      []string
	ReplyTo     []string
	Subject     string
	Text, HTML  *string // nil: no such part
	Headers     []Header
	Attachments []Attachment
}

// Header is a custom header line (SES MessageHeader).
type Header struct{ Name, Value string }

// Attachment is an attachment of Simple content (SES v2 Attachment).
type Attachment struct {
	Content     []byte
	FileName    string
	ContentType string // "" = from the file name's extension
	Disposition string // ATTACHMENT (default) or INLINE
	ContentID   string
	Description string
	// TransferEncoding is BASE64 (the default), QUOTED_PRINTABLE or
	// SEVEN_BIT (kept only when the content is 7-bit text with lines of at
	// most 998 octets; otherwise base64).
	TransferEncoding string
}

// Compose builds the MIME message for Simple content: CRLF lines, RFC 2047
// encoded words for a non-ASCII Subject and display names, quoted-printable
// UTF-8 bodies, multipart/alternative for text and HTML, multipart/mixed
// (and multipart/related for inline parts) with base64 attachments.
// Message-ID and Date are left to Submit. A CR or LF in anything that
// becomes a header is seserr.HeaderInjection.
func Compose(m *Simple) ([]byte, error) { return compose(m, randomBoundary) }

func randomBoundary() string {
	var b [15]byte
	_, _ = rand.Read(b[:])
	return "sesame-" + hex.EncodeToString(b[:])
}

func compose(m *Simple, boundary func() string) ([]byte, error) {
	if err := m.check(); err != nil {
		return nil, err
	}
	var b bytes.Buffer
	if m.From != "" {
		from, err := formatAddressList("From", []string{m.From})
		if err != nil {
			return nil, err
		}
		writeField(&b, "From", from)
	}
	for _, f := range []struct {
		name  string
		addrs []string
	}{{"To", m.To}, {"Cc", m.Cc}, {"Reply-To", m.ReplyTo}} {
		if len(f.addrs) == 0 {
			continue
		}
		v, err := formatAddressList(f.name, f.addrs)
		if err != nil {
			return nil, err
		}
		writeField(&b, f.name, v)
	}
	writeField(&b, "Subject", encodeText(m.Subject))
	writeField(&b, "MIME-Version", "1.0")
	for _, h := range m.Headers {
		writeField(&b, h.Name, encodeText(h.Value))
	}
	writeEntity(&b, m.entity(boundary))
	return b.Bytes(), nil
}

// check refuses what would break the header (CR or LF: header injection)
// and SES's limit on custom headers.
func (m *Simple) check() error {
	if len(m.Headers) > MaxCustomHeaders {
		return seserr.TooManyHeaders(MaxCustomHeaders)
	}
	fields := []struct{ name, value string }{{"From", m.From}, {"Subject", m.Subject}}
	for _, list := range []struct {
		name  string
		addrs []string
	}{{"To", m.To}, {"Cc", m.Cc}, {"Reply-To", m.ReplyTo}} {
		for _, a := range list.addrs {
			fields = append(fields, struct{ name, value string }{list.name, a})
		}
	}
	for _, h := range m.Headers {
		if h.Name == "" || strings.IndexFunc(h.Name, func(r rune) bool { return r < 33 || r > 126 || r == ':' }) >= 0 {
			return seserr.InvalidHeaderName(h.Name)
		}
		fields = append(fields, struct{ name, value string }{"header " + h.Name, h.Value})
	}
	for _, a := range m.Attachments {
		fields = append(fields,
			struct{ name, value string }{"attachment FileName", a.FileName},
			struct{ name, value string }{"attachment ContentType", a.ContentType},
			struct{ name, value string }{"attachment ContentId", a.ContentID},
			struct{ name, value string }{"attachment ContentDescription", a.Description})
		if a.FileName == "" {
			return seserr.BadRequest("An attachment needs a FileName.")
		}
		if d := strings.ToUpper(a.Disposition); d != "" && d != "ATTACHMENT" && d != "INLINE" {
			return seserr.InvalidContentDisposition(a.Disposition)
		}
		switch strings.ToUpper(a.TransferEncoding) {
		case "", "BASE64", "QUOTED_PRINTABLE", "SEVEN_BIT":
		default:
			return seserr.InvalidContentTransferEncoding(a.TransferEncoding)
		}
	}
	for _, f := range fields {
		if strings.ContainsAny(f.value, "\r\n") {
			return seserr.HeaderInjection(f.name)
		}
	}
	return nil
}

// entity is a MIME entity: its header fields and either a body or parts.
type entity struct {
	header   []Header
	body     []byte
	boundary string
	parts    []*entity
}

// entity builds the message's MIME tree: [mixed [related [alternative]]].
func (m *Simple) entity(boundary func() string) *entity {
	var bodies []*entity
	if m.Text != nil || m.HTML == nil {
		text := ""
		if m.Text != nil {
			text = *m.Text
		}
		bodies = append(bodies, textEntity("text/plain", text))
	}
	if m.HTML != nil {
		bodies = append(bodies, textEntity("text/html", *m.HTML))
	}
	body := bodies[0]
	if len(bodies) > 1 {
		body = multipartEntity("alternative", boundary(), bodies)
	}
	var inline, attached []*entity
	for _, a := range m.Attachments {
		if strings.EqualFold(a.Disposition, "INLINE") {
			inline = append(inline, a.entity())
		} else {
			attached = append(attached, a.entity())
		}
	}
	if len(inline) > 0 {
		body = multipartEntity("related", boundary(), append([]*entity{body}, inline...))
	}
	if len(attached) > 0 {
		body = multipartEntity("mixed", boundary(), append([]*entity{body}, attached...))
	}
	return body
}

func textEntity(mediaType, text string) *entity {
	return &entity{
		header: []Header{
			{"Content-Type", mediaType + "; charset=UTF-8"},
			{"Content-Transfer-Encoding", "quoted-printable"},
		},
		body: quotedPrintable([]byte(text)),
	}
}

func multipartEntity(subtype, boundary string, parts []*entity) *entity {
	return &entity{
		header:   []Header{{"Content-Type", mime.FormatMediaType("multipart/"+subtype, map[string]string{"boundary": boundary})}},
		boundary: boundary,
		parts:    parts,
	}
}

func (a *Attachment) entity() *entity {
	ct := a.ContentType
	if ct == "" {
		ct = mime.TypeByExtension(strings.ToLower(path.Ext(a.FileName)))
	}
	if ct == "" {
		ct = "application/octet-stream"
	}
	mt, params, err := mime.ParseMediaType(ct)
	if err != nil {
		mt, params = "application/octet-stream", map[string]string{}
	}
	params["name"] = a.FileName
	disp := "attachment"
	if strings.EqualFold(a.Disposition, "INLINE") {
		disp = "inline"
	}
	cte, body := "base64", []byte(nil)
	switch strings.ToUpper(a.TransferEncoding) {
	case "QUOTED_PRINTABLE":
		cte, body = "quoted-printable", quotedPrintable(a.Content)
	case "SEVEN_BIT":
		if text, ok := sevenBit(a.Content); ok {
			cte, body = "7bit", text
		}
	}
	if body == nil {
		body = base64Lines(a.Content)
	}
	h := []Header{
		{"Content-Type", mime.FormatMediaType(mt, params)},
		{"Content-Disposition", mime.FormatMediaType(disp, map[string]string{"filename": a.FileName})},
		{"Content-Transfer-Encoding", cte},
	}
	if a.ContentID != "" {
		id := a.ContentID
		if !strings.HasPrefix(id, "<") {
			id = "<" + id + ">"
		}
		h = append(h, Header{"Content-ID", id})
	}
	if a.Description != "" {
		h = append(h, Header{"Content-Description", encodeText(a.Description)})
	}
	return &entity{header: h, body: body}
}

func quotedPrintable(b []byte) []byte {
	var out bytes.Buffer
	w := quotedprintable.NewWriter(&out)
	_, _ = w.Write(b) // writes to a bytes.Buffer do not fail
	_ = w.Close()
	return out.Bytes()
}

// sevenBit returns b with CRLF line ends when it is 7-bit text (no NUL, no
// bare CR, lines of at most 998 octets: RFC 5322 §2.1.1, RFC 2045 §2.7).
func sevenBit(b []byte) ([]byte, bool) {
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

// base64Lines encodes b in lines of 76 characters (RFC 2045 §6.8), CRLF-ended.
func base64Lines(b []byte) []byte {
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

// writeEntity writes an entity's header fields, a blank line and its body
// or its parts between boundary lines (RFC 2046 §5.1.1).
func writeEntity(b *bytes.Buffer, e *entity) {
	for _, h := range e.header {
		writeField(b, h.Name, h.Value)
	}
	b.WriteString("\r\n")
	if e.parts == nil {
		b.Write(e.body)
		if len(e.body) > 0 && !bytes.HasSuffix(e.body, []byte("\r\n")) {
			b.WriteString("\r\n")
		}
		return
	}
	for _, p := range e.parts {
		b.WriteString("--" + e.boundary + "\r\n")
		writeEntity(b, p)
		// The CRLF before a boundary line belongs to the boundary (RFC 2046
		// §5.1.1): a part whose content ends in a line break needs one more.
		if p.parts == nil && bytes.HasSuffix(p.body, []byte("\r\n")) {
			b.WriteString("\r\n")
		}
	}
	b.WriteString("--" + e.boundary + "--\r\n")
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

// encodeText is an unstructured header value: as it is when printable
// ASCII, else RFC 2047 encoded words (UTF-8, base64).
func encodeText(s string) string {
	if isPrintableASCII(s) {
		return s
	}
	return encodeWords(s)
}

// encodeWords encodes s as RFC 2047 "B" encoded words of at most 36 octets
// of UTF-8 each, cut at character boundaries: each word is 60 characters, so
// a folded line stays under 78 after a header name (RFC 2047 §2 allows 75).
// Not mime.BEncoding: its words run to 75 characters, so "Subject: " and
// the first word make an 84-character line, and it writes "?b?" where SES
// writes "?B?".
func encodeWords(s string) string {
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

func isPrintableASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; (c < ' ' && c != '\t') || c > '~' {
			return false
		}
	}
	return true
}

// formatAddressList parses addresses as SES takes them ("a@x.com",
// "Name <a@x.com>", "\"Last, First\" <a@x.com>", encoded words) and writes
// them back in canonical form, display names encoded when not ASCII.
func formatAddressList(field string, addrs []string) (string, error) {
	out := make([]string, 0, len(addrs))
	for _, a := range addrs {
		parsed, err := parseAPIAddress(a)
		if err != nil {
			return "", seserr.InvalidAddress(field, a).Wrap(err)
		}
		switch {
		case parsed.Name == "":
			out = append(out, parsed.Address)
		case !isPrintableASCII(parsed.Name):
			out = append(out, encodeWords(parsed.Name)+" <"+parsed.Address+">")
		default:
			out = append(out, parsed.String()) // quotes the name when it must
		}
	}
	return strings.Join(out, ", "), nil
}

// parseAPIAddress parses one address of an API request and checks its
// addr-spec as an envelope address.
func parseAPIAddress(a string) (*mail.Address, error) {
	parsed, err := addressParser.Parse(a)
	if err != nil {
		return nil, fmt.Errorf("sending: parsing address %q: %w", a, err)
	}
	if err := CheckAddress(parsed.Address); err != nil {
		return nil, fmt.Errorf("sending: address %q: %w", a, err)
	}
	return parsed, nil
}

// AddrSpec returns the bare address of an API address ("Name <a@x.com>" →
// "a@x.com"), for the envelope. Failures are BadRequest; a CR or LF is
// header injection.
func AddrSpec(field, a string) (string, error) {
	if strings.ContainsAny(a, "\r\n") {
		return "", seserr.HeaderInjection(field)
	}
	p, err := parseAPIAddress(a)
	if err != nil {
		return "", seserr.InvalidAddress(field, a).Wrap(err)
	}
	return p.Address, nil
}
