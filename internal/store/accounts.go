package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// Account is a tenant, as an AWS account is.
type Account struct {
	ID      string    `json:"account_id"` // 12 digits, like an AWS account id
	Created time.Time `json:"created"`
}

// AccessKey is an AWS-style credential pair of an account.
type AccessKey struct {
	ID        string    `json:"access_key_id"` // "AKIA" + 16 upper-case letters/digits
	AccountID string    `json:"account_id"`
	Secret    string    `json:"secret_access_key"` // 40 chars base64-ish, decrypted
	Active    bool      `json:"active"`
	Created   time.Time `json:"created"`
	// Name is the user name of the key's ARN (UserARN); "" = the key id.
	Name string `json:"name,omitempty"`
	// Policy is the key's IAM policy document as given ("" = none: the
	// key may do whatever its account may). The store keeps it; parsing
	// and enforcing it is sending's and api's business.
	Policy string `json:"policy,omitempty"`
}

// UserARN is the key as an IAM user, as AWS's refusals name the caller:
// arn:aws:iam::ACCOUNT:user/NAME.
func (k AccessKey) UserARN() string {
	name := k.Name
	if name == "" {
		name = k.ID
	}
	return "arn:aws:iam::" + k.AccountID + ":user/" + name
}

// idAttempts bounds retries on a random id that is already taken; with 10^12
// account ids and 32^16 key ids a second attempt is already a curiosity.
const idAttempts = 5

// CreateAccount makes an account and its first access key.
func (s *Store) CreateAccount(ctx context.Context) (Account, AccessKey, error) {
	return s.createAccount(ctx, false)
}

// ErrHasAccounts is CreateFirstAccount's answer when an account exists.
var ErrHasAccounts = errors.New("store: the store already has accounts")

// CreateFirstAccount creates an account only when there is none, in one
// transaction: of several nodes starting together on a new shared
// database, one creates it and the others get ErrHasAccounts.
func (s *Store) CreateFirstAccount(ctx context.Context) (Account, AccessKey, error) {
	return s.createAccount(ctx, true)
}

