package delivery

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"sesame/internal/sending"
	"sesame/internal/spool"
	"sesame/internal/store"
)

// What follows a bounce: (a) the bounce record, (b) the address on the
// account's suppression list when the account's (or the configuration
// set's) suppression settings name BOUNCE and the bounce is Permanent,
// (c) an RFC 3464 DSN to the sender when the identity forwards feedback by
// email (SES's default). (b) and (c) happen only for a bounce recorded for
// the first time, so a replayed attempt repeats neither; a crash between
// the record and the DSN loses that DSN rather than sending it twice.

// finishBounces records the attempt's bounces and what follows them.
func (m *MX) finishBounces(ctx context.Context, a *attempt, log *slog.Logger) {
	if len(a.bounced) == 0 {
		return
	}
	e := a.e
	now := m.now()
	var fresh []bounced
	var feedback []string
	for _, b := range a.bounced {
		fid := uuid.NewString()
		added, err := m.Store.AddBounce(ctx, store.Bounce{
			AccountID: e.AccountID, Region: e.Region, MessageID: e.ID, Recipient: b.rcpt,
			Type: b.typ, SubType: b.sub, Status: b.f.Status(), Diagnostic: diagnosticOf(b.f),
			RemoteMTA: b.f.MTA, FeedbackID: fid, Created: now,
		})
		if err != nil {
			log.Error("recording a bounce", "rcpt", b.rcpt, "err", err)
			continue
		}
		log.Info("bounced", "rcpt", b.rcpt, "type", b.typ, "subtype", b.sub, "err", b.f.Error())
		if !added {
			continue
		}
		fresh = append(fresh, b)
		feedback = append(feedback, fid)
	}
	if len(fresh) == 0 {
		return
	}
	if m.suppressesBounces(ctx, e) {
		for i, b := range fresh {
			if !b.suppress {
				continue
			}
			err := m.Store.PutSuppressedDestination(ctx, store.SuppressedDestination{
				AccountID: e.AccountID, Region: e.Region, Address: b.rcpt, Reason: store.ReasonBounce,
				Updated: now, MessageID: e.ID, FeedbackID: feedback[i],
			})
			if err != nil {
				log.Error("adding a bounced address to the suppression list", "rcpt", b.rcpt, "err", err)
			}
		}
	}
	// No DSN about a DSN or other mail of sesame's own (null reverse-path).
	if m.System == nil || e.MailFrom == "" || e.Via == sending.ViaSystem {
		return
	}
	if id, ok := m.identity(ctx, e); ok && !id.FeedbackForwarding {
		return
	}
	msg := composeDSN(m.cl.opt.Hostname, m.BounceDomain, e, fresh, now, readHeaderOf(e))
	if _, err := m.System.SubmitSystem(ctx, sending.SystemMessage{
		AccountID: e.AccountID, Region: e.Region, Recipients: []string{e.MailFrom}, Message: msg,
	}); err != nil {
		log.Error("sending a DSN", "to", e.MailFrom, "err", err)
	}
}

// suppressesBounces reads the suppression setting that applies to e: its
// configuration set's SuppressionOptions when set, else the account's.
func (m *MX) suppressesBounces(ctx context.Context, e *spool.Entry) bool {
	if cs := m.configSet(ctx, e); cs != nil && cs.Options.Suppression != nil {
		return slices.Contains(cs.Options.Suppression.SuppressedReasons, store.ReasonBounce)
	}
	reasons, err := m.Store.SuppressedReasons(ctx, e.AccountID, e.Region)
	if err != nil {
		m.log().Warn("reading suppression settings", "account", e.AccountID, "err", err)
		return false
	}
	return slices.Contains(reasons, store.ReasonBounce)
}

// diagnosticOf is the Diagnostic-Code only a receiver's reply gives.
func diagnosticOf(f *Failure) string {
	if !f.Remote {
		return ""
	}
	return f.Diagnostic()
}

// readHeaderOf returns the original message's header section for the DSN's
// third part, "" when it cannot be read.
func readHeaderOf(e *spool.Entry) []byte {
	r, err := e.Open()
	if err != nil {
		return nil
	}
	defer r.Close()
	br := bufio.NewReader(r)
	var h bytes.Buffer
	for h.Len() < 64<<10 {
		line, err := br.ReadBytes('\n')
		if len(bytes.TrimRight(line, "\r\n")) == 0 || err != nil {
			break
		}
		h.Write(bytes.TrimRight(line, "\r\n"))
		h.WriteString("\r\n")
	}
	return h.Bytes()
}

// composeDSN writes an RFC 3464 delivery status notification (multipart/
// report, RFC 6522) about bounces of e, from MAILER-DAEMON of the bounce
// domain, without Message-ID and Date (SubmitSystem adds them).
func composeDSN(hostname, bounceDomain string, e *spool.Entry, bounces []bounced, now time.Time, origHeader []byte) []byte {
	boundary := "dsn-" + strings.ReplaceAll(uuid.NewString(), "-", "")
	var b bytes.Buffer
	w := func(format string, args ...any) { fmt.Fprintf(&b, format+"\r\n", args...) }
	w("From: Mail Delivery Subsystem <MAILER-DAEMON@%s>", bounceDomain)
	w("To: %s", e.MailFrom)
	w("Subject: Delivery Status Notification (Failure)")
	w("MIME-Version: 1.0")
	w("Content-Type: multipart/report; report-type=delivery-status; boundary=\"%s\"", boundary)
	w("Auto-Submitted: auto-replied")
	w("")
	w("--%s", boundary)
	w("Content-Type: text/plain; charset=us-ascii")
	w("")
	w("An error occurred while trying to deliver the mail to the following recipients:")
	w("")
	for _, x := range bounces {
		w("  %s: %s", x.rcpt, x.f.Error())
	}
	w("")
	w("--%s", boundary)
	w("Content-Type: message/delivery-status")
	w("")
	// RFC 3464 §2.2: per-message fields, then a block per recipient.
	w("Reporting-MTA: dns; %s", hostname)
	w("X-SES-Message-ID: %s", e.ID)
	if !e.Received.IsZero() {
		w("Arrival-Date: %s", e.Received.UTC().Format(time.RFC1123Z))
	}
	for _, x := range bounces {
		w("")
		w("Final-Recipient: rfc822; %s", x.rcpt)
		w("Action: failed")
		w("Status: %s", x.f.Status())
		if x.f.MTA != "" && x.f.Remote {
			w("Remote-MTA: dns; %s", x.f.MTA)
		}
		if x.f.Remote {
			w("Diagnostic-Code: %s", x.f.Diagnostic())
		}
		w("Last-Attempt-Date: %s", now.UTC().Format(time.RFC1123Z))
	}
	w("")
	w("--%s", boundary)
	w("Content-Type: text/rfc822-headers")
	w("")
	b.Write(origHeader)
	w("")
	w("--%s--", boundary)
	return b.Bytes()
}
