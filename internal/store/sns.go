package store

import (
	"context"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// SNSTopic is an SNS-compatible topic, per account and region.
type SNSTopic struct {
	AccountID  string
	Region     string
	Name       string
	Attributes map[string]string // the settable ones: DisplayName, Policy, SignatureVersion, …
	Tags       []Tag
	Created    time.Time
}

// SNSSubscription is one endpoint subscribed to a topic.
type SNSSubscription struct {
	ARN           string
	AccountID     string
	Region        string
	TopicName     string
	Protocol      string
	Endpoint      string
	Token         string
	Confirmed     bool
	Authenticated bool
	Attributes    map[string]string
	Created       time.Time
}

// SNSDelivery is one message waiting to be handed to one subscriber: the
// row carries everything the POST needs, so delivery reads nothing else.
type SNSDelivery struct {
	Seq              int64 // assigned by EnqueueSNSDeliveries
	SubscriptionARN  string
	Endpoint         string
	Protocol         string // http, https, email, email-json, sqs ('' = from Endpoint's scheme)
	Raw              bool
	Kind             string // Notification | SubscriptionConfirmation | UnsubscribeConfirmation
	MessageID        string
	TopicARN         string
	Subject          string
	Message          string
	Token            string
	SignatureVersion string
	Published        time.Time
}

const snsDeliveryCols = `seq, subscription_arn, endpoint, raw, kind, message_id, topic_arn, subject, message, token, signature_version, published_at, protocol`

// PutSNSTopicIfAbsent creates the topic unless one of that name exists in
// the account and region; it returns the topic as stored and whether it
// already existed (CreateTopic is idempotent by name).
func (s *Store) PutSNSTopicIfAbsent(ctx context.Context, t SNSTopic) (SNSTopic, bool, error) {
	if t.Created.IsZero() {
		t.Created = time.Now()
	}
	attrs, tags, err := encodeSNSTopic(t)
	if err != nil {
		return SNSTopic{}, false, err
	}
	var existed bool
	err = s.inTx(ctx, "put sns topic", func(tx *sql.Tx) error {
		cur, err := scanSNSTopic(tx.QueryRowContext(ctx, `SELECT account_id, region, name, attributes, tags, created_at
			FROM sns_topics WHERE account_id = ? AND region = ? AND name = ?`, t.AccountID, t.Region, t.Name))
		if err == nil {
			t, existed = cur, true
			return nil
		}
		if !errors.Is(err, ErrNotFound) {
			return fmt.Errorf("store: put sns topic %s: %w", t.Name, err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO sns_topics (account_id, region, name, attributes, tags, created_at)
			VALUES (?, ?, ?, ?, ?, ?)`, t.AccountID, t.Region, t.Name, attrs, tags, toDB(t.Created)); err != nil {
			return fmt.Errorf("store: put sns topic %s: %w", t.Name, err)
		}
		return nil
	})
	return t, existed, err
}

// SNSTopic looks a topic up (ErrNotFound if absent).
func (s *Store) SNSTopic(ctx context.Context, accountID, region, name string) (SNSTopic, error) {
	t, err := scanSNSTopic(s.reads.QueryRowContext(ctx, `SELECT account_id, region, name, attributes, tags, created_at
		FROM sns_topics WHERE account_id = ? AND region = ? AND name = ?`, accountID, region, name))
	if err != nil {
		return SNSTopic{}, fmt.Errorf("store: sns topic %s of %s in %s: %w", name, accountID, region, err)
	}
	return t, nil
}

// SNSTopics lists topics by name after the name given, at most limit.
func (s *Store) SNSTopics(ctx context.Context, accountID, region, after string, limit int) ([]SNSTopic, error) {
	rows, err := s.reads.QueryContext(ctx, `SELECT account_id, region, name, attributes, tags, created_at
		FROM sns_topics WHERE account_id = ? AND region = ? AND name > ? ORDER BY name LIMIT ?`, accountID, region, after, limit)
	if err != nil {
		return nil, fmt.Errorf("store: sns topics of %s in %s: %w", accountID, region, err)
	}
	defer rows.Close()
	var out []SNSTopic
	for rows.Next() {
		t, err := scanSNSTopic(rows)
		if err != nil {
			return nil, fmt.Errorf("store: sns topics of %s in %s: %w", accountID, region, err)
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

// SetSNSTopicAttributes replaces a topic's attributes (ErrNotFound if absent).
func (s *Store) SetSNSTopicAttributes(ctx context.Context, accountID, region, name string, attrs map[string]string) error {
	b, err := json.Marshal(attrs)
	if err != nil {
		return fmt.Errorf("store: sns topic %s: %w", name, err)
	}
	return s.inTx(ctx, "set sns topic attributes", func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE sns_topics SET attributes = ? WHERE account_id = ? AND region = ? AND name = ?`,
			string(b), accountID, region, name)
		if err != nil {
			return fmt.Errorf("store: sns topic %s: %w", name, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("store: sns topic %s: %w", name, ErrNotFound)
		}
		return nil
	})
}

// DeleteSNSTopic removes a topic with its subscriptions and their pending
// deliveries. Deleting a topic that does not exist is not an error (SNS).
func (s *Store) DeleteSNSTopic(ctx context.Context, accountID, region, name string) error {
	return s.inTx(ctx, "delete sns topic", func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM sns_deliveries WHERE subscription_arn IN
			(SELECT arn FROM sns_subscriptions WHERE account_id = ? AND region = ? AND topic_name = ?)`, accountID, region, name); err != nil {
			return fmt.Errorf("store: delete sns topic %s: %w", name, err)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM sns_subscriptions WHERE account_id = ? AND region = ? AND topic_name = ?`,
			accountID, region, name); err != nil {
			return fmt.Errorf("store: delete sns topic %s: %w", name, err)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM sns_topics WHERE account_id = ? AND region = ? AND name = ?`,
			accountID, region, name); err != nil {
			return fmt.Errorf("store: delete sns topic %s: %w", name, err)
		}
		return nil
	})
}

const snsSubscriptionCols = `arn, account_id, region, topic_name, protocol, endpoint, token, confirmed, authenticated, attributes, created_at`

// SubscribeSNS adds a subscription and queues its confirmation message in
// one transaction. When the topic already has a subscription with the same
// protocol and endpoint, that one is returned instead (existed true) and,
// while it is still pending, its confirmation is queued again with its own
// token (SNS resends it). confirm's SubscriptionARN and Token are filled in.
func (s *Store) SubscribeSNS(ctx context.Context, sub SNSSubscription, confirm *SNSDelivery) (SNSSubscription, bool, error) {
	if sub.Created.IsZero() {
		sub.Created = time.Now()
	}
	attrs, err := json.Marshal(sub.Attributes)
	if err != nil {
		return SNSSubscription{}, false, fmt.Errorf("store: subscribe %s: %w", sub.Endpoint, err)
	}
	var existed bool
	err = s.inTx(ctx, "subscribe sns", func(tx *sql.Tx) error {
		cur, err := scanSNSSubscription(tx.QueryRowContext(ctx, `SELECT `+snsSubscriptionCols+` FROM sns_subscriptions
			WHERE account_id = ? AND region = ? AND topic_name = ? AND protocol = ? AND endpoint = ?`,
			sub.AccountID, sub.Region, sub.TopicName, sub.Protocol, sub.Endpoint))
		switch {
		case err == nil:
			sub, existed = cur, true
		case errors.Is(err, ErrNotFound):
			if _, err := tx.ExecContext(ctx, `INSERT INTO sns_subscriptions (`+snsSubscriptionCols+`)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, sub.ARN, sub.AccountID, sub.Region, sub.TopicName, sub.Protocol,
				sub.Endpoint, sub.Token, boolDB(sub.Confirmed), boolDB(sub.Authenticated), string(attrs), toDB(sub.Created)); err != nil {
				return fmt.Errorf("store: subscribe %s: %w", sub.Endpoint, err)
			}
		default:
			return fmt.Errorf("store: subscribe %s: %w", sub.Endpoint, err)
		}
		if confirm == nil || sub.Confirmed {
			return nil
		}
		confirm.SubscriptionARN, confirm.Token = sub.ARN, sub.Token
		return enqueueSNS(ctx, tx, []*SNSDelivery{confirm})
	})
	return sub, existed, err
}

