package store

import (
	"context"
	"fmt"
)

// EasyDKIMIdentities lists, over every account, the identities with Easy
// DKIM keys (origin AWS_SES) in region ("" = every region), by region,
// account and name: the public keys the operator publishes under the DKIM
// CNAME domain (`sesame admin dkim zone`, the [dns] listener).
func (s *Store) EasyDKIMIdentities(ctx context.Context, region string) ([]IdentityDetails, error) {
	rows, err := s.reads.QueryContext(ctx, `SELECT `+detailColumns+` FROM identities
		WHERE dkim_origin = ? AND dkim_tokens != '' AND (? = '' OR region = ?)
		ORDER BY region, account_id, name`, DKIMOriginAWS, region, region)
	if err != nil {
		return nil, fmt.Errorf("store: Easy DKIM identities: %w", err)
	}
	defer rows.Close()
	var out []IdentityDetails
	for rows.Next() {
		d, err := s.scanDetails(rows)
		if err != nil {
			return nil, fmt.Errorf("store: Easy DKIM identities: %w", err)
		}
		out = append(out, d)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: Easy DKIM identities: %w", err)
	}
	return out, nil
}
