package store

import (
	"context"
	"database/sql"
	"fmt"
)

// ResourceType is the kind of a taggable resource, spelled as in its SES
// ARN (arn:aws:ses:REGION:ACCOUNT:TYPE/NAME).
type ResourceType string

// The taggable resources that exist in sesame.
const (
	ResourceConfigurationSet           ResourceType = "configuration-set"
	ResourceIdentity                   ResourceType = "identity"
	ResourceTemplate                   ResourceType = "template"
	ResourceCustomVerificationTemplate ResourceType = "custom-verification-email-template"
)

// resourceTables says where each taggable type's resources live, so a tag
// is only ever written for a resource that exists, in the same transaction
// that checks it. A type not listed has no resources yet (ErrNotFound).
var resourceTables = map[ResourceType]string{
	ResourceConfigurationSet:           "configuration_sets",
	ResourceIdentity:                   "identities",
	ResourceTemplate:                   "templates",
	ResourceContactList:                "contact_lists",
	ResourceDedicatedIPPool:            "dedicated_ip_pools",
	ResourceCustomVerificationTemplate: "custom_verification_templates",
}

// Resource names one taggable resource of an account in a region.
type Resource struct {
	AccountID string
	Region    string
	Type      ResourceType
	Name      string // identities: as given; the store keys it (IdentityKey)
}

// key is the resource's name as its table keys it.
func (r Resource) key() string {
	if r.Type == ResourceIdentity {
		return IdentityKey(r.Name)
	}
	return r.Name
}

func (r Resource) String() string {
	return fmt.Sprintf("%s/%s of %s in %s", r.Type, r.Name, r.AccountID, r.Region)
}

// querier is a connection pool or a transaction, for reads.
type querier interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// resourceExists is ErrNotFound (wrapped) when r is not there.
func resourceExists(ctx context.Context, q querier, r Resource) error {
	table, ok := resourceTables[r.Type]
	if !ok {
		return fmt.Errorf("store: %s: no such resource type: %w", r, ErrNotFound)
	}
	var n int
	if err := q.QueryRowContext(ctx, `SELECT COUNT(*) FROM `+table+` WHERE account_id = ? AND region = ? AND name = ?`,
		r.AccountID, r.Region, r.key()).Scan(&n); err != nil {
		return fmt.Errorf("store: %s: %w", r, err)
	}
	if n == 0 {
		return fmt.Errorf("store: %s: %w", r, ErrNotFound)
	}
	return nil
}

// ResourceTags is r's tags in the order they were added (ErrNotFound if r
// does not exist). A resource without tags has an empty, non-nil list.
func (s *Store) ResourceTags(ctx context.Context, r Resource) ([]Tag, error) {
	if err := resourceExists(ctx, s.reads, r); err != nil {
		return nil, err
	}
	return resourceTags(ctx, s.reads, r)
}

func resourceTags(ctx context.Context, q querier, r Resource) ([]Tag, error) {
	rows, err := q.QueryContext(ctx, `SELECT tag_key, tag_value FROM resource_tags
		WHERE account_id = ? AND region = ? AND resource_type = ? AND resource_name = ?
		ORDER BY position`, r.AccountID, r.Region, string(r.Type), r.key())
	if err != nil {
		return nil, fmt.Errorf("store: tags of %s: %w", r, err)
	}
	defer rows.Close()
	tags := []Tag{}
	for rows.Next() {
		var t Tag
		if err := rows.Scan(&t.Key, &t.Value); err != nil {
			return nil, fmt.Errorf("store: tags of %s: %w", r, err)
		}
		tags = append(tags, t)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: tags of %s: %w", r, err)
	}
	return tags, nil
}

