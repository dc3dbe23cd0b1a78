package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// ResourceContactList is a contact list's type in its ARN (contact-list/NAME).
const ResourceContactList ResourceType = "contact-list"

// Topic is one interest group of a contact list.
type Topic struct {
	Name          string `json:"name"`
	DisplayName   string `json:"display_name"`
	Description   string `json:"description,omitempty"`
	DefaultStatus string `json:"default_status"` // OPT_IN | OPT_OUT
}

// ContactList is SES's list management list: its topics, and (in the
// contacts table) its contacts.
type ContactList struct {
	AccountID   string
	Region      string
	Name        string
	Description string
	Topics      []Topic
	Created     time.Time
	Updated     time.Time
}

// TopicPreference is a contact's own choice for one topic.
type TopicPreference struct {
	Topic  string `json:"topic"`
	Status string `json:"status"` // OPT_IN | OPT_OUT
}

// Contact is one address on a contact list.
type Contact struct {
	AccountID      string
	Region         string
	List           string
	Email          string
	Preferences    []TopicPreference
	UnsubscribeAll bool
	Attributes     string // JSON, as the caller gave it ("" = none)
	Created        time.Time
	Updated        time.Time
}

const contactListColumns = `account_id, region, name, description, topics, created_at, updated_at`

func scanContactList(row rowScanner) (ContactList, error) {
	var l ContactList
	var topics string
	var created, updated int64
	if err := row.Scan(&l.AccountID, &l.Region, &l.Name, &l.Description, &topics, &created, &updated); err != nil {
		return l, err
	}
	l.Created, l.Updated = fromDB(created), fromDB(updated)
	if err := json.Unmarshal([]byte(topics), &l.Topics); err != nil {
		return l, fmt.Errorf("topics: %w", err)
	}
	return l, nil
}

func topicsJSON(topics []Topic) string {
	if topics == nil {
		topics = []Topic{}
	}
	b, _ := json.Marshal(topics) // strings only: cannot fail
	return string(b)
}

