package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// CustomVerificationTemplate is a custom verification email template: the
// mail SendCustomVerificationEmail sends instead of the default one, and
// where its link sends the reader afterwards.
type CustomVerificationTemplate struct {
	AccountID string
	Region    string
	Name      string
	// LinkID names the template in the links its mails carry (random,
	// given at creation, never changed).
	LinkID           string
	FromEmailAddress string
	Subject          string
	Content          string // HTML
	SuccessURL       string
	FailureURL       string
	Created          time.Time
	Updated          time.Time
}

const customVerificationColumns = `account_id, region, name, link_id, from_address, subject, content,
	success_url, failure_url, created_at, updated_at`

func scanCustomVerification(row rowScanner) (CustomVerificationTemplate, error) {
	var t CustomVerificationTemplate
	var created, updated int64
	err := row.Scan(&t.AccountID, &t.Region, &t.Name, &t.LinkID, &t.FromEmailAddress, &t.Subject, &t.Content,
		&t.SuccessURL, &t.FailureURL, &created, &updated)
	t.Created, t.Updated = fromDB(created), fromDB(updated)
	return t, err
}

// CreateCustomVerificationTemplate adds a template: ErrExists if one has its
// name, ErrLimitExceeded when the account has max of them in the region.
// It gives the template its LinkID; a zero Created is now.
func (s *Store) CreateCustomVerificationTemplate(ctx context.Context, t CustomVerificationTemplate, max int) error {
	if t.Created.IsZero() {
		t.Created = time.Now()
	}
	t.LinkID = rand.Text()
	what := fmt.Sprintf("create custom verification template %s of %s in %s", t.Name, t.AccountID, t.Region)
	return s.inTx(ctx, what, func(tx *sql.Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM custom_verification_templates
			WHERE account_id = ? AND region = ? AND name = ?`, t.AccountID, t.Region, t.Name).Scan(&n); err != nil {
			return fmt.Errorf("store: %s: %w", what, err)
		}
		if n > 0 {
			return fmt.Errorf("store: %s: %w", what, ErrExists)
		}
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM custom_verification_templates
			WHERE account_id = ? AND region = ?`, t.AccountID, t.Region).Scan(&n); err != nil {
			return fmt.Errorf("store: %s: %w", what, err)
		}
		if n >= max {
			return fmt.Errorf("store: %s: %d templates: %w", what, n, ErrLimitExceeded)
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO custom_verification_templates (`+customVerificationColumns+`)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			t.AccountID, t.Region, t.Name, t.LinkID, t.FromEmailAddress, t.Subject, t.Content,
			t.SuccessURL, t.FailureURL, toDB(t.Created), toDB(t.Created))
		if err != nil {
			return fmt.Errorf("store: %s: %w", what, err)
		}
		return nil
	})
}

// UpdateCustomVerificationTemplate changes a template in one transaction:
// fn edits the stored one (ErrNotFound if absent; an error from fn changes
// nothing). Name, LinkID and Created stay; a zero Updated is now.
func (s *Store) UpdateCustomVerificationTemplate(ctx context.Context, accountID, region, name string,
	fn func(*CustomVerificationTemplate) error) (CustomVerificationTemplate, error) {
	what := fmt.Sprintf("update custom verification template %s of %s in %s", name, accountID, region)
	var t CustomVerificationTemplate
	err := s.inTx(ctx, what, func(tx *sql.Tx) error {
		cur, err := scanCustomVerification(tx.QueryRowContext(ctx, `SELECT `+customVerificationColumns+`
			FROM custom_verification_templates WHERE account_id = ? AND region = ? AND name = ?`, accountID, region, name))
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("store: %s: %w", what, ErrNotFound)
		}
		if err != nil {
			return fmt.Errorf("store: %s: %w", what, err)
		}
		t = cur
		t.Updated = time.Time{}
		if err := fn(&t); err != nil {
			return err
		}
		t.AccountID, t.Region, t.Name, t.LinkID, t.Created = cur.AccountID, cur.Region, cur.Name, cur.LinkID, cur.Created
		if t.Updated.IsZero() {
			t.Updated = time.Now()
		}
		_, err = tx.ExecContext(ctx, `UPDATE custom_verification_templates SET from_address = ?, subject = ?,
			content = ?, success_url = ?, failure_url = ?, updated_at = ?
			WHERE account_id = ? AND region = ? AND name = ?`,
			t.FromEmailAddress, t.Subject, t.Content, t.SuccessURL, t.FailureURL, toDB(t.Updated), accountID, region, name)
		if err != nil {
			return fmt.Errorf("store: %s: %w", what, err)
		}
		return nil
	})
	return t, err
}

