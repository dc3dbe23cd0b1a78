package sending

import (
	"sesame/internal/store"
)

// IdentitiesChanged drops the cached identities of account in region, so
// the next submission reloads them: a change made through this process (an
// identity verified, deleted, its MAIL FROM changed) applies to the very
// next message, not up to cacheTTL later. Identity changes made by another
// process (`sesame admin`, another node) arrive through Changed.
//
// Call it after the change is committed: a load that begins afterwards
// reads the new state; one already under way finishes into the dropped
// entry and serves only its own callers.
func (s *Sender) IdentitiesChanged(account, region string) {
	s.identities.Forget(accountRegion{account, region})
}

// Changed drops what a change announced by the store (store.Watch) made
// stale: another node or `sesame admin` paused the account, changed its
// enforcement status or limits, paused or changed a configuration set,
// created, verified, changed or deleted an identity or its policies,
// created, deactivated, deleted or scoped an access key. With it, such
// changes apply within the store's notification delay (well under a
// second) instead of cacheTTL. It only touches the caches, as Watch asks.
func (s *Sender) Changed(c store.Change) {
	if c.All {
		s.settings.Clear()
		s.identities.Clear()
		s.keys.Clear()
		s.policies.Clear()
		s.configSets.Clear()
		s.trackingPlans.Clear()
		return
	}
	switch c.Topic {
	case store.TopicAccount:
		if account, region, ok := store.SplitAccountKey(c.Key); ok {
			s.settings.Forget(accountRegion{account, region})
		}
	case store.TopicConfigSet:
		if account, region, name, ok := store.SplitConfigSetKey(c.Key); ok {
			k := configSetKey{account, region, name}
			s.configSets.Forget(k)
			s.trackingPlans.Forget(k)
		}
	case store.TopicIdentity:
		// The identities are cached per account and region (a domain
		// covers its addresses), the policies per identity.
		if account, region, name, ok := store.SplitIdentityChangeKey(c.Key); ok {
			s.identities.Forget(accountRegion{account, region})
			s.policies.Forget(policyKey(account, region, name))
		}
	case store.TopicAccessKey:
		s.keys.Forget(c.Key) // a Key carries its parsed policy too
	}
}
