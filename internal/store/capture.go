package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"
)

// Captured is a message kept by capture delivery.
type Captured struct {
	ID         string    `json:"id"` // SES MessageId
	AccountID  string    `json:"account_id"`
	Region     string    `json:"region"`
	MailFrom   string    `json:"mail_from"`
	Recipients []string  `json:"recipients"`
	Raw        []byte    `json:"raw"`
	Received   time.Time `json:"received"`
	Outcome    string    `json:"outcome"` // "delivered", or a simulator outcome: "bounce", "ooto", "complaint", "suppressionlist"
}

// CaptureFilter selects captured messages; empty fields match all.
type CaptureFilter struct {
	ID    string // message id
	Email string // matches the envelope sender or any recipient, ignoring case
	// AccountID and Region scope the filter to one account's mail of one
	// region (the console's mailbox); /_aws/ses leaves them empty.
	AccountID string
	Region    string
	// Limit keeps only the newest Limit messages that match (still listed
	// oldest first); 0 = all.
	Limit int
}

// where returns the filter as a WHERE clause on captured (aliased c) and its
// arguments. Addresses are compared through their stored lower-case copies,
// so both branches use an index.
func (f CaptureFilter) where() (string, []any) {
	var conds []string
	var args []any
	if f.ID != "" {
		conds = append(conds, "c.id = ?")
		args = append(args, f.ID)
	}
	if f.Email != "" {
		e := strings.ToLower(f.Email)
		conds = append(conds, `(c.mail_from_lc = ? OR c.id IN
			(SELECT r.message_id FROM capture_recipients r WHERE r.address_lc = ?))`)
		args = append(args, e, e)
	}
	if f.AccountID != "" {
		conds = append(conds, "c.account_id = ?")
		args = append(args, f.AccountID)
	}
	if f.Region != "" {
		conds = append(conds, "c.region = ?")
		args = append(args, f.Region)
	}
	if f.Limit > 0 {
		// The newest matches, by the same conditions on a second alias.
		inner := CaptureFilter{ID: f.ID, Email: f.Email, AccountID: f.AccountID, Region: f.Region}
		w, a := inner.where()
		conds = []string{`c.id IN (SELECT c.id FROM captured c` + w + ` ORDER BY c.received_at DESC, c.id DESC LIMIT ?)`}
		args = append(a, f.Limit)
	}
	if len(conds) == 0 {
		return "", nil
	}
	return " WHERE " + strings.Join(conds, " AND "), args
}

// AddCaptured records messages in one transaction; a message id already
// present is ignored, so replays after a crash never duplicate.
func (s *Store) AddCaptured(ctx context.Context, msgs []Captured) error {
	if len(msgs) == 0 {
		return nil
	}
	return s.inTx(ctx, "add captured", func(tx *sql.Tx) error { return addCaptured(ctx, tx, msgs) })
}

