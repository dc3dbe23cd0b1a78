package admin

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"time"

	"sesame/internal/events"
)

// messageOut is `message show`: what the event outbox holds about one
// message (as long as it keeps records), with SES's field names.
type messageOut struct {
	MessageID   string              `json:"messageId"`
	Source      string              `json:"source"`
	From        string              `json:"from,omitempty"`
	Subject     string              `json:"subject,omitempty"`
	Timestamp   time.Time           `json:"timestamp"`
	Destination []string            `json:"destination"`
	Tags        map[string][]string `json:"tags,omitempty"`
	Events      []messageEventOut   `json:"events"`
}

// messageEventOut is one event record without its mail object: the
// object its eventType names (delivery, bounce, …) is in detail.
type messageEventOut struct {
	Timestamp  time.Time       `json:"timestamp"`
	EventType  string          `json:"eventType"`
	Recipients []string        `json:"recipients"`
	Detail     json.RawMessage `json:"detail,omitempty"`
}

func (a *admin) messageShow(ctx context.Context, name string, args []string) error {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	account, region := identityFlags(fs)
	return a.run(fs, name, args, 1, "MESSAGEID", func(pos []string) error {
		acct, r, err := a.scope(ctx, *account, *region)
		if err != nil {
			return err
		}
		evs, err := a.st.MessageEvents(ctx, acct, r, pos[0])
		if err != nil {
			return err
		}
		h, ok, err := events.HistoryOf(evs)
		if err != nil {
			return err
		}
		if !ok {
			return fmt.Errorf("no events of message %s in account %s, region %s", pos[0], acct, r)
		}
		out := messageOut{MessageID: pos[0], Source: h.Mail.Source, From: h.From(), Subject: h.Subject(),
			Timestamp: h.Mail.Timestamp.UTC(), Destination: h.Mail.Destination, Tags: h.Mail.Tags,
			Events: make([]messageEventOut, 0, len(h.Records))}
		for i := range h.Records {
			rec := &h.Records[i]
			detail, err := eventDetail(rec)
			if err != nil {
				return err
			}
			out.Events = append(out.Events, messageEventOut{Timestamp: rec.Time().UTC(), EventType: rec.EventType,
				Recipients: rec.Recipients(), Detail: detail})
		}
		return a.print(out)
	})
}

// eventDetail is the record's event object as SES writes it (nil for
// Send's empty one).
func eventDetail(rec *events.Record) (json.RawMessage, error) {
	// Not json.Marshal: it would escape the <, > and & of addresses and
	// diagnostics, which the output keeps as they are.
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	err := enc.Encode(rec)
	b := buf.Bytes()
	if err != nil {
		return nil, fmt.Errorf("encode a %s record: %w", rec.EventType, err)
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(b, &fields); err != nil {
		return nil, fmt.Errorf("decode a %s record: %w", rec.EventType, err)
	}
	delete(fields, "eventType")
	delete(fields, "mail")
	for _, v := range fields {
		if string(v) == "{}" {
			return nil, nil
		}
		return v, nil
	}
	return nil, nil
}
