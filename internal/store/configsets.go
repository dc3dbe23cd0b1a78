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

// ConfigurationSet is SES's named group of sending options, per account and
// region. Its option groups are kept as SES shapes them, so the API hands
// them back as they were put; a nil group was never set.
type ConfigurationSet struct {
	AccountID string
	Region    string
	Name      string // case-sensitive
	Created   time.Time
	Options   ConfigurationSetOptions
	Tags      []Tag
}

// ConfigurationSetOptions are a configuration set's option groups.
type ConfigurationSetOptions struct {
	Delivery    *DeliveryOptions    `json:",omitempty"`
	Sending     *SendingOptions     `json:",omitempty"`
	Reputation  *ReputationOptions  `json:",omitempty"`
	Suppression *SuppressionOptions `json:",omitempty"`
	Tracking    *TrackingOptions    `json:",omitempty"`
}

// DeliveryOptions: TlsPolicy (REQUIRE | OPTIONAL) is what outbound delivery
// enforces; MaxDeliverySeconds 0 means SES's default.
type DeliveryOptions struct {
	TlsPolicy          string `json:",omitempty"`
	SendingPoolName    string `json:",omitempty"`
	MaxDeliverySeconds int64  `json:",omitempty"`
}

// SendingOptions: SendingEnabled false pauses sending through the set.
type SendingOptions struct {
	SendingEnabled bool
}

// ReputationOptions as SES keeps them (sesame has no reputation metrics).
type ReputationOptions struct {
	ReputationMetricsEnabled bool
	LastFreshStart           *time.Time `json:",omitempty"`
}

// SuppressionOptions override the account's suppressed reasons for mail
// sent through the set (an empty list: suppress nothing).
type SuppressionOptions struct {
	SuppressedReasons []string
	// Scope is SuppressionScope as given: "" or ACCOUNT, the one list an
	// account has (sesame has no tenants).
	Scope string `json:",omitempty"`
	// Validation is ValidationOptions as given; sesame has no Auto
	// Validation, so it is only ever DISABLED.
	Validation *SuppressionValidation `json:",omitempty"`
}

// SuppressionValidation is SES's SuppressionValidationOptions /
// SuppressionValidationAttributes: its ConditionThreshold, flattened.
type SuppressionValidation struct {
	ConditionThresholdEnabled  string
	ConfidenceVerdictThreshold string `json:",omitempty"` // OverallConfidenceThreshold's
}

// TrackingOptions: the domain open and click links would use.
type TrackingOptions struct {
	CustomRedirectDomain string `json:",omitempty"`
	HttpsPolicy          string `json:",omitempty"`
}

// Tag is a resource tag.
type Tag struct {
	Key   string
	Value string
}

// SendingEnabled reports whether mail may be sent through the set (SES: a
// set without SendingOptions sends).
func (c ConfigurationSet) SendingEnabled() bool {
	return c.Options.Sending == nil || c.Options.Sending.SendingEnabled
}

// ErrLimit is returned (wrapped) when a create would pass a per-account limit.
var ErrLimit = errors.New("store: limit reached")

