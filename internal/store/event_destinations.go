package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// EventDestination is where a configuration set's events go (SES's
// EventDestination), kept in SES v2's shape. Only SNS destinations are
// published by sesame; the other kinds are stored so configurations written
// for SES load and read back.
type EventDestination struct {
	AccountID        string
	Region           string
	ConfigurationSet string
	Name             string
	Enabled          bool
	// MatchingEventTypes in v2 spelling (SEND, BOUNCE, RENDERING_FAILURE, …).
	MatchingEventTypes []string
	// SNSTopicARN is the SnsDestination's topic ("" when not SNS).
	SNSTopicARN string
	Other       OtherDestinations
	Created     time.Time
}

// OtherDestinations are the destination kinds sesame stores but does not
// deliver to.
type OtherDestinations struct {
	KinesisFirehose *KinesisFirehoseDestination `json:",omitempty"`
	CloudWatch      *CloudWatchDestination      `json:",omitempty"`
	EventBridge     *EventBridgeDestination     `json:",omitempty"`
	Pinpoint        *PinpointDestination        `json:",omitempty"`
}

// KinesisFirehoseDestination as SES v2 names it.
type KinesisFirehoseDestination struct{ IamRoleArn, DeliveryStreamArn string }

// CloudWatchDestination as SES v2 names it.
type CloudWatchDestination struct {
	DimensionConfigurations []CloudWatchDimension
}

// CloudWatchDimension: DimensionValueSource in v2 spelling (MESSAGE_TAG,
// EMAIL_HEADER, LINK_TAG).
type CloudWatchDimension struct {
	DimensionName, DimensionValueSource, DefaultDimensionValue string
}

// EventBridgeDestination as SES v2 names it.
type EventBridgeDestination struct{ EventBusArn string }

// PinpointDestination as SES v2 names it.
type PinpointDestination struct{ ApplicationArn string }

// Matches reports whether the destination is enabled and takes events of
// eventType (v2 spelling).
func (d EventDestination) Matches(eventType string) bool {
	if !d.Enabled {
		return false
	}
	for _, t := range d.MatchingEventTypes {
		if t == eventType {
			return true
		}
	}
	return false
}

func (d EventDestination) what(verb string) string {
	return fmt.Sprintf("%s event destination %s of configuration set %s of %s in %s", verb, d.Name, d.ConfigurationSet, d.AccountID, d.Region)
}

