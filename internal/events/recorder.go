package events

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"sesame/internal/clock"
	"sesame/internal/metrics"
	"sesame/internal/outcome"
	"sesame/internal/sending"
	"sesame/internal/spool"
	"sesame/internal/store"
	"sesame/internal/ttlcache"
)

// RecorderStore is what the Recorder needs of the store.
type RecorderStore interface {
	RecordOutcomes(ctx context.Context, o store.Outcomes) error
	PruneSentMessages(ctx context.Context, before time.Time) (int64, error)
	IdentityDetails(ctx context.Context, accountID, region, identity string) (store.IdentityDetails, error)
	ConfigurationSet(ctx context.Context, accountID, region, name string) (store.ConfigurationSet, error)
	SuppressedReasons(ctx context.Context, accountID, region string) ([]string, error)
	PutSuppressedDestination(ctx context.Context, d store.SuppressedDestination) error
	PendingBounces(ctx context.Context, messageID string) ([]store.Bounce, error)
	BouncesFollowedUp(ctx context.Context, messageID string, recipients []string) error
	// Feedback arriving after delivery (feedback.go).
	GetSentMessage(ctx context.Context, messageID string) (store.SentMessage, bool, error)
	AddComplaint(ctx context.Context, c store.Complaint) (bool, error)
}

// SystemSender submits mail sesame itself sends (sending.Sender): DSNs,
// forwarded reports, the mailbox simulator's answers.
type SystemSender interface {
	SubmitSystem(ctx context.Context, m sending.SystemMessage) (string, error)
}

// Queue says whether a message is still in the spool (spool.Spool).
type Queue interface {
	Entry(id string) (spool.Entry, bool)
}

// Recorder gives reported outcomes their meaning: the records SES keeps
// (bounces, complaints, delivery delays, what was sent where for feedback
// arriving later) and their event records, written in one transaction and
// group-committed across attempts; then their consequences — the
// suppression list, DSNs to the sender, forwarded reports, the mailbox
// simulator's answers. Run must be running for Record to return.
type Recorder struct {
	Store  RecorderStore
	System SystemSender // nil: no mail to senders (DSNs, answers)
	Queue  Queue        // nil: feedback about a queued message is not told apart
	// Hostname is sesame's name: reportingMTA, the DSNs' Reporting-MTA.
	Hostname string
	// BounceDomain is where DSNs and forwarded reports come from
	// (MAILER-DAEMON@, complaints@); default Hostname.
	BounceDomain string
	Clock        clock.Clock
	Logger       *slog.Logger
	// Development is [accounts] development: every identity counts as
	// verified, so a pending or failed identity's settings (feedback
	// forwarding, the records' sourceArn) apply as a verified one's do —
	// the sending side admits its mail on the same terms.
	Development bool

	reqs       chan *appendReq
	stopped    chan struct{} // closed when Run returns: nobody answers reqs any more
	appended   chan struct{} // a non-blocking nudge to the Publisher
	identities *ttlcache.Cache[string, senderIdentity]
	configSets *ttlcache.Cache[string, *store.ConfigurationSet]

	followUpMu [followUpStripes]sync.Mutex // bounce.go
}

// senderIdentity is the verified identity that covers a sender, if any.
type senderIdentity struct {
	id store.IdentityDetails
	ok bool
}

type appendReq struct {
	o    store.Outcomes
	done chan error
}

const (
	// maxAppendBatch bounds the rows one outbox transaction carries.
	maxAppendBatch = 4000
	// sentRetention is how long a sent message's feedback is accepted:
	// receivers send most asynchronous bounces within hours and complaints
	// (feedback loops) within days.
	sentRetention = 30 * 24 * time.Hour
)

// NewRecorder returns a Recorder; start its Run.
func NewRecorder(st RecorderStore, system SystemSender, queue Queue, hostname, bounceDomain string, clk clock.Clock, log *slog.Logger) *Recorder {
	if clk == nil {
		clk = clock.Real{}
	}
	if log == nil {
		log = slog.Default()
	}
	if hostname == "" {
		hostname = "localhost"
	}
	if bounceDomain == "" {
		bounceDomain = hostname
	}
	return &Recorder{Store: st, System: system, Queue: queue, Hostname: hostname, BounceDomain: bounceDomain,
		Clock: clk, Logger: log, reqs: make(chan *appendReq, 1024), stopped: make(chan struct{}), appended: make(chan struct{}, 1),
		identities: ttlcache.New[string, senderIdentity](clk, time.Second, 10000),
		configSets: ttlcache.New[string, *store.ConfigurationSet](clk, time.Second, 10000)}
}

