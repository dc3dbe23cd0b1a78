package sending

import (
	"context"
	"fmt"

	"sesame/internal/policy"
	"sesame/internal/seserr"
	"sesame/internal/store"
)

// Key is an access key as the Sender caches it: the stored key and, when it
// has one, its policy, parsed when the key is loaded (once per cacheTTL),
// never per request or message.
type Key struct {
	store.AccessKey
	// policy is the parsed Policy; nil when the key has none.
	policy *policy.Document
	// policyErr is why a stored policy did not parse (a document a newer
	// or older sesame accepted): the key is then refused everything rather
	// than given its account's full rights.
	policyErr error
}

// NewKey parses k's policy, if it has one.
func NewKey(k store.AccessKey) Key {
	key := Key{AccessKey: k}
	if k.Policy != "" {
		key.policy, key.policyErr = policy.Parse(k.Policy, policy.Key, "")
		if key.policyErr != nil {
			key.policyErr = fmt.Errorf("sending: access key %s: stored policy: %w", k.ID, key.policyErr)
		}
	}
	return key
}

// Scoped reports whether the key is held to a policy (one that did not
// parse included).
func (k Key) Scoped() bool { return k.policy != nil || k.policyErr != nil }

// Authorize decides r (Action, Resource and the request's context filled
// in) by the key's policy, as IAM decides for a user with that policy
// attached: an explicit Deny wins, no Allow is a refusal. A key without a
// policy may do anything its account may. A refusal is
// seserr.KeyNotAuthorized.
func (k Key) Authorize(r policy.Request) error {
	switch {
	case k.policyErr != nil:
		return seserr.KeyNotAuthorized(k.UserARN(), r.Action, r.Resource, false).Wrap(k.policyErr)
	case k.policy == nil:
		return nil
	}
	switch k.policy.Evaluate(r) {
	case policy.Allow:
		return nil
	case policy.Deny:
		return seserr.KeyNotAuthorized(k.UserARN(), r.Action, r.Resource, true)
	}
	return seserr.KeyNotAuthorized(k.UserARN(), r.Action, r.Resource, false)
}

// AccessKey looks up an access key through the Sender's cache (at most a
// second stale), so the API's SigV4 check and SMTP AUTH read keys the same
// way and neither queries the store per request.
func (s *Sender) AccessKey(ctx context.Context, id string) (store.AccessKey, error) {
	k, err := s.key(ctx, id)
	return k.AccessKey, err
}

// Key is AccessKey with the key's parsed policy, for the API's checks of
// each call (Key.Authorize).
func (s *Sender) Key(ctx context.Context, id string) (Key, error) { return s.key(ctx, id) }

func (s *Sender) key(ctx context.Context, id string) (Key, error) {
	return s.keys.Get(ctx, id, func(ctx context.Context) (Key, error) {
		k, err := s.store.AccessKey(ctx, id)
		if err != nil {
			return Key{}, err
		}
		return NewKey(k), nil
	})
}
