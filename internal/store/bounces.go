package store

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// Bounce is the record of one recipient of one message that could not be
// delivered, classified as SES classifies bounces (bounceType and
// bounceSubType of its notifications). Delivery writes it; notifications
// and the API read it.
type Bounce struct {
	AccountID  string
	Region     string
	MessageID  string
	Recipient  string
	Type       string // Permanent | Transient | Undetermined
	SubType    string // General, NoEmail, Suppressed, OnAccountSuppressionList, MailboxFull, MessageTooLarge, ContentRejected
	Status     string // RFC 3463, e.g. "5.1.1"
	Diagnostic string // RFC 3464 Diagnostic-Code, e.g. "smtp; 550 5.1.1 no such user"
	RemoteMTA  string
	FeedbackID string
	Created    time.Time
}

// AddBounce records b unless a bounce for its message and recipient is
// already recorded; it reports whether b was new, so that what follows a
// bounce (suppression, a DSN) happens once even when delivery replays.
func (s *Store) AddBounce(ctx context.Context, b Bounce) (bool, error) {
	if b.Created.IsZero() {
		b.Created = time.Now()
	}
	res, err := s.writes.ExecContext(ctx, `INSERT INTO bounces (account_id, region, message_id, recipient_lc,
		recipient, bounce_type, sub_type, status, diagnostic, remote_mta, feedback_id, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (message_id, recipient_lc) DO NOTHING`,
		b.AccountID, b.Region, b.MessageID, strings.ToLower(b.Recipient), b.Recipient, b.Type, b.SubType,
		b.Status, b.Diagnostic, b.RemoteMTA, b.FeedbackID, toDB(b.Created))
	if err != nil {
		return false, fmt.Errorf("store: add bounce of %s for %s: %w", b.MessageID, b.Recipient, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("store: add bounce of %s for %s: %w", b.MessageID, b.Recipient, err)
	}
	return n > 0, nil
}

// Bounces lists the bounces recorded for an account in a region, oldest
// first; messageID "" means every message. limit ≤ 0 means 1000.
func (s *Store) Bounces(ctx context.Context, accountID, region, messageID string, limit int) ([]Bounce, error) {
	if limit <= 0 {
		limit = 1000
	}
	q := `SELECT message_id, recipient, bounce_type, sub_type, status, diagnostic, remote_mta, feedback_id, created_at
		FROM bounces WHERE account_id = ? AND region = ?`
	args := []any{accountID, region}
	if messageID != "" {
		q += ` AND message_id = ?`
		args = append(args, messageID)
	}
	q += ` ORDER BY created_at, message_id, recipient_lc LIMIT ?`
	args = append(args, limit)
	rows, err := s.reads.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("store: bounces of %s in %s: %w", accountID, region, err)
	}
	defer rows.Close()
	var out []Bounce
	for rows.Next() {
		b := Bounce{AccountID: accountID, Region: region}
		var created int64
		if err := rows.Scan(&b.MessageID, &b.Recipient, &b.Type, &b.SubType, &b.Status, &b.Diagnostic,
			&b.RemoteMTA, &b.FeedbackID, &created); err != nil {
			return nil, fmt.Errorf("store: bounces of %s in %s: %w", accountID, region, err)
		}
		b.Created = fromDB(created)
		out = append(out, b)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: bounces of %s in %s: %w", accountID, region, err)
	}
	return out, nil
}
