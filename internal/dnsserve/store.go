package dnsserve

import (
	"context"

	"sesame/internal/store"
)

// Store is what the Server reads of the state store (the identities whose
// DKIM records it answers), declared here rather than taken as *store.Store
// so the package depends on these methods only, whichever backend (SQLite,
// PostgreSQL) or test fake serves them; *store.Store implements it.
type Store interface {
	EasyDKIMIdentities(ctx context.Context, region string) ([]store.IdentityDetails, error)
}
