package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// IdentityType is SES's: an email address or a domain.
type IdentityType string

const (
	EmailAddress IdentityType = "EMAIL_ADDRESS"
	Domain       IdentityType = "DOMAIN"
)

// Verification statuses (v1 spelling; v2 upper-cases them).
const (
	StatusPending          = "Pending"
	StatusSuccess          = "Success"
	StatusFailed           = "Failed"
	StatusTemporaryFailure = "TemporaryFailure"
	StatusNotStarted       = "NotStarted"
)

// Identity is a verified (or pending) sender identity in one region.
type Identity struct {
	AccountID string       `json:"account_id"`
	Region    string       `json:"region"`
	Name      string       `json:"identity"` // address (case kept) or domain (lower-case)
	Type      IdentityType `json:"type"`
	Status    string       `json:"verification_status"`
	Created   time.Time    `json:"created"`
	// MailFromDomain is the identity's custom MAIL FROM domain ("" = none),
	// and MailFromRejects is true while that domain is not verified and the
	// behaviour on MX failure is REJECT_MESSAGE: sending refuses the
	// identity's mail then. Read-only here: IdentityDetails.MailFrom is
	// what UpdateIdentity writes.
	MailFromDomain  string `json:"mail_from_domain,omitempty"`
	MailFromRejects bool   `json:"mail_from_rejects,omitempty"`
	// ConfigurationSet is the identity's default configuration set ("" =
	// none). Read-only here: UpdateIdentityNotifications writes it.
	ConfigurationSet string `json:"configuration_set,omitempty"`
}

// mailFromRejects is Identity.MailFromRejects from the stored columns.
func mailFromRejects(domain, behavior, status string) bool {
	return domain != "" && behavior == MailFromReject && status != StatusSuccess
}

// TypeOf infers an identity's type from its name, as SES does: an "@" makes
// it an email address, anything else is a domain.
func TypeOf(name string) IdentityType {
	if strings.Contains(name, "@") {
		return EmailAddress
	}
	return Domain
}

// IdentityNames lists the identity names that may cover a sender address,
// most specific first (spec §6): the address (its local part is
// case-sensitive, its domain is not, and a "+label" needs no identity of
// its own), then its domain and each parent domain down to the last two
// labels. Nil for something that is not an address.
func IdentityNames(address string) []string {
	at := strings.LastIndexByte(address, '@')
	if at <= 0 || at == len(address)-1 {
		return nil
	}
	local, domain := address[:at], address[at+1:]
	lower := strings.ToLower(domain)
	locals := []string{local}
	if plus := strings.IndexByte(local, '+'); plus > 0 {
		locals = append(locals, local[:plus])
	}
	var out []string
	for _, l := range locals {
		for _, d := range []string{domain, lower} {
			if n := l + "@" + d; !slices.Contains(out, n) {
				out = append(out, n)
			}
		}
	}
	for d := lower; strings.Contains(d, "."); d = d[strings.IndexByte(d, '.')+1:] {
		out = append(out, d)
	}
	return out
}

// IdentityKey is the stored form of an identity name: domains are
// case-insensitive and kept lower-case, addresses are case-sensitive in SES
// and kept as given (spec §6).
func IdentityKey(name string) string {
	if TypeOf(name) == Domain {
		return strings.ToLower(name)
	}
	return name
}