// Appended is nudged (without blocking) after each outbox commit, so the
// Publisher need not poll.
func (r *Recorder) Appended() <-chan struct{} { return r.appended }

// Run writes records until ctx ends: the requests waiting when a
// transaction ends go together in the next (group commit), so many
// attempts share one fsync. It also prunes the sent log past its retention.
func (r *Recorder) Run(ctx context.Context) error {
	defer close(r.stopped)
	prune := time.NewTicker(time.Hour)
	defer prune.Stop()
	r.pruneSent(ctx)
	for {
		var first *appendReq
		select {
		case first = <-r.reqs:
		case <-prune.C:
			r.pruneSent(ctx)
			continue
		case <-ctx.Done():
			return nil
		}
		batch := []*appendReq{first}
		o := first.o
		if len(r.reqs) > 0 {
			o = store.Outcomes{}
			o.Add(first.o)
		}
	gather:
		for o.Len() < maxAppendBatch {
			select {
			case req := <-r.reqs:
				batch = append(batch, req)
				o.Add(req.o)
			default:
				break gather
			}
		}
		// The transaction finishes even when ctx ends meanwhile: the
		// waiters are told the truth.
		err := r.Store.RecordOutcomes(context.WithoutCancel(ctx), o)
		for _, req := range batch {
			req.done <- err
		}
		if err == nil {
			select {
			case r.appended <- struct{}{}:
			default:
			}
		}
	}
}

func (r *Recorder) pruneSent(ctx context.Context) {
	n, err := r.Store.PruneSentMessages(ctx, r.Clock.Now().Add(-sentRetention))
	if err != nil {
		r.Logger.Warn("pruning the sent log", "err", err)
	} else if n > 0 {
		r.Logger.Info("pruned sent messages past retention", "count", n)
	}
}

// PendingError is Record's error when the outcomes of Recipients are not
// (all) recorded or followed up: the caller settles them again later, and
// what was done already is not done twice (the records are idempotent).
type PendingError struct {
	Recipients []string
	Err        error
}

func (e *PendingError) Error() string { return e.Err.Error() }
func (e *PendingError) Unwrap() error { return e.Err }

// PendingRecipients lets the courier read e without importing events.
func (e *PendingError) PendingRecipients() []string { return e.Recipients }

// Record keeps what became of e's message — the records, their events —
// and carries out what follows (suppression, DSNs, the simulator's
// answers). header is the message's header section as sent (nil: read from
// e). It returns nil once all of it is done. An error means something is
// left to do and the caller tries the message again later: a *PendingError
// names recipients to settle again; otherwise bounces whose follow-up
// failed stay pending in the store and are followed up on the next call
// for the message (bounce.go).
func (r *Recorder) Record(ctx context.Context, e *spool.Entry, header []byte, results []outcome.Result) error {
	if len(results) > 0 {
		if header == nil {
			header = readHeaderOf(e)
		}
		o, err := r.outcomes(ctx, e, header, results)
		if err == nil {
			err = r.commit(ctx, o)
		}
		if err != nil {
			var again []string
			for _, res := range results {
				switch res.Kind {
				case outcome.Bounced, outcome.Complained, outcome.AutoReplied:
					again = append(again, res.Recipients...)
				}
			}
			return &PendingError{Recipients: again, Err: fmt.Errorf("events: recording %s: %w", e.ID, err)}
		}
		metrics.Recorded(e.Received, results)
	}
	return r.followUps(ctx, e, header, results)
}

