package events

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"

	"github.com/google/uuid"

	"sesame/internal/clock"
	"sesame/internal/listmgmt"
	"sesame/internal/store"
)

// Subscriptions makes Subscription records of the changes contacts make
// through a message's unsubscribe link (one-click or the preference
// page) and appends them to the outbox: the listmgmt.Sink. As with opens
// and clicks, the record's mail object and configuration set are those of
// the message's Send record, so the change reaches that set's SUBSCRIPTION
// destinations; a message without one (its events pruned) records
// nothing. A change made with UpdateContact has no message, hence no
// configuration set and no record.
type Subscriptions struct {
	Store  EngagementStore
	Clock  clock.Clock
	Logger *slog.Logger
}

// Subscription records one change.
func (s *Subscriptions) Subscription(ctx context.Context, c listmgmt.Change) error {
	id := c.Token.MessageID
	if id == "" {
		return nil
	}
	send, err := s.Store.SendEvent(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		s.logger().Debug("events: a subscription change for a message with no Send record", "message", id)
		return nil
	}
	if err != nil {
		return fmt.Errorf("events: subscription change of %s: %w", id, err)
	}
	var sent Record
	if err := json.Unmarshal(send.Record, &sent); err != nil {
		return fmt.Errorf("events: reading the Send record of %s: %w", id, err)
	}
	at := c.Time
	if at.IsZero() {
		at = s.Clock.Now()
	}
	rec, err := NewRecord(sent.Mail, &Subscription{ContactList: c.List.Name, Timestamp: NewTime(at), Source: c.Source,
		NewTopicPreferences: topicPreferences(c.New), OldTopicPreferences: topicPreferences(c.Old)})
	if err != nil {
		return err
	}
	b, err := rec.MarshalJSON()
	if err != nil {
		return fmt.Errorf("events: encoding a %s record: %w", rec.EventType, err)
	}
	ev := store.OutboxEvent{Key: id + "/subscription/" + uuid.NewString(),
		AccountID: send.AccountID, Region: send.Region, MessageID: id, EventType: rec.EventType,
		ConfigurationSet: send.ConfigurationSet, Source: send.Source, Record: b, Created: at}
	if err := s.Store.AppendEvents(ctx, []store.OutboxEvent{ev}); err != nil {
		return fmt.Errorf("events: recording a Subscription of %s: %w", id, err)
	}
	return nil
}

// topicPreferences is SES's form of a contact's preferences: every topic
// of the list with its effective status.
func topicPreferences(p listmgmt.Preferences) *TopicPreferences {
	out := &TopicPreferences{UnsubscribeAll: p.UnsubscribeAll, TopicSubscriptionStatus: []TopicSubscriptionStatus{}}
	for _, t := range p.Topics {
		status := "OptOut"
		if t.OptIn {
			status = "OptIn"
		}
		out.TopicSubscriptionStatus = append(out.TopicSubscriptionStatus, TopicSubscriptionStatus{TopicName: t.Topic.Name, SubscriptionStatus: status})
	}
	return out
}

func (s *Subscriptions) logger() *slog.Logger {
	if s.Logger == nil {
		return slog.Default()
	}
	return s.Logger
}
