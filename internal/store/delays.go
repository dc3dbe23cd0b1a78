package store

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// DeliveryDelay records a recipient whose delivery is still being retried
// past the delay threshold (SES's DeliveryDelay event): the first and the
// latest deferral, with the latest failure.
type DeliveryDelay struct {
	AccountID  string
	Region     string
	MessageID  string
	Recipient  string
	DelayType  string // SES delayType: RecipientServerError, MailboxFull, TransientCommunicationFailure, General, …
	Status     string // RFC 3463
	Diagnostic string
	RemoteMTA  string
	Attempts   int
	First      time.Time
	Last       time.Time
	Expires    time.Time // when delivery gives up
}

// putDeliveryDelay records d, or updates the latest deferral of its
// message and recipient (First is kept from the first record).
func putDeliveryDelay(ctx context.Context, ex execer, d DeliveryDelay) error {
	_, err := ex.ExecContext(ctx, `INSERT INTO delivery_delays (account_id, region, message_id, recipient_lc,
		recipient, delay_type, status, diagnostic, remote_mta, attempts, first_at, last_at, expires_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (message_id, recipient_lc) DO UPDATE SET delay_type = excluded.delay_type,
		status = excluded.status, diagnostic = excluded.diagnostic, remote_mta = excluded.remote_mta,
		attempts = excluded.attempts, last_at = excluded.last_at, expires_at = excluded.expires_at`,
		d.AccountID, d.Region, d.MessageID, strings.ToLower(d.Recipient), d.Recipient, d.DelayType, d.Status,
		d.Diagnostic, d.RemoteMTA, d.Attempts, toDB(d.First), toDB(d.Last), toDB(d.Expires))
	if err != nil {
		return fmt.Errorf("store: delivery delay of %s for %s: %w", d.MessageID, d.Recipient, err)
	}
	return nil
}

// DeliveryDelays lists the delays recorded for an account in a region,
// latest first; messageID "" means every message. limit ≤ 0 means 1000.
func (s *Store) DeliveryDelays(ctx context.Context, accountID, region, messageID string, limit int) ([]DeliveryDelay, error) {
	if limit <= 0 {
		limit = 1000
	}
	q := `SELECT message_id, recipient, delay_type, status, diagnostic, remote_mta, attempts, first_at, last_at, expires_at
		FROM delivery_delays WHERE account_id = ? AND region = ?`
	args := []any{accountID, region}
	if messageID != "" {
		q += ` AND message_id = ?`
		args = append(args, messageID)
	}
	q += ` ORDER BY last_at DESC, message_id, recipient_lc LIMIT ?`
	args = append(args, limit)
	rows, err := s.reads.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("store: delivery delays of %s in %s: %w", accountID, region, err)
	}
	defer rows.Close()
	var out []DeliveryDelay
	for rows.Next() {
		d := DeliveryDelay{AccountID: accountID, Region: region}
		var first, last, expires int64
		if err := rows.Scan(&d.MessageID, &d.Recipient, &d.DelayType, &d.Status, &d.Diagnostic, &d.RemoteMTA,
			&d.Attempts, &first, &last, &expires); err != nil {
			return nil, fmt.Errorf("store: delivery delays of %s in %s: %w", accountID, region, err)
		}
		d.First, d.Last, d.Expires = fromDB(first), fromDB(last), fromDB(expires)
		out = append(out, d)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: delivery delays of %s in %s: %w", accountID, region, err)
	}
	return out, nil
}
