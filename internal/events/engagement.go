package events

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/google/uuid"

	"sesame/internal/clock"
	"sesame/internal/store"
	"sesame/internal/tracking"
)

// TrackingWindow is how long after sending opens and clicks are recorded
// (SES: 60 days). Older links still redirect; they record nothing.
const TrackingWindow = 60 * 24 * time.Hour

// EngagementStore is what Engagements need of the store.
type EngagementStore interface {
	SendEvent(ctx context.Context, messageID string) (store.OutboxEvent, error)
	AppendEvents(ctx context.Context, evs []store.OutboxEvent) error
}

// Engagements makes Open and Click records of tracking hits and appends
// them to the outbox (it is the tracking.Sink). The message has left the
// spool by then, so a record's mail object is the one of the message's
// Send record; a message without one (sent before tracking, or its
// events pruned) records nothing.
type Engagements struct {
	Store  EngagementStore
	Clock  clock.Clock
	Logger *slog.Logger
}

// Engage records one open or click. Each hit is its own event (SES counts
// every open and every click), keyed by a fresh id so that a retried
// append of the same hit is kept once.
func (g *Engagements) Engage(ctx context.Context, e tracking.Engagement) error {
	send, err := g.Store.SendEvent(ctx, e.MessageID)
	if errors.Is(err, store.ErrNotFound) {
		g.logger().Debug("events: a tracking hit for a message with no Send record", "message", e.MessageID)
		return nil
	}
	if err != nil {
		return fmt.Errorf("events: %s of %s: %w", kindName(e.Kind), e.MessageID, err)
	}
	var sent Record
	if err := json.Unmarshal(send.Record, &sent); err != nil {
		return fmt.Errorf("events: reading the Send record of %s: %w", e.MessageID, err)
	}
	at := e.Time
	if at.IsZero() {
		at = g.now()
	}
	if at.Sub(sent.Mail.Timestamp.Time) > TrackingWindow {
		return nil
	}
	var obj any
	switch e.Kind {
	case tracking.Open:
		obj = &Open{IPAddress: e.IPAddress, Timestamp: NewTime(at), UserAgent: e.UserAgent}
	case tracking.Click:
		obj = &Click{IPAddress: e.IPAddress, Link: e.Link, LinkTags: e.Tags, Timestamp: NewTime(at), UserAgent: e.UserAgent}
	default:
		return fmt.Errorf("events: unknown tracking hit kind %d", e.Kind)
	}
	rec, err := NewRecord(sent.Mail, obj)
	if err != nil {
		return err
	}
	b, err := rec.MarshalJSON()
	if err != nil {
		return fmt.Errorf("events: encoding a %s record: %w", rec.EventType, err)
	}
	ev := store.OutboxEvent{Key: e.MessageID + "/" + kindName(e.Kind) + "/" + uuid.NewString(),
		AccountID: send.AccountID, Region: send.Region, MessageID: e.MessageID, EventType: rec.EventType,
		ConfigurationSet: send.ConfigurationSet, Source: send.Source, Record: b, Created: g.now()}
	if err := g.Store.AppendEvents(ctx, []store.OutboxEvent{ev}); err != nil {
		return fmt.Errorf("events: recording a %s of %s: %w", rec.EventType, e.MessageID, err)
	}
	return nil
}

func kindName(k tracking.Kind) string {
	if k == tracking.Click {
		return "click"
	}
	return "open"
}

func (g *Engagements) now() time.Time {
	if g.Clock == nil {
		return time.Now()
	}
	return g.Clock.Now()
}

func (g *Engagements) logger() *slog.Logger {
	if g.Logger == nil {
		return slog.Default()
	}
	return g.Logger
}
