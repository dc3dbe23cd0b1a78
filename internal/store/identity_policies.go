package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// ErrNoIdentity is the not-found of an identity-policy call whose identity
// does not exist (the policy's own not-found is plain ErrNotFound).
var ErrNoIdentity = fmt.Errorf("identity: %w", ErrNotFound)

// IdentityPolicy is one sending-authorization policy of an identity.
type IdentityPolicy struct {
	Name   string
	Policy string // the JSON document as given
}

// PolicyWrite says what PutIdentityPolicy may do with a name that is (or is
// not) there: SES v2 creates and updates apart, v1 PutIdentityPolicy does
// either.
type PolicyWrite int

const (
	PolicyUpsert PolicyWrite = iota // v1: create or replace
	PolicyCreate                    // v2 Create: ErrExists if the name is there
	PolicyUpdate                    // v2 Update: ErrNotFound if it is not
)

// PutIdentityPolicy writes the policy named name of an identity
// (ErrNoIdentity if the identity does not exist; ErrLimit if it would have
// more than max policies, and then nothing changes).
func (s *Store) PutIdentityPolicy(ctx context.Context, accountID, region, identity string, p IdentityPolicy, how PolicyWrite, max int) error {
	r := Resource{AccountID: accountID, Region: region, Type: ResourceIdentity, Name: identity}
	return s.inTx(ctx, "put policy "+p.Name+" of "+r.String(), func(tx *sql.Tx) error {
		if err := resourceExists(ctx, tx, r); err != nil {
			if errors.Is(err, ErrNotFound) {
				return fmt.Errorf("store: policy %s of %s: %w", p.Name, r, ErrNoIdentity)
			}
			return err
		}
		res, err := tx.ExecContext(ctx, `UPDATE identity_policies SET policy = ?
			WHERE account_id = ? AND region = ? AND identity = ? AND name = ?`,
			p.Policy, accountID, region, r.key(), p.Name)
		if err != nil {
			return fmt.Errorf("store: policy %s of %s: %w", p.Name, r, err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return fmt.Errorf("store: policy %s of %s: %w", p.Name, r, err)
		}
		switch {
		case n > 0 && how == PolicyCreate:
			return fmt.Errorf("store: policy %s of %s: %w", p.Name, r, ErrExists)
		case n > 0:
			return s.announce(ctx, tx, TopicIdentity, IdentityChangeKey(accountID, region, r.key()))
		case how == PolicyUpdate:
			return fmt.Errorf("store: policy %s of %s: %w", p.Name, r, ErrNotFound)
		}
		var count int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM identity_policies
			WHERE account_id = ? AND region = ? AND identity = ?`, accountID, region, r.key()).Scan(&count); err != nil {
			return fmt.Errorf("store: policies of %s: %w", r, err)
		}
		if count >= max {
			return fmt.Errorf("store: policy %s of %s: %d policies: %w", p.Name, r, count, ErrLimit)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO identity_policies (account_id, region, identity, name, policy, created_at)
			VALUES (?, ?, ?, ?, ?, ?)`, accountID, region, r.key(), p.Name, p.Policy, time.Now().UnixNano()); err != nil {
			return fmt.Errorf("store: policy %s of %s: %w", p.Name, r, err)
		}
		return s.announce(ctx, tx, TopicIdentity, IdentityChangeKey(accountID, region, r.key()))
	})
}

// IdentityPolicies is an identity's policies by name (ErrNoIdentity if the
// identity does not exist); an identity without any has an empty list.
func (s *Store) IdentityPolicies(ctx context.Context, accountID, region, identity string) ([]IdentityPolicy, error) {
	r := Resource{AccountID: accountID, Region: region, Type: ResourceIdentity, Name: identity}
	if err := resourceExists(ctx, s.reads, r); err != nil {
		if errors.Is(err, ErrNotFound) {
			return nil, fmt.Errorf("store: policies of %s: %w", r, ErrNoIdentity)
		}
		return nil, err
	}
	rows, err := s.reads.QueryContext(ctx, `SELECT name, policy FROM identity_policies
		WHERE account_id = ? AND region = ? AND identity = ? ORDER BY name`, accountID, region, r.key())
	if err != nil {
		return nil, fmt.Errorf("store: policies of %s: %w", r, err)
	}
	defer rows.Close()
	out := []IdentityPolicy{}
	for rows.Next() {
		var p IdentityPolicy
		if err := rows.Scan(&p.Name, &p.Policy); err != nil {
			return nil, fmt.Errorf("store: policies of %s: %w", r, err)
		}
		out = append(out, p)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: policies of %s: %w", r, err)
	}
	return out, nil
}

// DeleteIdentityPolicy removes one policy of an identity (ErrNoIdentity if
// the identity does not exist, ErrNotFound if the policy does not).
func (s *Store) DeleteIdentityPolicy(ctx context.Context, accountID, region, identity, name string) error {
	r := Resource{AccountID: accountID, Region: region, Type: ResourceIdentity, Name: identity}
	return s.inTx(ctx, "delete policy "+name+" of "+r.String(), func(tx *sql.Tx) error {
		if err := resourceExists(ctx, tx, r); err != nil {
			if errors.Is(err, ErrNotFound) {
				return fmt.Errorf("store: policy %s of %s: %w", name, r, ErrNoIdentity)
			}
			return err
		}
		res, err := tx.ExecContext(ctx, `DELETE FROM identity_policies
			WHERE account_id = ? AND region = ? AND identity = ? AND name = ?`, accountID, region, r.key(), name)
		if err != nil {
			return fmt.Errorf("store: delete policy %s of %s: %w", name, r, err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return fmt.Errorf("store: delete policy %s of %s: %w", name, r, err)
		} else if n == 0 {
			return fmt.Errorf("store: policy %s of %s: %w", name, r, ErrNotFound)
		}
		return s.announce(ctx, tx, TopicIdentity, IdentityChangeKey(accountID, region, r.key()))
	})
}

// deleteIdentityPolicies removes all of an identity's policies, in the
// transaction that deletes it: an identity made again starts without any.
func deleteIdentityPolicies(ctx context.Context, tx execer, accountID, region, key string) error {
	if _, err := tx.ExecContext(ctx, `DELETE FROM identity_policies
		WHERE account_id = ? AND region = ? AND identity = ?`, accountID, region, key); err != nil {
		return fmt.Errorf("store: delete policies of identity %s of %s in %s: %w", key, accountID, region, err)
	}
	return nil
}
