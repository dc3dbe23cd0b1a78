package store

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestUnsubscribeAndRestoreSNS(t *testing.T) {
	st := openTest(t, t.TempDir())
	ctx := context.Background()
	now := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	if _, _, err := st.PutSNSTopicIfAbsent(ctx, SNSTopic{AccountID: "1", Region: "r", Name: "t", Created: now}); err != nil {
		t.Fatal(err)
	}
	sub := SNSSubscription{ARN: "arn:aws:sns:r:1:t:a", AccountID: "1", Region: "r", TopicName: "t", Protocol: "http",
		Endpoint: "http://x/", Token: "tok1", Confirmed: true, Attributes: map[string]string{}, Created: now}
	if _, _, err := st.SubscribeSNS(ctx, sub, nil); err != nil {
		t.Fatal(err)
	}
	if err := st.SetSNSSubscriptionAttributes(ctx, sub.ARN, map[string]string{"RawMessageDelivery": "true"}); err != nil {
		t.Fatal(err)
	}
	if err := st.SetSNSSubscriptionAttributes(ctx, "arn:aws:sns:r:1:t:none", nil); !errors.Is(err, ErrNotFound) {
		t.Errorf("attributes of an unknown subscription: %v", err)
	}
	sub, _ = st.SNSSubscription(ctx, sub.ARN)
	if err := st.EnqueueSNSDeliveries(ctx, []*SNSDelivery{{SubscriptionARN: sub.ARN, Kind: "Notification", Protocol: "http", Published: now}}); err != nil {
		t.Fatal(err)
	}
	bye := &SNSDelivery{Kind: "UnsubscribeConfirmation", Protocol: "http", Token: "tok2", Published: now}
	if err := st.UnsubscribeSNS(ctx, sub, bye, now, now.Add(-72*time.Hour)); err != nil {
		t.Fatal(err)
	}
	rows, err := st.SNSDeliveries(ctx, "", 0, 1<<62, 10)
	if err != nil || len(rows) != 1 || rows[0].Kind != "UnsubscribeConfirmation" || rows[0].SubscriptionARN != sub.ARN ||
		rows[0].Protocol != "http" || rows[0].Seq != bye.Seq {
		t.Fatalf("queued after unsubscribing: %+v, %v", rows, err)
	}
	if _, err := st.SNSSubscription(ctx, sub.ARN); !errors.Is(err, ErrNotFound) {
		t.Fatalf("subscription still there: %v", err)
	}
	if _, err := st.RestoreSNSSubscription(ctx, "tok2", now.Add(time.Second)); !errors.Is(err, ErrNotFound) {
		t.Errorf("restored past notBefore: %v", err)
	}
	got, err := st.RestoreSNSSubscription(ctx, "tok2", now)
	if err != nil || got.ARN != sub.ARN || !got.Confirmed || got.Attributes["RawMessageDelivery"] != "true" || got.Token != "tok2" {
		t.Fatalf("restored = %+v, %v", got, err)
	}
	if _, err := st.RestoreSNSSubscription(ctx, "tok2", now); !errors.Is(err, ErrNotFound) {
		t.Errorf("restored twice: %v", err)
	}

	// Subscribed again (pending) before the link is followed: that one is confirmed.
	got, _ = st.SNSSubscription(ctx, sub.ARN)
	if err := st.UnsubscribeSNS(ctx, got, &SNSDelivery{Kind: "UnsubscribeConfirmation", Token: "tok3", Published: now}, now, now); err != nil {
		t.Fatal(err)
	}
	again := sub
	again.ARN, again.Token, again.Confirmed = "arn:aws:sns:r:1:t:b", "tok4", false
	if _, _, err := st.SubscribeSNS(ctx, again, nil); err != nil {
		t.Fatal(err)
	}
	got, err = st.RestoreSNSSubscription(ctx, "tok3", now)
	if err != nil || got.ARN != again.ARN || !got.Confirmed {
		t.Fatalf("restored over a new subscription = %+v, %v", got, err)
	}
	if cur, _ := st.SNSSubscription(ctx, again.ARN); !cur.Confirmed {
		t.Error("the new subscription was not confirmed")
	}
	// Pruned: kept subscriptions older than pruneBefore go.
	if err := st.UnsubscribeSNS(ctx, mustSNSSubscription(t, st, again.ARN), &SNSDelivery{Kind: "UnsubscribeConfirmation", Token: "tok5", Published: now}, now, now); err != nil {
		t.Fatal(err)
	}
	later := now.Add(100 * time.Hour)
	if err := st.UnsubscribeSNS(ctx, SNSSubscription{ARN: "arn:aws:sns:r:1:t:none"}, nil, later, later.Add(-72*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if _, err := st.RestoreSNSSubscription(ctx, "tok5", time.Time{}); !errors.Is(err, ErrNotFound) {
		t.Errorf("a pruned subscription was restored: %v", err)
	}
}

func mustSNSSubscription(t *testing.T, st *Store, arn string) SNSSubscription {
	t.Helper()
	s, err := st.SNSSubscription(context.Background(), arn)
	if err != nil {
		t.Fatal(err)
	}
	return s
}
