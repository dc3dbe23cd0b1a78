// Package store keeps sesame's state that is not a message: accounts, access
// keys (secrets encrypted at rest), identities, per-region account settings,
// captured mail and send counters. Everything is keyed by account and region,
// as in SES. SQLite (modernc.org/sqlite, pure Go) in the data dir is the
// embedded default; SQL stays portable for PostgreSQL later.
//
// The store never decides policy; it answers and records.
//
// CONTRACT STUB: the signatures below are the package's API; bodies to be
// implemented.
package store

import (
	"context"
	"errors"
	"time"
)

// ErrNotFound is returned (wrapped) when a looked-up row does not exist.
var ErrNotFound = errors.New("store: not found")

// Store is the state database.
type Store struct{}

// Open opens (creating and migrating if needed) the store in dataDir:
// the database file and the key that encrypts secrets at rest.
func Open(dataDir string) (*Store, error) { panic("store: not implemented") }

// Close closes the database.
func (s *Store) Close() error { panic("store: not implemented") }

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
}

// CreateAccount makes an account and its first access key.
func (s *Store) CreateAccount(ctx context.Context) (Account, AccessKey, error) {
	panic("store: not implemented")
}

// Accounts lists all accounts.
func (s *Store) Accounts(ctx context.Context) ([]Account, error) { panic("store: not implemented") }

// CreateAccessKey adds an access key to an account.
func (s *Store) CreateAccessKey(ctx context.Context, accountID string) (AccessKey, error) {
	panic("store: not implemented")
}

// AccessKey looks up a key by id (ErrNotFound if unknown).
func (s *Store) AccessKey(ctx context.Context, keyID string) (AccessKey, error) {
	panic("store: not implemented")
}

// AccountSettings are an account's sending settings in one region.
type AccountSettings struct {
	AccountID      string  `json:"account_id"`
	Region         string  `json:"region"`
	Production     bool    `json:"production_access_enabled"`
	SendingEnabled bool    `json:"sending_enabled"`
	MaxSendRate    float64 `json:"max_send_rate"`   // recipients per second
	Max24HourSend  float64 `json:"max_24hour_send"` // recipients per rolling 24 h; -1 = unlimited
}

// DefaultSettings are SES's for a new account in a region: the sandbox,
// 1 recipient/s, 200 per 24 h, sending enabled.
func DefaultSettings(accountID, region string) AccountSettings {
	return AccountSettings{AccountID: accountID, Region: region, SendingEnabled: true, MaxSendRate: 1, Max24HourSend: 200}
}

// AccountSettings returns the settings, or DefaultSettings when none were put.
func (s *Store) AccountSettings(ctx context.Context, accountID, region string) (AccountSettings, error) {
	panic("store: not implemented")
}

// PutAccountSettings writes the settings.
func (s *Store) PutAccountSettings(ctx context.Context, set AccountSettings) error {
	panic("store: not implemented")
}

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
}

// PutIdentity creates or replaces an identity.
func (s *Store) PutIdentity(ctx context.Context, id Identity) error { panic("store: not implemented") }

// Identity looks one up (ErrNotFound if absent).
func (s *Store) Identity(ctx context.Context, accountID, region, name string) (Identity, error) {
	panic("store: not implemented")
}

// Identities lists an account's identities in a region.
func (s *Store) Identities(ctx context.Context, accountID, region string) ([]Identity, error) {
	panic("store: not implemented")
}

// DeleteIdentity removes one (no error if absent).
func (s *Store) DeleteIdentity(ctx context.Context, accountID, region, name string) error {
	panic("store: not implemented")
}

// Captured is a message kept by capture delivery.
type Captured struct {
	ID         string    `json:"id"` // SES MessageId
	AccountID  string    `json:"account_id"`
	Region     string    `json:"region"`
	MailFrom   string    `json:"mail_from"`
	Recipients []string  `json:"recipients"`
	Raw        []byte    `json:"raw"`
	Received   time.Time `json:"received"`
	Outcome    string    `json:"outcome"` // "delivered", or a simulator outcome: "bounce", "ooto", "complaint", "suppressionlist"
}

// CaptureFilter selects captured messages; empty fields match all.
type CaptureFilter struct {
	ID    string // message id
	Email string // matches the envelope sender or any recipient
}

// AddCaptured records messages; a message id already present is ignored, so
// replays after a crash never duplicate.
func (s *Store) AddCaptured(ctx context.Context, msgs []Captured) error {
	panic("store: not implemented")
}

// Captured lists captured messages, oldest first.
func (s *Store) Captured(ctx context.Context, f CaptureFilter) ([]Captured, error) {
	panic("store: not implemented")
}

// DeleteCaptured removes captured messages and says how many.
func (s *Store) DeleteCaptured(ctx context.Context, f CaptureFilter) (int, error) {
	panic("store: not implemented")
}

// SendCount is how many recipients an account sent to in one region in one
// minute, for the rolling 24-hour quota.
type SendCount struct {
	AccountID string
	Region    string
	Minute    time.Time // truncated to the minute, UTC
	N         int64
}

// AddSendCounts adds to the per-minute counters.
func (s *Store) AddSendCounts(ctx context.Context, counts []SendCount) error {
	panic("store: not implemented")
}

// SendCountsSince returns an account's per-minute counters in a region from
// since on.
func (s *Store) SendCountsSince(ctx context.Context, accountID, region string, since time.Time) ([]SendCount, error) {
	panic("store: not implemented")
}
