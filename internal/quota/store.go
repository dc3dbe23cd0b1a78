package quota

import (
	"context"
	"time"

	"sesame/internal/store"
)

// Store is what the Limiter needs of the state store (the persisted send
// counts), declared here rather than taken as *store.Store so the package
// depends on these methods only, whichever backend (SQLite, PostgreSQL) or
// test fake serves them; *store.Store implements it.
type Store interface {
	AddSendCounts(ctx context.Context, counts []store.SendCount) error
	SendCountsSince(ctx context.Context, accountID, region string, since time.Time) ([]store.SendCount, error)
}