// SNSSubscription looks a subscription up by ARN (ErrNotFound if absent).
func (s *Store) SNSSubscription(ctx context.Context, arn string) (SNSSubscription, error) {
	sub, err := scanSNSSubscription(s.reads.QueryRowContext(ctx, `SELECT `+snsSubscriptionCols+` FROM sns_subscriptions WHERE arn = ?`, arn))
	if err != nil {
		return SNSSubscription{}, fmt.Errorf("store: sns subscription %s: %w", arn, err)
	}
	return sub, nil
}

// SNSSubscriptionByToken finds the subscription a confirmation token was
// sent for (ErrNotFound if none).
func (s *Store) SNSSubscriptionByToken(ctx context.Context, token string) (SNSSubscription, error) {
	sub, err := scanSNSSubscription(s.reads.QueryRowContext(ctx, `SELECT `+snsSubscriptionCols+` FROM sns_subscriptions WHERE token = ?`, token))
	if err != nil {
		return SNSSubscription{}, fmt.Errorf("store: sns subscription by token: %w", err)
	}
	return sub, nil
}

// SNSSubscriptions lists an account's subscriptions in a region by ARN after
// the one given; topic "" means every topic.
func (s *Store) SNSSubscriptions(ctx context.Context, accountID, region, topic, after string, limit int) ([]SNSSubscription, error) {
	q := `SELECT ` + snsSubscriptionCols + ` FROM sns_subscriptions WHERE account_id = ? AND region = ? AND arn > ?`
	args := []any{accountID, region, after}
	if topic != "" {
		q += ` AND topic_name = ?`
		args = append(args, topic)
	}
	rows, err := s.reads.QueryContext(ctx, q+` ORDER BY arn LIMIT ?`, append(args, limit)...)
	if err != nil {
		return nil, fmt.Errorf("store: sns subscriptions of %s in %s: %w", accountID, region, err)
	}
	defer rows.Close()
	var out []SNSSubscription
	for rows.Next() {
		sub, err := scanSNSSubscription(rows)
		if err != nil {
			return nil, fmt.Errorf("store: sns subscriptions of %s in %s: %w", accountID, region, err)
		}
		out = append(out, sub)
	}
	return out, rows.Err()
}

