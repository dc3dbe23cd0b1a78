package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// OutboxEvent is one SES event record in the event outbox (migration 0012).
type OutboxEvent struct {
	Seq              int64 // set by the store
	Key              string
	AccountID        string
	Region           string
	MessageID        string
	EventType        string
	ConfigurationSet string
	Source           string
	RemoteIP         string // the receiving MTA's address, for identity notifications
	Record           []byte // JSON
	Created          time.Time
}

// AppendEvents adds events to the outbox in one transaction. An event
// whose Key is there already is left as it was: a stage replayed after a
// crash makes the same events again, and each is kept once.
func (s *Store) AppendEvents(ctx context.Context, evs []OutboxEvent) error {
	if len(evs) == 0 {
		return nil
	}
	return s.inTx(ctx, "append events", func(tx *sql.Tx) error { return appendEvents(ctx, tx, evs) })
}

func appendEvents(ctx context.Context, tx *sql.Tx, evs []OutboxEvent) error {
	stmt, err := tx.PrepareContext(ctx, `INSERT INTO event_outbox (event_key, account_id, region, message_id,
		event_type, configuration_set, source, remote_ip, record, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (event_key) DO NOTHING`)
	if err != nil {
		return fmt.Errorf("store: append events: %w", err)
	}
	defer stmt.Close()
	for _, e := range evs {
		if _, err := stmt.ExecContext(ctx, e.Key, e.AccountID, e.Region, e.MessageID, e.EventType,
			e.ConfigurationSet, e.Source, e.RemoteIP, string(e.Record), toDB(e.Created)); err != nil {
			return fmt.Errorf("store: append event %s: %w", e.Key, err)
		}
	}
	return nil
}

// Outcomes is what delivery attempts learnt, as records: written together
// with their event records in one transaction (RecordOutcomes), so an event
// is in the outbox exactly when the record it reports on is in its table.
type Outcomes struct {
	Bounces    []Bounce
	Complaints []Complaint
	Delays     []DeliveryDelay
	Sent       []SentMessage
	Events     []OutboxEvent
}

// Len is how many rows o writes.
func (o *Outcomes) Len() int {
	return len(o.Bounces) + len(o.Complaints) + len(o.Delays) + len(o.Sent) + len(o.Events)
}

// Add appends p's rows to o.
func (o *Outcomes) Add(p Outcomes) {
	o.Bounces = append(o.Bounces, p.Bounces...)
	o.Complaints = append(o.Complaints, p.Complaints...)
	o.Delays = append(o.Delays, p.Delays...)
	o.Sent = append(o.Sent, p.Sent...)
	o.Events = append(o.Events, p.Events...)
}

// RecordOutcomes writes o in one transaction. Every row is idempotent (a
// bounce or complaint of a message and recipient is kept once, a delay is
// the latest, an event once per key), so a replayed attempt writes nothing
// twice.
func (s *Store) RecordOutcomes(ctx context.Context, o Outcomes) error {
	if o.Len() == 0 {
		return nil
	}
	return s.inTx(ctx, "record outcomes", func(tx *sql.Tx) error {
		for _, b := range o.Bounces {
			if _, err := addBounce(ctx, tx, b); err != nil {
				return err
			}
		}
		for _, c := range o.Complaints {
			if _, err := addComplaint(ctx, tx, c); err != nil {
				return err
			}
		}
		for _, d := range o.Delays {
			if err := putDeliveryDelay(ctx, tx, d); err != nil {
				return err
			}
		}
		if len(o.Sent) > 0 {
			if err := addSentMessages(ctx, tx, o.Sent); err != nil {
				return err
			}
		}
		if len(o.Events) > 0 {
			return appendEvents(ctx, tx, o.Events)
		}
		return nil
	})
}

