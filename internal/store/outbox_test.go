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
