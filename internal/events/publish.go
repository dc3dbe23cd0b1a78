package events

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"time"

	"sesame/internal/clock"
	"sesame/internal/metrics"
	"sesame/internal/store"
)

// Publication is one message for an SNS topic.
type Publication struct {
	TopicArn, Subject, Message string
}

// Topics publishes to SNS-compatible topics (internal/sns, adapted in
// cmd/sesame). Publish returns once the publications are durably queued
// for the topics' subscribers, in the transaction that applies move (the
// outbox cursor past the records they came from), so each record is
// queued exactly once however many nodes publish; store.ErrCursorMoved
// says another node moved the cursor first, and nothing was queued. A topic
// that no longer exists is skipped.
type Topics interface {
	Publish(ctx context.Context, pubs []Publication, move store.CursorMove) error
	// Starved says the topics have more to sign and send than CPU to do it
	// with (the server is busy with mail): the Publisher holds back, the
	// records wait in the outbox, and a burst of mail is not slowed by
	// handing on events that could not go out yet anyway.
	Starved() bool
}

// Destinations says where a record goes (destinations.go reads them from
// the store, cached).
type Destinations interface {
	// EventTopics are the SNS topics of the configuration set's enabled
	// event destinations that match eventType.
	EventTopics(ctx context.Context, accountID, region, configSet, eventType string) ([]string, error)
	// NotificationTopic is the topic the sender's identity sends
	// notificationType (Bounce, Complaint, Delivery) to, "" when none, and
	// whether the notification includes the original headers.
	NotificationTopic(ctx context.Context, accountID, region, source, notificationType string) (string, bool, error)
}

// PublisherStore is what the Publisher needs of the store.
type PublisherStore interface {
	EventsAfter(ctx context.Context, after int64, limit int) ([]store.OutboxEvent, error)
	EventCursor(ctx context.Context, name string) (int64, error)
	MoveEventCursor(ctx context.Context, m store.CursorMove) error
	PruneEvents(ctx context.Context, cutoff, sendCutoff time.Time, passed int64, limit int) (int64, error)
	PublishesAnything(ctx context.Context) (bool, error)
	LastEventSeq(ctx context.Context) (int64, error)
}

// Publisher reads the outbox in order and publishes each record where its
// configuration set and its identity say. In a cluster one node runs it at
// a time (internal/lease); the cursor moves only from where this Publisher
// last saw it, so a node that kept publishing past its lease queues
// nothing twice.
type Publisher struct {
	Store        PublisherStore
	Destinations Destinations
	Topics       Topics
	// Appended nudges the Publisher when the outbox grew (Recorder.Appended);
	// without it the outbox is read every PollInterval.
	Appended <-chan struct{}
	// Retention is how long records are kept after publishing, for message
	// insights (default 14 days, SES's statistics window); Send records at
	// least TrackingWindow, for the opens and clicks of their message.
	Retention time.Duration
	// Busy, when set, says the server keeps the machine busy with mail
	// (lowprio.Meter). While it does, records wait in the outbox until
	// they are MaxDefer old (default 10 s): a burst of mail is not slowed
	// by publishing its events, which follow when it is over, and under a
	// load that never ends they are late by MaxDefer, not more.
	Busy     func() bool
	MaxDefer time.Duration
	Clock    clock.Clock
	Logger   *slog.Logger
}

const (
	// cursorName is the Publisher's outbox cursor.
	cursorName = "publish"
	// readBatch is how many outbox rows one round publishes.
	readBatch = 1000
	// pollInterval is how often the outbox is read without a nudge.
	pollInterval = time.Second
	// starvedPause is how long the Publisher holds back while the topics
	// are starved.
	starvedPause = 20 * time.Millisecond
	// busyRecheck is how often a busy server is asked again.
	busyRecheck = 100 * time.Millisecond
	// defaultMaxDefer is how long records wait at most while the server is
	// busy.
	defaultMaxDefer = 10 * time.Second
	// pruneEvery is how often kept records past Retention are deleted.
	pruneEvery = time.Hour
)

// PublishCursor names the Publisher's outbox cursor, for
// store.OutboxBacklog (metrics).
const PublishCursor = cursorName