// RecordCaptured is Record for a batch capture mode delivered into the
// store: the captured messages and every record of the batch are written in
// one transaction, then the follow-ups run. An error leaves something to
// do; the caller offers the whole batch again (everything in it is
// idempotent).
func (r *Recorder) RecordCaptured(ctx context.Context, captured []store.Captured, entries []*spool.Entry, headers [][]byte, results [][]outcome.Result) error {
	o := store.Outcomes{Captured: captured}
	for i, e := range entries {
		oi, err := r.outcomes(ctx, e, headers[i], results[i])
		if err != nil {
			return err
		}
		o.Add(oi)
	}
	if err := r.commit(ctx, o); err != nil {
		return fmt.Errorf("events: recording %d captured messages: %w", len(entries), err)
	}
	var failed []error
	for i, e := range entries {
		metrics.Recorded(e.Received, results[i])
		if err := r.followUps(ctx, e, headers[i], results[i]); err != nil {
			failed = append(failed, err)
		}
	}
	return errors.Join(failed...)
}

// followUps carries out what recorded results lead to: the pending
// bounces' suppression entries and DSNs, the simulator's answers.
func (r *Recorder) followUps(ctx context.Context, e *spool.Entry, header []byte, results []outcome.Result) error {
	bounced := slices.ContainsFunc(results, func(res outcome.Result) bool { return res.Kind == outcome.Bounced })
	// A first attempt without bounces has nothing pending: the common case
	// pays no query. A later attempt looks, for a follow-up an earlier one
	// could not finish.
	var failed error
	if bounced || e.State.Attempts > 0 {
		if err := r.followUpPending(ctx, e, r.Clock.Now(), func() []byte { return header }, r.Logger.With("id", e.ID)); err != nil {
			failed = err
		}
	}
	var unanswered []string
	for _, res := range results {
		if err := r.answer(ctx, e, header, res); err != nil {
			failed = errors.Join(failed, err)
			unanswered = append(unanswered, res.Recipients...)
		}
	}
	if len(unanswered) > 0 {
		return &PendingError{Recipients: unanswered, Err: failed}
	}
	return failed
}

// commit hands o to Run's group commit and waits for it.
func (r *Recorder) commit(ctx context.Context, o store.Outcomes) error {
	req := &appendReq{o: o, done: make(chan error, 1)}
	select {
	case r.reqs <- req:
	case <-ctx.Done():
		return ctx.Err()
	case <-r.stopped:
		return errRecorderStopped
	}
	// A caller whose ctx cannot end (delivery records its last attempts
	// without one) must not wait for ever on a Run that has returned; Run
	// answers a request it took before it stops, so an answer is looked
	// for once more.
	select {
	case err := <-req.done:
		return err
	case <-r.stopped:
		select {
		case err := <-req.done:
			return err
		default:
			return errRecorderStopped
		}
	}
}

// errRecorderStopped: the outcome was not recorded because Run has
// returned; the caller treats it as any failed write (the attempt is
// retried), so nothing is lost.
var errRecorderStopped = errors.New("events: recorder stopped")