// CreateContactList adds a list: ErrExists if one has its name,
// ErrLimitExceeded when the account has max lists in the region. A zero
// Created is now.
func (s *Store) CreateContactList(ctx context.Context, l ContactList, max int) error {
	if l.Created.IsZero() {
		l.Created = time.Now()
	}
	what := fmt.Sprintf("create contact list %s of %s in %s", l.Name, l.AccountID, l.Region)
	return s.inTx(ctx, what, func(tx *sql.Tx) error {
		var n, same int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*), COALESCE(SUM(CASE WHEN name = ? THEN 1 ELSE 0 END), 0) FROM contact_lists
			WHERE account_id = ? AND region = ?`, l.Name, l.AccountID, l.Region).Scan(&n, &same); err != nil {
			return fmt.Errorf("store: %s: %w", what, err)
		}
		if same > 0 {
			return fmt.Errorf("store: %s: %w", what, ErrExists)
		}
		if n >= max {
			return fmt.Errorf("store: %s: %d lists: %w", what, n, ErrLimitExceeded)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO contact_lists (`+contactListColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?)`,
			l.AccountID, l.Region, l.Name, l.Description, topicsJSON(l.Topics), toDB(l.Created), toDB(l.Created)); err != nil {
			return fmt.Errorf("store: %s: %w", what, err)
		}
		return nil
	})
}

// ContactList looks a list up (ErrNotFound if absent).
func (s *Store) ContactList(ctx context.Context, accountID, region, name string) (ContactList, error) {
	l, err := contactList(ctx, s.reads, accountID, region, name)
	if err != nil {
		return l, fmt.Errorf("store: contact list %s of %s in %s: %w", name, accountID, region, err)
	}
	return l, nil
}

func contactList(ctx context.Context, q querier, accountID, region, name string) (ContactList, error) {
	l, err := scanContactList(q.QueryRowContext(ctx, `SELECT `+contactListColumns+` FROM contact_lists
		WHERE account_id = ? AND region = ? AND name = ?`, accountID, region, name))
	if errors.Is(err, sql.ErrNoRows) {
		return l, ErrNotFound
	}
	return l, err
}

// UpdateContactList changes a list in one transaction: fn edits the stored
// one (ErrNotFound if absent; an error from fn changes nothing). Its
// description and topics are kept; a zero Updated is now.
func (s *Store) UpdateContactList(ctx context.Context, accountID, region, name string, fn func(*ContactList) error) (ContactList, error) {
	what := fmt.Sprintf("update contact list %s of %s in %s", name, accountID, region)
	var l ContactList
	err := s.inTx(ctx, what, func(tx *sql.Tx) error {
		cur, err := contactList(ctx, tx, accountID, region, name)
		if err != nil {
			return fmt.Errorf("store: %s: %w", what, err)
		}
		l = cur
		l.Updated = time.Time{}
		if err := fn(&l); err != nil {
			return err
		}
		if l.Updated.IsZero() {
			l.Updated = time.Now()
		}
		if _, err := tx.ExecContext(ctx, `UPDATE contact_lists SET description = ?, topics = ?, updated_at = ?
			WHERE account_id = ? AND region = ? AND name = ?`,
			l.Description, topicsJSON(l.Topics), toDB(l.Updated), accountID, region, name); err != nil {
			return fmt.Errorf("store: %s: %w", what, err)
		}
		l.AccountID, l.Region, l.Name, l.Created = cur.AccountID, cur.Region, cur.Name, cur.Created
		return nil
	})
	return l, err
}

// DeleteContactList removes a list with its contacts and tags, in one
// transaction (ErrNotFound if absent).
func (s *Store) DeleteContactList(ctx context.Context, accountID, region, name string) error {
	what := fmt.Sprintf("delete contact list %s of %s in %s", name, accountID, region)
	return s.inTx(ctx, what, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM contact_lists WHERE account_id = ? AND region = ? AND name = ?`,
			accountID, region, name)
		if err != nil {
			return fmt.Errorf("store: %s: %w", what, err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return fmt.Errorf("store: %s: %w", what, err)
		} else if n == 0 {
			return fmt.Errorf("store: %s: %w", what, ErrNotFound)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM contacts WHERE account_id = ? AND region = ? AND list_name = ?`,
			accountID, region, name); err != nil {
			return fmt.Errorf("store: %s: contacts: %w", what, err)
		}
		return deleteResourceTags(ctx, tx, Resource{AccountID: accountID, Region: region, Type: ResourceContactList, Name: name})
	})
}

// ContactLists lists an account's lists in a region by name, after the
// name after ("" = from the start), at most limit.
func (s *Store) ContactLists(ctx context.Context, accountID, region, after string, limit int) ([]ContactList, error) {
	rows, err := s.reads.QueryContext(ctx, `SELECT `+contactListColumns+` FROM contact_lists
		WHERE account_id = ? AND region = ? AND name > ? ORDER BY name LIMIT ?`, accountID, region, after, limit)
	if err != nil {
		return nil, fmt.Errorf("store: contact lists of %s in %s: %w", accountID, region, err)
	}
	defer rows.Close()
	out := []ContactList{}
	for rows.Next() {
		l, err := scanContactList(rows)
		if err != nil {
			return nil, fmt.Errorf("store: contact lists of %s in %s: %w", accountID, region, err)
		}
		out = append(out, l)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: contact lists of %s in %s: %w", accountID, region, err)
	}
	return out, nil
}

// --- contacts ------------------------------------------------------------

const contactColumns = `account_id, region, list_name, email, preferences, unsubscribe_all, attributes, created_at, updated_at`

func scanContact(row rowScanner) (Contact, error) {
	var c Contact
	var prefs string
	var unsub int
	var created, updated int64
	if err := row.Scan(&c.AccountID, &c.Region, &c.List, &c.Email, &prefs, &unsub, &c.Attributes, &created, &updated); err != nil {
		return c, err
	}
	c.UnsubscribeAll = unsub != 0
	c.Created, c.Updated = fromDB(created), fromDB(updated)
	if err := json.Unmarshal([]byte(prefs), &c.Preferences); err != nil {
		return c, fmt.Errorf("preferences: %w", err)
	}
	return c, nil
}

func preferencesJSON(p []TopicPreference) string {
	if p == nil {
		p = []TopicPreference{}
	}
	b, _ := json.Marshal(p) // strings only: cannot fail
	return string(b)
}

// CreateContact adds a contact to its list: ErrNoContactList if the list
// is absent, ErrExists if the address is on it already. fill, when set,
// completes c seeing the list, in the same transaction, and may refuse it
// (a preference for a topic the list has not). A zero Created is now.
func (s *Store) CreateContact(ctx context.Context, c Contact, fill func(*Contact, ContactList) error) error {
	if c.Created.IsZero() {
		c.Created = time.Now()
	}
	what := fmt.Sprintf("create contact %s on %s of %s in %s", c.Email, c.List, c.AccountID, c.Region)
	return s.inTx(ctx, what, func(tx *sql.Tx) error {
		l, err := contactList(ctx, tx, c.AccountID, c.Region, c.List)
		if errors.Is(err, ErrNotFound) {
			return fmt.Errorf("store: %s: %w", what, ErrNoContactList)
		}
		if err != nil {
			return fmt.Errorf("store: %s: %w", what, err)
		}
		if fill != nil {
			if err := fill(&c, l); err != nil {
				return err
			}
		}
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM contacts
			WHERE account_id = ? AND region = ? AND list_name = ? AND email = ?`,
			c.AccountID, c.Region, c.List, c.Email).Scan(&n); err != nil {
			return fmt.Errorf("store: %s: %w", what, err)
		}
		if n > 0 {
			return fmt.Errorf("store: %s: %w", what, ErrExists)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO contacts (`+contactColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			c.AccountID, c.Region, c.List, c.Email, preferencesJSON(c.Preferences), boolDB(c.UnsubscribeAll),
			c.Attributes, toDB(c.Created), toDB(c.Created)); err != nil {
			return fmt.Errorf("store: %s: %w", what, err)
		}
		return nil
	})
}

// ErrNoContactList is the ErrNotFound of a contact operation whose list is
// absent (the contact itself being absent is plain ErrNotFound).
var ErrNoContactList = fmt.Errorf("contact list: %w", ErrNotFound)

// Contact looks a contact up with its list: ErrNoContactList if the list is
// absent, ErrNotFound if the address is not on it.
func (s *Store) Contact(ctx context.Context, accountID, region, list, email string) (Contact, ContactList, error) {
	what := fmt.Sprintf("contact %s on %s of %s in %s", email, list, accountID, region)
	l, err := contactList(ctx, s.reads, accountID, region, list)
	if errors.Is(err, ErrNotFound) {
		return Contact{}, l, fmt.Errorf("store: %s: %w", what, ErrNoContactList)
	}
	if err != nil {
		return Contact{}, l, fmt.Errorf("store: %s: %w", what, err)
	}
	c, err := contact(ctx, s.reads, accountID, region, list, email)
	if err != nil {
		return c, l, fmt.Errorf("store: %s: %w", what, err)
	}
	return c, l, nil
}

func contact(ctx context.Context, q querier, accountID, region, list, email string) (Contact, error) {
	c, err := scanContact(q.QueryRowContext(ctx, `SELECT `+contactColumns+` FROM contacts
		WHERE account_id = ? AND region = ? AND list_name = ? AND email = ?`, accountID, region, list, email))
	if errors.Is(err, sql.ErrNoRows) {
		return c, ErrNotFound
	}
	return c, err
}

// UpdateContact changes a contact in one transaction: fn edits the stored
// one, seeing its list (ErrNoContactList, ErrNotFound as Contact; an error
// from fn changes nothing). A zero Updated is now.
func (s *Store) UpdateContact(ctx context.Context, accountID, region, list, email string, fn func(*Contact, ContactList) error) (Contact, error) {
	what := fmt.Sprintf("update contact %s on %s of %s in %s", email, list, accountID, region)
	var c Contact
	err := s.inTx(ctx, what, func(tx *sql.Tx) error {
		l, err := contactList(ctx, tx, accountID, region, list)
		if errors.Is(err, ErrNotFound) {
			return fmt.Errorf("store: %s: %w", what, ErrNoContactList)
		}
		if err != nil {
			return fmt.Errorf("store: %s: %w", what, err)
		}
		cur, err := contact(ctx, tx, accountID, region, list, email)
		if err != nil {
			return fmt.Errorf("store: %s: %w", what, err)
		}
		c = cur
		c.Updated = time.Time{}
		if err := fn(&c, l); err != nil {
			return err
		}
		if c.Updated.IsZero() {
			c.Updated = time.Now()
		}
		if _, err := tx.ExecContext(ctx, `UPDATE contacts SET preferences = ?, unsubscribe_all = ?, attributes = ?, updated_at = ?
			WHERE account_id = ? AND region = ? AND list_name = ? AND email = ?`,
			preferencesJSON(c.Preferences), boolDB(c.UnsubscribeAll), c.Attributes, toDB(c.Updated),
			accountID, region, list, email); err != nil {
			return fmt.Errorf("store: %s: %w", what, err)
		}
		c.AccountID, c.Region, c.List, c.Email, c.Created = cur.AccountID, cur.Region, cur.List, cur.Email, cur.Created
		return nil
	})
	return c, err
}

// DeleteContact removes a contact (ErrNoContactList, ErrNotFound as Contact).
func (s *Store) DeleteContact(ctx context.Context, accountID, region, list, email string) error {
	what := fmt.Sprintf("delete contact %s on %s of %s in %s", email, list, accountID, region)
	return s.inTx(ctx, what, func(tx *sql.Tx) error {
		if _, err := contactList(ctx, tx, accountID, region, list); errors.Is(err, ErrNotFound) {
			return fmt.Errorf("store: %s: %w", what, ErrNoContactList)
		} else if err != nil {
			return fmt.Errorf("store: %s: %w", what, err)
		}
		res, err := tx.ExecContext(ctx, `DELETE FROM contacts
			WHERE account_id = ? AND region = ? AND list_name = ? AND email = ?`, accountID, region, list, email)
		if err != nil {
			return fmt.Errorf("store: %s: %w", what, err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return fmt.Errorf("store: %s: %w", what, err)
		} else if n == 0 {
			return fmt.Errorf("store: %s: %w", what, ErrNotFound)
		}
		return nil
	})
}

// Contacts lists a list's contacts by address after the address after (""
// = from the start): at most limit of those keep accepts (nil keeps all),
// with the list (ErrNoContactList if absent). Rows keep refuses are read
// and passed over, so a filtered page is as full as an unfiltered one.
func (s *Store) Contacts(ctx context.Context, accountID, region, list, after string, limit int,
	keep func(Contact, ContactList) bool) ([]Contact, ContactList, error) {
	what := fmt.Sprintf("contacts on %s of %s in %s", list, accountID, region)
	l, err := contactList(ctx, s.reads, accountID, region, list)
	if errors.Is(err, ErrNotFound) {
		return nil, l, fmt.Errorf("store: %s: %w", what, ErrNoContactList)
	}
	if err != nil {
		return nil, l, fmt.Errorf("store: %s: %w", what, err)
	}
	rows, err := s.reads.QueryContext(ctx, `SELECT `+contactColumns+` FROM contacts
		WHERE account_id = ? AND region = ? AND list_name = ? AND email > ? ORDER BY email`, accountID, region, list, after)
	if err != nil {
		return nil, l, fmt.Errorf("store: %s: %w", what, err)
	}
	defer rows.Close()
	out := []Contact{}
	for len(out) < limit && rows.Next() {
		c, err := scanContact(rows)
		if err != nil {
			return nil, l, fmt.Errorf("store: %s: %w", what, err)
		}
		if keep == nil || keep(c, l) {
			out = append(out, c)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, l, fmt.Errorf("store: %s: %w", what, err)
	}
	return out, l, nil
}
