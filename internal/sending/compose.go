package sending

import (
	"fmt"
	"mime"
	"net/mail"
	"path"
	"strings"

	"sesame/internal/mailmsg"
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
func Compose(m *Simple) ([]byte, error) { return compose(m, mailmsg.Boundary) }

func compose(m *Simple, boundary func() string) ([]byte, error) {
	if err := m.check(); err != nil {
		return nil, err
	}
	var h []mailmsg.Field
	if m.From != "" {
		from, err := formatAddressList("From", []string{m.From})
		if err != nil {
			return nil, err
		}
		h = append(h, mailmsg.Field{Name: "From", Value: from})
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
		h = append(h, mailmsg.Field{Name: f.name, Value: v})
	}
	h = append(h, mailmsg.Field{Name: "Subject", Value: mailmsg.EncodeText(m.Subject)},
		mailmsg.Field{Name: "MIME-Version", Value: "1.0"})
	for _, x := range m.Headers {
		h = append(h, mailmsg.Field{Name: x.Name, Value: mailmsg.EncodeText(x.Value)})
	}
	body := m.entity(boundary)
	body.Header = append(h, body.Header...)
	return body.Bytes(), nil
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

// entity builds the message's MIME tree: [mixed [related [alternative]]].
func (m *Simple) entity(boundary func() string) *mailmsg.Part {
	var bodies []*mailmsg.Part
	if m.Text != nil || m.HTML == nil {
		text := ""
		if m.Text != nil {
			text = *m.Text
		}
		bodies = append(bodies, mailmsg.Text("text/plain", text))
	}
	if m.HTML != nil {
		bodies = append(bodies, mailmsg.Text("text/html", *m.HTML))
	}
	body := bodies[0]
	if len(bodies) > 1 {
		body = mailmsg.Multipart("alternative", boundary(), nil, bodies...)
	}
	var inline, attached []*mailmsg.Part
	for _, a := range m.Attachments {
		if strings.EqualFold(a.Disposition, "INLINE") {
			inline = append(inline, a.entity())
		} else {
			attached = append(attached, a.entity())
		}
	}
	if len(inline) > 0 {
		body = mailmsg.Multipart("related", boundary(), nil, append([]*mailmsg.Part{body}, inline...)...)
	}
	if len(attached) > 0 {
		body = mailmsg.Multipart("mixed", boundary(), nil, append([]*mailmsg.Part{body}, attached...)...)
	}
	return body
}

func (a *Attachment) entity() *mailmsg.Part {
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
		cte, body = "quoted-printable", mailmsg.QuotedPrintable(a.Content)
	case "SEVEN_BIT":
		if text, ok := mailmsg.SevenBit(a.Content); ok {
			cte, body = "7bit", text
		}
	}
	if body == nil {
		body = mailmsg.Base64Lines(a.Content)
	}
	h := []mailmsg.Field{
		{Name: "Content-Type", Value: mime.FormatMediaType(mt, params)},
		{Name: "Content-Disposition", Value: mime.FormatMediaType(disp, map[string]string{"filename": a.FileName})},
		{Name: "Content-Transfer-Encoding", Value: cte},
	}
	if a.ContentID != "" {
		id := a.ContentID
		if !strings.HasPrefix(id, "<") {
			id = "<" + id + ">"
		}
		h = append(h, mailmsg.Field{Name: "Content-ID", Value: id})
	}
	if a.Description != "" {
		h = append(h, mailmsg.Field{Name: "Content-Description", Value: mailmsg.EncodeText(a.Description)})
	}
	return &mailmsg.Part{Header: h, Body: body}
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
		out = append(out, mailmsg.FormatAddress(parsed))
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
