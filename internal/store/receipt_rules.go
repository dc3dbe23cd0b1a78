package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"sesame/internal/receipt"
)

// ErrRuleSetActive is returned (wrapped) when the rule set to delete is
// the active one (SES's CannotDelete).
var ErrRuleSetActive = errors.New("store: rule set is active")

// --- IP filters --------------------------------------------------------------

// CreateReceiptFilter adds an IP filter: ErrExists if one has its name,
// ErrLimit when the account already has max filters in the region.
func (s *Store) CreateReceiptFilter(ctx context.Context, accountID, region string, f receipt.Filter, created time.Time, max int) error {
	what := fmt.Sprintf("create receipt filter %s of %s in %s", f.Name, accountID, region)
	return s.inTx(ctx, what, func(tx *sql.Tx) error {
		var taken, n int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*), COALESCE(SUM(CASE WHEN name = ? THEN 1 ELSE 0 END), 0) FROM receipt_filters
			WHERE account_id = ? AND region = ?`, f.Name, accountID, region).Scan(&n, &taken); err != nil {
			return fmt.Errorf("store: %s: %w", what, err)
		}
		if taken > 0 {
			return fmt.Errorf("store: %s: %w", what, ErrExists)
		}
		if n >= max {
			return fmt.Errorf("store: %s: %d filters: %w", what, n, ErrLimit)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO receipt_filters (account_id, region, name, policy, cidr, created_at)
			VALUES (?, ?, ?, ?, ?, ?)`, accountID, region, f.Name, f.IPFilter.Policy, f.IPFilter.Cidr, toDB(created)); err != nil {
			return fmt.Errorf("store: %s: %w", what, err)
		}
		return nil
	})
}

// DeleteReceiptFilter removes an IP filter (ErrNotFound if absent).
func (s *Store) DeleteReceiptFilter(ctx context.Context, accountID, region, name string) error {
	res, err := s.writes.ExecContext(ctx, `DELETE FROM receipt_filters WHERE account_id = ? AND region = ? AND name = ?`,
		accountID, region, name)
	if err != nil {
		return fmt.Errorf("store: delete receipt filter %s of %s in %s: %w", name, accountID, region, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("store: delete receipt filter %s of %s in %s: %w", name, accountID, region, err)
	} else if n == 0 {
		return fmt.Errorf("store: receipt filter %s of %s in %s: %w", name, accountID, region, ErrNotFound)
	}
	return nil
}

// ReceiptFilters are an account's IP filters in a region, by name. The
// inbound MX reads them for every connection: one query on the primary key.
func (s *Store) ReceiptFilters(ctx context.Context, accountID, region string) ([]receipt.Filter, error) {
	st, err := s.readStmt(ctx, `SELECT name, policy, cidr FROM receipt_filters
		WHERE account_id = ? AND region = ? ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("store: receipt filters of %s in %s: %w", accountID, region, err)
	}
	rows, err := st.QueryContext(ctx, accountID, region)
	if err != nil {
		return nil, fmt.Errorf("store: receipt filters of %s in %s: %w", accountID, region, err)
	}
	defer rows.Close()
	out := []receipt.Filter{}
	for rows.Next() {
		var f receipt.Filter
		if err := rows.Scan(&f.Name, &f.IPFilter.Policy, &f.IPFilter.Cidr); err != nil {
			return nil, fmt.Errorf("store: receipt filters of %s in %s: %w", accountID, region, err)
		}
		out = append(out, f)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: receipt filters of %s in %s: %w", accountID, region, err)
	}
	return out, nil
}

// --- Rule sets ---------------------------------------------------------------

// CreateReceiptRuleSet adds an empty rule set: ErrExists if one has its
// name, ErrLimit when the account already has max sets in the region.
func (s *Store) CreateReceiptRuleSet(ctx context.Context, accountID, region, name string, created time.Time, max int) error {
	what := fmt.Sprintf("create receipt rule set %s of %s in %s", name, accountID, region)
	return s.inTx(ctx, what, func(tx *sql.Tx) error {
		return insertRuleSet(ctx, tx, what, accountID, region, name, created, max)
	})
}

// CloneReceiptRuleSet adds a rule set holding copies of original's rules,
// inactive and created now: ErrExists if name is taken (checked first, as
// SES does), ErrNotFound if original does not exist, ErrLimit at max sets.
func (s *Store) CloneReceiptRuleSet(ctx context.Context, accountID, region, name, original string, created time.Time, max int) error {
	what := fmt.Sprintf("clone receipt rule set %s as %s of %s in %s", original, name, accountID, region)
	return s.inTx(ctx, what, func(tx *sql.Tx) error {
		if err := ruleSetExists(ctx, tx, accountID, region, name); err == nil {
			return fmt.Errorf("store: %s: %w", what, ErrExists)
		} else if !errors.Is(err, ErrNotFound) {
			return err
		}
		if err := ruleSetExists(ctx, tx, accountID, region, original); err != nil {
			return err
		}
		if err := insertRuleSet(ctx, tx, what, accountID, region, name, created, max); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO receipt_rules (account_id, region, rule_set, position, name, rule)
			SELECT account_id, region, ?, position, name, rule FROM receipt_rules
			WHERE account_id = ? AND region = ? AND rule_set = ?`, name, accountID, region, original); err != nil {
			return fmt.Errorf("store: %s: %w", what, err)
		}
		return nil
	})
}

