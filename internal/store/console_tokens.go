package store

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"time"
)

// A console token signs the operator in to the web console; the store keeps
// only its SHA-256, so a copy of the database signs no one in.
func consoleTokenHash(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// AddConsoleToken records token as valid until expires; tokens that have
// expired are dropped on the way.
func (s *Store) AddConsoleToken(ctx context.Context, token string, now, expires time.Time) error {
	return s.inTx(ctx, "add console token", func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM console_tokens WHERE expires_at <= ?`, now.UnixNano()); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO console_tokens (token_sha256, created_at, expires_at) VALUES (?, ?, ?)`,
			consoleTokenHash(token), now.UnixNano(), expires.UnixNano())
		return err
	})
}

// ConsoleTokenValid says whether token was made by AddConsoleToken and has
// not expired at now.
func (s *Store) ConsoleTokenValid(ctx context.Context, token string, now time.Time) (bool, error) {
	var expires int64
	err := s.reads.QueryRowContext(ctx, `SELECT expires_at FROM console_tokens WHERE token_sha256 = ?`,
		consoleTokenHash(token)).Scan(&expires)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("store: console token: %w", err)
	}
	return now.UnixNano() < expires, nil
}
