package events

import (
	"bytes"
	"context"
	"fmt"
	"hash/fnv"
	"log/slog"
	"slices"
	"strings"
	"time"

	"sesame/internal/mailmsg"
	"sesame/internal/outcome"
	"sesame/internal/sending"
	"sesame/internal/spool"
	"sesame/internal/store"
)

// What follows a bounce: (a) the bounce record, (b) the address on the
// account's suppression list when the account's (or the configuration
// set's) suppression settings name BOUNCE and the bounce is Permanent,
// (c) an RFC 3464 DSN to the sender when the identity forwards feedback by
// email (SES's default).
//
// (b) and (c) are done at least once. The record is written first, marked
// pending; then every pending bounce of the message is followed up, and its
// mark cleared only after the DSN is spooled. So an attempt that crashes
// (or fails to spool the DSN) between the record and the DSN leaves the
// bounce pending, and the next attempt of the message — the replay after a
// restart records the same bounce again and finds the record there, or the
// retry finishBounces asked for — sends the DSN then. A crash after the DSN
// is spooled and before the mark is cleared sends the DSN twice: the price
// of never sending none. The suppression entry is an upsert, so redoing it
// costs nothing.
//
// One case is left without a DSN on purpose: a replay that delivers to a
// recipient the crashed attempt had bounced (the receiver changed its mind)
// — that recipient got the message; its record stays pending, unread.

// messageStripe picks the follow-up lock of a message.
func messageStripe(id string) int {
	h := fnv.New32a()
	h.Write([]byte(id))
	return int(h.Sum32() % followUpStripes)
}

// followUpStripes is how many follow-up locks messages share.
const followUpStripes = 64

// followUpPending follows up every pending bounce of e's message and
// clears their marks.
func (r *Recorder) followUpPending(ctx context.Context, e *spool.Entry, now time.Time, origHeader func() []byte, log *slog.Logger) error {
	// A late report (feedback.go) and a retry of the message may follow up
	// at the same time; one at a time, the second finds nothing pending.
	mu := &r.followUpMu[messageStripe(e.ID)]
	mu.Lock()
	defer mu.Unlock()
	pending, err := r.Store.PendingBounces(ctx, e.ID)
	if err != nil || len(pending) == 0 {
		return err
	}
	if err := r.followUp(ctx, e, pending, now, origHeader); err != nil {
		return err
	}
	rcpts := make([]string, len(pending))
	for i, b := range pending {
		rcpts[i] = b.Recipient
	}
	if err := r.Store.BouncesFollowedUp(ctx, e.ID, rcpts); err != nil {
		// The DSN is spooled: keeping the message (or refusing the report)
		// for this would only send it again. The marks stay, unread unless
		// the message is retried.
		log.Warn("marking bounces followed up", "err", err)
	}
	return nil
}

// followUp puts the suppressible bounces on the suppression list and sends
// the sender one DSN about all of them, with the original header origHeader
// gives; on an error nothing is marked done (the suppression entries are
// upserts, the DSN was not spooled).
func (r *Recorder) followUp(ctx context.Context, e *spool.Entry, pending []store.Bounce, now time.Time, origHeader func() []byte) error {
	if r.suppresses(ctx, e, store.ReasonBounce) {
		for _, b := range pending {
			if !suppresses(b) {
				continue
			}
			err := r.Store.PutSuppressedDestination(ctx, store.SuppressedDestination{
				AccountID: e.AccountID, Region: e.Region, Address: b.Recipient, Reason: store.ReasonBounce,
				Updated: now, MessageID: e.ID, FeedbackID: b.FeedbackID,
			})
			if err != nil {
				return fmt.Errorf("adding %s to the suppression list: %w", b.Recipient, err)
			}
		}
	}
	if !r.dsnDue(ctx, e) {
		return nil
	}
	to := feedbackTo(e)
	msg := composeDSN(r.Hostname, r.BounceDomain, to, e, pending, origHeader())
	if _, err := r.System.SubmitSystem(ctx, sending.SystemMessage{
		AccountID: e.AccountID, Region: e.Region, Recipients: []string{to}, Message: msg,
	}); err != nil {
		return fmt.Errorf("sending a DSN to %s: %w", to, err)
	}
	return nil
}

// feedbackTo is where a DSN about e goes: the address its Return-Path
// header (or the API's ReturnPath) named, else its envelope sender.
func feedbackTo(e *spool.Entry) string {
	if a := e.FeedbackTo; a != "" {
		return a
	}
	return e.MailFrom
}

