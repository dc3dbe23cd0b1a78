package store

import (
	"context"
	"database/sql"
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
	// Reply is the failure as an SMTP reply line: the receiver's ("550
	// 5.1.1 no such user") or sesame's own ("451 4.4.7 delivery time
	// expired"), for the DSN's human-readable part.
	Reply   string
	Created time.Time
	// DSNPending is set while what follows the bounce (the suppression
	// entry, the DSN) is not known to be done: AddBounce sets it,
	// BouncesFollowedUp clears it.
	DSNPending bool
}

// addBounce records b unless a bounce for its message and recipient is
// already recorded, and reports whether b was new. A new bounce is recorded
// with its follow-ups pending (PendingBounces); b.DSNPending is ignored.
func addBounce(ctx context.Context, ex execer, b Bounce) (bool, error) {
	if b.Created.IsZero() {
		b.Created = time.Now()
	}
	res, err := ex.ExecContext(ctx, `INSERT INTO bounces (account_id, region, message_id, recipient_lc,
		recipient, bounce_type, sub_type, status, diagnostic, remote_mta, feedback_id, reply, created_at, dsn_pending)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1) ON CONFLICT (message_id, recipient_lc) DO NOTHING`,
		b.AccountID, b.Region, b.MessageID, strings.ToLower(b.Recipient), b.Recipient, b.Type, b.SubType,
		b.Status, b.Diagnostic, b.RemoteMTA, b.FeedbackID, b.Reply, toDB(b.Created))
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
	q := `SELECT ` + bounceColumns + ` FROM bounces WHERE account_id = ? AND region = ?`
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
	out, err := scanBounces(rows)
	if err != nil {
		return nil, fmt.Errorf("store: bounces of %s in %s: %w", accountID, region, err)
	}
	return out, nil
}

// PendingBounces lists the bounces of a message whose follow-ups are not
// known to be done (DSNPending), in recipient order. Delivery reads them
// after recording an attempt's bounces: what a crashed attempt recorded
// but did not follow up is found here on the replay.
func (s *Store) PendingBounces(ctx context.Context, messageID string) ([]Bounce, error) {
	rows, err := s.reads.QueryContext(ctx, `SELECT `+bounceColumns+`
		FROM bounces WHERE message_id = ? AND dsn_pending = 1 ORDER BY recipient_lc`, messageID)
	if err != nil {
		return nil, fmt.Errorf("store: pending bounces of %s: %w", messageID, err)
	}
	defer rows.Close()
	out, err := scanBounces(rows)
	if err != nil {
		return nil, fmt.Errorf("store: pending bounces of %s: %w", messageID, err)
	}
	return out, nil
}

// BouncesFollowedUp clears DSNPending on the bounces of a message for the
// given recipients (any case).
func (s *Store) BouncesFollowedUp(ctx context.Context, messageID string, recipients []string) error {
	if len(recipients) == 0 {
		return nil
	}
	args := make([]any, 0, len(recipients)+1)
	args = append(args, messageID)
	for _, r := range recipients {
		args = append(args, strings.ToLower(r))
	}
	q := `UPDATE bounces SET dsn_pending = 0 WHERE message_id = ? AND recipient_lc IN (?` +
		strings.Repeat(", ?", len(recipients)-1) + `)`
	if _, err := s.writes.ExecContext(ctx, q, args...); err != nil {
		return fmt.Errorf("store: bounces of %s followed up: %w", messageID, err)
	}
	return nil
}

const bounceColumns = `account_id, region, message_id, recipient, bounce_type, sub_type, status, diagnostic,
	remote_mta, feedback_id, reply, created_at, dsn_pending`

func scanBounces(rows *sql.Rows) ([]Bounce, error) {
	var out []Bounce
	for rows.Next() {
		var b Bounce
		var created int64
		if err := rows.Scan(&b.AccountID, &b.Region, &b.MessageID, &b.Recipient, &b.Type, &b.SubType, &b.Status,
			&b.Diagnostic, &b.RemoteMTA, &b.FeedbackID, &b.Reply, &created, &b.DSNPending); err != nil {
			return nil, err
		}
		b.Created = fromDB(created)
		out = append(out, b)
	}
	return out, rows.Err()
}
