package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
)

// SES's production-access review statuses (GetAccount's
// Details.ReviewDetails.Status).
const (
	ReviewPending = "PENDING"
	ReviewGranted = "GRANTED"
	ReviewDenied  = "DENIED"
	ReviewFailed  = "FAILED"
)

// ErrReviewPending is returned (wrapped) by PutAccountDetails while a
// production-access review of the account in the region is pending: SES
// refuses new details until the review is decided.
var ErrReviewPending = errors.New("store: a production access review is pending")

// AccountDetails is what an account told about its sending in a region
// (v2 PutAccountDetails), and the production-access review it asked for.
type AccountDetails struct {
	AccountID          string   `json:"account_id"`
	Region             string   `json:"region"`
	MailType           string   `json:"mail_type"` // MARKETING | TRANSACTIONAL
	WebsiteURL         string   `json:"website_url"`
	ContactLanguage    string   `json:"contact_language,omitempty"` // EN | JA | ""
	UseCaseDescription string   `json:"use_case_description,omitempty"`
	AdditionalContacts []string `json:"additional_contact_email_addresses,omitempty"`
	// ReviewStatus is "" when no production access was ever asked for.
	ReviewStatus string    `json:"review_status,omitempty"`
	CaseID       string    `json:"case_id,omitempty"`
	Updated      time.Time `json:"updated"`
	Requested    time.Time `json:"requested,omitzero"` // when the review was asked for
	Reviewed     time.Time `json:"reviewed,omitzero"`  // when it was decided
}

const accountDetailColumns = `account_id, region, mail_type, website_url, contact_language, use_case,
	additional_contacts, review_status, case_id, updated_at, requested_at, reviewed_at`

func scanAccountDetails(row rowScanner) (AccountDetails, error) {
	var d AccountDetails
	var contacts string
	var updated, requested, reviewed int64
	err := row.Scan(&d.AccountID, &d.Region, &d.MailType, &d.WebsiteURL, &d.ContactLanguage, &d.UseCaseDescription,
		&contacts, &d.ReviewStatus, &d.CaseID, &updated, &requested, &reviewed)
	if err != nil {
		return d, err
	}
	if contacts != "" {
		d.AdditionalContacts = strings.Split(contacts, "\n")
	}
	d.Updated, d.Requested, d.Reviewed = fromDB(updated), optTime(requested), optTime(reviewed)
	return d, nil
}

// AccountDetails returns the account's details in a region (ErrNotFound
// when none were put).
func (s *Store) AccountDetails(ctx context.Context, accountID, region string) (AccountDetails, error) {
	d, err := scanAccountDetails(s.reads.QueryRowContext(ctx, `SELECT `+accountDetailColumns+`
		FROM account_details WHERE account_id = ? AND region = ?`, accountID, region))
	if errors.Is(err, sql.ErrNoRows) {
		return AccountDetails{}, fmt.Errorf("store: details of %s in %s: %w", accountID, region, ErrNotFound)
	}
	if err != nil {
		return AccountDetails{}, fmt.Errorf("store: details of %s in %s: %w", accountID, region, err)
	}
	return d, nil
}

// PutAccountDetails records d's details (ErrReviewPending while a review is
// pending). With requestReview a production-access review starts: PENDING
// under a new case id; otherwise the last review's outcome is kept.
func (s *Store) PutAccountDetails(ctx context.Context, d AccountDetails, requestReview bool) (AccountDetails, error) {
	now := time.Now().UTC()
	err := s.inTx(ctx, "put account details", func(tx *sql.Tx) error {
		cur, err := scanAccountDetails(tx.QueryRowContext(ctx, `SELECT `+accountDetailColumns+`
			FROM account_details WHERE account_id = ? AND region = ?`, d.AccountID, d.Region))
		switch {
		case errors.Is(err, sql.ErrNoRows):
		case err != nil:
			return fmt.Errorf("store: details of %s in %s: %w", d.AccountID, d.Region, err)
		case cur.ReviewStatus == ReviewPending:
			return fmt.Errorf("store: details of %s in %s: %w", d.AccountID, d.Region, ErrReviewPending)
		}
		d.ReviewStatus, d.CaseID, d.Requested, d.Reviewed = cur.ReviewStatus, cur.CaseID, cur.Requested, cur.Reviewed
		if requestReview {
			d.ReviewStatus, d.CaseID, d.Requested, d.Reviewed = ReviewPending, newCaseID(), now, time.Time{}
		}
		d.Updated = now
		_, err = tx.ExecContext(ctx, `INSERT INTO account_details (`+accountDetailColumns+`)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (account_id, region) DO UPDATE SET mail_type = excluded.mail_type,
			website_url = excluded.website_url, contact_language = excluded.contact_language,
			use_case = excluded.use_case, additional_contacts = excluded.additional_contacts,
			review_status = excluded.review_status, case_id = excluded.case_id, updated_at = excluded.updated_at,
			requested_at = excluded.requested_at, reviewed_at = excluded.reviewed_at`,
			d.AccountID, d.Region, d.MailType, d.WebsiteURL, d.ContactLanguage, d.UseCaseDescription,
			strings.Join(d.AdditionalContacts, "\n"), d.ReviewStatus, d.CaseID, toDB(now),
			optDB(d.Requested), optDB(d.Reviewed))
		if err != nil {
			return fmt.Errorf("store: put details of %s in %s: %w", d.AccountID, d.Region, err)
		}
		return nil
	})
	if err != nil {
		return AccountDetails{}, err
	}
	d.Updated = fromDB(toDB(now))
	return d, nil
}

