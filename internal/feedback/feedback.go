// Package feedback reads the feedback that receivers send back to sesame's
// per-message bounce addresses — asynchronous delivery status notifications
// (RFC 3464) and ARF complaint reports (RFC 5965) — and turns them into bounce
// and complaint reports.
//
// It never decides what follows (suppression, forwarding): delivery does. It
// also never guesses: a bounce that is not a multipart/report (the plain-text
// "Mail Delivery Subsystem" kind) is KindOther, and the caller forwards it as
// is.
package feedback

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	netmail "net/mail"
	"strings"
	"time"

	"github.com/emersion/go-message"
	_ "github.com/emersion/go-message/charset" // reports' Subjects come in legacy charsets too
	"github.com/emersion/go-message/mail"
	"github.com/emersion/go-message/textproto"
)

// Kind of a report.
type Kind string

const (
	KindBounce    Kind = "bounce"    // a multipart/report; report-type=delivery-status
	KindComplaint Kind = "complaint" // a multipart/report; report-type=feedback-report (ARF)
	KindOther     Kind = "other"     // anything else (auto-reply, a non-standard bounce)
)

// Report is what one piece of feedback says.
type Report struct {
	Kind Kind
	// ReportingMTA is the Reporting-MTA value as written, e.g.
	// "dns; mx.example.net" ('' if none). ARF reports may carry one too.
	ReportingMTA string
	Recipients   []RecipientStatus // KindBounce: one per per-recipient block
	Complaint    *Complaint        // KindComplaint: never nil, even if the report part was unreadable
	// OriginalHeader is the returned original message's header as the report
	// carries it (the text/rfc822-headers part, or the header of a
	// message/rfc822 part), up to but not including the blank line that ends
	// it; nil if the report carries none.
	OriginalHeader []byte
	// OriginalMessageID is the Message-ID field of OriginalHeader, without
	// angle brackets ('' if none).
	OriginalMessageID string
	Subject           string // the report's own Subject, RFC 2047 words decoded
	From              string // the report's own From address (just the address)
}

// RecipientStatus is one per-recipient block of a DSN (RFC 3464 §2.3).
type RecipientStatus struct {
	Recipient string // address of Final-Recipient, else of Original-Recipient, without the address type
	// OriginalRecipient is the address of Original-Recipient ('' if none):
	// the address the message was sent to, when forwarding changed it.
	OriginalRecipient string
	Action            string // lower-cased: failed, delayed, delivered, relayed, expanded
	Status            string // e.g. "5.1.1" (only the x.y.z; any trailing comment dropped)
	Diagnostic        string // Diagnostic-Code as written and unfolded, e.g. "smtp; 550 5.1.1 user unknown"
	RemoteMTA         string // Remote-MTA as written, e.g. "dns; mx.example.net"
}

// Complaint is the machine-readable part of an ARF report (RFC 5965 §3.1).
type Complaint struct {
	// FeedbackType is lower-cased but otherwise as written (abuse,
	// auth-failure, fraud, not-spam, other, virus, or anything else): the
	// caller maps unknown types, since what they mean is its decision.
	FeedbackType string
	UserAgent    string
	ArrivalDate  time.Time // Arrival-Date (or the older Received-Date); zero if absent or unparseable
	// Recipients are the Original-Rcpt-To fields (many reporters leave
	// them out or redact them).
	Recipients []string
	// OriginalTo are the addresses of the returned message's To field: a
	// hint when Recipients is empty, not proof of who complained (a message
	// can name many).
	OriginalTo []string
	SourceIP   string // without the brackets some reporters add
}

const (
	// maxMessageBytes bounds what Parse reads: no genuine report comes near
	// it, and feedback arrives from anyone on the Internet.
	maxMessageBytes = 10 << 20
	// maxPartBytes bounds the parts Parse holds in memory whole (the
	// machine-readable part, the returned header).
	maxPartBytes = 1 << 20
)

