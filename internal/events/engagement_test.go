package events

import (
	"context"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"sesame/internal/clock"
	"sesame/internal/store"
	"sesame/internal/tracking"
)

type engagementStore struct {
	send     *store.OutboxEvent
	appended []store.OutboxEvent
}

func (s *engagementStore) SendEvent(_ context.Context, id string) (store.OutboxEvent, error) {
	if s.send == nil || s.send.MessageID != id {
		return store.OutboxEvent{}, store.ErrNotFound
	}
	return *s.send, nil
}

func (s *engagementStore) AppendEvents(_ context.Context, evs []store.OutboxEvent) error {
	s.appended = append(s.appended, evs...)
	return nil
}

func TestEngagements(t *testing.T) {
	t.Parallel()
	sentAt := time.Date(2026, 11, 1, 10, 0, 0, 0, time.UTC)
	mail := NewMail(MailInput{Timestamp: sentAt, MessageID: "m1", Source: "s@example.com", SendingAccountID: "123",
		Destination: []string{"r@example.net"}, Header: []byte("From: s@example.com\r\nSubject: Hi\r\n\r\n"),
		Tags: map[string][]string{"ses:configuration-set": {"cs"}}})
	sendRec, err := NewRecord(mail, &Send{})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(sendRec)
	st := &engagementStore{send: &store.OutboxEvent{Key: "m1/send", AccountID: "123", Region: "us-east-1", MessageID: "m1",
		EventType: TypeSend, ConfigurationSet: "cs", Source: "s@example.com", Record: b}}
	g := &Engagements{Store: st, Clock: clock.NewFake(sentAt.Add(time.Hour))}
	ctx := context.Background()

	hitAt := sentAt.Add(2 * time.Hour)
	if err := g.Engage(ctx, tracking.Engagement{Hit: tracking.Hit{Kind: tracking.Open, MessageID: "m1"},
		IPAddress: "192.0.2.1", UserAgent: "UA", Time: hitAt}); err != nil {
		t.Fatal(err)
	}
	tags := map[string][]string{"k": {"v"}}
	if err := g.Engage(ctx, tracking.Engagement{Hit: tracking.Hit{Kind: tracking.Click, MessageID: "m1",
		Link: "https://example.com/", Tags: tags}, IPAddress: "192.0.2.2", UserAgent: "UA2", Time: hitAt}); err != nil {
		t.Fatal(err)
	}
	// Unknown messages and hits after 60 days record nothing.
	g.Engage(ctx, tracking.Engagement{Hit: tracking.Hit{Kind: tracking.Open, MessageID: "m2"}, Time: hitAt})
	g.Engage(ctx, tracking.Engagement{Hit: tracking.Hit{Kind: tracking.Open, MessageID: "m1"}, Time: sentAt.Add(TrackingWindow + time.Minute)})

	if len(st.appended) != 2 {
		t.Fatalf("%d events appended, want 2", len(st.appended))
	}
	open, click := st.appended[0], st.appended[1]
	if open.EventType != TypeOpen || click.EventType != TypeClick || open.ConfigurationSet != "cs" || open.AccountID != "123" ||
		!strings.HasPrefix(open.Key, "m1/open/") || !strings.HasPrefix(click.Key, "m1/click/") {
		t.Fatalf("events: %+v %+v", open, click)
	}
	var o, c Record
	json.Unmarshal(open.Record, &o)
	json.Unmarshal(click.Record, &c)
	if o.Open == nil || o.Open.IPAddress != "192.0.2.1" || o.Open.UserAgent != "UA" || !o.Open.Timestamp.Equal(hitAt) ||
		o.Mail.MessageID != "m1" || o.Mail.CommonHeaders == nil || o.Mail.CommonHeaders.Subject == nil || *o.Mail.CommonHeaders.Subject != "Hi" {
		t.Fatalf("open record %s", open.Record)
	}
	if c.Click == nil || c.Click.Link != "https://example.com/" || !reflect.DeepEqual(c.Click.LinkTags, tags) || c.Click.IPAddress != "192.0.2.2" {
		t.Fatalf("click record %s", click.Record)
	}
}
