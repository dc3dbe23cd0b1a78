package events

import (
	"bytes"
	"io"
	"maps"
	"mime"
	"net/mail"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/emersion/go-message/charset"

	"sesame/internal/mailmsg"
)

// MailInput is what the mail object is built from.
type MailInput struct {
	Timestamp time.Time // when SES accepted the message
	MessageID string
	// Source as SES shows it, e.g. "Sender Name <sender@example.com>".
	Source string
	// SourceArn is the sending identity's ARN; "" leaves sourceArn out (SES
	// does for a templated send's Send event and the Open/Click examples).
	SourceArn string
	// SourceIP and CallerIdentity appear in identity notifications only
	// (mail.sourceIp, mail.callerIdentity); event records carry them as the
	// tags ses:source-ip and ses:caller-identity.
	SourceIP         string
	CallerIdentity   string
	SendingAccountID string
	Destination      []string
	// Header is the message's raw header section (CRLF lines; whatever
	// follows the blank line is ignored). nil when SES never parsed the
	// message (Rendering Failure, DeliveryDelay): headers and commonHeaders
	// are then left out. Empty but non-nil gives "headers":[] as a raw send
	// of an empty message did.
	Header []byte
	// Tags is mail.tags: ses:configuration-set, ses:source-ip,
	// ses:from-domain, ses:caller-identity, ses:operation, ses:outgoing-ip
	// and the custom tags. Event records only.
	Tags map[string][]string
}

// Mail is the mail object of an event record.
type Mail struct {
	Timestamp        Time     `json:"timestamp"`
	Source           string   `json:"source"`
	SourceArn        string   `json:"sourceArn,omitempty"`
	SendingAccountID string   `json:"sendingAccountId"`
	MessageID        string   `json:"messageId"`
	Destination      []string `json:"destination"`
	HeadersTruncated bool     `json:"headersTruncated"`
	// Headers is nil (left out) when the header section is unknown, and
	// non-nil (possibly "[]") otherwise.
	Headers       []Header            `json:"headers,omitzero"`
	CommonHeaders *CommonHeaders      `json:"commonHeaders,omitempty"`
	Tags          map[string][]string `json:"tags,omitempty"`

	// For identity notifications only; not part of the record's JSON (a
	// record read back from JSON falls back to the tags and headers).
	SourceIP          string `json:"-"`
	CallerIdentity    string `json:"-"`
	OriginalMessageID string `json:"-"` // the message's own Message-ID, as written
}

// Header is one entry of mail.headers.
type Header struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// CommonHeaders is mail.commonHeaders. A key is present only when the
// message has that header (messageId aside: see NewMail). Address lists
// hold one string per header field.
type CommonHeaders struct {
	ReturnPath string   `json:"returnPath,omitempty"`
	From       []string `json:"from,omitempty"`
	Sender     []string `json:"sender,omitempty"`
	ReplyTo    []string `json:"replyTo,omitempty"`
	Date       string   `json:"date,omitempty"`
	To         []string `json:"to,omitempty"`
	Cc         []string `json:"cc,omitempty"`
	Bcc        []string `json:"bcc,omitempty"`
	MessageID  string   `json:"messageId,omitempty"`
	// Subject is nil without a Subject header; an empty Subject shows as "".
	Subject *string `json:"subject,omitempty"`
}

// maxHeaderBytes is where SES truncates mail.headers ("larger than 10 KB").
const maxHeaderBytes = 10 * 1024

// NewMail builds the mail object. Headers are listed in message order with
// names as written, values unfolded and RFC 2047-decoded; fields past the
// first 10 KB are dropped and headersTruncated set. commonHeaders come from
// every field; their messageId is SES's message id (what event records show
// whatever the message's own Message-ID), the message's own one is kept in
// OriginalMessageID for identity notifications.
func NewMail(in MailInput) Mail {
	m := Mail{
		Timestamp:        NewTime(in.Timestamp),
		Source:           in.Source,
		SourceArn:        in.SourceArn,
		SendingAccountID: in.SendingAccountID,
		MessageID:        in.MessageID,
		Destination:      in.Destination,
		Tags:             maps.Clone(in.Tags),
		SourceIP:         in.SourceIP,
		CallerIdentity:   in.CallerIdentity,
	}
	if m.Destination == nil {
		m.Destination = []string{}
	}
	if in.Header != nil {
		p := parseHeader(in.Header)
		m.Headers, m.HeadersTruncated = p.headers, p.truncated
		p.common.MessageID = in.MessageID
		m.CommonHeaders = &p.common
		m.OriginalMessageID = p.messageID
	}
	return m
}

type parsedHeader struct {
	headers   []Header
	truncated bool
	common    CommonHeaders
	messageID string
}