// Parse reads one message (header + body, CRLF or LF line ends) and reports
// what it is. It returns an error only when the message cannot be read as a
// message at all; a message that is not a report is KindOther, and a report
// with unreadable parts returns what it could read.
func Parse(r io.Reader) (*Report, error) {
	e, err := message.Read(io.LimitReader(r, maxMessageBytes))
	if err != nil && !message.IsUnknownCharset(err) && !message.IsUnknownEncoding(err) {
		return nil, fmt.Errorf("feedback: reading message header: %w", err)
	}
	if e.Header.Len() == 0 {
		return nil, errors.New("feedback: message has no header")
	}
	h := mail.Header{Header: e.Header}
	rep := &Report{Kind: KindOther, Subject: subject(h), From: firstAddress(h.Get("From"))}

	report, reportType := findReport(e)
	if report == nil {
		return rep, nil
	}
	switch reportType {
	case "delivery-status", "global-delivery-status":
		rep.Kind = KindBounce
	case "feedback-report":
		rep.Kind = KindComplaint
	case "":
		// report-type is required (RFC 6522 §3), but its absence should not
		// hide a machine-readable part: readParts lets that part decide
		// while the kind is still KindOther.
	default:
		// Other reports (MDNs, TLS reports) are not bounces or complaints.
		return rep, nil
	}
	readParts(rep, report)
	if rep.Kind == KindComplaint && rep.Complaint == nil {
		rep.Complaint = &Complaint{}
	}
	if rep.Kind == KindComplaint {
		orig := headerOf(rep.OriginalHeader)
		rep.Complaint.OriginalTo = addresses(orig.Get("To"))
	}
	return rep, nil
}

// findReport returns the multipart/report entity of e — e itself, or one of
// its parts when a gateway wrapped the report in another multipart (one level
// only: deeper nesting is a forwarded message, not a report to us) — and its
// lower-cased report-type.
func findReport(e *message.Entity) (*message.Entity, string) {
	t, params := mediaType(e.Header)
	if t == "multipart/report" {
		return e, strings.ToLower(strings.TrimSpace(params["report-type"]))
	}
	if !strings.HasPrefix(t, "multipart/") {
		return nil, ""
	}
	// go-message decides multipart-ness from the raw Content-Type, which
	// can disagree with mediaType's salvaged one when parameters are
	// malformed: then there are no parts to read.
	mr := e.MultipartReader()
	if mr == nil {
		return nil, ""
	}
	for {
		p, _ := mr.NextPart()
		if p == nil { // the end, or parts past reading
			return nil, ""
		}
		if t, params := mediaType(p.Header); t == "multipart/report" {
			return p, strings.ToLower(strings.TrimSpace(params["report-type"]))
		}
	}
}

// readParts fills rep from the parts of a multipart/report (RFC 6522): the
// machine-readable part and the returned message or header. Parts are read
// in order and stop at the first unreadable one.
func readParts(rep *Report, report *message.Entity) {
	mr := report.MultipartReader()
	if mr == nil { // see findReport
		return
	}
	machineRead := false
	for {
		// NextPart returns a part with an error when the part's transfer
		// encoding or charset is unknown: its raw body is still worth a try.
		p, _ := mr.NextPart()
		if p == nil { // the end, or parts past reading
			return
		}
		t, _ := mediaType(p.Header)
		switch t {
		case "message/delivery-status", "message/global-delivery-status": // RFC 3464, RFC 6533
			if rep.Kind == KindOther {
				rep.Kind = KindBounce
			}
			// RFC 6522 §3 allows one machine-readable part; a second one
			// must not add its recipients twice.
			if rep.Kind == KindBounce && !machineRead {
				readDeliveryStatus(rep, p.Body)
				machineRead = true
			}
		case "message/feedback-report": // RFC 5965
			if rep.Kind == KindOther {
				rep.Kind = KindComplaint
			}
			if rep.Kind == KindComplaint && !machineRead {
				readFeedbackReport(rep, p.Body)
				machineRead = true
			}
		case "text/rfc822-headers", "message/global-headers", // RFC 6522 §4, RFC 6533
			"message/rfc822", "message/global":
			if rep.OriginalHeader == nil {
				rep.OriginalHeader = readHeaderSection(p.Body)
				rep.OriginalMessageID = messageID(headerOf(rep.OriginalHeader))
			}
		}
	}
}

// readDeliveryStatus reads a message/delivery-status body (RFC 3464 §2.1):
// one per-message block, then one block per recipient.
func readDeliveryStatus(rep *Report, body io.Reader) {
	for _, b := range fieldBlocks(body) {
		// Some MTAs omit the per-message block, so a block is told by its
		// fields rather than by its place.
		if !b.Has("Final-Recipient") && !b.Has("Original-Recipient") && !b.Has("Action") && !b.Has("Status") {
			if rep.ReportingMTA == "" {
				rep.ReportingMTA = b.Get("Reporting-Mta")
			}
			continue
		}
		rcpt := typedAddress(b.Get("Final-Recipient"))
		if rcpt == "" {
			rcpt = typedAddress(b.Get("Original-Recipient"))
		}
		rep.Recipients = append(rep.Recipients, RecipientStatus{
			Recipient:         rcpt,
			OriginalRecipient: typedAddress(b.Get("Original-Recipient")),
			Action:            strings.ToLower(firstToken(b.Get("Action"))),
			Status:            firstToken(b.Get("Status")),
			Diagnostic:        b.Get("Diagnostic-Code"),
			RemoteMTA:         b.Get("Remote-Mta"),
		})
	}
}

