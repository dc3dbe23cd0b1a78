// Package bounce sends the DSNs of receiving: a receipt rule's
// BounceAction and SES v1's SendBounce bounce a message sesame received
// back to its envelope sender. The DSN is composed by mailmsg's one DSN
// composer and sent as sesame's own mail (sending's SubmitSystem: spooled
// durably, then delivered by the courier or captured), with the null
// reverse-path. It decides nothing about whether a message may be bounced:
// the caller (the receipt rule, the API) has done that.
package bounce

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"sesame/internal/mailmsg"
	"sesame/internal/sending"
)

// System sends mail of sesame's own (*sending.Sender does).
type System interface {
	SubmitSystem(ctx context.Context, m sending.SystemMessage) (string, error)
}

// Bouncer sends receiving's DSNs.
type Bouncer struct {
	system   System
	hostname string
}

// New returns a Bouncer that sends through system and names hostname as
// the Reporting-MTA.
func New(system System, hostname string) *Bouncer {
	return &Bouncer{system: system, hostname: hostname}
}

// BounceRequest is one DSN about a received message.
type BounceRequest struct {
	AccountID, Region string
	Sender            string   // the DSN's From (BounceAction.Sender, SendBounce's BounceSender)
	To                string   // the received message's MAIL FROM; "" (the null sender): nothing is sent
	Recipients        []string // the bounced (matched) recipients
	// SmtpReplyCode, StatusCode and Message make every recipient's block:
	// Status is StatusCode (else derived from the reply code), the
	// Diagnostic-Code "smtp; <reply code> <status> <message>".
	SmtpReplyCode, StatusCode, Message string
	OriginalHeader                     []byte // the received message's header section, returned
	Arrival                            time.Time
	OriginalMessageID                  string // the received message's SES id

	// SendBounce's additions.

	// Explanation is the human-readable part; "" makes one from the
	// recipients.
	Explanation string
	// ReportingMTA is the Reporting-MTA value ("dns; host"); "" names
	// sesame's hostname.
	ReportingMTA string
	// Fields are more per-message fields (MessageDsn.ExtensionFields).
	Fields []mailmsg.Field
	// Details, when set, are the per-recipient blocks as given
	// (SendBounce's BouncedRecipientInfoList), instead of Recipients with
	// the codes above.
	Details []mailmsg.DSNRecipient
	// Requested marks a DSN an account's own call asked for (SendBounce):
	// it is held to the account's sending status (sending.CheckSending).
	Requested bool
}

// Bounce composes the DSN r describes and spools it to r.To; it returns
// after the DSN is spooled durably, with its MessageId — "" when r.To is
// the null sender, to whom no DSN goes (RFC 3464 §2, RFC 5321 §4.5.5).
func (b *Bouncer) Bounce(ctx context.Context, r BounceRequest) (string, error) {
	if r.To == "" {
		return "", nil
	}
	blocks := r.Details
	if blocks == nil {
		if len(r.Recipients) == 0 {
			return "", errors.New("bounce: a DSN without recipients")
		}
		status := r.StatusCode
		if status == "" {
			status = StatusOf(r.SmtpReplyCode)
		}
		diag := "smtp; " + strings.Join(nonEmpty(r.SmtpReplyCode, status, r.Message), " ")
		for _, rcpt := range r.Recipients {
			blocks = append(blocks, mailmsg.DSNRecipient{FinalRecipient: rcpt, Action: "failed", Status: status,
				DiagnosticCode: diag})
		}
	}
	mta := r.ReportingMTA
	if mta == "" {
		mta = "dns; " + b.hostname
	}
	from := r.Sender
	if from == "" {
		// SES requires a BounceAction's Sender; a DSN still needs a From.
		from = "MAILER-DAEMON@" + b.hostname
	}
	d := mailmsg.DSN{
		From:           from,
		To:             r.To,
		Subject:        "Delivery Status Notification (Failure)",
		Explanation:    r.Explanation,
		ReportingMTA:   mta,
		OriginalHeader: r.OriginalHeader,
		Recipients:     blocks,
	}
	if d.Explanation == "" {
		d.Explanation = explain(blocks)
	}
	if r.OriginalMessageID != "" {
		d.Fields = append(d.Fields, mailmsg.Field{Name: "X-SES-Message-ID", Value: r.OriginalMessageID})
	}
	if !r.Arrival.IsZero() {
		d.Fields = append(d.Fields, mailmsg.Field{Name: "Arrival-Date", Value: mailmsg.FormatDate(r.Arrival)})
	}
	d.Fields = append(d.Fields, r.Fields...)
	id, err := b.system.SubmitSystem(ctx, sending.SystemMessage{
		AccountID: r.AccountID, Region: r.Region, Recipients: []string{r.To}, Message: d.Bytes(),
		Requested: r.Requested,
	})
	if err != nil {
		return "", fmt.Errorf("bounce: sending a DSN about %s to %s: %w", r.OriginalMessageID, r.To, err)
	}
	return id, nil
}

// StatusOf is the status code a reply code implies when none is given:
// its class, with no detail (RFC 3463 §3.1: X.0.0).
func StatusOf(replyCode string) string {
	if replyCode != "" && (replyCode[0] == '4' || replyCode[0] == '5') {
		return replyCode[:1] + ".0.0"
	}
	return "5.0.0"
}

// explain is the human-readable part made from the blocks.
func explain(blocks []mailmsg.DSNRecipient) string {
	var b strings.Builder
	b.WriteString("An error occurred while trying to deliver the mail to the following recipients:\n\n")
	for _, r := range blocks {
		why := strings.TrimPrefix(r.DiagnosticCode, "smtp; ")
		if why == "" {
			why = r.Status
		}
		fmt.Fprintf(&b, "  %s: %s\n", r.FinalRecipient, why)
	}
	return b.String()
}

func nonEmpty(parts ...string) []string {
	out := parts[:0:0]
	for _, p := range parts {
		if p != "" {
			out = append(out, p)
		}
	}
	return out
}