// PendingReviews lists the pending production-access reviews, oldest
// request first; accountID or region "" means any.
func (s *Store) PendingReviews(ctx context.Context, accountID, region string) ([]AccountDetails, error) {
	rows, err := s.reads.QueryContext(ctx, `SELECT `+accountDetailColumns+` FROM account_details
		WHERE review_status = ? AND (? = '' OR account_id = ?) AND (? = '' OR region = ?)
		ORDER BY requested_at, account_id, region`, ReviewPending, accountID, accountID, region, region)
	if err != nil {
		return nil, fmt.Errorf("store: pending reviews: %w", err)
	}
	defer rows.Close()
	out := []AccountDetails{}
	for rows.Next() {
		d, err := scanAccountDetails(rows)
		if err != nil {
			return nil, fmt.Errorf("store: pending reviews: %w", err)
		}
		out = append(out, d)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: pending reviews: %w", err)
	}
	return out, nil
}

// DecideReview ends the pending review of the account in the region
// (ErrNotFound when none is pending): granted, the account leaves the
// sandbox there in the same transaction (its other settings kept, or
// DefaultSettings' when it had none); denied, it stays where it was.
func (s *Store) DecideReview(ctx context.Context, accountID, region string, grant bool) (AccountDetails, error) {
	now := time.Now().UTC()
	var d AccountDetails
	err := s.inTx(ctx, "decide review", func(tx *sql.Tx) error {
		var err error
		d, err = scanAccountDetails(tx.QueryRowContext(ctx, `SELECT `+accountDetailColumns+`
			FROM account_details WHERE account_id = ? AND region = ?`, accountID, region))
		if errors.Is(err, sql.ErrNoRows) || (err == nil && d.ReviewStatus != ReviewPending) {
			return fmt.Errorf("store: pending review of %s in %s: %w", accountID, region, ErrNotFound)
		}
		if err != nil {
			return fmt.Errorf("store: pending review of %s in %s: %w", accountID, region, err)
		}
		d.ReviewStatus, d.Reviewed = ReviewDenied, fromDB(toDB(now))
		if grant {
			d.ReviewStatus = ReviewGranted
			def := DefaultSettings(accountID, region)
			if _, err := tx.ExecContext(ctx, `INSERT INTO account_settings
				(account_id, region, production, sending_enabled, max_send_rate, max_24hour_send, enforcement_status)
				VALUES (?, ?, 1, ?, ?, ?, ?) ON CONFLICT (account_id, region) DO UPDATE SET production = 1`,
				accountID, region, boolDB(def.SendingEnabled), def.MaxSendRate, def.Max24HourSend,
				def.EnforcementStatus); err != nil {
				return fmt.Errorf("store: grant production to %s in %s: %w", accountID, region, err)
			}
			if err := s.announce(ctx, tx, TopicAccount, AccountKey(accountID, region)); err != nil {
				return err
			}
		}
		if _, err := tx.ExecContext(ctx, `UPDATE account_details SET review_status = ?, reviewed_at = ?
			WHERE account_id = ? AND region = ?`, d.ReviewStatus, toDB(now), accountID, region); err != nil {
			return fmt.Errorf("store: decide review of %s in %s: %w", accountID, region, err)
		}
		return nil
	})
	if err != nil {
		return AccountDetails{}, err
	}
	return d, nil
}

// RecipientBounces counts the bounces recorded for an address in the
// account's region, by bounce type (Permanent, Transient, Undetermined).
func (s *Store) RecipientBounces(ctx context.Context, accountID, region, addr string) (map[string]int, error) {
	rows, err := s.reads.QueryContext(ctx, `SELECT bounce_type, COUNT(*) FROM bounces
		WHERE account_id = ? AND region = ? AND recipient_lc = ? GROUP BY bounce_type`,
		accountID, region, strings.ToLower(addr))
	if err != nil {
		return nil, fmt.Errorf("store: bounces to %s: %w", addr, err)
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var typ string
		var n int
		if err := rows.Scan(&typ, &n); err != nil {
			return nil, fmt.Errorf("store: bounces to %s: %w", addr, err)
		}
		out[typ] = n
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: bounces to %s: %w", addr, err)
	}
	return out, nil
}

// newCaseID returns a support case id as SES shows them: decimal digits.
func newCaseID() string { return randomFrom("0123456789", 16) }
