package delivery

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"sesame/internal/feedback"
	"sesame/internal/outcome"
	"sesame/internal/sending"
	"sesame/internal/spool"
	"sesame/internal/store"
)

// Feedback that arrives after delivery, at a message's bounce address
// (<message id>@<bounce domain>): the feedback listener
// (internal/feedback) reads it and hands it here, where it gets the
// consequences a bounce during the SMTP dialogue gets (bounce.go,
// bounce_dsn.go): a record with SES's classification, the suppression list
// when the settings say so, and email forwarding to the sender when its
// identity forwards feedback. Complaints likewise, with reason COMPLAINT.

// ErrUnknownMessage is what Feedback returns for a message sesame has no
// record of (never sent, or sent before the retention period).
var ErrUnknownMessage = errors.New("delivery: no record of that message")

// KnownBounceAddress says whether local@domain is the bounce address of a
// message sesame sent (and still keeps a record of).
// A message sent moments ago may not be recorded yet (the sent log writes
// in batches): its address gets an error, so the listener answers 4xx and
// the receiver tries again, instead of a 5xx that would lose the feedback.
func (m *MX) KnownBounceAddress(ctx context.Context, local, domain string) (bool, error) {
	id := strings.ToLower(local)
	sm, ok, err := m.Store.GetSentMessage(ctx, id)
	if err != nil {
		return false, err
	}
	if !ok {
		if m.sent != nil && m.sent.has(id) {
			return false, errNotYetRecorded
		}
		if _, queued := m.Spool.Entry(id); queued {
			return false, errNotYetRecorded // in delivery, maybe accepted already
		}
		if t, isID := sending.MessageIDTime(id); isID && m.now().Sub(t).Abs() < recentlySent {
			// A message delivered just before a crash whose record was
			// lost with its batch: the receiver is asked to try again for a
			// while rather than refused for good.
			return false, errNotYetRecorded
		}
		return false, nil
	}
	return strings.EqualFold(sm.BounceDomain, domain), nil
}

// recentlySent is how long after its MessageId was made an unknown message
// of sesame's form gets "try again" rather than "unknown": the record of a
// message delivered just before a crash may have been lost with its batch.
const recentlySent = 10 * time.Minute

var errNotYetRecorded = errors.New("delivery: message not recorded yet")

// Feedback applies a report a receiver sent about message id. It returns
// only once what follows is durable (records written, forwarded mail
// spooled), so the listener may answer 250; an error means try again.
func (m *MX) Feedback(ctx context.Context, id string, rep *feedback.Report, raw []byte) error {
	sm, ok, err := m.Store.GetSentMessage(ctx, strings.ToLower(id))
	if err != nil {
		return err
	}
	if !ok {
		return ErrUnknownMessage
	}
	// The follow-ups read the message's settings through a spool entry:
	// the same ones a bounce during delivery reads.
	received := sm.Created // the first attempt; the MessageId says when it was accepted
	if t, ok := sending.MessageIDTime(sm.MessageID); ok {
		received = t
	}
	e := &spool.Entry{Envelope: spool.Envelope{ID: sm.MessageID, AccountID: sm.AccountID, Region: sm.Region,
		MailFrom: sm.Source, Recipients: sm.Recipients, Received: received,
		Meta: spool.Meta{FeedbackTo: sm.FeedbackTo, ConfigurationSet: sm.ConfigurationSet}}}
	log := m.log().With("id", sm.MessageID, "feedback", string(rep.Kind))
	switch rep.Kind {
	case feedback.KindBounce:
		return m.asyncBounce(ctx, e, sm.Recipients, rep, log)
	case feedback.KindComplaint:
		return m.complaint(ctx, e, sm.Recipients, rep, raw, log)
	default:
		// An auto-reply (RFC 3834 answers the Return-Path) or a bounce in
		// no standard form: SES passes such mail on to the sender.
		log.Info("forwarding feedback that is not a report", "subject", rep.Subject)
		return m.forward(ctx, e, raw, "")
	}
}

// ourRecipient finds which of the message's recipients a report names:
// the first of names that is one (a report names an address sesame sent to,
// or after forwarding another one and maybe the original), else the only
// recipient of a one-recipient message (a forwarded or redacted address can
// only mean it). "" when the report cannot be tied to a recipient: a report
// about an address the message was not sent to changes nothing, so nobody
// who saw a bounce address can put others on the suppression list.
func ourRecipient(rcpts []string, names ...string) string {
	for _, n := range names {
		if n != "" && slices.Contains(rcpts, strings.ToLower(n)) {
			return strings.ToLower(n)
		}
	}
	if len(rcpts) == 1 {
		return rcpts[0]
	}
	return ""
}

