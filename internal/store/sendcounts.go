package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// SendCount is how many recipients an account sent to in one region in one
// minute, for the rolling 24-hour quota.
type SendCount struct {
	AccountID string
	Region    string
	Minute    time.Time // truncated to the minute, UTC
	N         int64
}

// sendCountsKept is how long counters are kept: the 24-hour window and an
// hour of slack for clocks that disagree a little.
const sendCountsKept = 25 * time.Hour

// pruneEvery is how far counter time moves between two prunes.
const pruneEvery = time.Hour

// AddSendCounts adds to the per-minute counters. Now and then (once per hour
// of counter time) it also drops counters older than 25 hours before the
// newest minute it was given, which keeps pruning independent of the wall
// clock.
func (s *Store) AddSendCounts(ctx context.Context, counts []SendCount) error {
	if len(counts) == 0 {
		return nil
	}
	var newest int64
	for _, c := range counts {
		newest = max(newest, c.Minute.Truncate(time.Minute).Unix())
	}
	horizon := newest - int64(sendCountsKept/time.Second)
	prune := horizon-s.prunedBefore.Load() >= int64(pruneEvery/time.Second)

	err := s.inTx(ctx, "add send counts", func(tx *sql.Tx) error {
		add, err := tx.PrepareContext(ctx, `INSERT INTO send_counts (account_id, region, minute, n) VALUES (?, ?, ?, ?)
			ON CONFLICT (account_id, region, minute) DO UPDATE SET n = send_counts.n + excluded.n`)
		if err != nil {
			return fmt.Errorf("store: add send counts: %w", err)
		}
		defer add.Close()
		for _, c := range counts {
			if _, err := add.ExecContext(ctx, c.AccountID, c.Region, c.Minute.Truncate(time.Minute).Unix(), c.N); err != nil {
				return fmt.Errorf("store: add send counts of %s in %s: %w", c.AccountID, c.Region, err)
			}
		}
		if prune {
			if _, err := tx.ExecContext(ctx, `DELETE FROM send_counts WHERE minute < ?`, horizon); err != nil {
				return fmt.Errorf("store: prune send counts: %w", err)
			}
		}
		return nil
	})
	if err == nil && prune {
		s.prunedBefore.Store(horizon)
	}
	return err
}

// SendCountsSince returns an account's per-minute counters in a region from
// since on (the minute that contains since included), oldest first.
func (s *Store) SendCountsSince(ctx context.Context, accountID, region string, since time.Time) ([]SendCount, error) {
	rows, err := s.reads.QueryContext(ctx, `SELECT minute, n FROM send_counts
		WHERE account_id = ? AND region = ? AND minute >= ? ORDER BY minute`,
		accountID, region, since.Truncate(time.Minute).Unix())
	if err != nil {
		return nil, fmt.Errorf("store: send counts of %s in %s: %w", accountID, region, err)
	}
	defer rows.Close()
	var counts []SendCount
	for rows.Next() {
		c := SendCount{AccountID: accountID, Region: region}
		var minute int64
		if err := rows.Scan(&minute, &c.N); err != nil {
			return nil, fmt.Errorf("store: send counts of %s in %s: %w", accountID, region, err)
		}
		c.Minute = time.Unix(minute, 0).UTC()
		counts = append(counts, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: send counts of %s in %s: %w", accountID, region, err)
	}
	return counts, nil
}