// suppresses reports whether a bounce puts its address on the suppression
// list (when the settings say BOUNCE): a Permanent bounce of a real
// recipient. Not the mailbox simulator's (SES's simulator never touches
// your list), not one that bounced because the address is on it already
// or because the contact unsubscribed from a list.
func suppresses(b store.Bounce) bool {
	if b.Type != outcome.BouncePermanent || b.SubType == outcome.SubOnAccountSuppressionList ||
		b.SubType == outcome.SubUnsubscribedRecipient {
		return false
	}
	_, simulated := outcome.Simulated(b.Recipient)
	return !simulated
}

// dsnDue reports whether the sender of e gets DSNs: not for a DSN or other
// mail of sesame's own (null reverse-path), not when the sender's identity
// turned email feedback forwarding off.
func (r *Recorder) dsnDue(ctx context.Context, e *spool.Entry) bool {
	if r.System == nil || e.MailFrom == "" || e.Via == spool.ViaSystem {
		return false
	}
	if id, ok := r.identity(ctx, &e.Envelope); ok && !id.FeedbackForwarding {
		return false
	}
	return true
}

// suppresses reads the suppression setting that applies to e — its
// configuration set's SuppressionOptions when set, else the account's — and
// says whether it names reason (BOUNCE or COMPLAINT).
func (r *Recorder) suppresses(ctx context.Context, e *spool.Entry, reason string) bool {
	if cs := r.configSet(ctx, e); cs != nil && cs.Options.Suppression != nil {
		return slices.Contains(cs.Options.Suppression.SuppressedReasons, reason)
	}
	reasons, err := r.Store.SuppressedReasons(ctx, e.AccountID, e.Region)
	if err != nil {
		r.Logger.Warn("reading suppression settings", "account", e.AccountID, "err", err)
		return false
	}
	return slices.Contains(reasons, reason)
}

// diagnosticOf is the Diagnostic-Code only a receiver's reply gives.
func diagnosticOf(f *outcome.Failure) string {
	if !f.Remote {
		return ""
	}
	return f.Diagnostic()
}

// readHeaderOf returns the original message's header section for the DSN's
// third part, as it was delivered (without SES's control headers), "" when
// it cannot be read.
func readHeaderOf(e *spool.Entry) []byte {
	r, err := e.Open()
	if err != nil {
		return nil
	}
	defer r.Close()
	sec, err := mailmsg.ReadHeaderSection(r, 64<<10)
	if err != nil {
		return nil
	}
	// The fields as read have CRLF line ends whatever the spooled message
	// has (an API raw message may have LF), as the DSN needs; the blank
	// line is the report writer's to add.
	var h bytes.Buffer
	h.Grow(len(sec))
	fields := mailmsg.Fields(sec)
	for fs := fields.Fields(); fs.Next(); {
		if raw, err := fs.Raw(); err == nil {
			h.Write(raw)
		}
	}
	return mailmsg.StripForDelivery(h.Bytes())
}

// composeDSN writes an RFC 3464 delivery status notification about
// bounces of e, from MAILER-DAEMON of the bounce domain, without
// Message-ID and Date (SubmitSystem adds them). It is made from the bounce
// records alone, so a DSN sent on a later attempt says what the first
// would have.
func composeDSN(hostname, bounceDomain, to string, e *spool.Entry, bounces []store.Bounce, origHeader []byte) []byte {
	var human strings.Builder
	human.WriteString("An error occurred while trying to deliver the mail to the following recipients:\n\n")
	for _, x := range bounces {
		reply := x.Reply
		if reply == "" {
			reply = x.Status
		}
		fmt.Fprintf(&human, "  %s: %s\n", x.Recipient, reply)
	}
	d := mailmsg.DSN{
		From:           "Mail Delivery Subsystem <MAILER-DAEMON@" + bounceDomain + ">",
		To:             to,
		Subject:        "Delivery Status Notification (Failure)",
		Explanation:    human.String(),
		ReportingMTA:   "dns; " + hostname,
		Fields:         []mailmsg.Field{{Name: "X-SES-Message-ID", Value: e.ID}},
		OriginalHeader: origHeader,
	}
	if !e.Received.IsZero() {
		d.Fields = append(d.Fields, mailmsg.Field{Name: "Arrival-Date", Value: mailmsg.FormatDate(e.Received)})
	}
	for _, x := range bounces {
		r := mailmsg.DSNRecipient{FinalRecipient: x.Recipient, Action: "failed", Status: x.Status,
			DiagnosticCode: x.Diagnostic, LastAttempt: x.Created}
		// Only a receiver's reply has a Diagnostic-Code (diagnosticOf); its
		// host is then the Remote-MTA.
		if x.RemoteMTA != "" && x.Diagnostic != "" {
			r.RemoteMTA = "dns; " + x.RemoteMTA
		}
		d.Recipients = append(d.Recipients, r)
	}
	return d.Bytes()
}
