package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
)

// SentMessage is what sesame keeps of a message it handed to receivers, for
// the feedback (asynchronous bounces, complaints) that may arrive at its
// bounce address after the message has left the spool.
type SentMessage struct {
	MessageID string
	AccountID string
	Region    string
	Source    string // envelope sender as the client gave it
	// Recipients are its envelope recipients, lower-cased by the store:
	// feedback is taken only about them.
	Recipients       []string
	FeedbackTo       string // where DSNs and complaints go; '' = Source
	ConfigurationSet string
	BounceDomain     string // the domain of the MAIL FROM address it was sent with
	// IdentityAccountID is the owner of the identity it was sent as
	// (sending authorization); "" = AccountID.
	IdentityAccountID string
	Created           time.Time
}

func addSentMessages(ctx context.Context, tx *sql.Tx, ms []SentMessage) error {
	stmt, err := tx.PrepareContext(ctx, `INSERT INTO sent_messages (message_id, account_id, region, source,
		recipients, feedback_to, configuration_set, bounce_domain, created_at, identity_account_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (message_id) DO NOTHING`)
	if err != nil {
		return fmt.Errorf("store: add sent messages: %w", err)
	}
	defer stmt.Close()
	for _, m := range ms {
		if _, err := stmt.ExecContext(ctx, m.MessageID, m.AccountID, m.Region, m.Source,
			strings.ToLower(strings.Join(m.Recipients, "\n")), m.FeedbackTo,
			m.ConfigurationSet, strings.ToLower(m.BounceDomain), toDB(m.Created), m.IdentityAccountID); err != nil {
			return fmt.Errorf("store: add sent message %s: %w", m.MessageID, err)
		}
	}
	return nil
}

// GetSentMessage finds a sent message by id; ok is false when none is kept.
func (s *Store) GetSentMessage(ctx context.Context, messageID string) (SentMessage, bool, error) {
	var m SentMessage
	var created int64
	var rcpts string
	st, err := s.readStmt(ctx, `SELECT message_id, account_id, region, source, recipients, feedback_to,
		configuration_set, bounce_domain, created_at, identity_account_id FROM sent_messages WHERE message_id = ?`)
	if err != nil {
		return SentMessage{}, false, fmt.Errorf("store: sent message %s: %w", messageID, err)
	}
	err = st.QueryRowContext(ctx, messageID).Scan(&m.MessageID, &m.AccountID, &m.Region, &m.Source, &rcpts,
		&m.FeedbackTo, &m.ConfigurationSet, &m.BounceDomain, &created, &m.IdentityAccountID)
	if errors.Is(err, sql.ErrNoRows) {
		return SentMessage{}, false, nil
	}
	if err != nil {
		return SentMessage{}, false, fmt.Errorf("store: sent message %s: %w", messageID, err)
	}
	m.Created = fromDB(created)
	if rcpts != "" {
		m.Recipients = strings.Split(rcpts, "\n")
	}
	return m, true, nil
}

// PruneSentMessages forgets the messages sent before t and returns how many.
// It deletes a bounded chunk per statement, so that other writers (the one
// write connection is shared) wait for one chunk at most, not for the
// whole hour's worth.
func (s *Store) PruneSentMessages(ctx context.Context, before time.Time) (int64, error) {
	var total int64
	for {
		res, err := s.writes.ExecContext(ctx, `DELETE FROM sent_messages WHERE message_id IN
			(SELECT message_id FROM sent_messages WHERE created_at < ? LIMIT ?)`, toDB(before), pruneChunk)
		if err != nil {
			return total, fmt.Errorf("store: prune sent messages: %w", err)
		}
		n, _ := res.RowsAffected()
		total += n
		if n < pruneChunk {
			return total, nil
		}
	}
}

// pruneChunk is how many sent-message records one prune statement deletes
// (a variable for tests).
var pruneChunk int64 = 5000

// Complaint is the record of a recipient's complaint about a message
// (SES's Complaint notification), from an ARF report a receiver sent.
type Complaint struct {
	AccountID    string
	Region       string
	MessageID    string
	Recipient    string
	FeedbackType string // abuse, auth-failure, fraud, not-spam, other, virus; '' when the report named none
	UserAgent    string
	Arrival      time.Time // zero when the report gave none
	FeedbackID   string
	Created      time.Time
}

// AddComplaint records c unless a complaint for its message and recipient
// is recorded already, and reports whether c was new.
func (s *Store) AddComplaint(ctx context.Context, c Complaint) (bool, error) {
	return addComplaint(ctx, s.writes, c)
}

func addComplaint(ctx context.Context, ex execer, c Complaint) (bool, error) {
	if c.Created.IsZero() {
		c.Created = time.Now()
	}
	var arrival int64
	if !c.Arrival.IsZero() {
		arrival = toDB(c.Arrival)
	}
	res, err := ex.ExecContext(ctx, `INSERT INTO complaints (account_id, region, message_id, recipient_lc,
		recipient, feedback_type, user_agent, arrival_at, feedback_id, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (message_id, recipient_lc) DO NOTHING`,
		c.AccountID, c.Region, c.MessageID, strings.ToLower(c.Recipient), c.Recipient, c.FeedbackType,
		c.UserAgent, arrival, c.FeedbackID, toDB(c.Created))
	if err != nil {
		return false, fmt.Errorf("store: add complaint of %s for %s: %w", c.MessageID, c.Recipient, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("store: add complaint of %s for %s: %w", c.MessageID, c.Recipient, err)
	}
	return n > 0, nil
}

// Complaints lists the complaints recorded for an account in a region,
// oldest first; messageID "" means every message. limit ≤ 0 means 1000.
func (s *Store) Complaints(ctx context.Context, accountID, region, messageID string, limit int) ([]Complaint, error) {
	if limit <= 0 {
		limit = 1000
	}
	q := `SELECT account_id, region, message_id, recipient, feedback_type, user_agent, arrival_at, feedback_id,
		created_at FROM complaints WHERE account_id = ? AND region = ?`
	args := []any{accountID, region}
	if messageID != "" {
		q += ` AND message_id = ?`
		args = append(args, messageID)
	}
	q += ` ORDER BY created_at, recipient_lc LIMIT ?`
	args = append(args, limit)
	rows, err := s.reads.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("store: complaints: %w", err)
	}
	defer rows.Close()
	var out []Complaint
	for rows.Next() {
		var c Complaint
		var arrival, created int64
		if err := rows.Scan(&c.AccountID, &c.Region, &c.MessageID, &c.Recipient, &c.FeedbackType, &c.UserAgent,
			&arrival, &c.FeedbackID, &created); err != nil {
			return nil, fmt.Errorf("store: complaints: %w", err)
		}
		if arrival != 0 {
			c.Arrival = fromDB(arrival)
		}
		c.Created = fromDB(created)
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: complaints: %w", err)
	}
	return out, nil
}
