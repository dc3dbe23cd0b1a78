package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"time"
)

// Leases of the sending limits for nodes sharing one store: each node takes
// units of an account's 24-hour quota and tokens of its send rate from the
// database in batches, and counts messages against them in memory (package
// quota decides the batch sizes; these methods only grant atomically).

// Shared reports whether other nodes may use this store at the same time
// (PostgreSQL): limits are then leased from it rather than counted in one
// process's memory, and work that must run once in a cluster runs under a
// lease (internal/lease).
func (s *Store) Shared() bool { return s.pg }

// quotaWindowMinutes is the rolling 24-hour quota's window in minutes.
const quotaWindowMinutes = 24 * 60

// TakeSendLease grants units of an account's 24-hour quota in a region: at
// least need and at most want, and no more than half of what is left when
// that is more than need, so that batches shrink near the quota and other
// nodes still get some. It grants nothing when fewer than need units are
// left. Granted units are counted in send_counts in at's minute, as if sent
// then; left is what remains of quota after the grant (or at refusal).
//
// The sum over the window and the increment are one write transaction
// (SERIALIZABLE on PostgreSQL), so the units granted over any window never
// add up to more than quota, however many nodes ask at once.
func (s *Store) TakeSendLease(ctx context.Context, accountID, region string, at time.Time, need, want, quota int64) (granted, left int64, err error) {
	if need <= 0 {
		return 0, 0, errors.New("store: take send lease: need must be positive")
	}
	minute := at.Unix() / 60
	horizon := (minute)*60 - int64(sendCountsKept/time.Second)
	prune := horizon-s.prunedBefore.Load() >= int64(pruneEvery/time.Second)
	err = s.inTx(ctx, "take send lease", func(tx *sql.Tx) error {
		granted = 0
		var sent int64
		if err := tx.QueryRowContext(ctx, `SELECT CAST(COALESCE(SUM(n), 0) AS BIGINT) FROM send_counts
			WHERE account_id = ? AND region = ? AND minute > ?`,
			accountID, region, (minute-quotaWindowMinutes)*60).Scan(&sent); err != nil {
			return fmt.Errorf("store: send lease of %s in %s: %w", accountID, region, err)
		}
		left = quota - sent
		if left < need {
			return nil
		}
		granted = max(need, min(want, left/2))
		left -= granted
		if _, err := tx.ExecContext(ctx, `INSERT INTO send_counts (account_id, region, minute, n) VALUES (?, ?, ?, ?)
			ON CONFLICT (account_id, region, minute) DO UPDATE SET n = send_counts.n + excluded.n`,
			accountID, region, minute*60, granted); err != nil {
			return fmt.Errorf("store: send lease of %s in %s: %w", accountID, region, err)
		}
		if prune {
			if _, err := tx.ExecContext(ctx, `DELETE FROM send_counts WHERE minute < ?`, horizon); err != nil {
				return fmt.Errorf("store: prune send counts: %w", err)
			}
		}
		return nil
	})
	if err != nil {
		return 0, 0, err
	}
	if prune {
		s.prunedBefore.Store(horizon)
	}
	return granted, left, nil
}

// ReturnSendLease gives back n unused units of a lease taken in minute, so
// they no longer count as sent.
func (s *Store) ReturnSendLease(ctx context.Context, accountID, region string, minute time.Time, n int64) error {
	return s.inTx(ctx, "return send lease", func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `UPDATE send_counts SET n = n - ?
			WHERE account_id = ? AND region = ? AND minute = ?`,
			n, accountID, region, minute.Truncate(time.Minute).Unix()); err != nil {
			return fmt.Errorf("store: return send lease of %s in %s: %w", accountID, region, err)
		}
		return nil
	})
}

// microTokens is the fixed-point scale of send_rate_buckets.tokens.
const microTokens = 1e6

// TakeRateTokens takes tokens from an account's send-rate bucket in a
// region: a bucket refilled at rate tokens a second and holding at most one
// second's worth (rate), as the single-node limiter's. It grants at least
// need and at most want tokens, no more than half the bucket when that is
// more than need; nothing when the bucket holds fewer than need tokens,
// except that a full bucket grants need even beyond it, going into debt
// (as the single-node limiter lets a message with more recipients than a
// second's worth through). tokens is the bucket's content after the grant
// (or at refusal), for the caller to know when asking again can succeed.
func (s *Store) TakeRateTokens(ctx context.Context, accountID, region string, at time.Time, rate float64, need, want int64) (granted int64, tokens float64, err error) {
	if need <= 0 || rate <= 0 {
		return 0, 0, errors.New("store: take rate tokens: need and rate must be positive")
	}
	now := at.UnixNano()
	err = s.inTx(ctx, "take rate tokens", func(tx *sql.Tx) error {
		granted = 0
		var micro, updated int64
		err := tx.QueryRowContext(ctx, `SELECT tokens, updated FROM send_rate_buckets WHERE account_id = ? AND region = ?`,
			accountID, region).Scan(&micro, &updated)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			tokens, updated = rate, now // a fresh bucket starts full
		case err != nil:
			return fmt.Errorf("store: rate tokens of %s in %s: %w", accountID, region, err)
		default:
			elapsed := float64(max(now-updated, 0)) / 1e9 // a clock stepping back refills nothing
			tokens = min(float64(micro)/microTokens+elapsed*rate, rate)
			updated = max(now, updated)
		}
		switch {
		case float64(need) <= tokens:
			granted = max(need, min(want, int64(math.Floor(tokens/2))))
		case tokens >= rate:
			granted = need
		}
		tokens -= float64(granted)
		if _, err := tx.ExecContext(ctx, `INSERT INTO send_rate_buckets (account_id, region, tokens, updated) VALUES (?, ?, ?, ?)
			ON CONFLICT (account_id, region) DO UPDATE SET tokens = excluded.tokens, updated = excluded.updated`,
			accountID, region, int64(math.Round(tokens*microTokens)), updated); err != nil {
			return fmt.Errorf("store: rate tokens of %s in %s: %w", accountID, region, err)
		}
		return nil
	})
	if err != nil {
		return 0, 0, err
	}
	return granted, tokens, nil
}
