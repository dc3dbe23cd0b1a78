package store

import (
	"bytes"
	"context"
	"errors"
	"testing"
)

func TestTrackingKeyIsMadeOnce(t *testing.T) {
	st := openTest(t, t.TempDir())
	ctx := context.Background()
	k1, err := st.TrackingKey(ctx)
	if err != nil || len(k1) != 32 {
		t.Fatalf("TrackingKey = %x, %v", k1, err)
	}
	k2, err := st.TrackingKey(ctx)
	if err != nil || !bytes.Equal(k1, k2) {
		t.Fatalf("second TrackingKey = %x, %v; want %x", k2, err, k1)
	}
}

func TestSendEvent(t *testing.T) {
	st := openTest(t, t.TempDir())
	ctx := context.Background()
	if _, err := st.SendEvent(ctx, "m1"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("SendEvent of an unknown message: %v", err)
	}
	evs := []OutboxEvent{
		{Key: "m1/delivery/x", AccountID: "a", Region: "r", MessageID: "m1", EventType: "Delivery", Record: []byte(`{}`)},
		{Key: "m1/send", AccountID: "a", Region: "r", MessageID: "m1", EventType: "Send", ConfigurationSet: "cs", Record: []byte(`{"eventType":"Send"}`)},
	}
	if err := st.AppendEvents(ctx, evs); err != nil {
		t.Fatal(err)
	}
	ev, err := st.SendEvent(ctx, "m1")
	if err != nil || ev.Key != "m1/send" || ev.ConfigurationSet != "cs" || string(ev.Record) != `{"eventType":"Send"}` {
		t.Fatalf("SendEvent = %+v, %v", ev, err)
	}
}