func insertRuleSet(ctx context.Context, tx *sql.Tx, what, accountID, region, name string, created time.Time, max int) error {
	var taken, n int
	if err := tx.QueryRowContext(ctx, `SELECT COUNT(*), COALESCE(SUM(CASE WHEN name = ? THEN 1 ELSE 0 END), 0) FROM receipt_rule_sets
		WHERE account_id = ? AND region = ?`, name, accountID, region).Scan(&n, &taken); err != nil {
		return fmt.Errorf("store: %s: %w", what, err)
	}
	if taken > 0 {
		return fmt.Errorf("store: %s: %w", what, ErrExists)
	}
	if n >= max {
		return fmt.Errorf("store: %s: %d rule sets: %w", what, n, ErrLimit)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO receipt_rule_sets (account_id, region, name, created_at)
		VALUES (?, ?, ?, ?)`, accountID, region, name, toDB(created)); err != nil {
		return fmt.Errorf("store: %s: %w", what, err)
	}
	return nil
}

// ruleSetExists is nil if the set exists, else ErrNotFound (wrapped).
func ruleSetExists(ctx context.Context, q querier, accountID, region, name string) error {
	var one int
	err := q.QueryRowContext(ctx, `SELECT 1 FROM receipt_rule_sets WHERE account_id = ? AND region = ? AND name = ?`,
		accountID, region, name).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("store: receipt rule set %s of %s in %s: %w", name, accountID, region, ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("store: receipt rule set %s of %s in %s: %w", name, accountID, region, err)
	}
	return nil
}

// DeleteReceiptRuleSet removes a rule set and its rules: ErrNotFound if
// absent, ErrRuleSetActive if it is the active set.
func (s *Store) DeleteReceiptRuleSet(ctx context.Context, accountID, region, name string) error {
	what := fmt.Sprintf("delete receipt rule set %s of %s in %s", name, accountID, region)
	return s.inTx(ctx, what, func(tx *sql.Tx) error {
		var active int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM receipt_active_rule_sets
			WHERE account_id = ? AND region = ? AND rule_set = ?`, accountID, region, name).Scan(&active); err != nil {
			return fmt.Errorf("store: %s: %w", what, err)
		}
		if active > 0 {
			return fmt.Errorf("store: %s: active: %w", what, ErrRuleSetActive)
		}
		res, err := tx.ExecContext(ctx, `DELETE FROM receipt_rule_sets WHERE account_id = ? AND region = ? AND name = ?`,
			accountID, region, name)
		if err != nil {
			return fmt.Errorf("store: %s: %w", what, err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return fmt.Errorf("store: %s: %w", what, err)
		} else if n == 0 {
			return fmt.Errorf("store: %s: %w", what, ErrNotFound)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM receipt_rules WHERE account_id = ? AND region = ? AND rule_set = ?`,
			accountID, region, name); err != nil {
			return fmt.Errorf("store: %s: %w", what, err)
		}
		return nil
	})
}

// ReceiptRuleSets lists an account's rule sets in a region by name (without
// their rules), after the name after ("" = from the start), at most limit.
func (s *Store) ReceiptRuleSets(ctx context.Context, accountID, region, after string, limit int) ([]receipt.RuleSet, error) {
	rows, err := s.reads.QueryContext(ctx, `SELECT name, created_at FROM receipt_rule_sets
		WHERE account_id = ? AND region = ? AND name > ? ORDER BY name LIMIT ?`, accountID, region, after, limit)
	if err != nil {
		return nil, fmt.Errorf("store: receipt rule sets of %s in %s: %w", accountID, region, err)
	}
	defer rows.Close()
	out := []receipt.RuleSet{}
	for rows.Next() {
		var rs receipt.RuleSet
		var created int64
		if err := rows.Scan(&rs.Name, &created); err != nil {
			return nil, fmt.Errorf("store: receipt rule sets of %s in %s: %w", accountID, region, err)
		}
		rs.Created = fromDB(created)
		out = append(out, rs)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: receipt rule sets of %s in %s: %w", accountID, region, err)
	}
	return out, nil
}

// ReceiptRuleSet is one rule set with its rules in order (ErrNotFound if
// absent).
func (s *Store) ReceiptRuleSet(ctx context.Context, accountID, region, name string) (*receipt.RuleSet, error) {
	st, err := s.readStmt(ctx, `SELECT s.name, s.created_at, r.rule FROM receipt_rule_sets s
		LEFT JOIN receipt_rules r ON r.account_id = s.account_id AND r.region = s.region AND r.rule_set = s.name
		WHERE s.account_id = ? AND s.region = ? AND s.name = ? ORDER BY r.position`)
	if err != nil {
		return nil, fmt.Errorf("store: receipt rule set %s of %s in %s: %w", name, accountID, region, err)
	}
	rs, err := scanRuleSet(st.QueryContext(ctx, accountID, region, name))
	if err != nil {
		return nil, fmt.Errorf("store: receipt rule set %s of %s in %s: %w", name, accountID, region, err)
	}
	if rs == nil {
		return nil, fmt.Errorf("store: receipt rule set %s of %s in %s: %w", name, accountID, region, ErrNotFound)
	}
	return rs, nil
}

// ActiveReceiptRuleSet is the account's active rule set in a region with
// its rules in order; nil, nil when none is active. The inbound MX reads
// it for every message: one query on primary keys.
func (s *Store) ActiveReceiptRuleSet(ctx context.Context, accountID, region string) (*receipt.RuleSet, error) {
	st, err := s.readStmt(ctx, `SELECT s.name, s.created_at, r.rule FROM receipt_active_rule_sets a
		JOIN receipt_rule_sets s ON s.account_id = a.account_id AND s.region = a.region AND s.name = a.rule_set
		LEFT JOIN receipt_rules r ON r.account_id = a.account_id AND r.region = a.region AND r.rule_set = a.rule_set
		WHERE a.account_id = ? AND a.region = ? ORDER BY r.position`)
	if err != nil {
		return nil, fmt.Errorf("store: active receipt rule set of %s in %s: %w", accountID, region, err)
	}
	rs, err := scanRuleSet(st.QueryContext(ctx, accountID, region))
	if err != nil {
		return nil, fmt.Errorf("store: active receipt rule set of %s in %s: %w", accountID, region, err)
	}
	return rs, nil
}

// scanRuleSet reads rows of (set name, created, rule JSON or NULL) into a
// set; nil when there are no rows.
func scanRuleSet(rows *sql.Rows, err error) (*receipt.RuleSet, error) {
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var rs *receipt.RuleSet
	for rows.Next() {
		var name string
		var created int64
		var rule sql.NullString
		if err := rows.Scan(&name, &created, &rule); err != nil {
			return nil, err
		}
		if rs == nil {
			rs = &receipt.RuleSet{Name: name, Created: fromDB(created), Rules: []receipt.Rule{}}
		}
		if rule.Valid {
			var r receipt.Rule
			if err := json.Unmarshal([]byte(rule.String), &r); err != nil {
				return nil, fmt.Errorf("rule: %w", err)
			}
			rs.Rules = append(rs.Rules, r)
		}
	}
	return rs, rows.Err()
}

// SetActiveReceiptRuleSet makes name the active rule set of the account in
// the region (ErrNotFound if it does not exist); "" deactivates whichever
// is active.
func (s *Store) SetActiveReceiptRuleSet(ctx context.Context, accountID, region, name string) error {
	what := fmt.Sprintf("activate receipt rule set %q of %s in %s", name, accountID, region)
	return s.inTx(ctx, what, func(tx *sql.Tx) error {
		if name == "" {
			if _, err := tx.ExecContext(ctx, `DELETE FROM receipt_active_rule_sets WHERE account_id = ? AND region = ?`,
				accountID, region); err != nil {
				return fmt.Errorf("store: %s: %w", what, err)
			}
			return nil
		}
		if err := ruleSetExists(ctx, tx, accountID, region, name); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO receipt_active_rule_sets (account_id, region, rule_set) VALUES (?, ?, ?)
			ON CONFLICT (account_id, region) DO UPDATE SET rule_set = excluded.rule_set`, accountID, region, name); err != nil {
			return fmt.Errorf("store: %s: %w", what, err)
		}
		return nil
	})
}