func (s *Store) createAccount(ctx context.Context, onlyFirst bool) (Account, AccessKey, error) {
	now := time.Now().UTC()
	var acct Account
	var key AccessKey
	err := s.inTx(ctx, "create account", func(tx *sql.Tx) error {
		acct = Account{}
		if onlyFirst {
			var n int
			if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM accounts`).Scan(&n); err != nil {
				return fmt.Errorf("store: create first account: %w", err)
			}
			if n > 0 {
				return ErrHasAccounts
			}
		}
		for range idAttempts {
			id := newAccountID()
			res, err := tx.ExecContext(ctx,
				`INSERT INTO accounts (id, created_at) VALUES (?, ?) ON CONFLICT (id) DO NOTHING`, id, toDB(now))
			if err != nil {
				return fmt.Errorf("store: create account: %w", err)
			}
			if n, _ := res.RowsAffected(); n == 1 {
				acct = Account{ID: id, Created: fromDB(toDB(now))}
				break
			}
		}
		if acct.ID == "" {
			return errors.New("store: create account: no free account id")
		}
		var err error
		key, err = s.insertAccessKey(ctx, tx, acct.ID, now)
		return err
	})
	if err != nil {
		return Account{}, AccessKey{}, err
	}
	return acct, key, nil
}

// Account looks an account up (ErrNotFound if unknown).
func (s *Store) Account(ctx context.Context, accountID string) (Account, error) {
	var created int64
	err := s.reads.QueryRowContext(ctx, `SELECT created_at FROM accounts WHERE id = ?`, accountID).Scan(&created)
	if errors.Is(err, sql.ErrNoRows) {
		return Account{}, fmt.Errorf("store: account %s: %w", accountID, ErrNotFound)
	}
	if err != nil {
		return Account{}, fmt.Errorf("store: account %s: %w", accountID, err)
	}
	return Account{ID: accountID, Created: fromDB(created)}, nil
}

// Accounts lists all accounts, oldest first.
func (s *Store) Accounts(ctx context.Context) ([]Account, error) {
	rows, err := s.reads.QueryContext(ctx, `SELECT id, created_at FROM accounts ORDER BY created_at, id`)
	if err != nil {
		return nil, fmt.Errorf("store: list accounts: %w", err)
	}
	defer rows.Close()
	accts := []Account{}
	for rows.Next() {
		var a Account
		var created int64
		if err := rows.Scan(&a.ID, &created); err != nil {
			return nil, fmt.Errorf("store: list accounts: %w", err)
		}
		a.Created = fromDB(created)
		accts = append(accts, a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: list accounts: %w", err)
	}
	return accts, nil
}

// CreateAccessKey adds an access key to an account (ErrNotFound if the
// account does not exist).
func (s *Store) CreateAccessKey(ctx context.Context, accountID string) (AccessKey, error) {
	return s.CreateScopedAccessKey(ctx, accountID, "", "")
}

// CreateScopedAccessKey is CreateAccessKey with a name and a policy ("" =
// none), stored with the key in one step: a key never exists, even for a
// moment, with more rights than it was made with.
func (s *Store) CreateScopedAccessKey(ctx context.Context, accountID, name, policy string) (AccessKey, error) {
	var key AccessKey
	err := s.inTx(ctx, "create access key", func(tx *sql.Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM accounts WHERE id = ?`, accountID).Scan(&n); err != nil {
			return fmt.Errorf("store: create access key: %w", err)
		}
		if n == 0 {
			return fmt.Errorf("store: create access key: account %s: %w", accountID, ErrNotFound)
		}
		var err error
		key, err = s.insertAccessKey(ctx, tx, accountID, time.Now().UTC())
		if err != nil || (name == "" && policy == "") {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE access_keys SET name = ?, policy = ? WHERE id = ?`, name, policy, key.ID); err != nil {
			return fmt.Errorf("store: create access key: %w", err)
		}
		key.Name, key.Policy = name, policy
		return nil
	})
	return key, err
}

func (s *Store) insertAccessKey(ctx context.Context, tx *sql.Tx, accountID string, now time.Time) (AccessKey, error) {
	secret := newSecret()
	for range idAttempts {
		id := newAccessKeyID()
		res, err := tx.ExecContext(ctx, `INSERT INTO access_keys (id, account_id, secret_sealed, active, created_at)
			VALUES (?, ?, ?, 1, ?) ON CONFLICT (id) DO NOTHING`,
			id, accountID, s.sealSecret(id, secret), toDB(now))
		if err != nil {
			return AccessKey{}, fmt.Errorf("store: create access key: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 1 {
			if err := s.announce(ctx, tx, TopicAccessKey, id); err != nil {
				return AccessKey{}, err
			}
			return AccessKey{ID: id, AccountID: accountID, Secret: secret, Active: true, Created: fromDB(toDB(now))}, nil
		}
	}
	return AccessKey{}, errors.New("store: create access key: no free key id")
}

// AccessKey looks up a key by id (ErrNotFound if unknown). Inactive keys are
// returned too, with Active false: refusing them is the caller's policy.
func (s *Store) AccessKey(ctx context.Context, keyID string) (AccessKey, error) {
	k := AccessKey{ID: keyID}
	var sealed string
	var active int
	var created int64
	err := s.reads.QueryRowContext(ctx,
		`SELECT account_id, secret_sealed, active, created_at, name, policy FROM access_keys WHERE id = ?`, keyID).
		Scan(&k.AccountID, &sealed, &active, &created, &k.Name, &k.Policy)
	if errors.Is(err, sql.ErrNoRows) {
		return AccessKey{}, fmt.Errorf("store: access key %s: %w", keyID, ErrNotFound)
	}
	if err != nil {
		return AccessKey{}, fmt.Errorf("store: access key %s: %w", keyID, err)
	}
	if k.Secret, err = s.openSecret(keyID, sealed); err != nil {
		return AccessKey{}, err
	}
	k.Active = active != 0
	k.Created = fromDB(created)
	return k, nil
}

// AccessKeys lists an account's keys, oldest first, secrets decrypted.
func (s *Store) AccessKeys(ctx context.Context, accountID string) ([]AccessKey, error) {
	rows, err := s.reads.QueryContext(ctx,
		`SELECT id, secret_sealed, active, created_at, name, policy FROM access_keys WHERE account_id = ? ORDER BY created_at, id`, accountID)
	if err != nil {
		return nil, fmt.Errorf("store: access keys of %s: %w", accountID, err)
	}
	defer rows.Close()
	keys := []AccessKey{}
	for rows.Next() {
		k := AccessKey{AccountID: accountID}
		var sealed string
		var active int
		var created int64
		if err := rows.Scan(&k.ID, &sealed, &active, &created, &k.Name, &k.Policy); err != nil {
			return nil, fmt.Errorf("store: access keys of %s: %w", accountID, err)
		}
		if k.Secret, err = s.openSecret(k.ID, sealed); err != nil {
			return nil, err
		}
		k.Active = active != 0
		k.Created = fromDB(created)
		keys = append(keys, k)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: access keys of %s: %w", accountID, err)
	}
	return keys, nil
}

// SetAccessKeyActive activates or deactivates a key (ErrNotFound if unknown).
func (s *Store) SetAccessKeyActive(ctx context.Context, keyID string, active bool) error {
	return s.announceTx(ctx, "set access key active", TopicAccessKey, keyID, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE access_keys SET active = ? WHERE id = ?`, boolDB(active), keyID)
		if err != nil {
			return fmt.Errorf("store: set access key %s active: %w", keyID, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("store: access key %s: %w", keyID, ErrNotFound)
		}
		return nil
	})
}

// SetAccessKeyPolicy replaces a key's policy; "" removes it, giving the
// key its account's full rights again (ErrNotFound if the key is unknown).
func (s *Store) SetAccessKeyPolicy(ctx context.Context, keyID, policy string) error {
	return s.announceTx(ctx, "set access key policy", TopicAccessKey, keyID, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE access_keys SET policy = ? WHERE id = ?`, policy, keyID)
		if err != nil {
			return fmt.Errorf("store: set access key %s policy: %w", keyID, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("store: access key %s: %w", keyID, ErrNotFound)
		}
		return nil
	})
}

// DeleteAccessKey removes a key for good (ErrNotFound if unknown), as IAM's
// DeleteAccessKey: nothing else refers to a key by its id, so nothing else
// changes.
func (s *Store) DeleteAccessKey(ctx context.Context, keyID string) error {
	return s.announceTx(ctx, "delete access key", TopicAccessKey, keyID, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM access_keys WHERE id = ?`, keyID)
		if err != nil {
			return fmt.Errorf("store: delete access key %s: %w", keyID, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("store: access key %s: %w", keyID, ErrNotFound)
		}
		return nil
	})
}
