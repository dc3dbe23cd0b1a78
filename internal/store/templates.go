package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// Template is an email template: its name and its parts, each nil when the
// template does not have it.
type Template struct {
	AccountID string
	Region    string
	Name      string
	Subject   *string
	Text      *string
	HTML      *string
	Created   time.Time
	Updated   time.Time
}

// TemplateMeta is a template as ListTemplates shows it.
type TemplateMeta struct {
	Name    string
	Created time.Time
}

// CreateTemplate adds a template: ErrExists if one has its name,
// ErrLimitExceeded when the account has max templates in the region.
// A zero Created is now.
func (s *Store) CreateTemplate(ctx context.Context, t Template, max int) error {
	if t.Created.IsZero() {
		t.Created = time.Now()
	}
	what := fmt.Sprintf("create template %s of %s in %s", t.Name, t.AccountID, t.Region)
	return s.inTx(ctx, what, func(tx *sql.Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM templates WHERE account_id = ? AND region = ? AND name = ?`,
			t.AccountID, t.Region, t.Name).Scan(&n); err != nil {
			return fmt.Errorf("store: %s: %w", what, err)
		}
		if n > 0 {
			return fmt.Errorf("store: %s: %w", what, ErrExists)
		}
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM templates WHERE account_id = ? AND region = ?`,
			t.AccountID, t.Region).Scan(&n); err != nil {
			return fmt.Errorf("store: %s: %w", what, err)
		}
		if n >= max {
			return fmt.Errorf("store: %s: %d templates: %w", what, n, ErrLimitExceeded)
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO templates
			(account_id, region, name, subject, text_part, html_part, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
			t.AccountID, t.Region, t.Name, nullPart(t.Subject), nullPart(t.Text), nullPart(t.HTML),
			toDB(t.Created), toDB(t.Created))
		if err != nil {
			return fmt.Errorf("store: %s: %w", what, err)
		}
		return nil
	})
}

// UpdateTemplate replaces a template's parts (ErrNotFound if absent); its
// creation time stays.
func (s *Store) UpdateTemplate(ctx context.Context, t Template) error {
	if t.Updated.IsZero() {
		t.Updated = time.Now()
	}
	res, err := s.writes.ExecContext(ctx, `UPDATE templates SET subject = ?, text_part = ?, html_part = ?, updated_at = ?
		WHERE account_id = ? AND region = ? AND name = ?`,
		nullPart(t.Subject), nullPart(t.Text), nullPart(t.HTML), toDB(t.Updated), t.AccountID, t.Region, t.Name)
	if err != nil {
		return fmt.Errorf("store: update template %s of %s in %s: %w", t.Name, t.AccountID, t.Region, err)
	}
	return templateAffected(res, fmt.Sprintf("update template %s of %s in %s", t.Name, t.AccountID, t.Region))
}

// Template looks one up (ErrNotFound if absent).
func (s *Store) Template(ctx context.Context, accountID, region, name string) (Template, error) {
	t := Template{AccountID: accountID, Region: region, Name: name}
	var subject, text, html sql.NullString
	var created, updated int64
	err := s.reads.QueryRowContext(ctx, `SELECT subject, text_part, html_part, created_at, updated_at FROM templates
		WHERE account_id = ? AND region = ? AND name = ?`, accountID, region, name).
		Scan(&subject, &text, &html, &created, &updated)
	if errors.Is(err, sql.ErrNoRows) {
		return Template{}, fmt.Errorf("store: template %s of %s in %s: %w", name, accountID, region, ErrNotFound)
	}
	if err != nil {
		return Template{}, fmt.Errorf("store: template %s of %s in %s: %w", name, accountID, region, err)
	}
	t.Subject, t.Text, t.HTML = partPtr(subject), partPtr(text), partPtr(html)
	t.Created, t.Updated = fromDB(created), fromDB(updated)
	return t, nil
}

// Templates lists an account's templates in a region by name, starting
// after the name after ("" = from the start), at most limit of them.
func (s *Store) Templates(ctx context.Context, accountID, region, after string, limit int) ([]TemplateMeta, error) {
	rows, err := s.reads.QueryContext(ctx, `SELECT name, created_at FROM templates
		WHERE account_id = ? AND region = ? AND name > ? ORDER BY name LIMIT ?`, accountID, region, after, limit)
	if err != nil {
		return nil, fmt.Errorf("store: templates of %s in %s: %w", accountID, region, err)
	}
	defer rows.Close()
	out := []TemplateMeta{}
	for rows.Next() {
		var m TemplateMeta
		var created int64
		if err := rows.Scan(&m.Name, &created); err != nil {
			return nil, fmt.Errorf("store: templates of %s in %s: %w", accountID, region, err)
		}
		m.Created = fromDB(created)
		out = append(out, m)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: templates of %s in %s: %w", accountID, region, err)
	}
	return out, nil
}

// DeleteTemplate removes one and its tags (ErrNotFound if absent).
func (s *Store) DeleteTemplate(ctx context.Context, accountID, region, name string) error {
	what := fmt.Sprintf("delete template %s of %s in %s", name, accountID, region)
	return s.inTx(ctx, what, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM templates WHERE account_id = ? AND region = ? AND name = ?`,
			accountID, region, name)
		if err != nil {
			return fmt.Errorf("store: %s: %w", what, err)
		}
		if err := templateAffected(res, what); err != nil {
			return err
		}
		return deleteResourceTags(ctx, tx, Resource{AccountID: accountID, Region: region, Type: ResourceTemplate, Name: name})
	})
}

func templateAffected(res sql.Result, what string) error {
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("store: %s: %w", what, err)
	}
	if n == 0 {
		return fmt.Errorf("store: %s: %w", what, ErrNotFound)
	}
	return nil
}

func nullPart(p *string) sql.NullString {
	if p == nil {
		return sql.NullString{}
	}
	return sql.NullString{String: *p, Valid: true}
}

func partPtr(n sql.NullString) *string {
	if !n.Valid {
		return nil
	}
	return &n.String
}
