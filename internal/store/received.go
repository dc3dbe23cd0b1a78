package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// ReceivedMessage is what sesame keeps of a message its inbound MX
// received for an account: enough to bounce it later (SendBounce, a
// receipt rule's BounceAction) and to show what happened to it.
type ReceivedMessage struct {
	ID, AccountID, Region string
	Received              time.Time
	MailFrom              string   // envelope sender; "" = the null reverse-path
	Recipients            []string // the matched RCPT TO addresses
	// From, Subject and MessageID are the header fields as written,
	// unfolded.
	From, Subject, MessageID string
	Header                   []byte // the message's header section as received (returned in DSNs)
	// Verdicts: PASS, FAIL, GRAY, PROCESSING_FAILED, DISABLED.
	SPF, DKIM, DMARC, Spam, Virus string
	// Actions holds one line per action run, in order, e.g. "S3
	// bucket/key", "Bounce 550 5.1.1", "Lambda failed: …".
	Actions []string
}

// ReceivedMessageRetention is how long a received message is kept: SES
// lets SendBounce bounce a message up to 24 hours after it was received
// (SES API Reference, SendBounce), and nothing else needs it longer.
const ReceivedMessageRetention = 24 * time.Hour

// receivedPruneEvery is how often (in received-message time) a put also
// prunes the records past ReceivedMessageRetention.
const receivedPruneEvery = time.Minute

// PutReceivedMessage records m, replacing the record of the same account
// and id. About once a minute (of m.Received's time) it also forgets the
// messages received more than ReceivedMessageRetention before m.
func (s *Store) PutReceivedMessage(ctx context.Context, m ReceivedMessage) error {
	rcpts, err := json.Marshal(nonNil(m.Recipients))
	if err != nil {
		return fmt.Errorf("store: received message %s: %w", m.ID, err)
	}
	actions, err := json.Marshal(nonNil(m.Actions))
	if err != nil {
		return fmt.Errorf("store: received message %s: %w", m.ID, err)
	}
	header := m.Header
	if header == nil {
		header = []byte{} // NOT NULL
	}
	now := m.Received.Unix()
	prune := now-s.receivedPrunedAt.Load() >= int64(receivedPruneEvery/time.Second)
	err = s.inTx(ctx, "put received message", func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO received_messages (account_id, region, message_id,
			received_at, mail_from, recipients, header_from, subject, header_message_id, header,
			spf_verdict, dkim_verdict, dmarc_verdict, spam_verdict, virus_verdict, actions)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (account_id, message_id) DO UPDATE SET region = excluded.region,
			received_at = excluded.received_at, mail_from = excluded.mail_from, recipients = excluded.recipients,
			header_from = excluded.header_from, subject = excluded.subject,
			header_message_id = excluded.header_message_id, header = excluded.header,
			spf_verdict = excluded.spf_verdict, dkim_verdict = excluded.dkim_verdict,
			dmarc_verdict = excluded.dmarc_verdict, spam_verdict = excluded.spam_verdict,
			virus_verdict = excluded.virus_verdict, actions = excluded.actions`,
			m.AccountID, m.Region, m.ID, toDB(m.Received), m.MailFrom, string(rcpts), m.From, m.Subject,
			m.MessageID, header, m.SPF, m.DKIM, m.DMARC, m.Spam, m.Virus, string(actions)); err != nil {
			return fmt.Errorf("store: put received message %s: %w", m.ID, err)
		}
		if prune {
			// Indexed by received_at; run once a minute, it finds about a
			// minute's worth of expired records, so the transaction stays
			// short.
			if _, err := tx.ExecContext(ctx, `DELETE FROM received_messages WHERE received_at < ?`,
				toDB(m.Received.Add(-ReceivedMessageRetention))); err != nil {
				return fmt.Errorf("store: prune received messages: %w", err)
			}
		}
		return nil
	})
	if err == nil && prune {
		s.receivedPrunedAt.Store(now)
	}
	return err
}

// nonNil makes a nil list an empty one, so it is stored as [] not null.
func nonNil(l []string) []string {
	if l == nil {
		return []string{}
	}
	return l
}

const receivedColumns = `account_id, region, message_id, received_at, mail_from, recipients, header_from,
	subject, header_message_id, header, spf_verdict, dkim_verdict, dmarc_verdict, spam_verdict,
	virus_verdict, actions`

// ReceivedMessage returns the record of message id received for accountID
// in region; ErrNotFound when there is none (never received, another
// account's or region's, or pruned).
func (s *Store) ReceivedMessage(ctx context.Context, accountID, region, id string) (ReceivedMessage, error) {
	row := s.reads.QueryRowContext(ctx, `SELECT `+receivedColumns+` FROM received_messages
		WHERE account_id = ? AND message_id = ? AND region = ?`, accountID, id, region)
	m, err := scanReceived(row)
	if errors.Is(err, sql.ErrNoRows) {
		return ReceivedMessage{}, fmt.Errorf("store: received message %s: %w", id, ErrNotFound)
	}
	if err != nil {
		return ReceivedMessage{}, fmt.Errorf("store: received message %s: %w", id, err)
	}
	return m, nil
}

// RecentReceivedMessages returns up to limit messages received in region,
// newest first: accountID's, or every account's when accountID is "".
func (s *Store) RecentReceivedMessages(ctx context.Context, accountID, region string, limit int) ([]ReceivedMessage, error) {
	if limit <= 0 {
		return nil, nil
	}
	q := `SELECT ` + receivedColumns + ` FROM received_messages WHERE region = ?`
	args := []any{region}
	if accountID != "" {
		q += ` AND account_id = ?`
		args = append(args, accountID)
	}
	q += ` ORDER BY received_at DESC, message_id DESC LIMIT ?`
	args = append(args, limit)
	rows, err := s.reads.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("store: recent received messages: %w", err)
	}
	defer rows.Close()
	var out []ReceivedMessage
	for rows.Next() {
		m, err := scanReceived(rows)
		if err != nil {
			return nil, fmt.Errorf("store: recent received messages: %w", err)
		}
		out = append(out, m)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: recent received messages: %w", err)
	}
	return out, nil
}

// scanReceived reads one row of receivedColumns.
func scanReceived(row interface{ Scan(...any) error }) (ReceivedMessage, error) {
	var m ReceivedMessage
	var received int64
	var rcpts, actions string
	if err := row.Scan(&m.AccountID, &m.Region, &m.ID, &received, &m.MailFrom, &rcpts, &m.From, &m.Subject,
		&m.MessageID, &m.Header, &m.SPF, &m.DKIM, &m.DMARC, &m.Spam, &m.Virus, &actions); err != nil {
		return m, err
	}
	m.Received = fromDB(received)
	if err := json.Unmarshal([]byte(rcpts), &m.Recipients); err != nil {
		return m, fmt.Errorf("recipients of %s: %w", m.ID, err)
	}
	if err := json.Unmarshal([]byte(actions), &m.Actions); err != nil {
		return m, fmt.Errorf("actions of %s: %w", m.ID, err)
	}
	return m, nil
}
