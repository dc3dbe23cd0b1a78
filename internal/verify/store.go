package verify

import (
	"context"

	"sesame/internal/store"
)

// Store is what the Verifier needs of the state store (identities and their
// verification state), declared here rather than taken as *store.Store so
// the package depends on these methods only, whichever backend (SQLite,
// PostgreSQL) or test fake serves them; *store.Store implements it.
type Store interface {
	CreateIdentity(ctx context.Context, d store.IdentityDetails, max int) error
	DeleteIdentity(ctx context.Context, accountID, region, name string) error
	IdentitiesInProgress(ctx context.Context) ([]store.IdentityDetails, error)
	IdentityByVerifyToken(ctx context.Context, hash string) (store.IdentityDetails, error)
	IdentityDetails(ctx context.Context, accountID, region, name string) (store.IdentityDetails, error)
	UpdateIdentity(ctx context.Context, accountID, region, name string, fn func(*store.IdentityDetails) error) (store.IdentityDetails, error)
}
