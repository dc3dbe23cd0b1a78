package sending

import (
	"context"
	"fmt"

	"sesame/internal/seserr"
	"sesame/internal/store"
)

// SenderVerified reports whether addr may be the sender of account's mail
// in region by the rule Submit applies (the address, or its domain or a
// parent domain, is a verified identity; every identity counts in
// development mode). Custom verification templates need it of their From.
func (s *Sender) SenderVerified(ctx context.Context, account, region, addr string) (bool, error) {
	if s.development {
		return true, nil
	}
	key := accountRegion{account, region}
	ids, err := s.identities.Get(ctx, key, func(ctx context.Context) (*identitySet, error) {
		list, err := s.store.Identities(ctx, account, region)
		if err != nil {
			return nil, err
		}
		return newIdentitySet(list, s.development), nil
	})
	if err != nil {
		return false, seserr.TemporaryFailure().Wrap(fmt.Errorf("sending: identities of %s in %s: %w", account, region, err))
	}
	return ids.verified(addr), nil
}

// Production reports whether account is out of the sandbox in region
// (always in development mode, as Enforced says).
func (s *Sender) Production(ctx context.Context, account, region string) (bool, error) {
	set, err := s.settings.Get(ctx, accountRegion{account, region}, func(ctx context.Context) (store.AccountSettings, error) {
		return s.store.AccountSettings(ctx, account, region)
	})
	if err != nil {
		return false, seserr.TemporaryFailure().Wrap(fmt.Errorf("sending: settings of %s in %s: %w", account, region, err))
	}
	return s.Enforced(set).Production, nil
}
