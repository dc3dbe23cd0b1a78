package store

import (
	"context"
	"fmt"
	"slices"
	"strings"
)

// AccountsReceiving lists the accounts that may receive mail for rcpt in
// region: those with a verified identity for the address, its domain or a
// parent domain (IdentityNames), in account order, each once. With
// unverified, an identity of any status counts (development mode).
func (s *Store) AccountsReceiving(ctx context.Context, region, rcpt string, unverified bool) ([]string, error) {
	names := IdentityNames(rcpt)
	if len(names) == 0 {
		return nil, nil
	}
	args := make([]any, 0, len(names)+2)
	args = append(args, region)
	status := ""
	if !unverified {
		status = " AND status = ?"
		args = append(args, StatusSuccess)
	}
	for _, n := range names {
		args = append(args, n)
	}
	rows, err := s.reads.QueryContext(ctx, `SELECT DISTINCT account_id FROM identities
		WHERE region = ?`+status+` AND name IN (?`+strings.Repeat(", ?", len(names)-1)+`) ORDER BY account_id`, args...)
	if err != nil {
		return nil, fmt.Errorf("store: accounts receiving for %s in %s: %w", rcpt, region, err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var a string
		if err := rows.Scan(&a); err != nil {
			return nil, fmt.Errorf("store: accounts receiving for %s in %s: %w", rcpt, region, err)
		}
		if !slices.Contains(out, a) {
			out = append(out, a)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: accounts receiving for %s in %s: %w", rcpt, region, err)
	}
	return out, nil
}