// CreateConfigurationSet adds a set: ErrExists if the name is taken in the
// account and region, ErrLimit if the account already has limit sets there
// (0: no limit). A zero Created is now.
func (s *Store) CreateConfigurationSet(ctx context.Context, cs ConfigurationSet, limit int) error {
	if cs.Created.IsZero() {
		cs.Created = time.Now()
	}
	opts, tags, err := encodeConfigurationSet(ConfigurationSet{Name: cs.Name, Options: cs.Options})
	if err != nil {
		return err
	}
	return s.inTx(ctx, "create configuration set", func(tx *sql.Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM configuration_sets
			WHERE account_id = ? AND region = ? AND name = ?`, cs.AccountID, cs.Region, cs.Name).Scan(&n); err != nil {
			return fmt.Errorf("store: create configuration set %s of %s in %s: %w", cs.Name, cs.AccountID, cs.Region, err)
		}
		if n > 0 {
			return fmt.Errorf("store: create configuration set %s of %s in %s: %w", cs.Name, cs.AccountID, cs.Region, ErrExists)
		}
		if limit > 0 {
			if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM configuration_sets
				WHERE account_id = ? AND region = ?`, cs.AccountID, cs.Region).Scan(&n); err != nil {
				return fmt.Errorf("store: create configuration set %s of %s in %s: %w", cs.Name, cs.AccountID, cs.Region, err)
			}
			if n >= limit {
				return fmt.Errorf("store: create configuration set %s of %s in %s: %d sets: %w", cs.Name, cs.AccountID, cs.Region, n, ErrLimit)
			}
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO configuration_sets (account_id, region, name, created_at, options, tags)
			VALUES (?, ?, ?, ?, ?, ?)`, cs.AccountID, cs.Region, cs.Name, toDB(cs.Created), opts, tags); err != nil {
			return fmt.Errorf("store: create configuration set %s of %s in %s: %w", cs.Name, cs.AccountID, cs.Region, err)
		}
		// The set's tags live in resource_tags (the tags column is '[]' since 0016).
		r := Resource{AccountID: cs.AccountID, Region: cs.Region, Type: ResourceConfigurationSet, Name: cs.Name}
		if err := deleteResourceTags(ctx, tx, r); err != nil {
			return err
		}
		if err := upsertTags(ctx, tx, r, cs.Tags); err != nil {
			return err
		}
		return s.announce(ctx, tx, TopicConfigSet, ConfigSetKey(cs.AccountID, cs.Region, cs.Name))
	})
}

// ConfigurationSet looks one up (ErrNotFound if absent).
func (s *Store) ConfigurationSet(ctx context.Context, accountID, region, name string) (ConfigurationSet, error) {
	cs := ConfigurationSet{AccountID: accountID, Region: region, Name: name}
	var created int64
	var opts, tags string
	err := s.reads.QueryRowContext(ctx, `SELECT created_at, options, tags FROM configuration_sets
		WHERE account_id = ? AND region = ? AND name = ?`, accountID, region, name).Scan(&created, &opts, &tags)
	if errors.Is(err, sql.ErrNoRows) {
		return ConfigurationSet{}, fmt.Errorf("store: configuration set %s of %s in %s: %w", name, accountID, region, ErrNotFound)
	}
	if err != nil {
		return ConfigurationSet{}, fmt.Errorf("store: configuration set %s of %s in %s: %w", name, accountID, region, err)
	}
	cs.Created = fromDB(created)
	if err := decodeConfigurationSet(&cs, opts, tags); err != nil {
		return ConfigurationSet{}, err
	}
	cs.Tags, err = resourceTags(ctx, s.reads, Resource{AccountID: accountID, Region: region, Type: ResourceConfigurationSet, Name: name})
	if err != nil {
		return ConfigurationSet{}, err
	}
	return cs, nil
}

// ConfigurationSetNames lists up to limit set names after the name after
// ("" = from the start), in name order, that contain contains ("" = all),
// and whether more follow. The substring filter runs here rather than in
// SQL: LIKE's case rules differ between engines, SES's filter is exact.
func (s *Store) ConfigurationSetNames(ctx context.Context, accountID, region, after, contains string, limit int) ([]string, bool, error) {
	q := `SELECT name FROM configuration_sets WHERE account_id = ? AND region = ? AND name > ? ORDER BY name`
	args := []any{accountID, region, after}
	if contains == "" {
		q += ` LIMIT ?`
		args = append(args, limit+1)
	}
	rows, err := s.reads.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, false, fmt.Errorf("store: configuration sets of %s in %s: %w", accountID, region, err)
	}
	defer rows.Close()
	names := []string{}
	for rows.Next() && len(names) <= limit {
		var name string
		if err := rows.Scan(&name); err != nil {
			return nil, false, fmt.Errorf("store: configuration sets of %s in %s: %w", accountID, region, err)
		}
		if strings.Contains(name, contains) {
			names = append(names, name)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, false, fmt.Errorf("store: configuration sets of %s in %s: %w", accountID, region, err)
	}
	if len(names) > limit {
		return names[:limit], true, nil
	}
	return names, false, nil
}

// UpdateConfigurationSetOptions changes a set's options in one transaction
// (ErrNotFound if absent): fn gets the stored options and edits them.
func (s *Store) UpdateConfigurationSetOptions(ctx context.Context, accountID, region, name string, fn func(*ConfigurationSetOptions) error) error {
	return s.inTx(ctx, "update configuration set", func(tx *sql.Tx) error {
		cs := ConfigurationSet{AccountID: accountID, Region: region, Name: name}
		var opts, tags string
		err := tx.QueryRowContext(ctx, `SELECT options, tags FROM configuration_sets
			WHERE account_id = ? AND region = ? AND name = ?`, accountID, region, name).Scan(&opts, &tags)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("store: update configuration set %s of %s in %s: %w", name, accountID, region, ErrNotFound)
		}
		if err != nil {
			return fmt.Errorf("store: update configuration set %s of %s in %s: %w", name, accountID, region, err)
		}
		if err := decodeConfigurationSet(&cs, opts, tags); err != nil {
			return err
		}
		if err := fn(&cs.Options); err != nil {
			return err
		}
		opts, _, err = encodeConfigurationSet(cs)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE configuration_sets SET options = ?
			WHERE account_id = ? AND region = ? AND name = ?`, opts, accountID, region, name); err != nil {
			return fmt.Errorf("store: update configuration set %s of %s in %s: %w", name, accountID, region, err)
		}
		return s.announce(ctx, tx, TopicConfigSet, ConfigSetKey(accountID, region, name))
	})
}

