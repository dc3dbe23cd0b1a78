package admin

import (
	"context"
	"time"

	"sesame/internal/dkim"
	"sesame/internal/receipt"
	"sesame/internal/store"
)

// Store is what the admin commands need of the state store, declared here
// rather than taken as *store.Store so the package depends on these methods
// only, whichever backend (SQLite, PostgreSQL) or test fake serves them;
// *store.Store implements it. It embeds dkim.Store: "dkim zone" hands it on
// to dkim.Records.
type Store interface {
	dkim.Store

	AccessKey(ctx context.Context, keyID string) (store.AccessKey, error)
	AccessKeys(ctx context.Context, accountID string) ([]store.AccessKey, error)
	Account(ctx context.Context, accountID string) (store.Account, error)
	AccountSettings(ctx context.Context, accountID, region string) (store.AccountSettings, error)
	Accounts(ctx context.Context) ([]store.Account, error)
	ActiveReceiptRuleSet(ctx context.Context, accountID, region string) (*receipt.RuleSet, error)
	AddConsoleToken(ctx context.Context, token string, now, expires time.Time) error
	Bounces(ctx context.Context, accountID, region, messageID string, limit int) ([]store.Bounce, error)
	ClusterNodes(ctx context.Context) ([]store.ClusterNode, error)
	Complaints(ctx context.Context, accountID, region, messageID string, limit int) ([]store.Complaint, error)
	CreateAccount(ctx context.Context) (store.Account, store.AccessKey, error)
	CreateIdentity(ctx context.Context, d store.IdentityDetails, max int) error
	CreateScopedAccessKey(ctx context.Context, accountID, name, policy string) (store.AccessKey, error)
	DecideReview(ctx context.Context, accountID, region string, grant bool) (store.AccountDetails, error)
	DeleteAccessKey(ctx context.Context, keyID string) error
	DeleteIdentity(ctx context.Context, accountID, region, name string) error
	Identities(ctx context.Context, accountID, region string) ([]store.Identity, error)
	Identity(ctx context.Context, accountID, region, name string) (store.Identity, error)
	IdentityDetails(ctx context.Context, accountID, region, name string) (store.IdentityDetails, error)
	MessageEvents(ctx context.Context, accountID, region, messageID string) ([]store.OutboxEvent, error)
	PendingReviews(ctx context.Context, accountID, region string) ([]store.AccountDetails, error)
	PutAccountSettings(ctx context.Context, set store.AccountSettings) error
	PutIdentity(ctx context.Context, id store.Identity) error
	RecentReceivedMessages(ctx context.Context, accountID, region string, limit int) ([]store.ReceivedMessage, error)
	Reputations(ctx context.Context, accountID string) ([]store.Reputation, error)
	SetAccessKeyActive(ctx context.Context, keyID string, active bool) error
	SetAccessKeyPolicy(ctx context.Context, keyID, policy string) error
	UpdateIdentity(ctx context.Context, accountID, region, name string, fn func(*store.IdentityDetails) error) (store.IdentityDetails, error)
}