// TagResource adds tags to r, replacing the value of a key it has already
// (ErrNotFound if r does not exist; ErrLimit if r would have more than max
// tags afterwards, and then nothing changes).
func (s *Store) TagResource(ctx context.Context, r Resource, tags []Tag, max int) error {
	return s.inTx(ctx, "tag "+r.String(), func(tx *sql.Tx) error {
		if err := resourceExists(ctx, tx, r); err != nil {
			return err
		}
		if err := upsertTags(ctx, tx, r, tags); err != nil {
			return err
		}
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM resource_tags
			WHERE account_id = ? AND region = ? AND resource_type = ? AND resource_name = ?`,
			r.AccountID, r.Region, string(r.Type), r.key()).Scan(&n); err != nil {
			return fmt.Errorf("store: tag %s: %w", r, err)
		}
		if n > max {
			return fmt.Errorf("store: tag %s: %d tags: %w", r, n, ErrLimit)
		}
		return nil
	})
}

// SetResourceTags makes tags r's only tags (ErrNotFound if r does not
// exist): the tags a create operation was given.
func (s *Store) SetResourceTags(ctx context.Context, r Resource, tags []Tag) error {
	return s.inTx(ctx, "set tags of "+r.String(), func(tx *sql.Tx) error {
		if err := resourceExists(ctx, tx, r); err != nil {
			return err
		}
		if err := deleteResourceTags(ctx, tx, r); err != nil {
			return err
		}
		return upsertTags(ctx, tx, r, tags)
	})
}

// UntagResource removes the tags with these keys from r; a key r does not
// have is no error (ErrNotFound if r does not exist).
func (s *Store) UntagResource(ctx context.Context, r Resource, keys []string) error {
	return s.inTx(ctx, "untag "+r.String(), func(tx *sql.Tx) error {
		if err := resourceExists(ctx, tx, r); err != nil {
			return err
		}
		for _, k := range keys {
			if _, err := tx.ExecContext(ctx, `DELETE FROM resource_tags
				WHERE account_id = ? AND region = ? AND resource_type = ? AND resource_name = ? AND tag_key = ?`,
				r.AccountID, r.Region, string(r.Type), r.key(), k); err != nil {
				return fmt.Errorf("store: untag %s: %w", r, err)
			}
		}
		return nil
	})
}

// upsertTags writes tags in tx: a new key goes after the ones r has, a key
// it has keeps its place and takes the new value.
func upsertTags(ctx context.Context, tx *sql.Tx, r Resource, tags []Tag) error {
	var next int
	if err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(position), -1) + 1 FROM resource_tags
		WHERE account_id = ? AND region = ? AND resource_type = ? AND resource_name = ?`,
		r.AccountID, r.Region, string(r.Type), r.key()).Scan(&next); err != nil {
		return fmt.Errorf("store: tag %s: %w", r, err)
	}
	for _, t := range tags {
		res, err := tx.ExecContext(ctx, `UPDATE resource_tags SET tag_value = ?
			WHERE account_id = ? AND region = ? AND resource_type = ? AND resource_name = ? AND tag_key = ?`,
			t.Value, r.AccountID, r.Region, string(r.Type), r.key(), t.Key)
		if err != nil {
			return fmt.Errorf("store: tag %s: %w", r, err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return fmt.Errorf("store: tag %s: %w", r, err)
		} else if n > 0 {
			continue
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO resource_tags
			(account_id, region, resource_type, resource_name, tag_key, tag_value, position)
			VALUES (?, ?, ?, ?, ?, ?, ?)`,
			r.AccountID, r.Region, string(r.Type), r.key(), t.Key, t.Value, next); err != nil {
			return fmt.Errorf("store: tag %s: %w", r, err)
		}
		next++
	}
	return nil
}

// deleteResourceTags removes all of r's tags, in the transaction that
// deletes r: a resource made again under the same name starts untagged.
func deleteResourceTags(ctx context.Context, tx execer, r Resource) error {
	if _, err := tx.ExecContext(ctx, `DELETE FROM resource_tags
		WHERE account_id = ? AND region = ? AND resource_type = ? AND resource_name = ?`,
		r.AccountID, r.Region, string(r.Type), r.key()); err != nil {
		return fmt.Errorf("store: delete tags of %s: %w", r, err)
	}
	return nil
}
