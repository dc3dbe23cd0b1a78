package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Suppression reasons (SES's SuppressionListReason).
const (
	ReasonBounce    = "BOUNCE"
	ReasonComplaint = "COMPLAINT"
)

// DefaultSuppressedReasons is the setting of an account that never changed
// it: SES turned both on for accounts created after 2019-11-25.
func DefaultSuppressedReasons() []string { return []string{ReasonBounce, ReasonComplaint} }

// SuppressedDestination is an address on an account's suppression list in
// one region.
type SuppressedDestination struct {
	AccountID string
	Region    string
	Address   string // as last put; matched case-insensitively
	Reason    string // BOUNCE | COMPLAINT
	Updated   time.Time
	// MessageID and FeedbackID name the message and the bounce or complaint
	// that listed the address ("" for manual entries).
	MessageID  string
	FeedbackID string
}

// suppressionKey is the stored key of an address: SES compares suppressed
// addresses without regard to case.
func suppressionKey(addr string) string { return strings.ToLower(strings.TrimSpace(addr)) }

// PutSuppressedDestination adds an address or replaces its entry. A zero
// Updated is now.
func (s *Store) PutSuppressedDestination(ctx context.Context, d SuppressedDestination) error {
	if d.Updated.IsZero() {
		d.Updated = time.Now()
	}
	_, err := s.writes.ExecContext(ctx, `INSERT INTO suppressed_destinations
		(account_id, region, address_lc, address, reason, updated_at, message_id, feedback_id)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (account_id, region, address_lc) DO UPDATE SET address = excluded.address,
		reason = excluded.reason, updated_at = excluded.updated_at,
		message_id = excluded.message_id, feedback_id = excluded.feedback_id`,
		d.AccountID, d.Region, suppressionKey(d.Address), d.Address, d.Reason, toDB(d.Updated), d.MessageID, d.FeedbackID)
	if err != nil {
		return fmt.Errorf("store: suppress %s for %s in %s: %w", d.Address, d.AccountID, d.Region, err)
	}
	return nil
}

const suppressedColumns = `address, reason, updated_at, message_id, feedback_id`

func scanSuppressed(row interface{ Scan(...any) error }, d *SuppressedDestination) error {
	var updated int64
	if err := row.Scan(&d.Address, &d.Reason, &updated, &d.MessageID, &d.FeedbackID); err != nil {
		return err
	}
	d.Updated = fromDB(updated)
	return nil
}

// SuppressedDestination looks an address up (ErrNotFound if not listed).
func (s *Store) SuppressedDestination(ctx context.Context, accountID, region, addr string) (SuppressedDestination, error) {
	d := SuppressedDestination{AccountID: accountID, Region: region}
	err := scanSuppressed(s.reads.QueryRowContext(ctx, `SELECT `+suppressedColumns+` FROM suppressed_destinations
		WHERE account_id = ? AND region = ? AND address_lc = ?`, accountID, region, suppressionKey(addr)), &d)
	if errors.Is(err, sql.ErrNoRows) {
		return SuppressedDestination{}, fmt.Errorf("store: suppressed %s of %s in %s: %w", addr, accountID, region, ErrNotFound)
	}
	if err != nil {
		return SuppressedDestination{}, fmt.Errorf("store: suppressed %s of %s in %s: %w", addr, accountID, region, err)
	}
	return d, nil
}

// suppressedOneByOne: up to this many addresses are looked up one by one.
const suppressedOneByOne = 4

// SuppressedAmong returns which of addrs are on the list, keyed by the
// lower-cased address, with their reasons.
func (s *Store) SuppressedAmong(ctx context.Context, accountID, region string, addrs []string) (map[string]string, error) {
	out := map[string]string{}
	if len(addrs) == 0 {
		return out, nil
	}
	// Delivery asks this for every message, mostly about one or two
	// recipients: a prepared lookup each (the IN list's arity varies, so
	// that statement would be parsed afresh every time).
	if len(addrs) <= suppressedOneByOne {
		st, err := s.readStmt(ctx, `SELECT reason FROM suppressed_destinations
			WHERE account_id = ? AND region = ? AND address_lc = ?`)
		if err != nil {
			return nil, fmt.Errorf("store: suppressed among addresses of %s in %s: %w", accountID, region, err)
		}
		for _, a := range addrs {
			key := suppressionKey(a)
			var reason string
			switch err := st.QueryRowContext(ctx, accountID, region, key).Scan(&reason); {
			case errors.Is(err, sql.ErrNoRows):
			case err != nil:
				return nil, fmt.Errorf("store: suppressed among addresses of %s in %s: %w", accountID, region, err)
			default:
				out[key] = reason
			}
		}
		return out, nil
	}
	args := []any{accountID, region}
	for _, a := range addrs {
		args = append(args, suppressionKey(a))
	}
	marks := strings.TrimSuffix(strings.Repeat("?, ", len(addrs)), ", ")
	rows, err := s.reads.QueryContext(ctx, `SELECT address_lc, reason FROM suppressed_destinations
		WHERE account_id = ? AND region = ? AND address_lc IN (`+marks+`)`, args...)
	if err != nil {
		return nil, fmt.Errorf("store: suppressed among %d addresses of %s in %s: %w", len(addrs), accountID, region, err)
	}
	defer rows.Close()
	for rows.Next() {
		var addr, reason string
		if err := rows.Scan(&addr, &reason); err != nil {
			return nil, fmt.Errorf("store: suppressed among addresses of %s in %s: %w", accountID, region, err)
		}
		out[addr] = reason
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: suppressed among addresses of %s in %s: %w", accountID, region, err)
	}
	return out, nil
}

// SuppressionQuery filters and pages the list. Zero fields don't filter.
type SuppressionQuery struct {
	Reasons []string  // any of these
	Start   time.Time // updated at or after
	End     time.Time // updated at or before
	After   string    // page after this lower-cased address (the previous page's Last)
	Limit   int       // page size, > 0
}

// SuppressedDestinations lists one page of an account's suppression list in
// address order and, when more follow, the key to pass as After for the
// next page ("" on the last page).
func (s *Store) SuppressedDestinations(ctx context.Context, accountID, region string, q SuppressionQuery) ([]SuppressedDestination, string, error) {
	where := []string{"account_id = ?", "region = ?", "address_lc > ?"}
	args := []any{accountID, region, q.After}
	if len(q.Reasons) > 0 {
		where = append(where, "reason IN ("+strings.TrimSuffix(strings.Repeat("?, ", len(q.Reasons)), ", ")+")")
		for _, r := range q.Reasons {
			args = append(args, r)
		}
	}
	if !q.Start.IsZero() {
		where = append(where, "updated_at >= ?")
		args = append(args, toDB(q.Start))
	}
	if !q.End.IsZero() {
		where = append(where, "updated_at <= ?")
		args = append(args, toDB(q.End))
	}
	args = append(args, q.Limit+1)
	rows, err := s.reads.QueryContext(ctx, `SELECT address_lc, `+suppressedColumns+` FROM suppressed_destinations
		WHERE `+strings.Join(where, " AND ")+` ORDER BY address_lc LIMIT ?`, args...)
	if err != nil {
		return nil, "", fmt.Errorf("store: suppression list of %s in %s: %w", accountID, region, err)
	}
	defer rows.Close()
	var (
		out  []SuppressedDestination
		keys []string
	)
	for rows.Next() {
		d := SuppressedDestination{AccountID: accountID, Region: region}
		var key string
		var updated int64
		if err := rows.Scan(&key, &d.Address, &d.Reason, &updated, &d.MessageID, &d.FeedbackID); err != nil {
			return nil, "", fmt.Errorf("store: suppression list of %s in %s: %w", accountID, region, err)
		}
		d.Updated = fromDB(updated)
		out = append(out, d)
		keys = append(keys, key)
	}
	if err := rows.Err(); err != nil {
		return nil, "", fmt.Errorf("store: suppression list of %s in %s: %w", accountID, region, err)
	}
	if len(out) > q.Limit {
		return out[:q.Limit], keys[q.Limit-1], nil
	}
	return out, "", nil
}

// DeleteSuppressedDestination removes an address (ErrNotFound if not listed).
func (s *Store) DeleteSuppressedDestination(ctx context.Context, accountID, region, addr string) error {
	res, err := s.writes.ExecContext(ctx, `DELETE FROM suppressed_destinations
		WHERE account_id = ? AND region = ? AND address_lc = ?`, accountID, region, suppressionKey(addr))
	if err != nil {
		return fmt.Errorf("store: unsuppress %s of %s in %s: %w", addr, accountID, region, err)
	}
	if n, err := res.RowsAffected(); err == nil && n == 0 {
		return fmt.Errorf("store: unsuppress %s of %s in %s: %w", addr, accountID, region, ErrNotFound)
	}
	return nil
}

// SuppressedReasons is the account's suppression setting in a region: the
// reasons that put addresses on its list (SES's default when never set).
func (s *Store) SuppressedReasons(ctx context.Context, accountID, region string) ([]string, error) {
	var reasons string
	err := s.reads.QueryRowContext(ctx, `SELECT reasons FROM account_suppression
		WHERE account_id = ? AND region = ?`, accountID, region).Scan(&reasons)
	if errors.Is(err, sql.ErrNoRows) {
		return DefaultSuppressedReasons(), nil
	}
	if err != nil {
		return nil, fmt.Errorf("store: suppressed reasons of %s in %s: %w", accountID, region, err)
	}
	if reasons == "" {
		return []string{}, nil
	}
	return strings.Split(reasons, ","), nil
}

// PutSuppressedReasons sets the account's suppression setting in a region
// (an empty list: nothing is added automatically).
func (s *Store) PutSuppressedReasons(ctx context.Context, accountID, region string, reasons []string) error {
	err := s.announceTx(ctx, "put suppressed reasons", TopicSuppression, AccountKey(accountID, region), func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO account_suppression (account_id, region, reasons) VALUES (?, ?, ?)
			ON CONFLICT (account_id, region) DO UPDATE SET reasons = excluded.reasons`,
			accountID, region, strings.Join(reasons, ","))
		return err
	})
	if err != nil {
		return fmt.Errorf("store: put suppressed reasons of %s in %s: %w", accountID, region, err)
	}
	return nil
}