// asyncBounce records the failed recipients of a DSN and follows them up.
func (m *MX) asyncBounce(ctx context.Context, e *spool.Entry, rcpts []string, rep *feedback.Report, log *slog.Logger) error {
	now := m.now()
	n := 0
	var results []outcome.Result
	for _, r := range rep.Recipients {
		if r.Action != "failed" {
			// delayed, delivered, relayed, expanded: nothing has failed.
			continue
		}
		rcpt := ourRecipient(rcpts, r.Recipient, r.OriginalRecipient)
		if rcpt == "" {
			log.Warn("a DSN about an address the message was not sent to; ignored", "rcpt", r.Recipient)
			continue
		}
		f := dsnFailure(r)
		typ, sub := outcome.Classify(f)
		fid := uuid.NewString()
		if _, err := m.Store.AddBounce(ctx, store.Bounce{
			AccountID: e.AccountID, Region: e.Region, MessageID: e.ID, Recipient: rcpt,
			Type: typ, SubType: sub, Status: f.Status(), Diagnostic: r.Diagnostic, RemoteMTA: f.MTA,
			FeedbackID: fid, Reply: f.Error(), Created: now,
		}); err != nil {
			return err
		}
		results = append(results, outcome.Result{Kind: outcome.Bounced, Recipients: []string{rcpt}, Time: now,
			Failure: f, BounceType: typ, BounceSubType: sub, FeedbackID: fid, MTA: f.MTA})
		n++
		log.Info("bounced after delivery", "rcpt", rcpt, "type", typ, "subtype", sub, "status", f.Status())
	}
	if n == 0 {
		log.Info("a report without failed recipients; nothing to do")
		return nil
	}
	if err := m.recordFeedback(ctx, e, rep, results); err != nil {
		return err
	}
	return m.followUpPending(ctx, e, now, func() []byte { return rep.OriginalHeader }, log)
}

// dsnFailure reads a DSN recipient's outcome as the Failure a reply would
// have given: Diagnostic-Code "smtp; 550 5.1.1 no such user" → 550, its
// text; the Status field decides permanence (RFC 3464 §2.3.4).
func dsnFailure(r feedback.RecipientStatus) *outcome.Failure {
	// Action: failed is final (RFC 3464 §2.3.3); only a 4.x.x status says
	// the receiver gave up on a temporary condition.
	f := &outcome.Failure{Enhanced: r.Status, Remote: true, Permanent: !strings.HasPrefix(r.Status, "4")}
	if _, mta, ok := strings.Cut(r.RemoteMTA, ";"); ok {
		f.MTA = strings.TrimSpace(mta)
	} else {
		f.MTA = strings.TrimSpace(r.RemoteMTA)
	}
	text := r.Diagnostic
	if _, rest, ok := strings.Cut(text, ";"); ok {
		text = strings.TrimSpace(rest)
	}
	if code, rest, ok := strings.Cut(text, " "); ok && len(code) == 3 {
		if c, err := strconv.Atoi(code); err == nil {
			f.Code = c
			text = strings.TrimSpace(rest)
			if st, rest2, ok := strings.Cut(text, " "); ok && st == r.Status {
				text = rest2
			}
		}
	}
	if f.Code == 0 {
		f.Code = 554
		if !f.Permanent {
			f.Code = 451
		}
	}
	if f.Enhanced == "" {
		f.Enhanced = f.Status()
	}
	if text == "" {
		text = "delivery failed (reported after acceptance)"
	}
	f.Text = text
	return f
}

// complaint records a complaint for each complained recipient, adds them to
// the suppression list when the settings name COMPLAINT, and forwards the
// report to the sender.
func (m *MX) complaint(ctx context.Context, e *spool.Entry, rcpts []string, rep *feedback.Report, raw []byte, log *slog.Logger) error {
	c := rep.Complaint
	if c == nil {
		c = &feedback.Complaint{}
	}
	now := m.now()
	suppress := m.suppresses(ctx, e, store.ReasonComplaint)
	// Feedback loops often leave out or redact the complainer's address; a
	// one-recipient message still says who it was, and so does a returned To
	// that names exactly one of the message's recipients. A To naming
	// several says nothing about which of them complained.
	var complained []string
	for _, r := range c.Recipients {
		if rcpt := ourRecipient(rcpts, r); rcpt != "" && !slices.Contains(complained, rcpt) {
			complained = append(complained, rcpt)
		}
	}
	if len(c.Recipients) == 0 {
		var named []string
		for _, a := range c.OriginalTo {
			if a = strings.ToLower(a); slices.Contains(rcpts, a) && !slices.Contains(named, a) {
				named = append(named, a)
			}
		}
		switch {
		case len(rcpts) == 1:
			complained = rcpts
		case len(named) == 1:
			complained = named
		}
	}
	fresh := len(complained) == 0 // nothing recorded: forwarding is all there is
	for _, rcpt := range complained {
		fid := uuid.NewString()
		added, err := m.Store.AddComplaint(ctx, store.Complaint{
			AccountID: e.AccountID, Region: e.Region, MessageID: e.ID, Recipient: rcpt,
			FeedbackType: c.FeedbackType, UserAgent: c.UserAgent, Arrival: c.ArrivalDate,
			FeedbackID: fid, Created: now,
		})
		if err != nil {
			return err
		}
		log.Info("complaint", "rcpt", rcpt, "type", c.FeedbackType, "new", added)
		fresh = fresh || added
		if err := m.recordFeedback(ctx, e, rep, []outcome.Result{{Kind: outcome.Complained, Recipients: []string{rcpt},
			Time: now, FeedbackID: fid, FeedbackType: c.FeedbackType, UserAgent: c.UserAgent, Arrival: c.ArrivalDate}}); err != nil {
			return err
		}
		if suppress && c.FeedbackType != "not-spam" {
			if err := m.Store.PutSuppressedDestination(ctx, store.SuppressedDestination{
				AccountID: e.AccountID, Region: e.Region, Address: rcpt, Reason: store.ReasonComplaint,
				Updated: now, MessageID: e.ID, FeedbackID: fid,
			}); err != nil {
				return fmt.Errorf("adding %s to the suppression list: %w", rcpt, err)
			}
		}
	}
	if len(complained) == 0 {
		log.Warn("a complaint that names none of the message's recipients: forwarded, not recorded",
			"named", strings.Join(c.Recipients, ","))
	}
	if !fresh {
		// The same report again (a receiver retrying after a 4xx): the
		// sender has it already.
		return nil
	}
	return m.forward(ctx, e, raw, "complaints")
}

