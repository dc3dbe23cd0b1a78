package events

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"time"

	"sesame/internal/mailmsg"
	"sesame/internal/outcome"
	"sesame/internal/sending"
	"sesame/internal/spool"
)

// The mailbox simulator's receivers that answer after accepting (SES's
// simulator page): complaint@ accepts the message and its recipient marks it
// as spam — a complaint, forwarded to the sender as an ARF report, and never
// put on the account's suppression list; ooto@ accepts it and answers with an
// out-of-the-office auto-reply to the sender. Both answers go where DSNs go
// (feedbackTo), with the null reverse-path.

// answer sends what the mailbox simulator's complaint@ and ooto@ answer
// the sender (SES's simulator does, in place of a receiver): an ARF report
// of the complaint, an auto-reply. A replay may send the answer again.
func (r *Recorder) answer(ctx context.Context, e *spool.Entry, header []byte, res outcome.Result) error {
	if res.Kind != outcome.Complained && res.Kind != outcome.AutoReplied {
		return nil
	}
	if !r.dsnDue(ctx, e) {
		return nil
	}
	to := feedbackTo(e)
	for _, rcpt := range res.Recipients {
		if _, simulated := outcome.Simulated(rcpt); !simulated {
			continue // a receiver's report: feedback.go forwards it as it came
		}
		var msg []byte
		if res.Kind == outcome.Complained {
			msg = composeSimulatedComplaint(r.BounceDomain, to, e, rcpt, res.Time, header)
		} else {
			msg = composeOutOfOffice(to, rcpt, rawHeaderValue(bytes.ReplaceAll(header, []byte("\r\n"), []byte("\n")), "Subject"))
		}
		if _, err := r.System.SubmitSystem(ctx, sending.SystemMessage{
			AccountID: e.AccountID, Region: e.Region, Recipients: []string{to}, Message: msg,
		}); err != nil {
			return fmt.Errorf("sending the simulator's answer to %s: %w", to, err)
		}
	}
	return nil
}

// composeSimulatedComplaint writes an ARF report (RFC 5965) about e, from
// complaints@<bounce domain> as forwarded complaints are.
func composeSimulatedComplaint(bounceDomain, to string, e *spool.Entry, rcpt string, at time.Time, origHeader []byte) []byte {
	var report strings.Builder
	report.WriteString("Feedback-Type: abuse\n")
	fmt.Fprintf(&report, "User-Agent: %s\n", outcome.SimulatorUserAgent)
	report.WriteString("Version: 1\n")
	fmt.Fprintf(&report, "Original-Mail-From: <%s>\n", e.MailFrom)
	fmt.Fprintf(&report, "Original-Rcpt-To: %s\n", rcpt)
	fmt.Fprintf(&report, "Arrival-Date: %s\n", at.UTC().Format(time.RFC1123Z))
	fmt.Fprintf(&report, "X-SES-Message-ID: %s\n", e.ID)
	return mailmsg.Report("complaints@"+bounceDomain, to, "Complaint about your message", "feedback-report",
		mailmsg.HumanReadable("The recipient "+rcpt+" marked your message as spam (mailbox simulator).\n"),
		mailmsg.Raw("message/feedback-report", []byte(report.String())),
		mailmsg.Raw("text/rfc822-headers", origHeader))
}

// composeOutOfOffice writes the simulator's auto-reply (RFC 3834) from rcpt.
// subject is the original's as written: decoded first so the reply's
// Subject is encoded as one text, an 8-bit original's included.
func composeOutOfOffice(to, rcpt, subject string) []byte {
	subject = decodeWords(subject)
	if subject == "" {
		subject = "your message"
	}
	m := mailmsg.Raw("text/plain; charset=utf-8", []byte(
		"I am out of the office and will answer your message when I am back.\n"+
			"(An automatic reply from the mailbox simulator.)\n"))
	m.Header = append([]mailmsg.Field{
		{Name: "From", Value: rcpt},
		{Name: "To", Value: to},
		{Name: "Subject", Value: mailmsg.EncodeText("Out of the office: " + subject)},
		{Name: "MIME-Version", Value: "1.0"},
	}, m.Header...)
	m.Header = append(m.Header, mailmsg.Field{Name: "Auto-Submitted", Value: "auto-replied"})
	return m.Bytes()
}