// PutIdentity creates or replaces an identity. An empty Type is inferred from
// the name, an empty Status is Pending, a zero Created is now.
func (s *Store) PutIdentity(ctx context.Context, id Identity) error {
	if id.Type == "" {
		id.Type = TypeOf(id.Name)
	}
	if id.Status == "" {
		id.Status = StatusPending
	}
	if id.Created.IsZero() {
		id.Created = time.Now()
	}
	name := IdentityKey(id.Name)
	return s.announceTx(ctx, "put identity "+name, TopicIdentity, IdentityChangeKey(id.AccountID, id.Region, name), func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO identities (account_id, region, name, type, status, created_at)
			VALUES (?, ?, ?, ?, ?, ?)
			ON CONFLICT (account_id, region, name) DO UPDATE SET
			type = excluded.type, status = excluded.status, created_at = excluded.created_at`,
			id.AccountID, id.Region, name, string(id.Type), id.Status, toDB(id.Created))
		if err != nil {
			return fmt.Errorf("store: put identity %s of %s in %s: %w", name, id.AccountID, id.Region, err)
		}
		return nil
	})
}

// Identity looks one up (ErrNotFound if absent). A domain matches in any case.
func (s *Store) Identity(ctx context.Context, accountID, region, name string) (Identity, error) {
	id := Identity{AccountID: accountID, Region: region, Name: IdentityKey(name)}
	var typ, mfBehavior, mfStatus string
	var created int64
	err := s.reads.QueryRowContext(ctx, `SELECT type, status, created_at, mail_from_domain, mail_from_behavior,
		mail_from_status, configuration_set FROM identities WHERE account_id = ? AND region = ? AND name = ?`, accountID, region, id.Name).
		Scan(&typ, &id.Status, &created, &id.MailFromDomain, &mfBehavior, &mfStatus, &id.ConfigurationSet)
	if errors.Is(err, sql.ErrNoRows) {
		return Identity{}, fmt.Errorf("store: identity %s of %s in %s: %w", id.Name, accountID, region, ErrNotFound)
	}
	if err != nil {
		return Identity{}, fmt.Errorf("store: identity %s of %s in %s: %w", id.Name, accountID, region, err)
	}
	id.Type = IdentityType(typ)
	id.Created = fromDB(created)
	id.MailFromRejects = mailFromRejects(id.MailFromDomain, mfBehavior, mfStatus)
	return id, nil
}

// Identities lists an account's identities in a region, by name.
func (s *Store) Identities(ctx context.Context, accountID, region string) ([]Identity, error) {
	rows, err := s.reads.QueryContext(ctx, `SELECT name, type, status, created_at, mail_from_domain,
		mail_from_behavior, mail_from_status, configuration_set FROM identities WHERE account_id = ? AND region = ? ORDER BY name`,
		accountID, region)
	if err != nil {
		return nil, fmt.Errorf("store: identities of %s in %s: %w", accountID, region, err)
	}
	defer rows.Close()
	ids := []Identity{}
	for rows.Next() {
		id := Identity{AccountID: accountID, Region: region}
		var typ, mfBehavior, mfStatus string
		var created int64
		if err := rows.Scan(&id.Name, &typ, &id.Status, &created, &id.MailFromDomain, &mfBehavior, &mfStatus, &id.ConfigurationSet); err != nil {
			return nil, fmt.Errorf("store: identities of %s in %s: %w", accountID, region, err)
		}
		id.Type = IdentityType(typ)
		id.Created = fromDB(created)
		id.MailFromRejects = mailFromRejects(id.MailFromDomain, mfBehavior, mfStatus)
		ids = append(ids, id)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: identities of %s in %s: %w", accountID, region, err)
	}
	return ids, nil
}

// DeleteIdentity removes one and its tags (no error if absent).
func (s *Store) DeleteIdentity(ctx context.Context, accountID, region, name string) error {
	return s.inTx(ctx, "delete identity", func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM identities WHERE account_id = ? AND region = ? AND name = ?`,
			accountID, region, IdentityKey(name)); err != nil {
			return fmt.Errorf("store: delete identity %s of %s in %s: %w", name, accountID, region, err)
		}
		if err := deleteIdentityPolicies(ctx, tx, accountID, region, IdentityKey(name)); err != nil {
			return err
		}
		if err := deleteResourceTags(ctx, tx, Resource{AccountID: accountID, Region: region, Type: ResourceIdentity, Name: name}); err != nil {
			return err
		}
		return s.announce(ctx, tx, TopicIdentity, IdentityChangeKey(accountID, region, name))
	})
}