func addCaptured(ctx context.Context, tx *sql.Tx, msgs []Captured) error {
	now := time.Now()
	insMsg, err := tx.PrepareContext(ctx, `INSERT INTO captured
		(id, account_id, region, mail_from, mail_from_lc, raw, received_at, outcome)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING`)
	if err != nil {
		return fmt.Errorf("store: add captured: %w", err)
	}
	defer insMsg.Close()
	insRcpt, err := tx.PrepareContext(ctx, `INSERT INTO capture_recipients
		(message_id, position, address, address_lc) VALUES (?, ?, ?, ?)`)
	if err != nil {
		return fmt.Errorf("store: add captured: %w", err)
	}
	defer insRcpt.Close()
	for _, m := range msgs {
		received := m.Received
		if received.IsZero() {
			received = now
		}
		raw := m.Raw
		if raw == nil {
			raw = []byte{} // NOT NULL: an empty message is still a message
		}
		res, err := insMsg.ExecContext(ctx, m.ID, m.AccountID, m.Region, m.MailFrom, strings.ToLower(m.MailFrom),
			raw, toDB(received), m.Outcome)
		if err != nil {
			return fmt.Errorf("store: add captured %s: %w", m.ID, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			continue // a replay: the first copy and its recipients stand
		}
		for i, r := range m.Recipients {
			if _, err := insRcpt.ExecContext(ctx, m.ID, i, r, strings.ToLower(r)); err != nil {
				return fmt.Errorf("store: add captured %s recipient %s: %w", m.ID, r, err)
			}
		}
	}
	return nil
}

// Captured lists captured messages, oldest first.
func (s *Store) Captured(ctx context.Context, f CaptureFilter) ([]Captured, error) {
	where, args := f.where()
	// One read transaction, so the messages and their recipients are the
	// same snapshot even while capture delivery writes.
	tx, err := s.reads.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, fmt.Errorf("store: list captured: %w", err)
	}
	defer tx.Rollback()

	rows, err := tx.QueryContext(ctx, `SELECT c.id, c.account_id, c.region, c.mail_from, c.raw, c.received_at, c.outcome
		FROM captured c`+where+` ORDER BY c.received_at, c.id`, args...)
	if err != nil {
		return nil, fmt.Errorf("store: list captured: %w", err)
	}
	msgs := []Captured{}
	index := map[string]int{}
	for rows.Next() {
		m := Captured{Recipients: []string{}}
		var received int64
		if err := rows.Scan(&m.ID, &m.AccountID, &m.Region, &m.MailFrom, &m.Raw, &received, &m.Outcome); err != nil {
			rows.Close()
			return nil, fmt.Errorf("store: list captured: %w", err)
		}
		m.Received = fromDB(received)
		index[m.ID] = len(msgs)
		msgs = append(msgs, m)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: list captured: %w", err)
	}
	if len(msgs) == 0 {
		return msgs, nil
	}

	rows, err = tx.QueryContext(ctx, `SELECT message_id, address FROM capture_recipients
		WHERE message_id IN (SELECT c.id FROM captured c`+where+`) ORDER BY message_id, position`, args...)
	if err != nil {
		return nil, fmt.Errorf("store: list captured recipients: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id, addr string
		if err := rows.Scan(&id, &addr); err != nil {
			return nil, fmt.Errorf("store: list captured recipients: %w", err)
		}
		if i, ok := index[id]; ok {
			msgs[i].Recipients = append(msgs[i].Recipients, addr)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: list captured recipients: %w", err)
	}
	return msgs, nil
}

// DeleteCaptured removes captured messages and says how many.
func (s *Store) DeleteCaptured(ctx context.Context, f CaptureFilter) (int, error) {
	where, args := f.where()
	deleted := 0
	err := s.inTx(ctx, "delete captured", func(tx *sql.Tx) error {
		// Ids first: deleting recipients would change what an Email filter
		// matches, deleting messages first would orphan recipients.
		rows, err := tx.QueryContext(ctx, `SELECT c.id FROM captured c`+where, args...)
		if err != nil {
			return fmt.Errorf("store: delete captured: %w", err)
		}
		var ids []string
		for rows.Next() {
			var id string
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return fmt.Errorf("store: delete captured: %w", err)
			}
			ids = append(ids, id)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("store: delete captured: %w", err)
		}
		delRcpt, err := tx.PrepareContext(ctx, `DELETE FROM capture_recipients WHERE message_id = ?`)
		if err != nil {
			return fmt.Errorf("store: delete captured: %w", err)
		}
		defer delRcpt.Close()
		delMsg, err := tx.PrepareContext(ctx, `DELETE FROM captured WHERE id = ?`)
		if err != nil {
			return fmt.Errorf("store: delete captured: %w", err)
		}
		defer delMsg.Close()
		for _, id := range ids {
			if _, err := delRcpt.ExecContext(ctx, id); err != nil {
				return fmt.Errorf("store: delete captured %s: %w", id, err)
			}
			if _, err := delMsg.ExecContext(ctx, id); err != nil {
				return fmt.Errorf("store: delete captured %s: %w", id, err)
			}
		}
		deleted = len(ids)
		return nil
	})
	if err != nil {
		return 0, err
	}
	return deleted, nil
}
