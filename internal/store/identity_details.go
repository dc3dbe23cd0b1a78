package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
)

// ErrLimitExceeded is returned (wrapped) when creating a row would pass a
// per-account limit (MaxIdentities).
var ErrLimitExceeded = errors.New("store: limit exceeded")

// MaxIdentities is SES's limit of identities per account and region.
const MaxIdentities = 10000

// DKIM origins (v2 SigningAttributesOrigin).
const (
	DKIMOriginAWS      = "AWS_SES"
	DKIMOriginExternal = "EXTERNAL"
)

// MAIL FROM behaviours on MX failure (v2 spelling).
const (
	MailFromUseDefault = "USE_DEFAULT_VALUE"
	MailFromReject     = "REJECT_MESSAGE"
)

// DKIM is an identity's DKIM setup. Origin "" means none was set up.
type DKIM struct {
	Tokens         []string // Easy DKIM: the 3 CNAME tokens
	Origin         string   // DKIMOriginAWS, DKIMOriginExternal or ""
	SigningEnabled bool
	// SigningSet: the owner set SigningEnabled itself. An address identity
	// with no DKIM setup of its own (Origin "") inherits its domain's
	// signing unless it was set off.
	SigningSet    bool
	Status        string // v1 spelling: StatusPending, StatusSuccess, …
	KeyLength     string // "RSA_2048_BIT", "RSA_1024_BIT"
	NextKeyLength string
	PrivateKey    []byte // PKCS#8 DER; sealed at rest
	Selector      string // BYODKIM selector
	KeyGenerated  time.Time
}

// MailFrom is an identity's custom MAIL FROM domain ("" = none).
type MailFrom struct {
	Domain   string
	Behavior string // MailFromUseDefault or MailFromReject
	Status   string // v1 spelling; "" when Domain is ""
	Started  time.Time
}

// IdentityDetails is an identity with everything verification keeps.
type IdentityDetails struct {
	Identity
	VerifyTokenHash    string    // email: sha256 hex of the mailed link token
	VerifyExpires      time.Time // email: when the link stops working
	VerifyStarted      time.Time // when the current attempt started
	DomainToken        string    // v1 TXT _amazonses token
	DKIM               DKIM
	MailFrom           MailFrom
	FeedbackForwarding bool
	Check              VerificationCheck
}

// VerificationCheck is what the verifier last found of an identity's own
// verification (not DKIM's or MAIL FROM's apart): GetEmailIdentity's
// VerificationInfo.
type VerificationCheck struct {
	Checked   time.Time // the last check (zero: never)
	Succeeded time.Time // the last successful one (zero: never)
	// Error is SES's VerificationError of the last check when it did not
	// succeed: HOST_NOT_FOUND, TYPE_NOT_FOUND, INVALID_VALUE or
	// DNS_SERVER_ERROR; "" otherwise.
	Error string
	// SOA is the domain's zone's start of authority as the last check
	// found it (zero: not found, or the resolver asks for none).
	SOA SOA
}

// SOA is a zone's start of authority, as GetEmailIdentity's SOARecord has it.
type SOA struct {
	PrimaryNameServer string
	AdminEmail        string
	SerialNumber      int64
}

const detailColumns = `account_id, region, name, type, status, created_at, verify_token_hash, verify_expires_at,
	verify_started_at, domain_token, dkim_tokens, dkim_origin, dkim_signing_enabled, dkim_status, dkim_key_length,
	dkim_next_key_length, dkim_key_sealed, dkim_selector, dkim_key_generated_at, mail_from_domain,
	mail_from_behavior, mail_from_status, mail_from_started_at, feedback_forwarding, dkim_signing_set,
	verify_checked_at, verify_succeeded_at, verify_error, verify_soa_ns, verify_soa_admin, verify_soa_serial`

type rowScanner interface{ Scan(...any) error }

