package api

import (
	"context"
	"errors"

	"sesame/internal/seserr"
	"sesame/internal/store"
)

// The configuration-set group: Create/Get/List/DeleteConfigurationSet and
// the option puts (v2); Create/Describe/List/DeleteConfigurationSet (v1).
// checkConfigurationSet is what sending asks before it sends through one.

func (s *Server) registerConfigurationSets() {}

// checkConfigurationSet is nil when name is "" or names a configuration set
// of the signer's account in the signer's region; otherwise SES's not-found
// error (v2 NotFoundException, v1 ConfigurationSetDoesNotExist).
func (s *Server) checkConfigurationSet(ctx context.Context, name string) error {
	if name == "" {
		return nil
	}
	p := principal(ctx)
	_, err := s.cfg.Store.ConfigurationSet(ctx, p.AccountID, p.Region, name)
	if errors.Is(err, store.ErrNotFound) {
		return seserr.ConfigurationSetDoesNotExist(name)
	}
	return err
}
