package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// IdentityNotifications is an identity's own notification settings (SES
// v1's SetIdentityNotificationTopic and friends) and its default
// configuration set. Topics are SNS topic ARNs, "" = none.
type IdentityNotifications struct {
	BounceTopic    string
	ComplaintTopic string
	DeliveryTopic  string
	// HeadersIn*: notifications of that type carry the message's headers.
	HeadersInBounce    bool
	HeadersInComplaint bool
	HeadersInDelivery  bool
	// ForwardingEnabled is SES's feedback forwarding (bounces and
	// complaints mailed to the sender); the same column as
	// IdentityDetails.FeedbackForwarding.
	ForwardingEnabled bool
	// ConfigurationSet is the identity's default configuration set.
	ConfigurationSet string
}

const notificationColumns = `bounce_topic, complaint_topic, delivery_topic, headers_in_bounce, headers_in_complaint,
	headers_in_delivery, feedback_forwarding, configuration_set`

func scanNotifications(row rowScanner) (IdentityNotifications, error) {
	var n IdentityNotifications
	var hb, hc, hd, fwd int
	err := row.Scan(&n.BounceTopic, &n.ComplaintTopic, &n.DeliveryTopic, &hb, &hc, &hd, &fwd, &n.ConfigurationSet)
	n.HeadersInBounce, n.HeadersInComplaint, n.HeadersInDelivery, n.ForwardingEnabled = hb != 0, hc != 0, hd != 0, fwd != 0
	return n, err
}

// IdentityNotifications reads one identity's settings (ErrNotFound). It is
// what event publishing reads for an identity's notifications; callers
// cache it.
func (s *Store) IdentityNotifications(ctx context.Context, accountID, region, name string) (IdentityNotifications, error) {
	key := IdentityKey(name)
	n, err := scanNotifications(s.reads.QueryRowContext(ctx, `SELECT `+notificationColumns+` FROM identities
		WHERE account_id = ? AND region = ? AND name = ?`, accountID, region, key))
	if errors.Is(err, sql.ErrNoRows) {
		return n, fmt.Errorf("store: notifications of identity %s of %s in %s: %w", key, accountID, region, ErrNotFound)
	}
	if err != nil {
		return n, fmt.Errorf("store: notifications of identity %s of %s in %s: %w", key, accountID, region, err)
	}
	return n, nil
}

// UpdateIdentityNotifications reads an identity's settings, lets fn change
// them and writes them back in one transaction, so a rule across them
// (feedback forwarding needs both topics) holds. ErrNotFound if absent;
// fn's error aborts.
func (s *Store) UpdateIdentityNotifications(ctx context.Context, accountID, region, name string, fn func(*IdentityNotifications) error) (IdentityNotifications, error) {
	key := IdentityKey(name)
	what := fmt.Sprintf("update notifications of identity %s of %s in %s", key, accountID, region)
	var out IdentityNotifications
	err := s.inTx(ctx, what, func(tx *sql.Tx) error {
		n, err := scanNotifications(tx.QueryRowContext(ctx, `SELECT `+notificationColumns+` FROM identities
			WHERE account_id = ? AND region = ? AND name = ?`, accountID, region, key))
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("store: %s: %w", what, ErrNotFound)
		}
		if err != nil {
			return fmt.Errorf("store: %s: %w", what, err)
		}
		if err := fn(&n); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE identities SET bounce_topic = ?, complaint_topic = ?, delivery_topic = ?,
			headers_in_bounce = ?, headers_in_complaint = ?, headers_in_delivery = ?, feedback_forwarding = ?,
			configuration_set = ? WHERE account_id = ? AND region = ? AND name = ?`,
			n.BounceTopic, n.ComplaintTopic, n.DeliveryTopic, boolDB(n.HeadersInBounce), boolDB(n.HeadersInComplaint),
			boolDB(n.HeadersInDelivery), boolDB(n.ForwardingEnabled), n.ConfigurationSet, accountID, region, key); err != nil {
			return fmt.Errorf("store: %s: %w", what, err)
		}
		out = n
		return s.announce(ctx, tx, TopicIdentity, IdentityChangeKey(accountID, region, key))
	})
	return out, err
}
