package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
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
	// IdentityAccountID is the account whose identity covers Source when
	// it is not AccountID (sending authorization): its identity
	// notifications apply. "" = AccountID.
	IdentityAccountID string
	Record            []byte // JSON
	// Counts is what the event adds to its account's send statistics
	// (GetSendStatistics, reputation), in the bucket of Created. The
	// statistics change in the transaction that inserts the event, and only
	// then: an event appended again (its Key is there) counts once.
	Counts  SendCounts
	Created time.Time
}

// AppendEvents adds events to the outbox in one transaction. An event
// whose Key is there already is left as it was: a stage replayed after a
// crash makes the same events again, and each is kept once.
func (s *Store) AppendEvents(ctx context.Context, evs []OutboxEvent) error {
	if len(evs) == 0 {
		return nil
	}
	return s.inTx(ctx, "append events", func(tx *sql.Tx) error { return s.appendEvents(ctx, tx, evs) })
}

// outboxAppendLock is the PostgreSQL advisory lock that appends to the
// outbox take (any constant: it only has to be the same everywhere).
const outboxAppendLock = 0x5e5a3e0012

func (s *Store) appendEvents(ctx context.Context, tx *sql.Tx, evs []OutboxEvent) error {
	if s.pg {
		// Readers follow the outbox by seq (a cursor), so a seq must never
		// become visible after a higher one: on PostgreSQL seq is an
		// identity column, drawn at insert and committed whenever its
		// transaction commits, and a reader that passed 7 before 6
		// committed would never see 6. Appends hold this lock from their
		// first insert to their commit, so seqs commit in order. (SQLite has
		// one writer: they do anyway.)
		if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(?)`, int64(outboxAppendLock)); err != nil {
			return fmt.Errorf("store: append events: lock: %w", err)
		}
	}
	stmt, err := tx.PrepareContext(ctx, `INSERT INTO event_outbox (event_key, account_id, region, message_id,
		event_type, configuration_set, source, remote_ip, record, created_at, identity_account_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (event_key) DO NOTHING`)
	if err != nil {
		return fmt.Errorf("store: append events: %w", err)
	}
	defer stmt.Close()
	var tally statsTally
	for _, e := range evs {
		res, err := stmt.ExecContext(ctx, e.Key, e.AccountID, e.Region, e.MessageID, e.EventType,
			e.ConfigurationSet, e.Source, e.RemoteIP, string(e.Record), toDB(e.Created), e.IdentityAccountID)
		if err != nil {
			return fmt.Errorf("store: append event %s: %w", e.Key, err)
		}
		if e.Counts.zero() {
			continue
		}
		if n, err := res.RowsAffected(); err != nil {
			return fmt.Errorf("store: append event %s: %w", e.Key, err)
		} else if n == 1 {
			tally.add(e)
		}
	}
	if len(tally.order) == 0 {
		return nil
	}
	return addSendStats(ctx, tx, tally.stats())
}

// Outcomes is what delivery attempts learnt, as records: written together
// with their event records in one transaction (RecordOutcomes), so an event
// is in the outbox exactly when the record it reports on is in its table.
type Outcomes struct {
	// Captured is mail capture mode delivered into the store: kept in the
	// transaction of its records.
	Captured   []Captured
	Bounces    []Bounce
	Complaints []Complaint
	Delays     []DeliveryDelay
	Sent       []SentMessage
	Events     []OutboxEvent
}

// Len is how many rows o writes.
func (o *Outcomes) Len() int {
	return len(o.Captured) + len(o.Bounces) + len(o.Complaints) + len(o.Delays) + len(o.Sent) + len(o.Events)
}

// Add appends p's rows to o.
func (o *Outcomes) Add(p Outcomes) {
	o.Captured = append(o.Captured, p.Captured...)
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
		if len(o.Captured) > 0 {
			if err := addCaptured(ctx, tx, o.Captured); err != nil {
				return err
			}
		}
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
			return s.appendEvents(ctx, tx, o.Events)
		}
		return nil
	})
}

// EventsAfter returns up to limit outbox events with Seq > after, in order.
func (s *Store) EventsAfter(ctx context.Context, after int64, limit int) ([]OutboxEvent, error) {
	st, err := s.readStmt(ctx, `SELECT `+eventColumns+` FROM event_outbox WHERE seq > ? ORDER BY seq LIMIT ?`)
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
	rows, err := s.reads.QueryContext(ctx, `SELECT `+eventColumns+` FROM event_outbox
		WHERE message_id = ? AND account_id = ? AND region = ? ORDER BY seq`, messageID, accountID, region)
	if err != nil {
		return nil, fmt.Errorf("store: events of %s: %w", messageID, err)
	}
	return scanEvents(rows)
}

// eventColumns are the event_outbox columns scanEvents reads, in its order:
// every query that hands rows to scanEvents selects exactly these.
const eventColumns = `seq, event_key, account_id, region, message_id, event_type,
	configuration_set, source, remote_ip, record, created_at, identity_account_id`

func scanEvents(rows *sql.Rows) ([]OutboxEvent, error) {
	defer rows.Close()
	var out []OutboxEvent
	for rows.Next() {
		var e OutboxEvent
		var rec string
		var created int64
		if err := rows.Scan(&e.Seq, &e.Key, &e.AccountID, &e.Region, &e.MessageID, &e.EventType,
			&e.ConfigurationSet, &e.Source, &e.RemoteIP, &rec, &created, &e.IdentityAccountID); err != nil {
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

// CursorMove moves the named outbox cursor From → To, only if it is still
// at From: a reader that lost its lease while publishing cannot move it
// again after another node did (ErrCursorMoved).
type CursorMove struct {
	Name     string
	From, To int64
}

// ErrCursorMoved says an outbox cursor was not where a CursorMove expected
// it: another node moved it meanwhile.
var ErrCursorMoved = errors.New("store: the event cursor moved meanwhile")

// MoveEventCursor applies m alone (records that publish nothing).
func (s *Store) MoveEventCursor(ctx context.Context, m CursorMove) error {
	return s.inTx(ctx, "move event cursor", func(tx *sql.Tx) error { return moveCursor(ctx, tx, m) })
}

// PublishEvents commits SNS deliveries made from outbox records together
// with the cursor move past those records, in one transaction: each record
// becomes its deliveries exactly once, however many nodes publish and
// whenever one dies (ErrCursorMoved: another published them first, and
// nothing was written). Each delivery gets its Seq, in slice order.
func (s *Store) PublishEvents(ctx context.Context, m CursorMove, ds []*SNSDelivery) error {
	return s.inTx(ctx, "publish events", func(tx *sql.Tx) error {
		if err := moveCursor(ctx, tx, m); err != nil {
			return err
		}
		if len(ds) == 0 {
			return nil
		}
		return enqueueSNS(ctx, tx, ds)
	})
}

func moveCursor(ctx context.Context, tx *sql.Tx, m CursorMove) error {
	res, err := tx.ExecContext(ctx, `INSERT INTO event_cursors (name, seq) VALUES (?, ?)
		ON CONFLICT (name) DO UPDATE SET seq = excluded.seq WHERE event_cursors.seq = ?`, m.Name, m.To, m.From)
	if err != nil {
		return fmt.Errorf("store: move event cursor %s: %w", m.Name, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("store: move event cursor %s: %w", m.Name, err)
	}
	if n == 0 {
		return ErrCursorMoved
	}
	return nil
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
// has passed — Send records only once made before sendCutoff too (opens
// and clicks find their message's mail object in its Send record for
// longer) — at most limit of them, so a large prune does not hold the
// write lock for long, and returns how many went.
func (s *Store) PruneEvents(ctx context.Context, cutoff, sendCutoff time.Time, passed int64, limit int) (int64, error) {
	var n int64
	err := s.inTx(ctx, "prune events", func(tx *sql.Tx) error {
		// Oldest first, by seq (rows are appended in time order, so the
		// old ones lead): no index on created_at to keep up on every append.
		res, err := tx.ExecContext(ctx, `DELETE FROM event_outbox WHERE seq IN (SELECT seq FROM event_outbox
			WHERE seq <= ? AND created_at < ? AND (event_type <> 'Send' OR created_at < ?) ORDER BY seq LIMIT ?)`,
			passed, toDB(cutoff), toDB(sendCutoff), limit)
		if err != nil {
			return fmt.Errorf("store: prune events: %w", err)
		}
		n, err = res.RowsAffected()
		return err
	})
	return n, err
}

// PublishesAnything reports whether any event could be published now: some
// enabled event destination names an SNS topic, or some identity has a
// notification topic. When none does, the publisher passes the outbox by
// without reading it.
func (s *Store) PublishesAnything(ctx context.Context) (bool, error) {
	var any bool
	err := s.reads.QueryRowContext(ctx, `SELECT
		EXISTS (SELECT 1 FROM event_destinations WHERE enabled = 1 AND sns_topic_arn <> '')
		OR EXISTS (SELECT 1 FROM identities WHERE bounce_topic <> '' OR complaint_topic <> '' OR delivery_topic <> '')`).Scan(&any)
	if err != nil {
		return false, fmt.Errorf("store: anything to publish: %w", err)
	}
	return any, nil
}

// LastEventSeq is the newest outbox event's Seq (0: none).
func (s *Store) LastEventSeq(ctx context.Context) (int64, error) {
	var seq int64
	if err := s.reads.QueryRowContext(ctx, `SELECT COALESCE(MAX(seq), 0) FROM event_outbox`).Scan(&seq); err != nil {
		return 0, fmt.Errorf("store: last event: %w", err)
	}
	return seq, nil
}

// MessagesTo returns the ids of the account's newest messages in region
// that were sent to address (one of their envelope recipients, ignoring
// case), newest first, at most limit, looking through the account's last
// scan Send records there. SES has no such operation; the console's
// message search asks it for the ids and asks GetMessageInsights for the
// rest. The index of events by account and time (0024) bounds the scan;
// LIKE only narrows it, each candidate's mail.destination decides.
func (s *Store) MessagesTo(ctx context.Context, accountID, region, address string, scan, limit int) ([]string, error) {
	addr := strings.ToLower(strings.TrimSpace(address))
	if addr == "" || limit <= 0 {
		return nil, nil
	}
	like := "%" + strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(addr) + "%"
	rows, err := s.reads.QueryContext(ctx, `SELECT message_id, record FROM
		(SELECT seq, message_id, record, created_at FROM event_outbox
		 WHERE account_id = ? AND region = ? AND event_type = 'Send'
		 ORDER BY created_at DESC, seq DESC LIMIT ?) recent
		WHERE LOWER(record) LIKE ? ESCAPE '\'
		ORDER BY created_at DESC, seq DESC`, accountID, region, scan, like)
	if err != nil {
		return nil, fmt.Errorf("store: messages to %s: %w", address, err)
	}
	defer rows.Close()
	var ids []string
	for rows.Next() && len(ids) < limit {
		var id, rec string
		if err := rows.Scan(&id, &rec); err != nil {
			return nil, fmt.Errorf("store: messages to %s: %w", address, err)
		}
		var r struct {
			Mail struct {
				Destination []string `json:"destination"`
			} `json:"mail"`
		}
		if json.Unmarshal([]byte(rec), &r) != nil {
			continue
		}
		if slices.ContainsFunc(r.Mail.Destination, func(d string) bool { return strings.EqualFold(d, addr) }) &&
			!slices.Contains(ids, id) {
			ids = append(ids, id)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: messages to %s: %w", address, err)
	}
	return ids, nil
}