// outcomes are the rows results make: a record per result where SES keeps
// one, and an event record per result.
func (r *Recorder) outcomes(ctx context.Context, e *spool.Entry, header []byte, results []outcome.Result) (store.Outcomes, error) {
	var o store.Outcomes
	mail := NewMail(r.mailInput(ctx, &e.Envelope, header))
	var mailJSON []byte // encoded once for all of the message's records
	now := r.Clock.Now()
	for _, res := range results {
		at := res.Time
		if at.IsZero() {
			at = now
		}
		if e.Via == spool.ViaSystem {
			// sesame's own mail (DSNs, answers, verification) has no SES
			// events and leaves no records: a DSN that fails is dropped and
			// logged, as every MTA does, never the sender's bounce (nor on
			// the suppression list, nor in the statistics).
			if res.Kind == outcome.Bounced {
				f := ""
				if res.Failure != nil {
					f = res.Failure.Error()
				}
				r.Logger.Warn("sesame's own mail bounced; dropped", "id", e.ID, "rcpts", res.Recipients, "err", f)
			}
			continue
		}
		switch res.Kind {
		case outcome.AutoReplied:
			continue // mail to the sender (answer), no record
		case outcome.Delivered:
			if at := strings.LastIndexByte(res.MailFrom, '@'); at >= 0 && len(o.Sent) == 0 {
				// Feedback may come back to the bounce address after the
				// message is gone; sesame's own mail takes none.
				o.Sent = append(o.Sent, store.SentMessage{MessageID: e.ID, AccountID: e.AccountID, Region: e.Region,
					Source: e.MailFrom, Recipients: e.Recipients, FeedbackTo: e.FeedbackTo,
					ConfigurationSet: e.ConfigurationSet, BounceDomain: res.MailFrom[at+1:], Created: now,
					IdentityAccountID: e.IdentityAccountID})
			}
		case outcome.Bounced:
			for _, rcpt := range res.Recipients {
				b := store.Bounce{AccountID: e.AccountID, Region: e.Region, MessageID: e.ID, Recipient: rcpt,
					Type: res.BounceType, SubType: res.BounceSubType, FeedbackID: res.FeedbackID, Created: at}
				if f := res.Failure; f != nil {
					b.Status, b.Diagnostic, b.RemoteMTA, b.Reply = f.Status(), diagnosticOf(f), f.MTA, f.Error()
				}
				if res.Diagnostic != "" {
					b.Diagnostic = res.Diagnostic
				}
				o.Bounces = append(o.Bounces, b)
				r.Logger.Info("bounced", "id", e.ID, "rcpt", rcpt, "type", res.BounceType, "subtype", res.BounceSubType, "err", b.Reply)
			}
		case outcome.Delayed:
			for _, rcpt := range res.Recipients {
				d := store.DeliveryDelay{AccountID: e.AccountID, Region: e.Region, MessageID: e.ID, Recipient: rcpt,
					DelayType: res.DelayType, Attempts: res.Attempts, First: at, Last: at, Expires: res.Expires}
				if f := res.Failure; f != nil {
					d.Status, d.Diagnostic, d.RemoteMTA = f.Status(), diagnosticOf(f), f.MTA
				}
				o.Delays = append(o.Delays, d)
			}
		case outcome.Complained:
			for _, rcpt := range res.Recipients {
				o.Complaints = append(o.Complaints, store.Complaint{AccountID: e.AccountID, Region: e.Region,
					MessageID: e.ID, Recipient: rcpt, FeedbackType: res.FeedbackType, UserAgent: res.UserAgent,
					Arrival: res.Arrival, FeedbackID: res.FeedbackID, Created: at})
			}
		}
		if mailJSON == nil {
			var err error
			if mailJSON, err = marshal(mail); err != nil {
				return o, fmt.Errorf("events: encoding the mail object of %s: %w", e.ID, err)
			}
		}
		ev, err := r.event(&e.Envelope, mail, mailJSON, res, at)
		if err != nil {
			return o, err
		}
		o.Events = append(o.Events, ev)
	}
	return o, nil
}

// mailInput is what the mail object of env's records is made of.
func (r *Recorder) mailInput(ctx context.Context, env *spool.Envelope, header []byte) MailInput {
	in := MailInput{Timestamp: env.Received, MessageID: env.ID, Source: env.MailFrom,
		SourceIP: env.SourceIP, CallerIdentity: env.CallerIdentity, SendingAccountID: env.AccountID,
		Destination: env.Recipients, Header: header, Tags: tags(env)}
	if id, ok := r.identity(ctx, env); ok {
		in.SourceArn = "arn:aws:ses:" + env.Region + ":" + env.IdentityAccount() + ":identity/" + id.Name
	}
	return in
}

// tags is mail.tags of env's records: SES's own (ses:…) and the message's.
func tags(env *spool.Envelope) map[string][]string {
	tags := map[string][]string{}
	add := func(k, v string) {
		if v != "" {
			tags[k] = append(tags[k], v)
		}
	}
	add("ses:operation", env.Operation)
	add("ses:configuration-set", env.ConfigurationSet)
	add("ses:source-ip", env.SourceIP)
	add("ses:caller-identity", env.CallerIdentity)
	if at := strings.LastIndexByte(env.MailFrom, '@'); at >= 0 && env.Operation != "SendRawEmail" {
		// SES gives no from-domain for a raw send (spec §9).
		add("ses:from-domain", strings.ToLower(env.MailFrom[at+1:]))
	}
	for _, t := range env.Tags {
		add(t.Name, t.Value)
	}
	return tags
}

