package sending

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"sesame/internal/policy"
	"sesame/internal/seserr"
	"sesame/internal/store"
)

// Sending authorization (spec §10): a delegate account sends as another
// account's identity by naming the identity's ARN — SourceArn, FromArn,
// ReturnPathArn (v1), FromEmailAddressIdentityArn and FeedbackForwarding
// EmailAddressIdentityArn (v2, mapped onto the first three by the API), or
// the X-SES-SOURCE-ARN, X-SES-FROM-ARN, X-SES-RETURN-PATH-ARN headers. A
// submission's own ARN beats the header of its slot (parameters beat
// headers; v2's FromEmailAddressIdentityArn fills both the source and the
// from slot, so it overrides both headers).
//
// An ARN authorizes the message's addresses its identity covers (the
// address identity, or the domain identity of the address's domain or a
// parent); an ARN that covers none of them authorizes nothing and is
// refused. The owner's identity must be verified in the owner's account,
// and the owner's policies must allow the delegate (policy.Decide: a Deny
// or no matching statement refuses). The send is the delegate's: its
// quota, its sandbox — and the owner's sandbox too, both must be out of it
// for unverified recipients. The owner's identities are the message's
// where they cover its addresses: spool.Meta.SigningAccountID (the From
// address's: its key signs) and IdentityAccountID (the envelope sender's:
// MAIL FROM domain, notifications, events' sourceArn) tell delivery and
// events. A delegate's own key policy is asked about the owner's identity
// ARN (keypolicy.go).

// delegation is what authorize learnt: the addresses the ARNs cover (not
// checked against the sender's own identities) and the owner accounts
// whose sandbox also applies.
type delegation struct {
	covered map[string]coverage // address → the named identity covering it
	owners  []ownerIdentity
}

// coverage is the identity an ARN names for an address: its account and
// its canonical ARN.
type coverage struct{ account, arn string }

// accountOf is the owner account whose identity covers addr, "" when
// addr is the sender's own (not delegated, or an ARN of its own account).
func (d *delegation) accountOf(addr, sender string) string {
	if c := d.covered[addr]; c.account != sender {
		return c.account
	}
	return ""
}

// ownerIdentity is what sending needs of an owner account.
type ownerIdentity struct {
	ids        *identitySet // its verified identities
	production bool         // out of the sandbox
}

// identityARN is a parsed arn:aws:ses:REGION:ACCOUNT:identity/NAME.
type identityARN struct{ raw, region, account, name string }

// canonical is the ARN naming the identity as the store keys it (domains
// lower-case): what the owner's documents were validated against and
// what their Resource patterns match.
func (a identityARN) canonical() string {
	return "arn:aws:ses:" + a.region + ":" + a.account + ":identity/" + store.IdentityKey(a.name)
}

// policyKey keys the policy cache: one identity of one account and region.
func policyKey(account, region, name string) string {
	return account + "\x00" + region + "\x00" + store.IdentityKey(name)
}

// IdentityPoliciesChanged drops the cached policies of an identity, so a
// change made through this process applies to the very next message (as
// IdentitiesChanged does for identities).
func (s *Sender) IdentityPoliciesChanged(account, region, identity string) {
	s.policies.Forget(policyKey(account, region, identity))
}

func parseIdentityARN(raw string) (identityARN, bool) {
	parts := strings.SplitN(raw, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" || !strings.HasPrefix(parts[1], "aws") || parts[2] != "ses" {
		return identityARN{}, false
	}
	name, ok := strings.CutPrefix(parts[5], "identity/")
	if !ok || name == "" || !policy.IsAccountID(parts[4]) {
		return identityARN{}, false
	}
	return identityARN{raw: raw, region: parts[3], account: parts[4], name: name}, true
}

// covers reports whether identity name covers addr.
func covers(name, addr string) bool {
	key := store.IdentityKey(strings.TrimSuffix(name, "."))
	for _, n := range store.IdentityNames(addr) {
		if store.IdentityKey(n) == key {
			return true
		}
	}
	return false
}