// ConfirmSNSSubscription marks a subscription confirmed (ErrNotFound if absent).
func (s *Store) ConfirmSNSSubscription(ctx context.Context, arn string, authenticated bool) error {
	return s.inTx(ctx, "confirm sns subscription", func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE sns_subscriptions SET confirmed = 1, authenticated = ? WHERE arn = ?`,
			boolDB(authenticated), arn)
		if err != nil {
			return fmt.Errorf("store: confirm sns subscription %s: %w", arn, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("store: confirm sns subscription %s: %w", arn, ErrNotFound)
		}
		return nil
	})
}

// DeleteSNSSubscription removes a subscription and its pending deliveries;
// an unknown ARN is not an error (SNS's Unsubscribe is idempotent).
func (s *Store) DeleteSNSSubscription(ctx context.Context, arn string) error {
	return s.inTx(ctx, "delete sns subscription", func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM sns_deliveries WHERE subscription_arn = ?`, arn); err != nil {
			return fmt.Errorf("store: delete sns subscription %s: %w", arn, err)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM sns_subscriptions WHERE arn = ?`, arn); err != nil {
			return fmt.Errorf("store: delete sns subscription %s: %w", arn, err)
		}
		return nil
	})
}

// EnqueueSNSDeliveries commits the deliveries in one transaction, giving
// each its Seq in slice order.
func (s *Store) EnqueueSNSDeliveries(ctx context.Context, ds []*SNSDelivery) error {
	if len(ds) == 0 {
		return nil
	}
	return s.inTx(ctx, "enqueue sns deliveries", func(tx *sql.Tx) error { return enqueueSNS(ctx, tx, ds) })
}

func enqueueSNS(ctx context.Context, tx *sql.Tx, ds []*SNSDelivery) error {
	var last int64
	if err := tx.QueryRowContext(ctx, `SELECT last FROM sns_delivery_seq`).Scan(&last); err != nil {
		return fmt.Errorf("store: enqueue sns deliveries: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `UPDATE sns_delivery_seq SET last = ?`, last+int64(len(ds))); err != nil {
		return fmt.Errorf("store: enqueue sns deliveries: %w", err)
	}
	st, err := tx.PrepareContext(ctx, `INSERT INTO sns_deliveries (`+snsDeliveryCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
	if err != nil {
		return fmt.Errorf("store: enqueue sns deliveries: %w", err)
	}
	defer st.Close()
	for i, d := range ds {
		d.Seq = last + int64(i) + 1
		if _, err := st.ExecContext(ctx, d.Seq, d.SubscriptionARN, d.Endpoint, boolDB(d.Raw), d.Kind, d.MessageID, d.TopicARN,
			d.Subject, d.Message, d.Token, d.SignatureVersion, toDB(d.Published), d.Protocol); err != nil {
			return fmt.Errorf("store: enqueue sns delivery to %s: %w", d.SubscriptionARN, err)
		}
	}
	return nil
}

// SNSDeliveries returns pending deliveries with fromSeq <= seq <= toSeq in
// seq order, at most limit; subscriptionARN "" means every subscription.
func (s *Store) SNSDeliveries(ctx context.Context, subscriptionARN string, fromSeq, toSeq int64, limit int) ([]SNSDelivery, error) {
	q := `SELECT ` + snsDeliveryCols + ` FROM sns_deliveries WHERE seq >= ? AND seq <= ?`
	args := []any{fromSeq, toSeq}
	if subscriptionARN != "" {
		q += ` AND subscription_arn = ?`
		args = append(args, subscriptionARN)
	}
	rows, err := s.reads.QueryContext(ctx, q+` ORDER BY seq LIMIT ?`, append(args, limit)...)
	if err != nil {
		return nil, fmt.Errorf("store: sns deliveries: %w", err)
	}
	defer rows.Close()
	var out []SNSDelivery
	for rows.Next() {
		var d SNSDelivery
		var raw int
		var published int64
		if err := rows.Scan(&d.Seq, &d.SubscriptionARN, &d.Endpoint, &raw, &d.Kind, &d.MessageID, &d.TopicARN,
			&d.Subject, &d.Message, &d.Token, &d.SignatureVersion, &published, &d.Protocol); err != nil {
			return nil, fmt.Errorf("store: sns deliveries: %w", err)
		}
		d.Raw, d.Published = raw != 0, fromDB(published)
		out = append(out, d)
	}
	return out, rows.Err()
}

// DeleteSNSDeliveries removes finished deliveries in one transaction.
func (s *Store) DeleteSNSDeliveries(ctx context.Context, seqs []int64) error {
	if len(seqs) == 0 {
		return nil
	}
	return s.inTx(ctx, "delete sns deliveries", func(tx *sql.Tx) error {
		const chunk = 500
		for len(seqs) > 0 {
			n := min(chunk, len(seqs))
			args := make([]any, n)
			for i, q := range seqs[:n] {
				args[i] = q
			}
			if _, err := tx.ExecContext(ctx, `DELETE FROM sns_deliveries WHERE seq IN (?`+strings.Repeat(", ?", n-1)+`)`, args...); err != nil {
				return fmt.Errorf("store: delete sns deliveries: %w", err)
			}
			seqs = seqs[n:]
		}
		return nil
	})
}

// SNSSigningKey returns the key that signs SNS messages (PKCS#8 DER) and its
// certificate, creating them with create the first time. The key is sealed
// at rest like access key secrets.
func (s *Store) SNSSigningKey(ctx context.Context, create func() (id string, keyDER []byte, certPEM string, err error)) (id string, keyDER []byte, certPEM string, err error) {
	err = s.inTx(ctx, "sns signing key", func(tx *sql.Tx) error {
		var sealed string
		err := tx.QueryRowContext(ctx, `SELECT id, key_sealed, cert_pem FROM sns_signing_keys ORDER BY created_at DESC LIMIT 1`).
			Scan(&id, &sealed, &certPEM)
		if err == nil {
			plain, err := s.openSecret(id, sealed)
			if err != nil {
				return err
			}
			keyDER, err = base64.StdEncoding.DecodeString(plain)
			return err
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("store: sns signing key: %w", err)
		}
		if id, keyDER, certPEM, err = create(); err != nil {
			return fmt.Errorf("store: sns signing key: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO sns_signing_keys (id, key_sealed, cert_pem, created_at) VALUES (?, ?, ?, ?)`,
			id, s.sealSecret(id, base64.StdEncoding.EncodeToString(keyDER)), certPEM, toDB(time.Now())); err != nil {
			return fmt.Errorf("store: sns signing key: %w", err)
		}
		return nil
	})
	return id, keyDER, certPEM, err
}

