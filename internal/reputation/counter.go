package reputation

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"sesame/internal/events"
	"sesame/internal/store"
)

// Bucket is the length of a statistics bucket: SES's GetSendStatistics
// answers in 15-minute data points.
const Bucket = 15 * time.Minute

// cursorName is the Counter's outbox cursor.
const cursorName = "statistics"

// readBatch is how many outbox rows one counting round reads.
const readBatch = 2000

// simulatorDomain is the mailbox simulator's: its recipients count in no
// metric (SES excludes them from statistics and reputation).
const simulatorDomain = "@simulator.amazonses.com"

// CounterStore is what counting needs of the store.
type CounterStore interface {
	EventCursor(ctx context.Context, name string) (int64, error)
	EventsAfter(ctx context.Context, after int64, limit int) ([]store.OutboxEvent, error)
	AddSendStats(ctx context.Context, stats []store.SendStat, cursor string, seq int64) error
}

// CountEvents adds the outbox events past the statistics cursor to the
// counters, one batch per transaction, and reports how many it read.
func CountEvents(ctx context.Context, st CounterStore) (int, error) {
	cursor, err := st.EventCursor(ctx, cursorName)
	if err != nil {
		return 0, err
	}
	n := 0
	for {
		evs, err := st.EventsAfter(ctx, cursor, readBatch)
		if err != nil {
			return n, err
		}
		if len(evs) == 0 {
			return n, nil
		}
		stats, err := Tally(evs)
		if err != nil {
			return n, err
		}
		cursor = evs[len(evs)-1].Seq
		if err := st.AddSendStats(ctx, stats, cursorName, cursor); err != nil {
			return n, err
		}
		n += len(evs)
		if len(evs) < readBatch {
			return n, nil
		}
	}
}

// counted is the part of an SES event record the counters read.
type counted struct {
	Mail struct {
		Destination []string            `json:"destination"`
		SourceArn   string              `json:"sourceArn"`
		Tags        map[string][]string `json:"tags"`
	} `json:"mail"`
	Bounce *struct {
		BounceType        string `json:"bounceType"`
		BounceSubType     string `json:"bounceSubType"`
		BouncedRecipients []struct {
			EmailAddress string `json:"emailAddress"`
		} `json:"bouncedRecipients"`
	} `json:"bounce"`
	Complaint *struct {
		ComplaintSubType     *string `json:"complaintSubType"`
		ComplainedRecipients []struct {
			EmailAddress string `json:"emailAddress"`
		} `json:"complainedRecipients"`
	} `json:"complaint"`
}

// Tally turns outbox events into changes to the bucket counters, one per
// account, region, configuration set and bucket touched. Events of
// sesame's own mail (DSNs, verification mail, forwarded reports) and of
// other types count nowhere.
func Tally(evs []store.OutboxEvent) ([]store.SendStat, error) {
	type key struct {
		acct, region, set string
		bucket            int64
	}
	byKey := map[key]*store.SendStat{}
	var order []key
	stat := func(e store.OutboxEvent) *store.SendStat {
		b := e.Created.Truncate(Bucket).UTC()
		k := key{e.AccountID, e.Region, e.ConfigurationSet, b.UnixNano()}
		if s, ok := byKey[k]; ok {
			return s
		}
		s := &store.SendStat{AccountID: e.AccountID, Region: e.Region, ConfigurationSet: e.ConfigurationSet, Bucket: b}
		byKey[k] = s
		order = append(order, k)
		return s
	}
	for _, e := range evs {
		if e.AccountID == "" {
			continue
		}
		switch e.EventType {
		case events.TypeSend, events.TypeBounce, events.TypeComplaint, events.TypeReject:
		default:
			continue
		}
		var rec counted
		if err := json.Unmarshal(e.Record, &rec); err != nil {
			return nil, fmt.Errorf("reputation: reading outbox event %d (%s): %w", e.Seq, e.EventType, err)
		}
		if !clientMail(rec) {
			continue
		}
		switch e.EventType {
		case events.TypeSend:
			if n := countRecipients(rec.Mail.Destination); n > 0 {
				stat(e).DeliveryAttempts += n
			}
		case events.TypeReject:
			stat(e).Rejects++
		case events.TypeBounce:
			b := rec.Bounce
			// SES leaves a send to an address on the account's
			// suppression list out of its bounce metrics.
			if b == nil || b.BounceSubType == "OnAccountSuppressionList" {
				continue
			}
			var n int64
			for _, r := range b.BouncedRecipients {
				if !simulated(r.EmailAddress) {
					n++
				}
			}
			if n > 0 {
				s := stat(e)
				s.Bounces += n
				if b.BounceType == "Permanent" {
					s.HardBounces += n
				}
			}
		case events.TypeComplaint:
			c := rec.Complaint
			if c == nil || (c.ComplaintSubType != nil && *c.ComplaintSubType == "OnAccountSuppressionList") {
				continue
			}
			var n int64
			for _, r := range c.ComplainedRecipients {
				if !simulated(r.EmailAddress) {
					n++
				}
			}
			if n > 0 {
				stat(e).Complaints += n
			}
		}
	}
	out := make([]store.SendStat, len(order))
	for i, k := range order {
		out[i] = *byKey[k]
	}
	return out, nil
}

// clientMail tells a client's mail from sesame's own by what the Recorder
// puts in the record: a client's send has its ses:operation tag; feedback
// arriving after delivery (the feedback MX) has no operation, but names the
// sender's verified identity (sourceArn), which sesame's own mail never
// does. (Feedback about a message whose identity was deleted meanwhile is
// therefore not counted.)
func clientMail(rec counted) bool {
	return len(rec.Mail.Tags["ses:operation"]) > 0 || rec.Mail.SourceArn != ""
}

func countRecipients(rcpts []string) int64 {
	var n int64
	for _, r := range rcpts {
		if !simulated(r) {
			n++
		}
	}
	return n
}

// simulated reports whether addr is the mailbox simulator's (any label).
func simulated(addr string) bool {
	return strings.HasSuffix(strings.ToLower(strings.TrimSpace(addr)), simulatorDomain)
}