// identity is the verified identity that covers env's sender: the most
// specific of the address, its domain and parent domains (as in sending;
// in development mode the most specific identity, verified or not).
func (r *Recorder) identity(ctx context.Context, env *spool.Envelope) (store.IdentityDetails, bool) {
	if env.MailFrom == "" || env.Via == spool.ViaSystem {
		return store.IdentityDetails{}, false
	}
	// Under sending authorization the identity is the owner's.
	account := env.IdentityAccount()
	si, err := r.identities.Get(ctx, account+"/"+env.Region+"/"+env.MailFrom, func(ctx context.Context) (senderIdentity, error) {
		for _, n := range store.IdentityNames(env.MailFrom) {
			d, err := r.Store.IdentityDetails(ctx, account, env.Region, n)
			if errors.Is(err, store.ErrNotFound) {
				continue
			}
			if err != nil {
				return senderIdentity{}, err
			}
			if d.Status == store.StatusSuccess || r.Development {
				return senderIdentity{d, true}, nil
			}
		}
		return senderIdentity{}, nil
	})
	if err != nil {
		r.Logger.Warn("events: reading the sender's identity; its settings do not apply", "from", env.MailFrom, "err", err)
	}
	return si.id, si.ok
}

// configSet is e's configuration set, nil when it has none (or it was
// deleted since the message was accepted).
func (r *Recorder) configSet(ctx context.Context, e *spool.Entry) *store.ConfigurationSet {
	name := e.ConfigurationSet
	if name == "" {
		return nil
	}
	cs, err := r.configSets.Get(ctx, e.AccountID+"/"+e.Region+"/"+name, func(ctx context.Context) (*store.ConfigurationSet, error) {
		cs, err := r.Store.ConfigurationSet(ctx, e.AccountID, e.Region, name)
		if errors.Is(err, store.ErrNotFound) {
			return nil, nil
		}
		if err != nil {
			return nil, err
		}
		return &cs, nil
	})
	if err != nil {
		r.Logger.Warn("events: reading a configuration set; its options do not apply", "set", name, "err", err)
		return nil
	}
	return cs
}

// event makes the outbox row of one result; mailJSON is mail encoded (nil:
// encoded here).
func (r *Recorder) event(env *spool.Envelope, mail Mail, mailJSON []byte, res outcome.Result, at time.Time) (store.OutboxEvent, error) {
	var obj any
	key := env.ID + "/"
	switch res.Kind {
	case outcome.Sent:
		obj, key = &Send{}, key+"send"
	case outcome.RenderingFailed:
		obj, key = &RenderingFailure{ErrorMessage: res.Error, TemplateName: env.Template}, key+"failure"
	case outcome.Rejected:
		obj, key = &Reject{Reason: res.Error}, key+"reject"
	case outcome.Delivered:
		d := &Delivery{Timestamp: NewTime(at), ProcessingTimeMillis: at.Sub(env.Received).Milliseconds(),
			Recipients: res.Recipients, SMTPResponse: res.Reply, ReportingMTA: r.Hostname, RemoteMtaIP: res.RemoteIP}
		if res.LocalIP != "" {
			mail.Tags = withTag(mail.Tags, "ses:outgoing-ip", res.LocalIP)
			mailJSON = nil // this record's mail is its own
		}
		obj, key = d, key+"delivery/"+recipientsKey(res.Recipients)
	case outcome.Bounced:
		b := &Bounce{FeedbackID: res.FeedbackID, BounceType: res.BounceType, BounceSubType: res.BounceSubType,
			Timestamp: NewTime(at), RemoteMtaIP: res.RemoteIP}
		for _, rcpt := range res.Recipients {
			br := BouncedRecipient{EmailAddress: rcpt}
			if f := res.Failure; f != nil {
				br.Action, br.Status = "failed", f.Status()
				if f.Remote {
					br.DiagnosticCode = f.Diagnostic()
				}
			}
			if res.Diagnostic != "" {
				br.DiagnosticCode = res.Diagnostic
			}
			b.BouncedRecipients = append(b.BouncedRecipients, br)
		}
		if res.Failure != nil {
			b.ReportingMTA = "dsn; " + r.Hostname
		}
		obj, key = b, key+"bounce/"+recipientsKey(res.Recipients)
	case outcome.Delayed:
		d := &DeliveryDelay{Timestamp: NewTime(at), DelayType: res.DelayType, ExpirationTime: NewTime(res.Expires),
			ReportingMTA: r.Hostname}
		for _, rcpt := range res.Recipients {
			dr := DelayedRecipient{EmailAddress: rcpt}
			if f := res.Failure; f != nil {
				dr.Status = f.Status()
				if f.Remote {
					dr.DiagnosticCode = f.Diagnostic()
				}
			}
			d.DelayedRecipients = append(d.DelayedRecipients, dr)
		}
		// Each delay is news: keyed by its time, not only its recipients.
		obj, key = d, key+"delay/"+recipientsKey(res.Recipients)+"/"+fmt.Sprint(at.UnixMilli())
	case outcome.Complained:
		c := &Complaint{FeedbackID: res.FeedbackID, Timestamp: NewTime(at), UserAgent: res.UserAgent,
			ComplaintFeedbackType: res.FeedbackType}
		if !res.Arrival.IsZero() {
			c.ArrivalDate = NewTime(res.Arrival)
		}
		for _, rcpt := range res.Recipients {
			c.ComplainedRecipients = append(c.ComplainedRecipients, ComplainedRecipient{EmailAddress: rcpt})
		}
		obj, key = c, key+"complaint/"+recipientsKey(res.Recipients)
	default:
		return store.OutboxEvent{}, fmt.Errorf("events: no event for outcome kind %d", res.Kind)
	}
	rec, err := NewRecord(mail, obj)
	if err != nil {
		return store.OutboxEvent{}, err
	}
	if mailJSON == nil {
		if mailJSON, err = marshal(mail); err != nil {
			return store.OutboxEvent{}, fmt.Errorf("events: encoding a %s record: %w", rec.EventType, err)
		}
	}
	b, err := encodeRecord(rec.EventType, mailJSON, obj)
	if err != nil {
		return store.OutboxEvent{}, fmt.Errorf("events: encoding a %s record: %w", rec.EventType, err)
	}
	return store.OutboxEvent{Key: key, AccountID: env.AccountID, IdentityAccountID: env.IdentityAccountID, Region: env.Region, MessageID: env.ID,
		EventType: rec.EventType, ConfigurationSet: env.ConfigurationSet, Source: env.MailFrom,
		RemoteIP: res.RemoteIP, Record: b, Created: r.Clock.Now(), Counts: counts(env, res)}, nil
}