func parseHeader(b []byte) parsedHeader {
	p := parsedHeader{headers: []Header{}}
	h := mailmsg.Fields(b)
	size := 0
	for fs := h.Fields(); fs.Next(); {
		raw, err := fs.Raw()
		if err != nil {
			continue
		}
		name, value := splitField(raw)
		decoded := decodeWords(value)
		size += len(raw)
		if size > maxHeaderBytes {
			p.truncated = true
		} else {
			p.headers = append(p.headers, Header{Name: name, Value: decoded})
		}
		p.addCommon(fs.Key(), value, decoded)
	}
	return p
}

// splitField splits a raw field ("Name: value\r\n continued\r\n") into its
// name as written and its value unfolded SES's way: the CRLFs go, the
// whitespace after them stays.
func splitField(raw []byte) (name, value string) {
	i := bytes.IndexByte(raw, ':')
	if i < 0 {
		return string(bytes.TrimSpace(raw)), ""
	}
	name = string(bytes.Trim(raw[:i], " \t"))
	v := raw[i+1:]
	var b strings.Builder
	b.Grow(len(v))
	for _, c := range v {
		if c != '\r' && c != '\n' {
			b.WriteByte(c)
		}
	}
	return name, strings.Trim(b.String(), " \t")
}

func (p *parsedHeader) addCommon(key, value, decoded string) {
	c := &p.common
	switch key { // canonical keys (textproto)
	case "From":
		c.From = append(c.From, addressList(value, decoded))
	case "Sender":
		c.Sender = append(c.Sender, addressList(value, decoded))
	case "Reply-To":
		c.ReplyTo = append(c.ReplyTo, addressList(value, decoded))
	case "To":
		c.To = append(c.To, addressList(value, decoded))
	case "Cc":
		c.Cc = append(c.Cc, addressList(value, decoded))
	case "Bcc":
		c.Bcc = append(c.Bcc, addressList(value, decoded))
	case "Return-Path":
		if c.ReturnPath == "" {
			c.ReturnPath = returnPath(value)
		}
	case "Date":
		if c.Date == "" {
			c.Date = decoded
		}
	case "Message-Id":
		if p.messageID == "" {
			p.messageID = value
		}
	case "Subject":
		if c.Subject == nil {
			s := decoded
			c.Subject = &s
		}
	}
}

var wordDecoder = mime.WordDecoder{CharsetReader: func(cs string, r io.Reader) (io.Reader, error) {
	return charset.Reader(cs, r)
}}

var addressParser = mail.AddressParser{WordDecoder: &wordDecoder}

// decodeWords decodes RFC 2047 encoded words; a value it cannot decode stays
// as written.
func decodeWords(v string) string {
	if !strings.Contains(v, "=?") {
		return v
	}
	d, err := wordDecoder.DecodeHeader(v)
	if err != nil {
		return v
	}
	return d
}

// addressList is one commonHeaders entry for an address field: its
// addresses re-formatted and joined with ", ", or the decoded value as
// written when it does not parse.
func addressList(value, decoded string) string {
	list, err := addressParser.ParseList(value)
	if err != nil || len(list) == 0 {
		return decoded
	}
	var b strings.Builder
	for i, a := range list {
		if i > 0 {
			b.WriteString(", ")
		}
		if a.Name == "" {
			b.WriteString(a.Address)
			continue
		}
		writePhrase(&b, a.Name)
		b.WriteString(" <")
		b.WriteString(a.Address)
		b.WriteByte('>')
	}
	return b.String()
}

// phraseSpecials are the characters that make JavaMail quote a display
// name: RFC 822's specials less space and tab.
const phraseSpecials = "()<>@,;:\\\".[]"

// writePhrase writes a display name as JavaMail's InternetAddress does:
// quoted when it holds a special, a control or a non-ASCII character,
// with '"' and '\' escaped when it holds those.
func writePhrase(b *strings.Builder, name string) {
	quote, escape := false, false
	for _, r := range name {
		switch {
		case r == '"' || r == '\\':
			escape = true
		case r < 0x20 && r != '\r' && r != '\n' && r != '\t', r >= 0x7f, r == utf8.RuneError:
			quote = true
		case strings.ContainsRune(phraseSpecials, r):
			quote = true
		}
	}
	switch {
	case escape:
		b.WriteByte('"')
		for _, r := range name {
			if r == '"' || r == '\\' {
				b.WriteByte('\\')
			}
			b.WriteRune(r)
		}
		b.WriteByte('"')
	case quote:
		b.WriteByte('"')
		b.WriteString(name)
		b.WriteByte('"')
	default:
		b.WriteString(name)
	}
}

// returnPath is commonHeaders.returnPath: the bare address of a Return-Path
// field ("<a@b.com>" → "a@b.com").
func returnPath(value string) string {
	if a, err := mail.ParseAddress(value); err == nil {
		return a.Address
	}
	v := strings.TrimSpace(value)
	v = strings.TrimPrefix(v, "<")
	return strings.TrimSuffix(v, ">")
}
