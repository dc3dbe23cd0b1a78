package sending

import (
	"context"

	"sesame/internal/store"
)

// AccessKey looks up an access key through the Sender's cache (at most a
// second stale), so the API's SigV4 check and SMTP AUTH read keys the same
// way and neither queries the store per request.
func (s *Sender) AccessKey(ctx context.Context, id string) (store.AccessKey, error) {
	return s.keys.Get(ctx, id, func(ctx context.Context) (store.AccessKey, error) {
		return s.store.AccessKey(ctx, id)
	})
}