// DeleteConfigurationSet removes a set, its event destinations and its tags
// (ErrNotFound if absent).
func (s *Store) DeleteConfigurationSet(ctx context.Context, accountID, region, name string) error {
	return s.inTx(ctx, "delete configuration set", func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM configuration_sets WHERE account_id = ? AND region = ? AND name = ?`,
			accountID, region, name)
		if err != nil {
			return fmt.Errorf("store: delete configuration set %s of %s in %s: %w", name, accountID, region, err)
		}
		if n, err := res.RowsAffected(); err == nil && n == 0 {
			return fmt.Errorf("store: delete configuration set %s of %s in %s: %w", name, accountID, region, ErrNotFound)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM event_destinations WHERE account_id = ? AND region = ? AND configuration_set = ?`,
			accountID, region, name); err != nil {
			return fmt.Errorf("store: delete event destinations of configuration set %s of %s in %s: %w", name, accountID, region, err)
		}
		if err := deleteResourceTags(ctx, tx, Resource{AccountID: accountID, Region: region, Type: ResourceConfigurationSet, Name: name}); err != nil {
			return err
		}
		return s.announce(ctx, tx, TopicConfigSet, ConfigSetKey(accountID, region, name))
	})
}

func encodeConfigurationSet(cs ConfigurationSet) (opts, tags string, err error) {
	o, err := json.Marshal(cs.Options)
	if err != nil {
		return "", "", fmt.Errorf("store: encode options of configuration set %s: %w", cs.Name, err)
	}
	if cs.Tags == nil {
		cs.Tags = []Tag{}
	}
	t, err := json.Marshal(cs.Tags)
	if err != nil {
		return "", "", fmt.Errorf("store: encode tags of configuration set %s: %w", cs.Name, err)
	}
	return string(o), string(t), nil
}

func decodeConfigurationSet(cs *ConfigurationSet, opts, tags string) error {
	if err := json.NewDecoder(strings.NewReader(opts)).Decode(&cs.Options); err != nil {
		return fmt.Errorf("store: decode options of configuration set %s: %w", cs.Name, err)
	}
	if err := json.Unmarshal([]byte(tags), &cs.Tags); err != nil {
		return fmt.Errorf("store: decode tags of configuration set %s: %w", cs.Name, err)
	}
	return nil
}
