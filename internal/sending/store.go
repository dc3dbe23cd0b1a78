package sending

import (
	"context"

	"sesame/internal/quota"
	"sesame/internal/store"
)

// Store is what the Sender needs of the state store, declared here rather
// than taken as *store.Store so the package depends on these methods only,
// whichever backend (SQLite, PostgreSQL) or test fake serves them;
// *store.Store implements it. It embeds quota.Store: a Sender without a
// Limiter makes its own from the same store.
type Store interface {
	quota.Store

	AccessKey(ctx context.Context, keyID string) (store.AccessKey, error)
	AccountSettings(ctx context.Context, accountID, region string) (store.AccountSettings, error)
	ConfigurationSet(ctx context.Context, accountID, region, name string) (store.ConfigurationSet, error)
	Contact(ctx context.Context, accountID, region, list, email string) (store.Contact, store.ContactList, error)
	ContactList(ctx context.Context, accountID, region, name string) (store.ContactList, error)
	EventDestinations(ctx context.Context, accountID, region, configSet string) ([]store.EventDestination, error)
	Identities(ctx context.Context, accountID, region string) ([]store.Identity, error)
	IdentityPolicies(ctx context.Context, accountID, region, identity string) ([]store.IdentityPolicy, error)
}