// CreateEventDestination adds a destination to a configuration set:
// ErrNotFound if the set does not exist, ErrExists if the name is taken in
// the set, ErrLimit if the set already has limit destinations (0: no limit).
// A zero Created is now.
func (s *Store) CreateEventDestination(ctx context.Context, d EventDestination, limit int) error {
	if d.Created.IsZero() {
		d.Created = time.Now()
	}
	other, err := json.Marshal(d.Other)
	if err != nil {
		return fmt.Errorf("store: %s: %w", d.what("create"), err)
	}
	return s.inTx(ctx, d.what("create"), func(tx *sql.Tx) error {
		if err := configurationSetExists(ctx, tx, d.AccountID, d.Region, d.ConfigurationSet); err != nil {
			return fmt.Errorf("store: %s: %w", d.what("create"), err)
		}
		var taken, n int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*), COALESCE(SUM(CASE WHEN name = ? THEN 1 ELSE 0 END), 0)
			FROM event_destinations WHERE account_id = ? AND region = ? AND configuration_set = ?`,
			d.Name, d.AccountID, d.Region, d.ConfigurationSet).Scan(&n, &taken); err != nil {
			return fmt.Errorf("store: %s: %w", d.what("create"), err)
		}
		if taken > 0 {
			return fmt.Errorf("store: %s: %w", d.what("create"), ErrExists)
		}
		if limit > 0 && n >= limit {
			return fmt.Errorf("store: %s: %d destinations: %w", d.what("create"), n, ErrLimit)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO event_destinations (account_id, region, configuration_set, name,
			enabled, event_types, sns_topic_arn, destination, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			d.AccountID, d.Region, d.ConfigurationSet, d.Name, boolDB(d.Enabled), strings.Join(d.MatchingEventTypes, ","),
			d.SNSTopicARN, string(other), toDB(d.Created)); err != nil {
			return fmt.Errorf("store: %s: %w", d.what("create"), err)
		}
		return nil
	})
}

// UpdateEventDestination replaces a destination's settings (ErrNotFound if
// the set or the destination does not exist). Created is kept.
func (s *Store) UpdateEventDestination(ctx context.Context, d EventDestination) error {
	other, err := json.Marshal(d.Other)
	if err != nil {
		return fmt.Errorf("store: %s: %w", d.what("update"), err)
	}
	res, err := s.writes.ExecContext(ctx, `UPDATE event_destinations SET enabled = ?, event_types = ?, sns_topic_arn = ?,
		destination = ? WHERE account_id = ? AND region = ? AND configuration_set = ? AND name = ?`,
		boolDB(d.Enabled), strings.Join(d.MatchingEventTypes, ","), d.SNSTopicARN, string(other),
		d.AccountID, d.Region, d.ConfigurationSet, d.Name)
	if err != nil {
		return fmt.Errorf("store: %s: %w", d.what("update"), err)
	}
	if n, err := res.RowsAffected(); err == nil && n == 0 {
		return fmt.Errorf("store: %s: %w", d.what("update"), ErrNotFound)
	}
	return nil
}

// DeleteEventDestination removes one (ErrNotFound if absent).
func (s *Store) DeleteEventDestination(ctx context.Context, accountID, region, configSet, name string) error {
	d := EventDestination{AccountID: accountID, Region: region, ConfigurationSet: configSet, Name: name}
	res, err := s.writes.ExecContext(ctx, `DELETE FROM event_destinations
		WHERE account_id = ? AND region = ? AND configuration_set = ? AND name = ?`, accountID, region, configSet, name)
	if err != nil {
		return fmt.Errorf("store: %s: %w", d.what("delete"), err)
	}
	if n, err := res.RowsAffected(); err == nil && n == 0 {
		return fmt.Errorf("store: %s: %w", d.what("delete"), ErrNotFound)
	}
	return nil
}

// EventDestinations lists a configuration set's destinations by name (none
// for a set that does not exist). It is what event publishing reads;
// callers cache it.
func (s *Store) EventDestinations(ctx context.Context, accountID, region, configSet string) ([]EventDestination, error) {
	rows, err := s.reads.QueryContext(ctx, `SELECT name, enabled, event_types, sns_topic_arn, destination, created_at
		FROM event_destinations WHERE account_id = ? AND region = ? AND configuration_set = ? ORDER BY name`,
		accountID, region, configSet)
	if err != nil {
		return nil, fmt.Errorf("store: event destinations of configuration set %s of %s in %s: %w", configSet, accountID, region, err)
	}
	defer rows.Close()
	out := []EventDestination{}
	for rows.Next() {
		d := EventDestination{AccountID: accountID, Region: region, ConfigurationSet: configSet}
		var enabled int
		var types, other string
		var created int64
		if err := rows.Scan(&d.Name, &enabled, &types, &d.SNSTopicARN, &other, &created); err != nil {
			return nil, fmt.Errorf("store: event destinations of configuration set %s of %s in %s: %w", configSet, accountID, region, err)
		}
		d.Enabled, d.Created = enabled != 0, fromDB(created)
		if types != "" {
			d.MatchingEventTypes = strings.Split(types, ",")
		}
		if err := json.Unmarshal([]byte(other), &d.Other); err != nil {
			return nil, fmt.Errorf("store: decode event destination %s of configuration set %s: %w", d.Name, configSet, err)
		}
		out = append(out, d)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: event destinations of configuration set %s of %s in %s: %w", configSet, accountID, region, err)
	}
	return out, nil
}

// configurationSetExists is nil when the set exists, ErrNotFound when not.
func configurationSetExists(ctx context.Context, tx *sql.Tx, accountID, region, name string) error {
	var one int
	err := tx.QueryRowContext(ctx, `SELECT 1 FROM configuration_sets WHERE account_id = ? AND region = ? AND name = ?`,
		accountID, region, name).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return ErrNotFound
	}
	return err
}
