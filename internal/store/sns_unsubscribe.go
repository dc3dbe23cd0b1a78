package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// SetSNSSubscriptionAttributes replaces a subscription's attributes
// (ErrNotFound if absent).
func (s *Store) SetSNSSubscriptionAttributes(ctx context.Context, arn string, attrs map[string]string) error {
	b, err := json.Marshal(attrs)
	if err != nil {
		return fmt.Errorf("store: sns subscription %s: %w", arn, err)
	}
	return s.inTx(ctx, "set sns subscription attributes", func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE sns_subscriptions SET attributes = ? WHERE arn = ?`, string(b), arn)
		if err != nil {
			return fmt.Errorf("store: sns subscription %s: %w", arn, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("store: sns subscription %s: %w", arn, ErrNotFound)
		}
		return nil
	})
}

// UnsubscribeSNS removes a subscription and its pending deliveries like
// DeleteSNSSubscription and, when farewell is given, keeps the subscription
// under farewell.Token for RestoreSNSSubscription and queues farewell (its
// UnsubscribeConfirmation) in the same transaction. Kept subscriptions
// unsubscribed before pruneBefore are dropped on the way.
func (s *Store) UnsubscribeSNS(ctx context.Context, sub SNSSubscription, farewell *SNSDelivery, now, pruneBefore time.Time) error {
	attrs, err := json.Marshal(sub.Attributes)
	if err != nil {
		return fmt.Errorf("store: unsubscribe %s: %w", sub.ARN, err)
	}
	return s.inTx(ctx, "unsubscribe sns", func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM sns_deliveries WHERE subscription_arn = ?`, sub.ARN); err != nil {
			return fmt.Errorf("store: unsubscribe %s: %w", sub.ARN, err)
		}
		res, err := tx.ExecContext(ctx, `DELETE FROM sns_subscriptions WHERE arn = ?`, sub.ARN)
		if err != nil {
			return fmt.Errorf("store: unsubscribe %s: %w", sub.ARN, err)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM sns_unsubscribed WHERE unsubscribed_at < ?`, toDB(pruneBefore)); err != nil {
			return fmt.Errorf("store: unsubscribe %s: %w", sub.ARN, err)
		}
		// Someone else removed it meanwhile: nothing to confirm.
		if n, _ := res.RowsAffected(); n == 0 || farewell == nil {
			return nil
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO sns_unsubscribed (token, arn, account_id, region, topic_name, protocol,
			endpoint, attributes, created_at, unsubscribed_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			farewell.Token, sub.ARN, sub.AccountID, sub.Region, sub.TopicName, sub.Protocol, sub.Endpoint, string(attrs),
			toDB(sub.Created), toDB(now)); err != nil {
			return fmt.Errorf("store: unsubscribe %s: %w", sub.ARN, err)
		}
		farewell.SubscriptionARN = sub.ARN
		return enqueueSNS(ctx, tx, []*SNSDelivery{farewell})
	})
}

// RestoreSNSSubscription brings back, confirmed, the subscription an
// UnsubscribeConfirmation's token names if it was unsubscribed at or after
// notBefore and its topic still exists; when the topic has meanwhile got a
// subscription with the same protocol and endpoint, that one is confirmed
// and returned.
// ErrNotFound when there is nothing to restore.
func (s *Store) RestoreSNSSubscription(ctx context.Context, token string, notBefore time.Time) (SNSSubscription, error) {
	var sub SNSSubscription
	err := s.inTx(ctx, "restore sns subscription", func(tx *sql.Tx) error {
		var attrs string
		var created, gone int64
		err := tx.QueryRowContext(ctx, `SELECT arn, account_id, region, topic_name, protocol, endpoint, attributes,
			created_at, unsubscribed_at FROM sns_unsubscribed WHERE token = ?`, token).Scan(&sub.ARN, &sub.AccountID,
			&sub.Region, &sub.TopicName, &sub.Protocol, &sub.Endpoint, &attrs, &created, &gone)
		if errors.Is(err, sql.ErrNoRows) || err == nil && fromDB(gone).Before(notBefore) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM sns_unsubscribed WHERE token = ?`, token); err != nil {
			return err
		}
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM sns_topics WHERE account_id = ? AND region = ? AND name = ?`,
			sub.AccountID, sub.Region, sub.TopicName).Scan(&n); err != nil {
			return err
		}
		if n == 0 {
			return ErrNotFound
		}
		cur, err := scanSNSSubscription(tx.QueryRowContext(ctx, `SELECT `+snsSubscriptionCols+` FROM sns_subscriptions
			WHERE account_id = ? AND region = ? AND topic_name = ? AND protocol = ? AND endpoint = ?`,
			sub.AccountID, sub.Region, sub.TopicName, sub.Protocol, sub.Endpoint))
		if err == nil {
			// Subscribed again meanwhile: following the link confirms that one.
			sub = cur
			if !cur.Confirmed {
				sub.Confirmed = true
				_, err = tx.ExecContext(ctx, `UPDATE sns_subscriptions SET confirmed = 1 WHERE arn = ?`, cur.ARN)
			}
			return err
		}
		if !errors.Is(err, ErrNotFound) {
			return err
		}
		sub.Token, sub.Confirmed, sub.Created = token, true, fromDB(created)
		if err := json.Unmarshal([]byte(attrs), &sub.Attributes); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO sns_subscriptions (`+snsSubscriptionCols+`)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, sub.ARN, sub.AccountID, sub.Region, sub.TopicName, sub.Protocol,
			sub.Endpoint, sub.Token, 1, 0, attrs, created)
		return err
	})
	if err != nil {
		return SNSSubscription{}, fmt.Errorf("store: restore sns subscription: %w", err)
	}
	return sub, nil
}
