package sending

import (
	"context"
	"errors"
	"fmt"

	"sesame/internal/seserr"
	"sesame/internal/store"
)

type configSetKey struct{ account, region, name string }

// CheckConfigurationSet is SES's rule for a send naming a configuration
// set: it must exist in the account's region and have sending enabled. An
// empty name passes. Lookups go through a cache at most a second stale.
func (s *Sender) CheckConfigurationSet(ctx context.Context, accountID, region, name string) error {
	if name == "" {
		return nil
	}
	cs, err := s.configSets.Get(ctx, configSetKey{accountID, region, name}, func(ctx context.Context) (store.ConfigurationSet, error) {
		return s.store.ConfigurationSet(ctx, accountID, region, name)
	})
	switch {
	case errors.Is(err, store.ErrNotFound):
		return seserr.ConfigurationSetDoesNotExist(name)
	case err != nil:
		return seserr.TemporaryFailure().Wrap(fmt.Errorf("sending: configuration set %s of %s in %s: %w", name, accountID, region, err))
	case !cs.SendingEnabled():
		return seserr.ConfigurationSetSendingPaused(name)
	}
	return nil
}
