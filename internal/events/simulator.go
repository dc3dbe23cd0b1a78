package events

import (
	"bytes"
	"context"
	"fmt"
	"time"

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
	r := newReport("complaints@"+bounceDomain, to, "Complaint about your message", "feedback-report")
	r.part("text/plain; charset=us-ascii")
	r.line("The recipient %s marked your message as spam (mailbox simulator).", rcpt)
	r.line("")
	r.part("message/feedback-report")
	r.line("Feedback-Type: abuse")
	r.line("User-Agent: %s", outcome.SimulatorUserAgent)
	r.line("Version: 1")
	r.line("Original-Mail-From: <%s>", e.MailFrom)
	r.line("Original-Rcpt-To: %s", rcpt)
	r.line("Arrival-Date: %s", at.UTC().Format(time.RFC1123Z))
	r.line("X-SES-Message-ID: %s", e.ID)
	r.line("")
	r.part("text/rfc822-headers")
	r.Write(origHeader)
	r.line("")
	return r.end()
}

// composeOutOfOffice writes the simulator's auto-reply (RFC 3834) from rcpt.
func composeOutOfOffice(to, rcpt, subject string) []byte {
	if subject == "" {
		subject = "your message"
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "From: %s\r\nTo: %s\r\nSubject: Out of the office: %s\r\n", rcpt, to, subject)
	b.WriteString("MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nAuto-Submitted: auto-replied\r\n\r\n")
	b.WriteString("I am out of the office and will answer your message when I am back.\r\n")
	b.WriteString("(An automatic reply from the mailbox simulator.)\r\n")
	return b.Bytes()
}
