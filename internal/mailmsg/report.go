package mailmsg

import (
	"fmt"
	"strings"
	"time"
)

// Reports of sesame's own: multipart/report messages (RFC 6522) — the DSNs
// (RFC 3464) of its outbound bounces and of receiving's bounces
// (SendBounce, a receipt rule's BounceAction), and complaint reports.
// DSN.Bytes is the one DSN composer; Report the one report envelope.

// DSN is a delivery status notification (RFC 3464) to compose.
type DSN struct {
	From, To, Subject string // header fields, as they go on the wire
	// Explanation is the human-readable first part.
	Explanation string
	// ReportingMTA is the Reporting-MTA value, type included: "dns; host".
	ReportingMTA string
	// Fields are the other per-message fields, after Reporting-MTA
	// (X-SES-Message-ID, Arrival-Date as FormatDate writes it, extension
	// fields), in order.
	Fields     []Field
	Recipients []DSNRecipient
	// OriginalHeader is the returned message's header section (the
	// text/rfc822-headers part), without the blank line that ends it.
	OriginalHeader []byte
}

// DSNRecipient is one per-recipient block (RFC 3464 §2.3).
type DSNRecipient struct {
	FinalRecipient string // an address: the block says "rfc822; " before it
	Action         string // failed, delayed, delivered, relayed, expanded
	Status         string // e.g. 5.1.1
	RemoteMTA      string // value with its type ("dns; host"), "" for none
	DiagnosticCode string // value with its type ("smtp; 550 …"), "" for none
	LastAttempt    time.Time
	Fields         []Field // extension fields, after the standard ones
}

// FormatDate is an RFC 5322 date-time, as the DSN's date fields take it.
func FormatDate(t time.Time) string { return t.UTC().Format(time.RFC1123Z) }

// Bytes writes d as a multipart/report; report-type=delivery-status
// message, without Message-ID and Date (the sender adds them).
func (d *DSN) Bytes() []byte {
	// RFC 3464 §2.2: per-message fields, then a block per recipient, each
	// block after a blank line.
	var status strings.Builder
	fmt.Fprintf(&status, "Reporting-MTA: %s\n", oneLine(d.ReportingMTA))
	for _, f := range d.Fields {
		fmt.Fprintf(&status, "%s: %s\n", f.Name, oneLine(f.Value))
	}
	for _, r := range d.Recipients {
		status.WriteString("\n")
		fmt.Fprintf(&status, "Final-Recipient: rfc822; %s\n", oneLine(r.FinalRecipient))
		fmt.Fprintf(&status, "Action: %s\n", oneLine(r.Action))
		fmt.Fprintf(&status, "Status: %s\n", oneLine(r.Status))
		if r.RemoteMTA != "" {
			fmt.Fprintf(&status, "Remote-MTA: %s\n", oneLine(r.RemoteMTA))
		}
		if r.DiagnosticCode != "" {
			fmt.Fprintf(&status, "Diagnostic-Code: %s\n", oneLine(r.DiagnosticCode))
		}
		if !r.LastAttempt.IsZero() {
			fmt.Fprintf(&status, "Last-Attempt-Date: %s\n", FormatDate(r.LastAttempt))
		}
		for _, f := range r.Fields {
			fmt.Fprintf(&status, "%s: %s\n", f.Name, oneLine(f.Value))
		}
	}
	return Report(d.From, d.To, d.Subject, "delivery-status",
		HumanReadable(d.Explanation),
		Raw("message/delivery-status", []byte(status.String())),
		Raw("text/rfc822-headers", d.OriginalHeader))
}

// oneLine keeps a field value on its line: a value a client gave (an API
// parameter) must not add fields or blocks to the report.
func oneLine(v string) string {
	if !strings.ContainsAny(v, "\r\n") {
		return v
	}
	return strings.Join(strings.Fields(v), " ")
}

// Report writes a multipart/report message (RFC 6522) of sesame's own,
// without Message-ID and Date (the sender adds them).
func Report(from, to, subject, reportType string, parts ...*Part) []byte {
	m := Multipart("report", Boundary(), map[string]string{"report-type": reportType}, parts...)
	m.Header = append([]Field{
		{Name: "From", Value: from},
		{Name: "To", Value: to},
		{Name: "Subject", Value: subject},
		{Name: "MIME-Version", Value: "1.0"},
	}, m.Header...)
	m.Header = append(m.Header, Field{Name: "Auto-Submitted", Value: "auto-replied"})
	return m.Bytes()
}

// HumanReadable is a report's first part. A recipient's address or a
// receiver's reply may be beyond ASCII (SMTPUTF8), which us-ascii cannot
// label.
func HumanReadable(text string) *Part {
	if b, ok := SevenBit([]byte(text)); ok {
		return Raw("text/plain; charset=us-ascii", b)
	}
	return Text("text/plain", text)
}