// Run publishes until ctx ends. A failure to publish is retried (the
// cursor stays), with a pause that grows up to a minute.
func (p *Publisher) Run(ctx context.Context) error {
	clk, log := p.Clock, p.Logger
	if clk == nil {
		clk = clock.Real{}
	}
	if log == nil {
		log = slog.Default()
	}
	retention := p.retention()
	cursor, err := p.Store.EventCursor(ctx, cursorName)
	for err != nil {
		log.Error("events: reading the publish cursor", "err", err)
		if !sleep(ctx, 5*time.Second) {
			return nil
		}
		cursor, err = p.Store.EventCursor(ctx, cursorName)
	}
	pause := time.Duration(0)
	lastPrune := time.Time{}
	for ctx.Err() == nil {
		if now := clk.Now(); now.Sub(lastPrune) >= pruneEvery {
			lastPrune = now
			p.prune(ctx, now.Add(-retention), cursor, log)
		}
		if passed, ok := p.passBy(ctx, cursor); ok {
			// No destination, no notification topic: the outbox is passed
			// by (the records stay for insights) without reading it.
			cursor = passed
			select {
			case <-p.Appended:
			case <-time.After(pollInterval):
			case <-ctx.Done():
			}
			continue
		}
		if p.Topics.Starved() {
			sleep(ctx, starvedPause)
			continue
		}
		var cutoff time.Time // records after it wait (zero: none waits)
		if p.Busy != nil && p.Busy() {
			cutoff = clk.Now().Add(-p.maxDefer())
			if wait, ok := p.deferred(ctx, cursor, cutoff); ok {
				sleep(ctx, min(wait, busyRecheck))
				continue
			}
		}
		evs, err := p.Store.EventsAfter(ctx, cursor, readBatch)
		more := len(evs) == readBatch
		if !cutoff.IsZero() {
			n := len(evs)
			evs = olderThan(evs, cutoff)
			more = more || len(evs) < n // the rest waits: ask again at once
		}
		if err == nil && len(evs) > 0 {
			move := store.CursorMove{Name: cursorName, From: cursor, To: evs[len(evs)-1].Seq}
			var pubs []Publication
			pubs, err = p.publications(ctx, evs)
			switch {
			case err != nil:
			case len(pubs) == 0:
				err = p.Store.MoveEventCursor(ctx, move)
			default:
				err = p.Topics.Publish(ctx, pubs, move)
			}
			if err == nil {
				cursor = move.To
				metrics.EventsPublished(len(evs))
			}
		}
		if errors.Is(err, store.ErrCursorMoved) {
			// Another node published these (it held the lease meanwhile):
			// go on from where it got.
			log.Info("events: another node published meanwhile; reading its cursor")
			if c, cerr := p.Store.EventCursor(ctx, cursorName); cerr == nil {
				cursor, err = c, nil
			}
		}
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			metrics.EventPublishFailed()
			pause = min(max(2*pause, time.Second), time.Minute)
			log.Error("events: publishing; trying again", "after", pause, "err", err)
			if !sleep(ctx, pause) {
				return nil
			}
			continue
		}
		pause = 0
		if more {
			continue
		}
		select {
		case <-p.Appended:
		case <-time.After(pollInterval):
		case <-ctx.Done():
		}
	}
	return nil
}

// deferred says whether the next record waits while the server is busy
// (it is newer than cutoff), and for how long at most.
func (p *Publisher) deferred(ctx context.Context, cursor int64, cutoff time.Time) (time.Duration, bool) {
	next, err := p.Store.EventsAfter(ctx, cursor, 1)
	if err != nil || len(next) == 0 || !next[0].Created.After(cutoff) {
		return 0, false
	}
	return next[0].Created.Sub(cutoff), true
}

// olderThan is the records up to the first one newer than cutoff.
func olderThan(evs []store.OutboxEvent, cutoff time.Time) []store.OutboxEvent {
	for i, ev := range evs {
		if ev.Created.After(cutoff) {
			return evs[:i]
		}
	}
	return evs
}

func (p *Publisher) maxDefer() time.Duration {
	if p.MaxDefer <= 0 {
		return defaultMaxDefer
	}
	return p.MaxDefer
}

