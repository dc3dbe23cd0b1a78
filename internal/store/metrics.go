package store

import (
	"context"
	"fmt"
)

// SNSBacklog is how many SNS deliveries are queued for subscribers
// (pending or being retried), for metrics.
func (s *Store) SNSBacklog(ctx context.Context) (int64, error) {
	var n int64
	if err := s.reads.QueryRowContext(ctx, `SELECT COUNT(*) FROM sns_deliveries`).Scan(&n); err != nil {
		return 0, fmt.Errorf("store: sns backlog: %w", err)
	}
	return n, nil
}