// forward sends raw on to the sender of e (when its identity forwards
// feedback), from <local>@<bounce domain> (MAILER-DAEMON when local is ""),
// with a header of sesame's own and the report's body and MIME type.
func (m *MX) forward(ctx context.Context, e *spool.Entry, raw []byte, local string) error {
	if !m.dsnDue(ctx, e) {
		return nil
	}
	to := feedbackTo(e)
	if local == "" {
		local = "MAILER-DAEMON"
	}
	header, body := splitMessage(raw)
	var b bytes.Buffer
	fmt.Fprintf(&b, "From: %s@%s\r\n", local, m.bounceDomain())
	fmt.Fprintf(&b, "To: %s\r\n", to)
	subject := headerValue(header, "Subject")
	if subject == "" {
		subject = "Feedback about your message " + e.ID
	}
	fmt.Fprintf(&b, "Subject: %s\r\n", subject)
	for _, name := range []string{"MIME-Version", "Content-Type", "Content-Transfer-Encoding"} {
		if v := headerValue(header, name); v != "" {
			fmt.Fprintf(&b, "%s: %s\r\n", name, v)
		}
	}
	fmt.Fprintf(&b, "X-SES-Message-ID: %s\r\n", e.ID)
	b.WriteString("Auto-Submitted: auto-replied\r\n\r\n")
	b.Write(body)
	if _, err := m.System.SubmitSystem(ctx, sending.SystemMessage{
		AccountID: e.AccountID, Region: e.Region, Recipients: []string{to}, Message: b.Bytes(),
	}); err != nil {
		return fmt.Errorf("forwarding feedback to %s: %w", to, err)
	}
	return nil
}

// splitMessage splits a message at its first empty line, with CRLF line
// ends in the body (SubmitSystem takes CRLF).
func splitMessage(raw []byte) (header, body []byte) {
	raw = bytes.ReplaceAll(raw, []byte("\r\n"), []byte("\n"))
	if h, b, ok := bytes.Cut(raw, []byte("\n\n")); ok {
		return h, bytes.ReplaceAll(b, []byte("\n"), []byte("\r\n"))
	}
	return raw, nil
}

// headerValue is the unfolded value of the first field name in header
// (LF line ends), "" when absent.
func headerValue(header []byte, name string) string {
	var val []string
	in := false
	for _, line := range strings.Split(string(header), "\n") {
		if in {
			if strings.HasPrefix(line, " ") || strings.HasPrefix(line, "\t") {
				val = append(val, strings.TrimSpace(line))
				continue
			}
			break
		}
		if k, v, ok := strings.Cut(line, ":"); ok && strings.EqualFold(strings.TrimSpace(k), name) {
			val = append(val, strings.TrimSpace(v))
			in = true
		}
	}
	// A bare CR left in a value would end the field early in what we send.
	return strings.ReplaceAll(strings.Join(val, " "), "\r", "")
}

// recordFeedback keeps the events of a report before the listener answers
// 250 (an error: the receiver tries again; the records are idempotent). The
// report's copy of the original header stands in for the message's own.
func (m *MX) recordFeedback(ctx context.Context, e *spool.Entry, rep *feedback.Report, results []outcome.Result) error {
	if m.Events == nil {
		return nil
	}
	return m.Events.Record(ctx, &e.Envelope, rep.OriginalHeader, results)
}
