package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// TakeLease takes or renews the named lease for holder until now+ttl, and
// reports whether holder has it: it does when nobody held it, when holder
// held it already, or when the last holder let it pass expires_at (it died,
// or lost the database for longer than ttl). One statement, so two nodes
// asking at once cannot both get it: SQLite has one writer, and on
// PostgreSQL the upsert locks the row (the loser of a race is retried by
// inTx and then sees the winner).
func (s *Store) TakeLease(ctx context.Context, name, holder string, now time.Time, ttl time.Duration) (bool, error) {
	var took bool
	err := s.inTx(ctx, "take lease", func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `INSERT INTO leases (name, holder, expires_at) VALUES (?, ?, ?)
			ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at
			WHERE leases.holder = excluded.holder OR leases.expires_at <= ?`,
			name, holder, toDB(now.Add(ttl)), toDB(now))
		if err != nil {
			return fmt.Errorf("store: take lease %s: %w", name, err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return fmt.Errorf("store: take lease %s: %w", name, err)
		}
		took = n == 1
		return nil
	})
	return took, err
}

// ReleaseLease gives the named lease up if holder has it, so another node
// takes it at once rather than after it expires (a clean shutdown).
func (s *Store) ReleaseLease(ctx context.Context, name, holder string) error {
	return s.inTx(ctx, "release lease", func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM leases WHERE name = ? AND holder = ?`, name, holder); err != nil {
			return fmt.Errorf("store: release lease %s: %w", name, err)
		}
		return nil
	})
}

// Lease is who holds a named lease, and until when.
type Lease struct {
	Name      string
	Holder    string
	ExpiresAt time.Time
}

// LeaseOf returns the named lease as last taken (ErrNotFound: never, or
// released); it may have expired.
func (s *Store) LeaseOf(ctx context.Context, name string) (Lease, error) {
	l := Lease{Name: name}
	var exp int64
	err := s.reads.QueryRowContext(ctx, `SELECT holder, expires_at FROM leases WHERE name = ?`, name).Scan(&l.Holder, &exp)
	if errors.Is(err, sql.ErrNoRows) {
		return Lease{}, ErrNotFound
	}
	if err != nil {
		return Lease{}, fmt.Errorf("store: lease %s: %w", name, err)
	}
	l.ExpiresAt = fromDB(exp)
	return l, nil
}
