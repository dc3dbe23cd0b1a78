package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/base64"
	"errors"
	"fmt"
	"time"
)

// TrackingKey returns the key that signs open and click tracking URLs,
// making it (32 random bytes, sealed) on first use.
func (s *Store) TrackingKey(ctx context.Context) ([]byte, error) {
	var key []byte
	err := s.inTx(ctx, "tracking key", func(tx *sql.Tx) error {
		var id, sealed string
		err := tx.QueryRowContext(ctx, `SELECT id, key_sealed FROM tracking_keys ORDER BY created_at LIMIT 1`).Scan(&id, &sealed)
		if err == nil {
			plain, err := s.openSecret(id, sealed)
			if err != nil {
				return err
			}
			key, err = base64.StdEncoding.DecodeString(plain)
			return err
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("store: tracking key: %w", err)
		}
		key = make([]byte, 32)
		rand.Read(key)
		id = "tk-" + base64.RawURLEncoding.EncodeToString(key[:6])
		if _, err := tx.ExecContext(ctx, `INSERT INTO tracking_keys (id, key_sealed, created_at) VALUES (?, ?, ?)`,
			id, s.sealSecret(id, base64.StdEncoding.EncodeToString(key)), toDB(time.Now())); err != nil {
			return fmt.Errorf("store: tracking key: %w", err)
		}
		return nil
	})
	return key, err
}

// SendEvent returns the outbox's Send event of a message (ErrNotFound
// when there is none: never sent, or pruned). Open and click records
// take their mail object from it, since the message itself has left the
// spool by the time it is opened.
func (s *Store) SendEvent(ctx context.Context, messageID string) (OutboxEvent, error) {
	rows, err := s.reads.QueryContext(ctx, `SELECT `+eventColumns+` FROM event_outbox
		WHERE message_id = ? AND event_type = 'Send' ORDER BY seq LIMIT 1`, messageID)
	if err != nil {
		return OutboxEvent{}, fmt.Errorf("store: send event of %s: %w", messageID, err)
	}
	evs, err := scanEvents(rows)
	if err != nil {
		return OutboxEvent{}, err
	}
	if len(evs) == 0 {
		return OutboxEvent{}, fmt.Errorf("store: send event of %s: %w", messageID, ErrNotFound)
	}
	return evs[0], nil
}