// EventsAfter returns up to limit outbox events with Seq > after, in order.
func (s *Store) EventsAfter(ctx context.Context, after int64, limit int) ([]OutboxEvent, error) {
	st, err := s.readStmt(ctx, `SELECT seq, event_key, account_id, region, message_id, event_type,
		configuration_set, source, remote_ip, record, created_at FROM event_outbox WHERE seq > ? ORDER BY seq LIMIT ?`)
	if err != nil {
		return nil, fmt.Errorf("store: events after %d: %w", after, err)
	}
	rows, err := st.QueryContext(ctx, after, limit)
	if err != nil {
		return nil, fmt.Errorf("store: events after %d: %w", after, err)
	}
	return scanEvents(rows)
}

// MessageEvents returns the outbox events of one message in the order
// they were made.
func (s *Store) MessageEvents(ctx context.Context, accountID, region, messageID string) ([]OutboxEvent, error) {
	rows, err := s.reads.QueryContext(ctx, `SELECT seq, event_key, account_id, region, message_id, event_type,
		configuration_set, source, remote_ip, record, created_at FROM event_outbox
		WHERE message_id = ? AND account_id = ? AND region = ? ORDER BY seq`, messageID, accountID, region)
	if err != nil {
		return nil, fmt.Errorf("store: events of %s: %w", messageID, err)
	}
	return scanEvents(rows)
}

func scanEvents(rows *sql.Rows) ([]OutboxEvent, error) {
	defer rows.Close()
	var out []OutboxEvent
	for rows.Next() {
		var e OutboxEvent
		var rec string
		var created int64
		if err := rows.Scan(&e.Seq, &e.Key, &e.AccountID, &e.Region, &e.MessageID, &e.EventType,
			&e.ConfigurationSet, &e.Source, &e.RemoteIP, &rec, &created); err != nil {
			return nil, fmt.Errorf("store: read events: %w", err)
		}
		e.Record, e.Created = []byte(rec), fromDB(created)
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: read events: %w", err)
	}
	return out, nil
}

// EventCursor returns how far the named outbox reader got (0: nowhere).
func (s *Store) EventCursor(ctx context.Context, name string) (int64, error) {
	var seq int64
	err := s.reads.QueryRowContext(ctx, `SELECT seq FROM event_cursors WHERE name = ?`, name).Scan(&seq)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("store: event cursor %s: %w", name, err)
	}
	return seq, nil
}

// SetEventCursor records how far the named outbox reader got.
func (s *Store) SetEventCursor(ctx context.Context, name string, seq int64) error {
	return s.inTx(ctx, "set event cursor", func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO event_cursors (name, seq) VALUES (?, ?)
			ON CONFLICT (name) DO UPDATE SET seq = excluded.seq`, name, seq)
		if err != nil {
			return fmt.Errorf("store: set event cursor %s: %w", name, err)
		}
		return nil
	})
}

// OutboxBacklog is how many outbox events lie past the named reader's
// cursor (for metrics and the benchmark).
func (s *Store) OutboxBacklog(ctx context.Context, name string) (int64, error) {
	var n int64
	err := s.reads.QueryRowContext(ctx, `SELECT COUNT(*) FROM event_outbox
		WHERE seq > COALESCE((SELECT seq FROM event_cursors WHERE name = ?), 0)`, name).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("store: outbox backlog: %w", err)
	}
	return n, nil
}

// PruneEvents deletes outbox events made before cutoff that every reader
// has passed (at most limit of them, so a large prune does not hold the
// write lock for long) and returns how many went.
func (s *Store) PruneEvents(ctx context.Context, cutoff time.Time, passed int64, limit int) (int64, error) {
	var n int64
	err := s.inTx(ctx, "prune events", func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM event_outbox WHERE seq IN (SELECT seq FROM event_outbox
			WHERE created_at < ? AND seq <= ? ORDER BY seq LIMIT ?)`, toDB(cutoff), passed, limit)
		if err != nil {
			return fmt.Errorf("store: prune events: %w", err)
		}
		n, err = res.RowsAffected()
		return err
	})
	return n, err
}
