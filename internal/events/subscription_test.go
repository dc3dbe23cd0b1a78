package events

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"sesame/internal/clock"
	"sesame/internal/listmgmt"
	"sesame/internal/store"
)

func TestSubscriptions(t *testing.T) {
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
	s := &Subscriptions{Store: st, Clock: clock.NewFake(sentAt)}
	sports := store.Topic{Name: "sports", DefaultStatus: "OPT_IN"}
	news := store.Topic{Name: "news", DefaultStatus: "OPT_OUT"}
	at := sentAt.Add(time.Hour)
	change := listmgmt.Change{Token: listmgmt.Token{MessageID: "m1", List: "l"}, Source: listmgmt.SourceHeader,
		List: store.ContactList{Name: "l"}, Time: at,
		Old: listmgmt.Preferences{Topics: []listmgmt.TopicStatus{{Topic: sports, OptIn: true}, {Topic: news}}},
		New: listmgmt.Preferences{Topics: []listmgmt.TopicStatus{{Topic: sports, Chosen: true}, {Topic: news}}}}
	ctx := context.Background()
	if err := s.Subscription(ctx, change); err != nil {
		t.Fatal(err)
	}
	// A message without a Send record records nothing.
	change.Token.MessageID = "m2"
	if err := s.Subscription(ctx, change); err != nil {
		t.Fatal(err)
	}
	if len(st.appended) != 1 {
		t.Fatalf("%d events appended, want 1", len(st.appended))
	}
	ev := st.appended[0]
	if ev.EventType != TypeSubscription || ev.ConfigurationSet != "cs" || ev.AccountID != "123" || !strings.HasPrefix(ev.Key, "m1/subscription/") {
		t.Fatalf("event %+v", ev)
	}
	var rec Record
	if err := json.Unmarshal(ev.Record, &rec); err != nil {
		t.Fatal(err)
	}
	sub := rec.Subscription
	if rec.EventType != "Subscription" || sub == nil || sub.ContactList != "l" || sub.Source != "UnsubscribeHeader" ||
		!sub.Timestamp.Equal(at) || rec.Mail.MessageID != "m1" {
		t.Fatalf("record %s", ev.Record)
	}
	want := `{"unsubscribeAll":false,"topicSubscriptionStatus":[{"topicName":"sports","subscriptionStatus":"OptOut"},{"topicName":"news","subscriptionStatus":"OptOut"}]}`
	if got, _ := json.Marshal(sub.NewTopicPreferences); string(got) != want {
		t.Errorf("newTopicPreferences %s\nwant %s", got, want)
	}
	if got, _ := json.Marshal(sub.OldTopicPreferences); !strings.Contains(string(got), `"sports","subscriptionStatus":"OptIn"`) {
		t.Errorf("oldTopicPreferences %s", got)
	}
}