// passBy moves the cursor past every event when none could be published:
// no enabled destination names an SNS topic and no identity has a
// notification topic. The newest event is read first, so what it passes
// was all appended before the check found nothing to publish to. ok is
// false when there is something to publish (or the store cannot say).
func (p *Publisher) passBy(ctx context.Context, cursor int64) (int64, bool) {
	last, err := p.Store.LastEventSeq(ctx)
	if err != nil {
		return cursor, false
	}
	anything, err := p.Store.PublishesAnything(ctx)
	if err != nil || anything {
		return cursor, false
	}
	if last > cursor {
		if err := p.Store.MoveEventCursor(ctx, store.CursorMove{Name: cursorName, From: cursor, To: last}); err != nil {
			if errors.Is(err, store.ErrCursorMoved) {
				if c, err := p.Store.EventCursor(ctx, cursorName); err == nil {
					return c, false
				}
			}
			return cursor, false
		}
		// Seqs are dense (nothing is deleted past the cursor): the count
		// of records passed by.
		metrics.EventsPublished(int(last - cursor))
	}
	return max(last, cursor), true
}

// publications are where one batch of records goes.
func (p *Publisher) publications(ctx context.Context, evs []store.OutboxEvent) ([]Publication, error) {
	var pubs []Publication
	for _, ev := range evs {
		if ev.ConfigurationSet != "" {
			topics, err := p.Destinations.EventTopics(ctx, ev.AccountID, ev.Region, ev.ConfigurationSet, ev.EventType)
			if err != nil {
				return nil, err
			}
			for _, t := range topics {
				pubs = append(pubs, Publication{TopicArn: t, Subject: Subject, Message: string(ev.Record)})
			}
		}
		switch ev.EventType {
		case TypeBounce, TypeComplaint, TypeDelivery:
		default:
			continue
		}
		// The identity's owner's notifications (a delegate's message is
		// sent as another account's identity: that account's settings).
		owner := ev.AccountID
		if ev.IdentityAccountID != "" {
			owner = ev.IdentityAccountID
		}
		topic, headers, err := p.Destinations.NotificationTopic(ctx, owner, ev.Region, ev.Source, ev.EventType)
		if err != nil {
			return nil, err
		}
		if topic == "" {
			continue
		}
		var rec Record
		if err := json.Unmarshal(ev.Record, &rec); err != nil {
			// A record this code wrote and cannot read is a bug; it must
			// not stop every record behind it.
			p.logger().Error("events: an outbox record does not decode; not notified", "seq", ev.Seq, "err", err)
			continue
		}
		n, ok := rec.Notification(headers)
		if !ok {
			continue
		}
		// A stored record leaves remoteMtaIp out (only notifications have it).
		if n.Bounce != nil && ev.RemoteIP != "" {
			n.Bounce.RemoteMtaIP = ev.RemoteIP
		}
		if n.Delivery != nil && ev.RemoteIP != "" {
			n.Delivery.RemoteMtaIP = ev.RemoteIP
		}
		b, err := marshal(n)
		if err != nil {
			p.logger().Error("events: encoding a notification", "seq", ev.Seq, "err", err)
			continue
		}
		pubs = append(pubs, Publication{TopicArn: topic, Message: string(b)})
	}
	return pubs, nil
}

// prune deletes published records older than cutoff, a chunk at a time.
func (p *Publisher) prune(ctx context.Context, cutoff time.Time, passed int64, log *slog.Logger) {
	for ctx.Err() == nil {
		// A Send record stays as long as opens and clicks of its message
		// are recorded (they take its mail object).
		n, err := p.Store.PruneEvents(ctx, cutoff, cutoff.Add(-max(0, TrackingWindow-p.retention())), passed, 5000)
		if err != nil {
			log.Warn("events: pruning old records", "err", err)
			return
		}
		if n < 5000 {
			return
		}
	}
}

// retention is how long published records are kept (Retention, default 14
// days: SES's statistics window).
func (p *Publisher) retention() time.Duration {
	if p.Retention <= 0 {
		return 14 * 24 * time.Hour
	}
	return p.Retention
}

func (p *Publisher) logger() *slog.Logger {
	if p.Logger == nil {
		return slog.Default()
	}
	return p.Logger
}

// sleep waits d (timers are real, or synctest's in tests); false when ctx
// ended first.
func sleep(ctx context.Context, d time.Duration) bool {
	select {
	case <-time.After(d):
		return true
	case <-ctx.Done():
		return false
	}
}
