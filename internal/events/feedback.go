package events

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"

	"github.com/google/uuid"

	"sesame/internal/feedback"
	"sesame/internal/mailmsg"
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
// A message still in the spool is not recorded yet (its record is written
// with the attempt's events): its address gets an error, so the listener
// answers 4xx and the receiver tries again, instead of a 5xx that would
// lose the feedback.
func (r *Recorder) KnownBounceAddress(ctx context.Context, local, domain string) (bool, error) {
	id := strings.ToLower(local)
	sm, ok, err := r.Store.GetSentMessage(ctx, id)
	if err != nil {
		return false, err
	}
	if !ok {
		if r.Queue != nil {
			if _, queued := r.Queue.Entry(id); queued {
				// In delivery: a receiver may have taken it a moment ago, and
				// its record is written when the attempt ends.
				return false, errNotYetRecorded
			}
		}
		return false, nil
	}
	return strings.EqualFold(sm.BounceDomain, domain), nil
}

var errNotYetRecorded = errors.New("delivery: message not recorded yet")

// Feedback applies a report a receiver sent about message id. It returns
// only once what follows is durable (records written, forwarded mail
// spooled), so the listener may answer 250; an error means try again.
func (r *Recorder) Feedback(ctx context.Context, id string, rep *feedback.Report, raw []byte) error {
	sm, ok, err := r.Store.GetSentMessage(ctx, strings.ToLower(id))
	if err != nil {
		return err
	}
	if !ok {
		return ErrUnknownMessage
	}
	// The follow-ups read the message's settings through a spool entry:
	// the same ones a bounce during delivery reads.
	received := sm.Created // the first attempt; the MessageId says when it was accepted
	if t, ok := mailmsg.MessageIDTime(sm.MessageID); ok {
		received = t
	}
	e := &spool.Entry{Envelope: spool.Envelope{ID: sm.MessageID, AccountID: sm.AccountID, Region: sm.Region,
		MailFrom: sm.Source, Recipients: sm.Recipients, Received: received,
		Meta: spool.Meta{FeedbackTo: sm.FeedbackTo, ConfigurationSet: sm.ConfigurationSet, IdentityAccountID: sm.IdentityAccountID}}}
	log := r.Logger.With("id", sm.MessageID, "feedback", string(rep.Kind))
	switch rep.Kind {
	case feedback.KindBounce:
		return r.asyncBounce(ctx, e, sm.Recipients, rep, log)
	case feedback.KindComplaint:
		return r.complaint(ctx, e, sm.Recipients, rep, raw, log)
	default:
		// An auto-reply (RFC 3834 answers the Return-Path) or a bounce in
		// no standard form: SES passes such mail on to the sender.
		log.Info("forwarding feedback that is not a report", "subject", rep.Subject)
		return r.forward(ctx, e, raw, "")
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
func (r *Recorder) asyncBounce(ctx context.Context, e *spool.Entry, rcpts []string, rep *feedback.Report, log *slog.Logger) error {
	now := r.Clock.Now()
	n := 0
	var results []outcome.Result
	for _, st := range rep.Recipients {
		if st.Action != "failed" {
			// delayed, delivered, relayed, expanded: nothing has failed.
			continue
		}
		rcpt := ourRecipient(rcpts, st.Recipient, st.OriginalRecipient)
		if rcpt == "" {
			log.Warn("a DSN about an address the message was not sent to; ignored", "rcpt", st.Recipient)
			continue
		}
		f := dsnFailure(st)
		typ, sub := outcome.Classify(f)
		results = append(results, outcome.Result{Kind: outcome.Bounced, Recipients: []string{rcpt}, Time: now,
			Failure: f, Diagnostic: st.Diagnostic, BounceType: typ, BounceSubType: sub, FeedbackID: uuid.NewString(), MTA: f.MTA})
		n++
		log.Info("bounced after delivery", "rcpt", rcpt, "type", typ, "subtype", sub, "status", f.Status())
	}
	if n == 0 {
		log.Info("a report without failed recipients; nothing to do")
		return nil
	}
	// The bounce records and their events, in one transaction, as a
	// bounce during delivery; then the follow-ups.
	o, err := r.outcomes(ctx, e, rep.OriginalHeader, results)
	if err == nil {
		err = r.commit(ctx, o)
	}
	if err != nil {
		return err
	}
	return r.followUpPending(ctx, e, now, func() []byte { return rep.OriginalHeader }, log)
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
func (r *Recorder) complaint(ctx context.Context, e *spool.Entry, rcpts []string, rep *feedback.Report, raw []byte, log *slog.Logger) error {
	c := rep.Complaint
	if c == nil {
		c = &feedback.Complaint{}
	}
	now := r.Clock.Now()
	suppress := r.suppresses(ctx, e, store.ReasonComplaint)
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
		added, err := r.Store.AddComplaint(ctx, store.Complaint{
			AccountID: e.AccountID, Region: e.Region, MessageID: e.ID, Recipient: rcpt,
			FeedbackType: c.FeedbackType, UserAgent: c.UserAgent, Arrival: c.ArrivalDate,
			FeedbackID: fid, Created: now,
		})
		if err != nil {
			return err
		}
		log.Info("complaint", "rcpt", rcpt, "type", c.FeedbackType, "new", added)
		fresh = fresh || added
		if err := r.recordFeedback(ctx, e, rep, []outcome.Result{{Kind: outcome.Complained, Recipients: []string{rcpt},
			Time: now, FeedbackID: fid, FeedbackType: c.FeedbackType, UserAgent: c.UserAgent, Arrival: c.ArrivalDate}}); err != nil {
			return err
		}
		if suppress && c.FeedbackType != "not-spam" {
			if err := r.Store.PutSuppressedDestination(ctx, store.SuppressedDestination{
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
	return r.forward(ctx, e, raw, "complaints")
}

// forward sends raw on to the sender of e (when its identity forwards
// feedback), from <local>@<bounce domain> (MAILER-DAEMON when local is ""),
// with a header of sesame's own and the report's body and MIME type.
func (r *Recorder) forward(ctx context.Context, e *spool.Entry, raw []byte, local string) error {
	if !r.dsnDue(ctx, e) {
		return nil
	}
	to := feedbackTo(e)
	if local == "" {
		local = "MAILER-DAEMON"
	}
	header, body := splitMessage(raw)
	subject := rawHeaderValue(header, "Subject")
	if subject == "" {
		subject = "Feedback about your message " + e.ID
	}
	// The report's own fields go as written (already encoded where they
	// need to be): the forward keeps its MIME type and body.
	m := &mailmsg.Part{Header: []mailmsg.Field{
		{Name: "From", Value: local + "@" + r.BounceDomain},
		{Name: "To", Value: to},
		{Name: "Subject", Value: subject},
	}, Body: body}
	for _, name := range []string{"MIME-Version", "Content-Type", "Content-Transfer-Encoding"} {
		if v := rawHeaderValue(header, name); v != "" {
			m.Header = append(m.Header, mailmsg.Field{Name: name, Value: v})
		}
	}
	m.Header = append(m.Header, mailmsg.Field{Name: "X-SES-Message-ID", Value: e.ID},
		mailmsg.Field{Name: "Auto-Submitted", Value: "auto-replied"})
	if _, err := r.System.SubmitSystem(ctx, sending.SystemMessage{
		AccountID: e.AccountID, Region: e.Region, Recipients: []string{to}, Message: m.Bytes(),
	}); err != nil {
		return fmt.Errorf("forwarding feedback to %s: %w", to, err)
	}
	return nil
}

// splitMessage splits a message into its header section and its body,
// with CRLF line ends in the body (SubmitSystem takes CRLF).
func splitMessage(raw []byte) (header, body []byte) {
	header = mailmsg.HeaderSection(raw)
	body = bytes.ReplaceAll(raw[len(header):], []byte("\r\n"), []byte("\n"))
	return header, bytes.ReplaceAll(body, []byte("\n"), []byte("\r\n"))
}

// rawHeaderValue is the unfolded value of the first field name in header
// (CRLF or LF line ends), "" when absent.
func rawHeaderValue(header []byte, name string) string {
	h := mailmsg.Fields(header)
	// A bare CR left in a value would end the field early in what we send.
	return strings.ReplaceAll(h.Get(name), "\r", "")
}

// recordFeedback keeps the event records of a report before the listener
// answers 250 (an error: the receiver tries again; the events are
// idempotent). The report's copy of the original header stands in for the
// message's own. The bounce and complaint records are written by the
// caller first: it needs to know whether they are new.
func (r *Recorder) recordFeedback(ctx context.Context, e *spool.Entry, rep *feedback.Report, results []outcome.Result) error {
	mail := NewMail(r.mailInput(ctx, &e.Envelope, rep.OriginalHeader))
	var o store.Outcomes
	for _, res := range results {
		ev, err := r.event(&e.Envelope, mail, nil, res, res.Time)
		if err != nil {
			return err
		}
		o.Events = append(o.Events, ev)
	}
	return r.commit(ctx, o)
}
