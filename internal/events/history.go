package events

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"sesame/internal/store"
)

// History is what the outbox holds about one message, for message
// insights (API GetMessageInsights, `sesame admin message show`). It lasts
// as long as the outbox keeps records (Publisher.Retention).
type History struct {
	// Mail is the message's mail object, from the record that carries the
	// most of it (headers parsed).
	Mail Mail
	// Records are the message's event records in the order they were made.
	Records []Record
}

// HistoryOf decodes a message's outbox events (store.MessageEvents), in
// order; ok is false when there are none.
func HistoryOf(evs []store.OutboxEvent) (h History, ok bool, err error) {
	if len(evs) == 0 {
		return History{}, false, nil
	}
	for i, ev := range evs {
		var rec Record
		if err := json.Unmarshal(ev.Record, &rec); err != nil {
			return History{}, false, fmt.Errorf("events: outbox record %d of %s: %w", ev.Seq, ev.MessageID, err)
		}
		if i == 0 || h.Mail.CommonHeaders == nil && rec.Mail.CommonHeaders != nil {
			h.Mail = rec.Mail
		}
		h.Records = append(h.Records, rec)
	}
	return h, true, nil
}

// Subject is the message's Subject header, "" when unknown.
func (h *History) Subject() string {
	if c := h.Mail.CommonHeaders; c != nil && c.Subject != nil {
		return *c.Subject
	}
	return ""
}

// From is the message's From address as written, or its envelope sender
// when the header is unknown.
func (h *History) From() string {
	if c := h.Mail.CommonHeaders; c != nil && len(c.From) > 0 {
		return c.From[0]
	}
	return h.Mail.Source
}

// Recipients are the addresses r is about: those its event object lists,
// or every destination of the message for events about the whole message
// (Send, Reject, Rendering Failure, Open, Click, Subscription).
func (r *Record) Recipients() []string {
	var out []string
	switch {
	case r.Delivery != nil:
		return r.Delivery.Recipients
	case r.Bounce != nil:
		for _, b := range r.Bounce.BouncedRecipients {
			out = append(out, b.EmailAddress)
		}
	case r.Complaint != nil:
		for _, c := range r.Complaint.ComplainedRecipients {
			out = append(out, c.EmailAddress)
		}
	case r.DeliveryDelay != nil:
		for _, d := range r.DeliveryDelay.DelayedRecipients {
			out = append(out, d.EmailAddress)
		}
	default:
		return r.Mail.Destination
	}
	return out
}

// Time is when r's event happened: its object's timestamp, or the
// message's acceptance for events that carry none (Send, Reject,
// Rendering Failure).
func (r *Record) Time() time.Time {
	var t Time
	switch {
	case r.Delivery != nil:
		t = r.Delivery.Timestamp
	case r.Bounce != nil:
		t = r.Bounce.Timestamp
	case r.Complaint != nil:
		t = r.Complaint.Timestamp
	case r.DeliveryDelay != nil:
		t = r.DeliveryDelay.Timestamp
	case r.Open != nil:
		t = r.Open.Timestamp
	case r.Click != nil:
		t = r.Click.Timestamp
	case r.Subscription != nil:
		t = r.Subscription.Timestamp
	}
	if t.IsZero() {
		return r.Mail.Timestamp.Time
	}
	return t.Time
}

// ByRecipient groups h's records by the recipient they are about, in the
// order of the message's destinations (then any other address a record
// names), each recipient's records in the order they were made.
// Addresses are matched without regard to case.
func (h *History) ByRecipient() (order []string, records map[string][]*Record) {
	records = map[string][]*Record{}
	index := map[string]string{} // lower-case → as first seen
	add := func(addr string) string {
		k := strings.ToLower(addr)
		if a, ok := index[k]; ok {
			return a
		}
		index[k] = addr
		order = append(order, addr)
		return addr
	}
	for _, d := range h.Mail.Destination {
		add(d)
	}
	for i := range h.Records {
		r := &h.Records[i]
		for _, rcpt := range r.Recipients() {
			a := add(rcpt)
			records[a] = append(records[a], r)
		}
	}
	return order, records
}