func scanSNSTopic(r rowScanner) (SNSTopic, error) {
	var t SNSTopic
	var attrs, tags string
	var created int64
	err := r.Scan(&t.AccountID, &t.Region, &t.Name, &attrs, &tags, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return SNSTopic{}, ErrNotFound
	}
	if err != nil {
		return SNSTopic{}, err
	}
	t.Created = fromDB(created)
	if err := json.Unmarshal([]byte(attrs), &t.Attributes); err != nil {
		return SNSTopic{}, fmt.Errorf("topic %s attributes: %w", t.Name, err)
	}
	if err := json.Unmarshal([]byte(tags), &t.Tags); err != nil {
		return SNSTopic{}, fmt.Errorf("topic %s tags: %w", t.Name, err)
	}
	if t.Attributes == nil {
		t.Attributes = map[string]string{}
	}
	return t, nil
}

func scanSNSSubscription(r rowScanner) (SNSSubscription, error) {
	var sub SNSSubscription
	var confirmed, authenticated int
	var attrs string
	var created int64
	err := r.Scan(&sub.ARN, &sub.AccountID, &sub.Region, &sub.TopicName, &sub.Protocol, &sub.Endpoint, &sub.Token,
		&confirmed, &authenticated, &attrs, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return SNSSubscription{}, ErrNotFound
	}
	if err != nil {
		return SNSSubscription{}, err
	}
	sub.Confirmed, sub.Authenticated, sub.Created = confirmed != 0, authenticated != 0, fromDB(created)
	if err := json.Unmarshal([]byte(attrs), &sub.Attributes); err != nil {
		return SNSSubscription{}, fmt.Errorf("subscription %s attributes: %w", sub.ARN, err)
	}
	if sub.Attributes == nil {
		sub.Attributes = map[string]string{}
	}
	return sub, nil
}

func encodeSNSTopic(t SNSTopic) (attrs, tags string, err error) {
	if t.Attributes == nil {
		t.Attributes = map[string]string{}
	}
	if t.Tags == nil {
		t.Tags = []Tag{}
	}
	a, err := json.Marshal(t.Attributes)
	if err != nil {
		return "", "", fmt.Errorf("store: sns topic %s: %w", t.Name, err)
	}
	b, err := json.Marshal(t.Tags)
	if err != nil {
		return "", "", fmt.Errorf("store: sns topic %s: %w", t.Name, err)
	}
	return string(a), string(b), nil
}
