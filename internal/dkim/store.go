package dkim

import (
	"context"

	"sesame/internal/store"
)

// Store is what the Signer and Records read of the state store (identities
// and their DKIM keys), declared here rather than taken as *store.Store so
// the package depends on these methods only, whichever backend (SQLite,
// PostgreSQL) or test fake serves them; *store.Store implements it.
type Store interface {
	EasyDKIMIdentities(ctx context.Context, region string) ([]store.IdentityDetails, error)
	IdentityDetails(ctx context.Context, accountID, region, name string) (store.IdentityDetails, error)
}
