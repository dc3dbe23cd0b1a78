package delivery

import (
	"bytes"
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"

	"sesame/internal/outcome"
	"sesame/internal/sending"
	"sesame/internal/spool"
	"sesame/internal/store"
)

// The mailbox simulator's receivers that answer after accepting (SES's
// simulator page): complaint@ accepts the message and its recipient marks it
// as spam — a complaint, forwarded to the sender as an ARF report, and never
// put on the account's suppression list; ooto@ accepts it and answers with an
// out-of-the-office auto-reply to the sender. Both answers go where DSNs go
// (feedbackTo), with the null reverse-path.

// simulatorUserAgent is the User-Agent of the simulator's complaints, as SES
// names it in its complaint notifications.
const simulatorUserAgent = "Amazon SES Mailbox Simulator"

// simulatorFeedback records and sends the simulated receiver's answer about
// e to rcpt (answer outcome.SimComplaint or outcome.SimOutOfOffice). A replay
// records the complaint once and may send the answer again.
func (m *MX) simulatorFeedback(ctx context.Context, a *attempt, rcpt, answer string) error {
	e := a.e
	now := m.now()
	if answer == outcome.SimComplaint {
		fid := uuid.NewString()
		if _, err := m.Store.AddComplaint(ctx, store.Complaint{
			AccountID: e.AccountID, Region: e.Region, MessageID: e.ID, Recipient: rcpt,
			FeedbackType: "abuse", UserAgent: simulatorUserAgent, Arrival: now,
			FeedbackID: fid, Created: now,
		}); err != nil {
			return err
		}
		a.results = append(a.results, outcome.Result{Kind: outcome.Complained, Recipients: []string{rcpt}, Time: now,
			FeedbackID: fid, FeedbackType: "abuse", UserAgent: simulatorUserAgent, Arrival: now})
	}
	if !m.dsnDue(ctx, e) {
		return nil
	}
	to := feedbackTo(e)
	header := readHeaderOf(e)
	var msg []byte
	if answer == outcome.SimComplaint {
		msg = composeSimulatedComplaint(m.bounceDomain(), to, e, rcpt, now, header)
	} else {
		msg = composeOutOfOffice(to, rcpt, headerValue(bytes.ReplaceAll(header, []byte("\r\n"), []byte("\n")), "Subject"))
	}
	if _, err := m.System.SubmitSystem(ctx, sending.SystemMessage{
		AccountID: e.AccountID, Region: e.Region, Recipients: []string{to}, Message: msg,
	}); err != nil {
		return fmt.Errorf("sending the simulator's %s to %s: %w", answer, to, err)
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
	r.line("User-Agent: %s", simulatorUserAgent)
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

// simulatedBounce is how the simulator's bounce@ and suppressionlist@
// addresses bounce. suppressionlist@ is as if the address were on SES's
// global suppression list (subtype Suppressed, SES's text), not the
// account's.
func simulatedBounce(o string) (typ, sub string, f *outcome.Failure) {
	if o == outcome.SimSuppressionList {
		return outcome.BouncePermanent, outcome.SubSuppressed, &outcome.Failure{Code: 550, Enhanced: "5.1.1", Permanent: true,
			Text: "Amazon SES has suppressed sending to this address because it has a recent history of bouncing as an invalid address."}
	}
	return outcome.BouncePermanent, outcome.SubGeneral, &outcome.Failure{Code: 550, Enhanced: "5.1.1",
		Text: "mailbox simulator: bounce", Permanent: true, Remote: true, MTA: outcome.SimulatorDomain}
}