func (s *Store) scanDetails(row rowScanner) (IdentityDetails, error) {
	var d IdentityDetails
	var typ, tokens, sealed string
	var created, expires, started, keyGen, mfStarted, checked, succeeded int64
	var signing, feedback, signingSet int
	err := row.Scan(&d.AccountID, &d.Region, &d.Name, &typ, &d.Status, &created, &d.VerifyTokenHash, &expires,
		&started, &d.DomainToken, &tokens, &d.DKIM.Origin, &signing, &d.DKIM.Status, &d.DKIM.KeyLength,
		&d.DKIM.NextKeyLength, &sealed, &d.DKIM.Selector, &keyGen, &d.MailFrom.Domain,
		&d.MailFrom.Behavior, &d.MailFrom.Status, &mfStarted, &feedback, &signingSet, &checked, &succeeded, &d.Check.Error,
		&d.Check.SOA.PrimaryNameServer, &d.Check.SOA.AdminEmail, &d.Check.SOA.SerialNumber)
	if err != nil {
		return d, err
	}
	d.Type = IdentityType(typ)
	d.Created = fromDB(created)
	d.VerifyExpires = optTime(expires)
	d.VerifyStarted = optTime(started)
	d.DKIM.KeyGenerated = optTime(keyGen)
	d.MailFrom.Started = optTime(mfStarted)
	d.Check.Checked = optTime(checked)
	d.Check.Succeeded = optTime(succeeded)
	d.Identity.MailFromDomain = d.MailFrom.Domain
	d.Identity.MailFromRejects = mailFromRejects(d.MailFrom.Domain, d.MailFrom.Behavior, d.MailFrom.Status)
	d.DKIM.SigningEnabled = signing != 0
	d.DKIM.SigningSet = signingSet != 0
	d.FeedbackForwarding = feedback != 0
	if tokens != "" {
		d.DKIM.Tokens = strings.Fields(tokens)
	}
	if sealed != "" {
		key, err := s.openSecret(dkimAAD(d.AccountID, d.Region, d.Name), sealed)
		if err != nil {
			return d, fmt.Errorf("DKIM key of %s: %w", d.Name, err)
		}
		d.DKIM.PrivateKey = []byte(key)
	}
	return d, nil
}

// dkimAAD binds a sealed DKIM key to its identity's row.
func dkimAAD(account, region, name string) string {
	return "dkim:" + account + "/" + region + "/" + name
}

func optTime(ns int64) time.Time {
	if ns == 0 {
		return time.Time{}
	}
	return fromDB(ns)
}

func optDB(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return toDB(t)
}

// args returns d's values in detailColumns order.
func (s *Store) detailArgs(d *IdentityDetails) []any {
	sealed := ""
	if len(d.DKIM.PrivateKey) > 0 {
		sealed = s.sealSecret(dkimAAD(d.AccountID, d.Region, d.Name), string(d.DKIM.PrivateKey))
	}
	return []any{d.AccountID, d.Region, d.Name, string(d.Type), d.Status, toDB(d.Created), d.VerifyTokenHash,
		optDB(d.VerifyExpires), optDB(d.VerifyStarted), d.DomainToken, strings.Join(d.DKIM.Tokens, " "),
		d.DKIM.Origin, boolDB(d.DKIM.SigningEnabled), d.DKIM.Status, d.DKIM.KeyLength, d.DKIM.NextKeyLength,
		sealed, d.DKIM.Selector, optDB(d.DKIM.KeyGenerated), d.MailFrom.Domain, d.MailFrom.Behavior,
		d.MailFrom.Status, optDB(d.MailFrom.Started), boolDB(d.FeedbackForwarding), boolDB(d.DKIM.SigningSet),
		optDB(d.Check.Checked), optDB(d.Check.Succeeded), d.Check.Error,
		d.Check.SOA.PrimaryNameServer, d.Check.SOA.AdminEmail, d.Check.SOA.SerialNumber}
}

func normalizeDetails(d *IdentityDetails) {
	if d.Type == "" {
		d.Type = TypeOf(d.Name)
	}
	d.Name = IdentityKey(d.Name)
	if d.Status == "" {
		d.Status = StatusPending
	}
	if d.Created.IsZero() {
		d.Created = time.Now()
	}
	if d.DKIM.Status == "" {
		d.DKIM.Status = StatusNotStarted
	}
	if d.MailFrom.Behavior == "" {
		d.MailFrom.Behavior = MailFromUseDefault
	}
}

// CreateIdentity adds an identity with its details: ErrExists if it is
// there already, ErrLimitExceeded when the account has max identities in
// the region. Defaults as PutIdentity; DKIM status NotStarted.
func (s *Store) CreateIdentity(ctx context.Context, d IdentityDetails, max int) error {
	normalizeDetails(&d)
	what := fmt.Sprintf("create identity %s of %s in %s", d.Name, d.AccountID, d.Region)
	return s.inTx(ctx, what, func(tx *sql.Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM identities WHERE account_id = ? AND region = ? AND name = ?`,
			d.AccountID, d.Region, d.Name).Scan(&n); err != nil {
			return fmt.Errorf("store: %s: %w", what, err)
		}
		if n > 0 {
			return fmt.Errorf("store: %s: %w", what, ErrExists)
		}
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM identities WHERE account_id = ? AND region = ?`,
			d.AccountID, d.Region).Scan(&n); err != nil {
			return fmt.Errorf("store: %s: %w", what, err)
		}
		if n >= max {
			return fmt.Errorf("store: %s: %d identities: %w", what, n, ErrLimitExceeded)
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO identities (`+detailColumns+`)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, s.detailArgs(&d)...)
		if err != nil {
			return fmt.Errorf("store: %s: %w", what, err)
		}
		return s.announce(ctx, tx, TopicIdentity, IdentityChangeKey(d.AccountID, d.Region, d.Name))
	})
}

