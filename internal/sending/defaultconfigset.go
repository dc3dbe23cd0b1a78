package sending

import (
	"context"
	"errors"
	"fmt"

	"strings"

	"sesame/internal/seserr"
	"sesame/internal/store"
)

// An identity's default configuration set (CreateEmailIdentity's
// ConfigurationSetName, PutEmailIdentityConfigurationSetAttributes) goes
// with a message sent from it that names no set itself: neither the API
// call nor an X-SES-CONFIGURATION-SET header. The identity is the one that
// covers the message's (first) From address; as for MAIL FROM, the most
// specific verified identity with a default set decides (address, the
// address without its +label, the domain, each parent domain). A default
// set that no longer exists is ignored; one with sending paused refuses
// the message as a named one would.

// addConfigSet records id's default configuration set (verified identities only).
func (s *identitySet) addConfigSet(id store.Identity) {
	if id.ConfigurationSet == "" {
		return
	}
	if s.configSet == nil {
		s.configSet = map[string]string{}
	}
	s.configSet[mailFromKey(id.Name)] = id.ConfigurationSet
}

// configSetFor returns the default configuration set of the identity
// covering addr, or "".
func (s *identitySet) configSetFor(addr string) string {
	if len(s.configSet) == 0 {
		return ""
	}
	local, domain := splitAddress(addr)
	if domain == "" {
		return ""
	}
	domain = strings.ToLower(domain)
	if cs, ok := s.configSet[local+"@"+domain]; ok {
		return cs
	}
	if plus := strings.IndexByte(local, '+'); plus > 0 {
		if cs, ok := s.configSet[local[:plus]+"@"+domain]; ok {
			return cs
		}
	}
	for d := domain; d != ""; {
		if cs, ok := s.configSet[d]; ok {
			return cs
		}
		dot := strings.IndexByte(d, '.')
		if dot < 0 {
			break
		}
		d = d[dot+1:]
	}
	return ""
}

// withDefaultConfigSet returns the configuration set a message goes with:
// set when the submission or its headers named one, else the sender
// identity's default configuration set, if any.
func (s *Sender) withDefaultConfigSet(ctx context.Context, accountID, region, set string, ids *identitySet, senders []string) (string, error) {
	if set != "" || len(senders) == 0 {
		return set, nil
	}
	name := ids.configSetFor(senders[0])
	if name == "" {
		return "", nil
	}
	cs, err := s.configSets.Get(ctx, configSetKey{accountID, region, name}, func(ctx context.Context) (store.ConfigurationSet, error) {
		return s.store.ConfigurationSet(ctx, accountID, region, name)
	})
	switch {
	case errors.Is(err, store.ErrNotFound):
		return "", nil
	case err != nil:
		return "", seserr.TemporaryFailure().Wrap(fmt.Errorf("sending: default configuration set %s of %s in %s: %w", name, accountID, region, err))
	case !cs.SendingEnabled():
		return "", seserr.ConfigurationSetSendingPaused(name)
	}
	return name, nil
}