// authorize checks the ARNs of the submission and its headers (none: the
// zero delegation). The message sends as the envelope sender, the header
// senders (From, Sender) and feedbackTo (the Return-Path); request builds
// the send as the owner's policies see it (its Resource is set per ARN),
// only when there is an ARN to decide.
func (s *Sender) authorize(ctx context.Context, sub *Submission, h *header, senders []string, feedbackTo string, request func() policy.Request) (delegation, error) {
	var d delegation
	arns, err := slotARNs(sub, h)
	if err != nil || len(arns) == 0 {
		return d, err
	}
	addrs := senders
	if sub.MailFrom != "" {
		addrs = append([]string{sub.MailFrom}, senders...)
	}
	if feedbackTo != "" && feedbackTo != sub.MailFrom {
		addrs = append(addrs[:len(addrs):len(addrs)], feedbackTo)
	}
	req := request()
	user := "arn:aws:iam::" + sub.AccountID + ":root"
	d.covered = map[string]coverage{}
	for _, a := range arns {
		var mine []string // the addresses a covers
		for _, addr := range addrs {
			if covers(a.name, addr) && !slices.Contains(mine, addr) {
				mine = append(mine, addr)
				if _, ok := d.covered[addr]; !ok {
					// The first ARN covering it: source, from, return path.
					d.covered[addr] = coverage{a.account, a.canonical()}
				}
			}
		}
		if len(mine) == 0 {
			// The identity covers none of the message's addresses: it
			// authorizes nothing here, as SES answers.
			return d, seserr.SendingNotAuthorized(user, req.Action, a.raw)
		}
		o, err := s.ownerIdentity(ctx, a)
		if err != nil {
			return d, err
		}
		if !o.ids.has(a.name) {
			return d, seserr.NotVerified(sub.Region, mine)
		}
		d.owners = append(d.owners, o)
		if a.account == sub.AccountID {
			continue // one's own identity needs no policy
		}
		docs, err := s.identityPolicies(ctx, a)
		if err != nil {
			return d, err
		}
		req.Resource = a.canonical()
		if policy.Decide(docs, req) != policy.Allow {
			return d, seserr.SendingNotAuthorized(user, req.Action, a.raw)
		}
	}
	return d, nil
}

// slotARNs reads the source, from and return-path ARNs, each the call's or
// else its header's, without repeats; one that is not an identity ARN of
// the submission's region is refused.
func slotARNs(sub *Submission, h *header) ([]identityARN, error) {
	slots := []struct{ param, header, name string }{
		{sub.SourceArn, h.sourceArn, "SourceArn"},
		{sub.FromArn, h.fromArn, "FromArn"},
		{sub.ReturnPathArn, h.returnPathArn, "ReturnPathArn"},
	}
	var arns []identityARN
	for _, sl := range slots {
		raw := sl.param
		if raw == "" {
			raw = sl.header
		}
		if raw == "" {
			continue
		}
		a, ok := parseIdentityARN(raw)
		if !ok || a.region != sub.Region {
			return nil, seserr.InvalidIdentityArn(sl.name, raw, sub.Region)
		}
		if !slices.ContainsFunc(arns, func(b identityARN) bool { return b.raw == a.raw }) {
			arns = append(arns, a)
		}
	}
	return arns, nil
}

// ownerIdentity reads what sending needs of the owner account: its
// verified identities and whether it is out of the sandbox.
func (s *Sender) ownerIdentity(ctx context.Context, a identityARN) (ownerIdentity, error) {
	var o ownerIdentity
	key := accountRegion{a.account, a.region}
	ids, err := s.identities.Get(ctx, key, func(ctx context.Context) (*identitySet, error) {
		list, err := s.store.Identities(ctx, a.account, a.region)
		if err != nil {
			return nil, err
		}
		return newIdentitySet(list, s.development), nil
	})
	if err != nil {
		return o, seserr.TemporaryFailure().Wrap(fmt.Errorf("sending: identities of %s in %s: %w", a.account, a.region, err))
	}
	o.ids = ids
	if o.production, err = s.Production(ctx, a.account, a.region); err != nil {
		return o, err
	}
	return o, nil
}

