package sending

// IdentitiesChanged drops the cached identities of account in region, so
// the next submission reloads them: a change made through this process (an
// identity verified, deleted, its MAIL FROM changed) applies to the very
// next message, not up to cacheTTL later. Changes made by another process
// (`sesame admin`) still arrive within cacheTTL.
//
// Call it after the change is committed: a load that begins afterwards
// reads the new state; one already under way finishes into the dropped
// entry and serves only its own callers.
func (s *Sender) IdentitiesChanged(account, region string) {
	s.identities.Forget(accountRegion{account, region})
}