// CustomVerificationTemplate looks one up by name (ErrNotFound if absent).
func (s *Store) CustomVerificationTemplate(ctx context.Context, accountID, region, name string) (CustomVerificationTemplate, error) {
	t, err := scanCustomVerification(s.reads.QueryRowContext(ctx, `SELECT `+customVerificationColumns+`
		FROM custom_verification_templates WHERE account_id = ? AND region = ? AND name = ?`, accountID, region, name))
	if errors.Is(err, sql.ErrNoRows) {
		return t, fmt.Errorf("store: custom verification template %s of %s in %s: %w", name, accountID, region, ErrNotFound)
	}
	if err != nil {
		return t, fmt.Errorf("store: custom verification template %s of %s in %s: %w", name, accountID, region, err)
	}
	return t, nil
}

// CustomVerificationTemplateByLink looks one up by its LinkID (ErrNotFound
// if absent: deleted since the mail went, or never there).
func (s *Store) CustomVerificationTemplateByLink(ctx context.Context, linkID string) (CustomVerificationTemplate, error) {
	t, err := scanCustomVerification(s.reads.QueryRowContext(ctx, `SELECT `+customVerificationColumns+`
		FROM custom_verification_templates WHERE link_id = ?`, linkID))
	if errors.Is(err, sql.ErrNoRows) {
		return t, fmt.Errorf("store: custom verification template of link %q: %w", linkID, ErrNotFound)
	}
	if err != nil {
		return t, fmt.Errorf("store: custom verification template of link %q: %w", linkID, err)
	}
	return t, nil
}

// CustomVerificationTemplates lists an account's templates in a region by
// name, starting after the name after ("" = from the start), at most limit.
func (s *Store) CustomVerificationTemplates(ctx context.Context, accountID, region, after string, limit int) ([]CustomVerificationTemplate, error) {
	rows, err := s.reads.QueryContext(ctx, `SELECT `+customVerificationColumns+` FROM custom_verification_templates
		WHERE account_id = ? AND region = ? AND name > ? ORDER BY name LIMIT ?`, accountID, region, after, limit)
	if err != nil {
		return nil, fmt.Errorf("store: custom verification templates of %s in %s: %w", accountID, region, err)
	}
	defer rows.Close()
	out := []CustomVerificationTemplate{}
	for rows.Next() {
		t, err := scanCustomVerification(rows)
		if err != nil {
			return nil, fmt.Errorf("store: custom verification templates of %s in %s: %w", accountID, region, err)
		}
		out = append(out, t)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: custom verification templates of %s in %s: %w", accountID, region, err)
	}
	return out, nil
}

// DeleteCustomVerificationTemplate removes one (ErrNotFound if absent).
func (s *Store) DeleteCustomVerificationTemplate(ctx context.Context, accountID, region, name string) error {
	what := fmt.Sprintf("delete custom verification template %s of %s in %s", name, accountID, region)
	return s.inTx(ctx, what, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM custom_verification_templates
			WHERE account_id = ? AND region = ? AND name = ?`, accountID, region, name)
		if err != nil {
			return fmt.Errorf("store: %s: %w", what, err)
		}
		if err := templateAffected(res, what); err != nil {
			return err
		}
		// Its tags go with it, so a template created again under the name
		// starts without them.
		return deleteResourceTags(ctx, tx, Resource{AccountID: accountID, Region: region,
			Type: ResourceCustomVerificationTemplate, Name: name})
	})
}