// readFeedbackReport reads a message/feedback-report body (RFC 5965 §3.1).
// It is one block of fields; a stray blank line inside it does not end it.
func readFeedbackReport(rep *Report, body io.Reader) {
	c := &Complaint{}
	for _, b := range fieldBlocks(body) {
		if c.FeedbackType == "" {
			c.FeedbackType = strings.ToLower(b.Get("Feedback-Type"))
		}
		if c.UserAgent == "" {
			c.UserAgent = b.Get("User-Agent")
		}
		if c.ArrivalDate.IsZero() {
			c.ArrivalDate = date(b.Get("Arrival-Date"))
		}
		if c.ArrivalDate.IsZero() {
			c.ArrivalDate = date(b.Get("Received-Date")) // draft ARF, still sent by some
		}
		if c.SourceIP == "" {
			c.SourceIP = strings.Trim(b.Get("Source-Ip"), "[] ")
		}
		if rep.ReportingMTA == "" {
			rep.ReportingMTA = b.Get("Reporting-Mta")
		}
		for _, v := range b.Values("Original-Rcpt-To") {
			if a := bareAddress(v); a != "" {
				c.Recipients = append(c.Recipients, a)
			}
		}
	}
	rep.Complaint = c
}

// fieldBlocks splits a machine-readable part into its blocks of header-like
// fields separated by blank lines. Receivers get the syntax wrong in small
// ways (trailing whitespace, LF line ends, whitespace-only separators, no
// final blank line, a stray line that is not a field), so the lines are
// cleaned first and go-message's header reader only sees well-formed blocks:
// one bad line must not cost the rest of a block.
func fieldBlocks(body io.Reader) []textproto.Header {
	raw, _ := io.ReadAll(io.LimitReader(body, maxPartBytes))
	var blocks []textproto.Header
	var block bytes.Buffer
	flush := func() {
		if block.Len() == 0 {
			return
		}
		block.WriteString("\r\n")
		h, _ := textproto.ReadHeader(bufio.NewReader(&block))
		if h.Len() > 0 {
			blocks = append(blocks, h)
		}
		block.Reset()
	}
	for _, line := range bytes.Split(raw, []byte("\n")) {
		line = bytes.TrimRight(line, " \t\r")
		switch {
		case len(line) == 0:
			flush()
		case line[0] == ' ' || line[0] == '\t':
			if block.Len() > 0 { // a continuation with nothing to continue is noise
				block.Write(line)
				block.WriteString("\r\n")
			}
		case isField(line):
			block.Write(line)
			block.WriteString("\r\n")
		}
	}
	flush()
	return blocks
}

// isField reports whether line starts with a field name and a colon (RFC 5322
// §2.2: printable ASCII but the colon; some writers put spaces before it).
func isField(line []byte) bool {
	i := bytes.IndexByte(line, ':')
	if i <= 0 {
		return false
	}
	name := bytes.TrimRight(line[:i], " \t")
	if len(name) == 0 {
		return false
	}
	for _, c := range name {
		if c < 33 || c > 126 {
			return false
		}
	}
	return true
}

