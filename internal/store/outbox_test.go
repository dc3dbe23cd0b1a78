package store

import (
	"context"
	"testing"
	"time"
)

// TestPruneEventsKeepsSends: past the cutoff, records go oldest first and
// only those every reader passed; a Send record stays until sendCutoff (its
// message's opens and clicks still need its mail object).
func TestPruneEventsKeepsSends(t *testing.T) {
	s := openTest(t, t.TempDir())
	ctx := context.Background()
	t0 := time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)
	var evs []OutboxEvent
	for i, typ := range []string{"Send", "Delivery", "Send", "Delivery", "Send", "Delivery"} {
		evs = append(evs, OutboxEvent{Key: "k" + string(rune('a'+i)), AccountID: "1", Region: "r", MessageID: "m",
			EventType: typ, Record: []byte("{}"), Created: t0.Add(time.Duration(i/2) * 24 * time.Hour)})
	}
	if err := s.AppendEvents(ctx, evs); err != nil {
		t.Fatal(err)
	}
	// Days 0 and 1 are past the cutoff; Sends only day 0's; the reader
	// passed all but the last row.
	n, err := s.PruneEvents(ctx, t0.Add(36*time.Hour), t0.Add(12*time.Hour), 5, 100)
	if err != nil {
		t.Fatal(err)
	}
	left, err := s.EventsAfter(ctx, 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	var kept []string
	for _, e := range left {
		kept = append(kept, e.Key)
	}
	// Pruned: day 0's Send (ka) and Delivery (kb), day 1's Delivery (kd).
	if n != 3 || len(kept) != 3 || kept[0] != "kc" || kept[1] != "ke" || kept[2] != "kf" {
		t.Fatalf("pruned %d, kept %v", n, kept)
	}
}

// TestMessagesTo: the console's search by recipient finds the account's
// messages of the region to an address (any case), newest first, and no
// other account's or region's, nor a message that only names it elsewhere.
func TestMessagesTo(t *testing.T) {
	t.Parallel()
	s := openTest(t, t.TempDir())
	ctx := context.Background()
	t0 := time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)
	send := func(key, acct, region, id string, created time.Time, rec string) OutboxEvent {
		return OutboxEvent{Key: key, AccountID: acct, Region: region, MessageID: id, EventType: "Send",
			Record: []byte(rec), Created: created}
	}
	to := func(rcpts string) string { return `{"eventType":"Send","mail":{"destination":[` + rcpts + `]}}` }
	evs := []OutboxEvent{
		send("k1", "1", "r", "m1", t0, to(`"Bob@Example.com"`)),
		send("k2", "1", "r", "m2", t0.Add(time.Minute), to(`"carol@example.com","bob@example.com"`)),
		send("k3", "2", "r", "other-account", t0.Add(2*time.Minute), to(`"bob@example.com"`)),
		send("k4", "1", "r2", "other-region", t0.Add(3*time.Minute), to(`"bob@example.com"`)),
		// Named in a header only: not a recipient.
		send("k5", "1", "r", "m5", t0.Add(4*time.Minute),
			`{"mail":{"destination":["dave@example.com"],"commonHeaders":{"to":["bob@example.com"]}}}`),
		send("k6", "1", "r", "m6", t0.Add(5*time.Minute), to(`"bob_x@example.com"`)),
		{Key: "k7", AccountID: "1", Region: "r", MessageID: "m1", EventType: "Delivery",
			Record: []byte(to(`"bob@example.com"`)), Created: t0.Add(6 * time.Minute)},
	}
	if err := s.AppendEvents(ctx, evs); err != nil {
		t.Fatal(err)
	}
	got, err := s.MessagesTo(ctx, "1", "r", "BOB@example.com", 100, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0] != "m2" || got[1] != "m1" {
		t.Errorf("MessagesTo(bob) = %v; want [m2 m1]", got)
	}
	if got, _ := s.MessagesTo(ctx, "1", "r", "bob@example.com", 100, 1); len(got) != 1 || got[0] != "m2" {
		t.Errorf("MessagesTo(bob, limit 1) = %v; want [m2]", got)
	}
	if got, _ := s.MessagesTo(ctx, "1", "r", "b%@example.com", 100, 10); len(got) != 0 {
		t.Errorf("MessagesTo(b%%) = %v; want none (LIKE's wildcards are the address's own characters)", got)
	}
}