// counts is what res adds to the send statistics (GetSendStatistics and
// the reputation rates) as SES counts: recipients tried, bounces (the hard
// ones apart), complaints — never the mailbox simulator's recipients, a
// bounce because the address is on the account's suppression list or its
// contact unsubscribed, or sesame's own mail.
func counts(env *spool.Envelope, res outcome.Result) store.SendCounts {
	var c store.SendCounts
	if env.Via == spool.ViaSystem {
		return c
	}
	switch res.Kind {
	case outcome.Sent:
		c.DeliveryAttempts = notSimulated(env.Recipients)
	case outcome.Bounced:
		if res.BounceSubType != outcome.SubOnAccountSuppressionList && res.BounceSubType != outcome.SubUnsubscribedRecipient {
			c.Bounces = notSimulated(res.Recipients)
			if res.BounceType == outcome.BouncePermanent {
				c.HardBounces = c.Bounces
			}
		}
	case outcome.Complained:
		c.Complaints = notSimulated(res.Recipients)
	case outcome.Rejected:
		c.Rejects = notSimulated(env.Recipients)
	}
	return c
}

// notSimulated counts the recipients that are not the mailbox simulator's.
func notSimulated(rcpts []string) int64 {
	var n int64
	for _, r := range rcpts {
		if _, simulated := outcome.Simulated(r); !simulated {
			n++
		}
	}
	return n
}

// withTag returns tags with k=v added, leaving tags (shared by a
// message's records) alone.
func withTag(tags map[string][]string, k, v string) map[string][]string {
	out := make(map[string][]string, len(tags)+1)
	for tk, tv := range tags {
		out[tk] = tv
	}
	out[k] = []string{v}
	return out
}

// recipientsKey names a set of recipients in an idempotency key.
func recipientsKey(rcpts []string) string {
	l := make([]string, len(rcpts))
	for i, r := range rcpts {
		l[i] = strings.ToLower(r)
	}
	slices.Sort(l)
	return strings.Join(l, ",")
}