// readHeaderSection returns the header section at the start of r: its lines
// as written, up to but not including the blank line that ends it (a
// text/rfc822-headers part may or may not have one).
func readHeaderSection(r io.Reader) []byte {
	br := bufio.NewReader(io.LimitReader(r, maxPartBytes))
	var out []byte
	for {
		line, err := br.ReadBytes('\n')
		if len(bytes.TrimRight(line, "\r\n")) == 0 && len(line) > 0 {
			if len(out) == 0 {
				continue // some MTAs start the part with an empty line
			}
			break
		}
		out = append(out, line...)
		if err != nil {
			break
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// headerOf parses a header section, keeping the fields before any malformed
// line.
func headerOf(section []byte) mail.Header {
	if len(section) == 0 {
		return mail.Header{}
	}
	// A copy, so that the terminating blank line never lands in the spare
	// capacity of Report.OriginalHeader.
	b := append(bytes.Clone(bytes.TrimLeft(section, " \t")), "\r\n\r\n"...)
	h, _ := textproto.ReadHeader(bufio.NewReader(bytes.NewReader(b)))
	return mail.Header{Header: message.Header{Header: h}}
}

// messageID returns the Message-ID without angle brackets. The returned
// header is the one sesame wrote, but a receiver may have mangled it, so an
// unparseable value is trimmed rather than dropped.
func messageID(h mail.Header) string {
	if id, err := h.MessageID(); err == nil {
		return id
	}
	return strings.Trim(h.Get("Message-Id"), "<> \t")
}

// mediaType returns e's lower-cased media type and its parameters. A
// Content-Type whose parameters do not parse still names its type.
func mediaType(h message.Header) (string, map[string]string) {
	t, params, err := h.ContentType()
	if err != nil {
		t, _, _ = strings.Cut(h.Get("Content-Type"), ";")
		params = nil
	}
	return strings.ToLower(strings.TrimSpace(t)), params
}

// subject returns the decoded Subject, or the Subject as written when its
// encoded words do not decode.
func subject(h mail.Header) string {
	if s, err := h.Subject(); err == nil {
		return s
	}
	return h.Get("Subject")
}

// typedAddress returns the address of an RFC 3464 address field such as
// "rfc822; user@example.net" (RFC 3464 §2.3.2): the address type is dropped,
// and so are the angle brackets some MTAs add.
func typedAddress(v string) string {
	if _, a, ok := strings.Cut(v, ";"); ok {
		v = a
	}
	return bareAddress(v)
}

// bareAddress trims spaces and angle brackets around an address.
func bareAddress(v string) string {
	return strings.TrimSpace(strings.Trim(strings.TrimSpace(v), "<>"))
}

// firstToken returns v's first word, dropping a trailing comment such as the
// one in "5.1.1 (bad destination mailbox address)".
func firstToken(v string) string {
	v = strings.TrimSpace(v)
	if i := strings.IndexAny(v, " \t("); i >= 0 {
		v = v[:i]
	}
	return v
}

// date parses an RFC 5322 date; net/mail also accepts the obsolete forms
// (zone names, missing seconds) reporters still write, the RFC 5965 example
// among them.
func date(v string) time.Time {
	if v == "" {
		return time.Time{}
	}
	t, err := netmail.ParseDate(v)
	if err != nil {
		return time.Time{}
	}
	// net/mail keeps a zone name it does not know from the local zone at
	// offset zero, which would move "14:00:00 EDT" by four hours.
	if name, offset := t.Zone(); offset == 0 {
		if hours, ok := obsZones[name]; ok {
			y, mo, d := t.Date()
			h, mi, sec := t.Clock()
			t = time.Date(y, mo, d, h, mi, sec, t.Nanosecond(), time.FixedZone(name, hours*3600))
		}
	}
	return t
}

// obsZones are the obsolete zone names of RFC 5322 §4.3 with their offsets
// in hours.
var obsZones = map[string]int{
	"EST": -5, "EDT": -4, "CST": -6, "CDT": -5,
	"MST": -7, "MDT": -6, "PST": -8, "PDT": -7,
}

// firstAddress returns the first address of an address-list field.
func firstAddress(v string) string {
	if as := addresses(v); len(as) > 0 {
		return as[0]
	}
	return ""
}

// addresses returns the addresses of an address-list field. When the list
// does not parse as a whole, each comma-separated item is tried alone, and
// an item that still does not parse is taken from its angle brackets.
func addresses(v string) []string {
	if strings.TrimSpace(v) == "" {
		return nil
	}
	var out []string
	if list, err := mail.ParseAddressList(v); err == nil {
		for _, a := range list {
			out = append(out, a.Address)
		}
		return out
	}
	for _, item := range strings.Split(v, ",") {
		if a, err := mail.ParseAddress(item); err == nil {
			out = append(out, a.Address)
			continue
		}
		if i := strings.LastIndexByte(item, '<'); i >= 0 {
			item = item[i:]
			if j := strings.IndexByte(item, '>'); j >= 0 {
				item = item[:j]
			}
		}
		if a := bareAddress(item); strings.Contains(a, "@") && !strings.ContainsAny(a, " \t") {
			out = append(out, a)
		}
	}
	return out
}