// identityPolicies is the owner identity's parsed policies, through a
// cache as stale as the other policy data. A stored document that no
// longer parses (the grammar tightened since) is skipped, with a warning:
// it allows nothing.
func (s *Sender) identityPolicies(ctx context.Context, a identityARN) ([]*policy.Document, error) {
	docs, err := s.policies.Get(ctx, policyKey(a.account, a.region, a.name), func(ctx context.Context) ([]*policy.Document, error) {
		list, err := s.store.IdentityPolicies(ctx, a.account, a.region, a.name)
		if errors.Is(err, store.ErrNotFound) {
			return nil, nil // the identity is gone: nothing allows
		}
		if err != nil {
			return nil, err
		}
		var out []*policy.Document
		for _, p := range list {
			doc, err := policy.Parse(p.Policy, policy.Identity, a.canonical())
			if err != nil {
				s.logger.Warn("sending: a stored identity policy does not parse; it allows nothing", "identity", a.raw, "policy", p.Name, "err", err)
				continue
			}
			out = append(out, doc)
		}
		return out, nil
	})
	if err != nil {
		return nil, seserr.TemporaryFailure().Wrap(fmt.Errorf("sending: policies of %s: %w", a.raw, err))
	}
	return docs, nil
}

// has reports whether the set holds identity name itself (verified).
func (s *identitySet) has(name string) bool {
	if store.TypeOf(name) == store.Domain {
		_, ok := s.domains[strings.ToLower(strings.TrimSuffix(name, "."))]
		return ok
	}
	local, domain := splitAddress(name)
	_, ok := s.addresses[strings.ToLower(domain)][local]
	return ok
}

// SenderAllowed is the sender check of a message sesame writes for
// account on its request (SendBounce's BounceSender and BounceSenderArn),
// by the rules a submission's sender gets: without arn, a verified
// identity of the account's covers addr; with arn (an identity of region,
// given as parameter arnParam), that identity covers addr and is verified
// in its owner's account, and — another account's — the owner's policies
// allow ses:SendRawEmail on it (the message is a raw one sesame writes;
// identity policies grant only the sending actions). call names the
// operation in a refusal.
func (s *Sender) SenderAllowed(ctx context.Context, account, region, addr, arn, arnParam, call string) error {
	if arn == "" {
		ok, err := s.SenderVerified(ctx, account, region, addr)
		if err != nil {
			return err
		}
		if !ok {
			return seserr.NotVerified(region, []string{addr})
		}
		return nil
	}
	a, ok := parseIdentityARN(arn)
	if !ok || a.region != region {
		return seserr.InvalidIdentityArn(arnParam, arn, region)
	}
	user := "arn:aws:iam::" + account + ":root"
	if !covers(a.name, addr) {
		return seserr.SendingNotAuthorized(user, call, arn)
	}
	o, err := s.ownerIdentity(ctx, a)
	if err != nil {
		return err
	}
	if !o.ids.has(a.name) {
		return seserr.NotVerified(region, []string{addr})
	}
	if a.account == account {
		return nil
	}
	docs, err := s.identityPolicies(ctx, a)
	if err != nil {
		return err
	}
	r := policy.Request{Principal: account, PrincipalARN: user, Action: "ses:SendRawEmail", Resource: a.canonical(),
		FromAddress: addr, APIVersion: "1", Time: s.clk.Now(), SecureTransport: true}
	if policy.Decide(docs, r) != policy.Allow {
		return seserr.SendingNotAuthorized(user, call, arn)
	}
	return nil
}
