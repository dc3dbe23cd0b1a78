package events

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"sesame/internal/clock"
	"sesame/internal/metrics"
	"sesame/internal/outcome"
	"sesame/internal/spool"
	"sesame/internal/store"
	"sesame/internal/ttlcache"
)

// RecorderStore is what the Recorder needs of the store.
type RecorderStore interface {
	AppendEvents(ctx context.Context, evs []store.OutboxEvent) error
	IdentityDetails(ctx context.Context, accountID, region, identity string) (store.IdentityDetails, error)
}

// Recorder makes SES event records of reported outcomes and appends them
// to the outbox. Run must be running for Record to return.
type Recorder struct {
	Store RecorderStore
	// Hostname is sesame's name: the records' reportingMTA.
	Hostname string
	Clock    clock.Clock
	Logger   *slog.Logger

	reqs       chan *appendReq
	appended   chan struct{} // a non-blocking nudge to the Publisher
	identities *ttlcache.Cache[string, string]
}

type appendReq struct {
	evs  []store.OutboxEvent
	done chan error
}

// maxAppendBatch bounds the events one outbox transaction carries.
const maxAppendBatch = 2000

// NewRecorder returns a Recorder; start its Run.
func NewRecorder(st RecorderStore, hostname string, clk clock.Clock, log *slog.Logger) *Recorder {
	if clk == nil {
		clk = clock.Real{}
	}
	if log == nil {
		log = slog.Default()
	}
	return &Recorder{Store: st, Hostname: hostname, Clock: clk, Logger: log,
		reqs: make(chan *appendReq, 1024), appended: make(chan struct{}, 1),
		identities: ttlcache.New[string, string](clk, time.Second, 10000)}
}

// Appended is nudged (without blocking) after each outbox commit, so the
// Publisher need not poll.
func (r *Recorder) Appended() <-chan struct{} { return r.appended }

// Run writes the outbox until ctx ends: the requests waiting when a
// transaction ends go together in the next (group commit), so many
// attempts share one fsync.
func (r *Recorder) Run(ctx context.Context) error {
	for {
		var first *appendReq
		select {
		case first = <-r.reqs:
		case <-ctx.Done():
			return nil
		}
		batch := []*appendReq{first}
		n := len(first.evs)
	gather:
		for n < maxAppendBatch {
			select {
			case req := <-r.reqs:
				batch = append(batch, req)
				n += len(req.evs)
			default:
				break gather
			}
		}
		evs := make([]store.OutboxEvent, 0, n)
		for _, req := range batch {
			evs = append(evs, req.evs...)
		}
		// The transaction finishes even when ctx ends meanwhile: the
		// waiters are told the truth.
		err := r.Store.AppendEvents(context.WithoutCancel(ctx), evs)
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

// Record makes the event records of results about env's message (header is
// its header section as sent, nil when unknown) and returns once they are
// in the outbox. Concurrent calls share outbox transactions.
func (r *Recorder) Record(ctx context.Context, env *spool.Envelope, header []byte, results []outcome.Result) error {
	if len(results) == 0 {
		return nil
	}
	mail := NewMail(r.mailInput(ctx, env, header))
	evs := make([]store.OutboxEvent, 0, len(results))
	for _, res := range results {
		ev, err := r.event(env, mail, res)
		if err != nil {
			return err
		}
		evs = append(evs, ev)
	}
	req := &appendReq{evs: evs, done: make(chan error, 1)}
	select {
	case r.reqs <- req:
	case <-ctx.Done():
		return fmt.Errorf("events: recording %d events: %w", len(evs), ctx.Err())
	}
	if err := <-req.done; err != nil {
		return fmt.Errorf("events: recording %d events: %w", len(evs), err)
	}
	metrics.Recorded(env.Received, results)
	return nil
}

// mailInput is what the mail object of env's records is made of.
func (r *Recorder) mailInput(ctx context.Context, env *spool.Envelope, header []byte) MailInput {
	in := MailInput{Timestamp: env.Received, MessageID: env.ID, Source: env.MailFrom,
		SourceIP: env.SourceIP, CallerIdentity: env.CallerIdentity, SendingAccountID: env.AccountID,
		Destination: env.Recipients, Header: header, Tags: Tags(env)}
	if id := r.identity(ctx, env); id != "" {
		in.SourceArn = "arn:aws:ses:" + env.Region + ":" + env.AccountID + ":identity/" + id
	}
	return in
}

// Tags is mail.tags of env's records: SES's own (ses:…) and the message's.
func Tags(env *spool.Envelope) map[string][]string {
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

// identity is the verified identity that covers env's sender, "" when
// none does (sesame's own mail) or the store cannot say.
func (r *Recorder) identity(ctx context.Context, env *spool.Envelope) string {
	if env.MailFrom == "" || env.Via == spool.ViaSystem {
		return ""
	}
	id, err := r.identities.Get(ctx, env.AccountID+"/"+env.Region+"/"+env.MailFrom, func(ctx context.Context) (string, error) {
		for _, n := range store.IdentityNames(env.MailFrom) {
			d, err := r.Store.IdentityDetails(ctx, env.AccountID, env.Region, n)
			if errors.Is(err, store.ErrNotFound) {
				continue
			}
			if err != nil {
				return "", err
			}
			if d.Status == store.StatusSuccess {
				return n, nil
			}
		}
		return "", nil
	})
	if err != nil {
		r.Logger.Warn("events: reading the sender's identity; sourceArn left out", "from", env.MailFrom, "err", err)
	}
	return id
}

// event makes the outbox row of one result.
func (r *Recorder) event(env *spool.Envelope, mail Mail, res outcome.Result) (store.OutboxEvent, error) {
	at := res.Time
	if at.IsZero() {
		at = r.Clock.Now()
	}
	var obj any
	key := env.ID + "/"
	switch res.Kind {
	case outcome.Sent:
		obj, key = &Send{}, key+"send"
	case outcome.RenderingFailed:
		obj, key = &RenderingFailure{ErrorMessage: res.Error, TemplateName: env.Template}, key+"failure"
	case outcome.Delivered:
		d := &Delivery{Timestamp: NewTime(at), ProcessingTimeMillis: at.Sub(env.Received).Milliseconds(),
			Recipients: res.Recipients, SMTPResponse: res.Reply, ReportingMTA: r.Hostname, RemoteMtaIP: res.RemoteIP}
		if res.LocalIP != "" {
			mail.Tags = withTag(mail.Tags, "ses:outgoing-ip", res.LocalIP)
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
		return store.OutboxEvent{}, fmt.Errorf("events: unknown outcome kind %d", res.Kind)
	}
	rec, err := NewRecord(mail, obj)
	if err != nil {
		return store.OutboxEvent{}, err
	}
	b, err := json.Marshal(rec)
	if err != nil {
		return store.OutboxEvent{}, fmt.Errorf("events: encoding a %s record: %w", rec.EventType, err)
	}
	return store.OutboxEvent{Key: key, AccountID: env.AccountID, Region: env.Region, MessageID: env.ID,
		EventType: rec.EventType, ConfigurationSet: env.ConfigurationSet, Source: env.MailFrom,
		RemoteIP: res.RemoteIP, Record: b, Created: r.Clock.Now()}, nil
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
