package events

import (
	"encoding/json"
	"testing"
	"time"

	"sesame/internal/store"
)

func TestHistoryOf(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	subject := "hi"
	bare := Mail{Timestamp: NewTime(at), Source: "s@example.com", MessageID: "m1",
		Destination: []string{"A@example.net", "b@example.net"}}
	full := bare
	full.CommonHeaders = &CommonHeaders{From: []string{"S <s@example.com>"}, Subject: &subject}
	recs := []Record{
		{EventType: TypeDeliveryDelay, Mail: bare, DeliveryDelay: &DeliveryDelay{Timestamp: NewTime(at.Add(time.Minute)),
			DelayedRecipients: []DelayedRecipient{{EmailAddress: "b@example.net"}}}},
		{EventType: TypeSend, Mail: full, Send: &Send{}},
		{EventType: TypeDelivery, Mail: full, Delivery: &Delivery{Timestamp: NewTime(at.Add(time.Second)),
			Recipients: []string{"a@example.net"}}},
	}
	var evs []store.OutboxEvent
	for i, r := range recs {
		b, err := json.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		evs = append(evs, store.OutboxEvent{Seq: int64(i + 1), MessageID: "m1", Record: b})
	}
	if _, ok, err := HistoryOf(nil); ok || err != nil {
		t.Errorf("HistoryOf(nil) = ok %v, %v; want not ok", ok, err)
	}
	h, ok, err := HistoryOf(evs)
	if err != nil || !ok {
		t.Fatalf("HistoryOf = ok %v, %v", ok, err)
	}
	// The mail object with headers wins over the first record's bare one.
	if h.Subject() != "hi" || h.From() != "S <s@example.com>" {
		t.Errorf("Subject %q, From %q", h.Subject(), h.From())
	}
	if got := h.Records[1].Time(); !got.Equal(at) {
		t.Errorf("Send time %v, want the acceptance %v", got, at)
	}
	if got := h.Records[0].Time(); !got.Equal(at.Add(time.Minute)) {
		t.Errorf("DeliveryDelay time %v, want its timestamp", got)
	}
	order, by := h.ByRecipient()
	if len(order) != 2 || order[0] != "A@example.net" || order[1] != "b@example.net" {
		t.Fatalf("order = %v", order)
	}
	// Addresses match without regard to case; each recipient's records in order.
	if a := by["A@example.net"]; len(a) != 2 || a[0].EventType != TypeSend || a[1].EventType != TypeDelivery {
		t.Errorf("A@'s records = %v", a)
	}
	if b := by["b@example.net"]; len(b) != 2 || b[0].EventType != TypeDeliveryDelay || b[1].EventType != TypeSend {
		t.Errorf("b@'s records = %v", b)
	}
	if _, _, err := HistoryOf([]store.OutboxEvent{{Seq: 9, Record: []byte("{")}}); err == nil {
		t.Error("a broken record decoded")
	}
}