// --- Rules -------------------------------------------------------------------

// EditReceiptRules changes a rule set's rules in one transaction: edit
// gets them in order and returns the new list (or an error, returned as
// is, and nothing changes). ErrNotFound if the set does not exist.
// Rewriting the whole list keeps positions dense; a set has at most 200.
func (s *Store) EditReceiptRules(ctx context.Context, accountID, region, set string, edit func([]receipt.Rule) ([]receipt.Rule, error)) error {
	what := fmt.Sprintf("edit rules of receipt rule set %s of %s in %s", set, accountID, region)
	return s.inTx(ctx, what, func(tx *sql.Tx) error {
		if err := ruleSetExists(ctx, tx, accountID, region, set); err != nil {
			return err
		}
		rows, err := tx.QueryContext(ctx, `SELECT rule FROM receipt_rules
			WHERE account_id = ? AND region = ? AND rule_set = ? ORDER BY position`, accountID, region, set)
		if err != nil {
			return fmt.Errorf("store: %s: %w", what, err)
		}
		rules := []receipt.Rule{}
		for rows.Next() {
			var raw string
			var r receipt.Rule
			if err := rows.Scan(&raw); err != nil {
				rows.Close()
				return fmt.Errorf("store: %s: %w", what, err)
			}
			if err := json.Unmarshal([]byte(raw), &r); err != nil {
				rows.Close()
				return fmt.Errorf("store: %s: %w", what, err)
			}
			rules = append(rules, r)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("store: %s: %w", what, err)
		}
		rules, err = edit(rules)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM receipt_rules WHERE account_id = ? AND region = ? AND rule_set = ?`,
			accountID, region, set); err != nil {
			return fmt.Errorf("store: %s: %w", what, err)
		}
		for i, r := range rules {
			raw, err := json.Marshal(r)
			if err != nil {
				return fmt.Errorf("store: %s: %w", what, err)
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO receipt_rules (account_id, region, rule_set, position, name, rule)
				VALUES (?, ?, ?, ?, ?, ?)`, accountID, region, set, i, r.Name, string(raw)); err != nil {
				return fmt.Errorf("store: %s: %w", what, err)
			}
		}
		return nil
	})
}