// IdentityDetails looks one identity up with its details (ErrNotFound).
func (s *Store) IdentityDetails(ctx context.Context, accountID, region, name string) (IdentityDetails, error) {
	key := IdentityKey(name)
	d, err := s.scanDetails(s.reads.QueryRowContext(ctx, `SELECT `+detailColumns+` FROM identities
		WHERE account_id = ? AND region = ? AND name = ?`, accountID, region, key))
	if errors.Is(err, sql.ErrNoRows) {
		return d, fmt.Errorf("store: identity %s of %s in %s: %w", key, accountID, region, ErrNotFound)
	}
	if err != nil {
		return d, fmt.Errorf("store: identity %s of %s in %s: %w", key, accountID, region, err)
	}
	return d, nil
}

// UpdateIdentity reads an identity's details, lets fn change them and
// writes them back, in one write transaction, so the verifier and API
// requests changing the same identity do not lose each other's updates.
// ErrNotFound if absent; fn's error aborts. Name, account, region and type
// cannot change.
func (s *Store) UpdateIdentity(ctx context.Context, accountID, region, name string, fn func(*IdentityDetails) error) (IdentityDetails, error) {
	key := IdentityKey(name)
	what := fmt.Sprintf("update identity %s of %s in %s", key, accountID, region)
	var out IdentityDetails
	err := s.inTx(ctx, what, func(tx *sql.Tx) error {
		d, err := s.scanDetails(tx.QueryRowContext(ctx, `SELECT `+detailColumns+` FROM identities
			WHERE account_id = ? AND region = ? AND name = ?`, accountID, region, key))
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("store: %s: %w", what, ErrNotFound)
		}
		if err != nil {
			return fmt.Errorf("store: %s: %w", what, err)
		}
		if err := fn(&d); err != nil {
			return err
		}
		d.AccountID, d.Region, d.Name = accountID, region, key
		normalizeDetails(&d)
		args := s.detailArgs(&d)
		_, err = tx.ExecContext(ctx, `UPDATE identities SET type = ?, status = ?, created_at = ?, verify_token_hash = ?,
			verify_expires_at = ?, verify_started_at = ?, domain_token = ?, dkim_tokens = ?, dkim_origin = ?,
			dkim_signing_enabled = ?, dkim_status = ?, dkim_key_length = ?, dkim_next_key_length = ?,
			dkim_key_sealed = ?, dkim_selector = ?, dkim_key_generated_at = ?, mail_from_domain = ?,
			mail_from_behavior = ?, mail_from_status = ?, mail_from_started_at = ?, feedback_forwarding = ?,
			dkim_signing_set = ?, verify_checked_at = ?, verify_succeeded_at = ?, verify_error = ?,
			verify_soa_ns = ?, verify_soa_admin = ?, verify_soa_serial = ?
			WHERE account_id = ? AND region = ? AND name = ?`, append(args[3:], args[:3]...)...)
		if err != nil {
			return fmt.Errorf("store: %s: %w", what, err)
		}
		out = d
		return s.announce(ctx, tx, TopicIdentity, IdentityChangeKey(accountID, region, key))
	})
	return out, err
}

// IdentityByVerifyToken finds the identity whose email link token hashes
// to hash (ErrNotFound).
func (s *Store) IdentityByVerifyToken(ctx context.Context, hash string) (IdentityDetails, error) {
	if hash == "" {
		return IdentityDetails{}, fmt.Errorf("store: identity by token: %w", ErrNotFound)
	}
	d, err := s.scanDetails(s.reads.QueryRowContext(ctx, `SELECT `+detailColumns+` FROM identities
		WHERE verify_token_hash = ?`, hash))
	if errors.Is(err, sql.ErrNoRows) {
		return d, fmt.Errorf("store: identity by token: %w", ErrNotFound)
	}
	if err != nil {
		return d, fmt.Errorf("store: identity by token: %w", err)
	}
	return d, nil
}

// IdentitiesInProgress lists, over every account and region, the
// identities with a verification still running: identity, DKIM or MAIL
// FROM status Pending or TemporaryFailure — the verifier's work list.
func (s *Store) IdentitiesInProgress(ctx context.Context) ([]IdentityDetails, error) {
	rows, err := s.reads.QueryContext(ctx, `SELECT `+detailColumns+` FROM identities
		WHERE status IN ('Pending', 'TemporaryFailure') OR dkim_status IN ('Pending', 'TemporaryFailure')
		OR mail_from_status IN ('Pending', 'TemporaryFailure') ORDER BY account_id, region, name`)
	if err != nil {
		return nil, fmt.Errorf("store: identities in progress: %w", err)
	}
	defer rows.Close()
	var out []IdentityDetails
	for rows.Next() {
		d, err := s.scanDetails(rows)
		if err != nil {
			return nil, fmt.Errorf("store: identities in progress: %w", err)
		}
		out = append(out, d)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: identities in progress: %w", err)
	}
	return out, nil
}
