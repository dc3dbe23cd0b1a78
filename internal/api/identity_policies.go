package api

import (
	"context"
	"errors"
	"net/http"
	"regexp"

	"sesame/internal/policy"
	"sesame/internal/sending"
	"sesame/internal/seserr"
	"sesame/internal/store"
)

// The identity policies group (sending authorization): the JSON documents
// an identity's owner attaches to let other accounts send as it. v2
// Create/Get/Update/DeleteEmailIdentityPolicy, v1 Put/Get/List/
// DeleteIdentityPolicy. A document is validated by internal/policy against
// the identity's ARN and kept as given; sending evaluates them
// (internal/sending, authorize.go).

// SES's limits on identity policies.
const maxIdentityPolicies = 20

var policyNamePattern = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

// PolicyStore is what the identity policy operations need of the store.
type PolicyStore interface {
	PutIdentityPolicy(ctx context.Context, accountID, region, identity string, p store.IdentityPolicy, how store.PolicyWrite, max int) error
	IdentityPolicies(ctx context.Context, accountID, region, identity string) ([]store.IdentityPolicy, error)
	DeleteIdentityPolicy(ctx context.Context, accountID, region, identity, name string) error
}

func (s *Server) policyStore() PolicyStore { return s.cfg.Store }

func (s *Server) registerIdentityPolicies() {
	s.handleV2("GET /v2/email/identities/{EmailIdentity}/policies", s.getIdentityPoliciesV2)
	s.handleV2("POST /v2/email/identities/{EmailIdentity}/policies/{PolicyName}", s.createIdentityPolicyV2)
	s.handleV2("PUT /v2/email/identities/{EmailIdentity}/policies/{PolicyName}", s.updateIdentityPolicyV2)
	s.handleV2("DELETE /v2/email/identities/{EmailIdentity}/policies/{PolicyName}", s.deleteIdentityPolicyV2)
	s.handleV1("PutIdentityPolicy", s.putIdentityPolicyV1)
	s.handleV1("GetIdentityPolicies", s.getIdentityPoliciesV1)
	s.handleV1("ListIdentityPolicies", s.listIdentityPoliciesV1)
	s.handleV1("DeleteIdentityPolicy", s.deleteIdentityPolicyV1)
}

// putIdentityPolicy validates and writes one policy of the caller's
// identity name (an identity name or, in v1, its ARN).
func (s *Server) putIdentityPolicy(ctx context.Context, name, policyName, doc string, how store.PolicyWrite) error {
	if !policyNamePattern.MatchString(policyName) {
		return seserr.InvalidPolicyName(policyName)
	}
	d, err := s.identity(ctx, name)
	if err != nil {
		return err
	}
	p := principal(ctx)
	if _, err := policy.Parse(doc, policy.Identity, sending.IdentityARN(p.Region, p.AccountID, d.Name)); err != nil {
		var pe *policy.Error
		if errors.As(err, &pe) {
			return seserr.InvalidPolicy(pe.Why)
		}
		return err
	}
	err = s.policyStore().PutIdentityPolicy(ctx, p.AccountID, p.Region, d.Name, store.IdentityPolicy{Name: policyName, Policy: doc}, how, maxIdentityPolicies)
	switch {
	case errors.Is(err, store.ErrNoIdentity): // deleted since it was read
		return seserr.IdentityNotFound(name)
	case errors.Is(err, store.ErrExists):
		return seserr.PolicyExists(d.Name, policyName)
	case errors.Is(err, store.ErrNotFound):
		return seserr.PolicyNotFound(d.Name, policyName)
	case errors.Is(err, store.ErrLimit):
		return seserr.PolicyLimitExceeded(d.Name, maxIdentityPolicies)
	case err == nil:
		s.policiesChanged(ctx, d.Name)
	}
	return err
}

// policiesChanged makes a policy change apply to the very next send.
func (s *Server) policiesChanged(ctx context.Context, identity string) {
	if s.cfg.Sender != nil {
		p := principal(ctx)
		s.cfg.Sender.IdentityPoliciesChanged(p.AccountID, p.Region, identity)
	}
}

// identityPolicies is the caller's identity's policies by name.
func (s *Server) identityPolicies(ctx context.Context, name string) (store.IdentityDetails, []store.IdentityPolicy, error) {
	d, err := s.identity(ctx, name)
	if err != nil {
		return d, nil, err
	}
	p := principal(ctx)
	list, err := s.policyStore().IdentityPolicies(ctx, p.AccountID, p.Region, d.Name)
	if errors.Is(err, store.ErrNotFound) {
		return d, nil, seserr.IdentityNotFound(name)
	}
	return d, list, err
}

// deleteIdentityPolicy removes one; a missing policy is PolicyNotFound
// unless lenient (v1 answers success for it).
func (s *Server) deleteIdentityPolicy(ctx context.Context, name, policyName string, lenient bool) error {
	d, err := s.identity(ctx, name)
	if err != nil {
		return err
	}
	p := principal(ctx)
	err = s.policyStore().DeleteIdentityPolicy(ctx, p.AccountID, p.Region, d.Name, policyName)
	switch {
	case errors.Is(err, store.ErrNoIdentity):
		return seserr.IdentityNotFound(name)
	case errors.Is(err, store.ErrNotFound) && lenient:
		return nil
	case errors.Is(err, store.ErrNotFound):
		return seserr.PolicyNotFound(d.Name, policyName)
	case err == nil:
		s.policiesChanged(ctx, d.Name)
	}
	return err
}

// policiesMap is GetEmailIdentity's and GetEmailIdentityPolicies' Policies.
func policiesMap(list []store.IdentityPolicy) map[string]string {
	out := make(map[string]string, len(list))
	for _, p := range list {
		out[p.Name] = p.Policy
	}
	return out
}

// --- v2 -------------------------------------------------------------------

func (s *Server) getIdentityPoliciesV2(ctx context.Context, r *http.Request) (any, error) {
	_, list, err := s.identityPolicies(ctx, r.PathValue("EmailIdentity"))
	if err != nil {
		return nil, err
	}
	return map[string]any{"Policies": policiesMap(list)}, nil
}

func (s *Server) writeIdentityPolicyV2(ctx context.Context, r *http.Request, how store.PolicyWrite) (any, error) {
	var in struct{ Policy *string }
	if err := decodeJSON(r, &in); err != nil {
		return nil, err
	}
	if in.Policy == nil {
		return nil, seserr.MissingParameter("Policy")
	}
	return nil, s.putIdentityPolicy(ctx, r.PathValue("EmailIdentity"), r.PathValue("PolicyName"), *in.Policy, how)
}

func (s *Server) createIdentityPolicyV2(ctx context.Context, r *http.Request) (any, error) {
	return s.writeIdentityPolicyV2(ctx, r, store.PolicyCreate)
}

func (s *Server) updateIdentityPolicyV2(ctx context.Context, r *http.Request) (any, error) {
	return s.writeIdentityPolicyV2(ctx, r, store.PolicyUpdate)
}

func (s *Server) deleteIdentityPolicyV2(ctx context.Context, r *http.Request) (any, error) {
	return nil, s.deleteIdentityPolicy(ctx, r.PathValue("EmailIdentity"), r.PathValue("PolicyName"), false)
}

// --- v1 -------------------------------------------------------------------

// policyIdentityV1 reads v1's Identity, which may be the identity's name or
// its ARN; an ARN must be the caller's, in this region.
func policyIdentityV1(ctx context.Context, q queryArgs) (string, error) {
	name, err := q.Required("Identity")
	if err != nil || len(name) < 4 || name[:4] != "arn:" {
		return name, err
	}
	res, err := parseResourceArn(name)
	if err != nil || res.Type != store.ResourceIdentity {
		return "", seserr.InvalidIdentityArn("Identity", name, principal(ctx).Region)
	}
	if p := principal(ctx); res.AccountID != p.AccountID || res.Region != p.Region {
		return "", seserr.IdentityNotFound(name)
	}
	return res.Name, nil
}

func (s *Server) putIdentityPolicyV1(ctx context.Context, q queryArgs) (any, error) {
	name, err := policyIdentityV1(ctx, q)
	if err != nil {
		return nil, err
	}
	policyName, err := q.Required("PolicyName")
	if err != nil {
		return nil, err
	}
	doc, err := q.Required("Policy")
	if err != nil {
		return nil, err
	}
	return nil, s.putIdentityPolicy(ctx, name, policyName, doc, store.PolicyUpsert)
}

func (s *Server) getIdentityPoliciesV1(ctx context.Context, q queryArgs) (any, error) {
	name, err := policyIdentityV1(ctx, q)
	if err != nil {
		return nil, err
	}
	names := q.List("PolicyNames")
	if len(names) == 0 && !q.Has("PolicyNames") {
		return nil, seserr.MissingParameter("PolicyNames")
	}
	if len(names) > maxIdentityPolicies {
		return nil, seserr.TooManyPolicyNames(maxIdentityPolicies)
	}
	_, list, err := s.identityPolicies(ctx, name)
	if err != nil {
		return nil, err
	}
	all := policiesMap(list)
	// The names asked for that exist, in the order asked; others are
	// left out, as SES does.
	out := struct {
		Entries []xmlEntry[string] `xml:"Policies>entry"`
	}{Entries: []xmlEntry[string]{}}
	for _, n := range names {
		if doc, ok := all[n]; ok {
			out.Entries = append(out.Entries, xmlEntry[string]{n, doc})
			delete(all, n)
		}
	}
	return out, nil
}

func (s *Server) listIdentityPoliciesV1(ctx context.Context, q queryArgs) (any, error) {
	name, err := policyIdentityV1(ctx, q)
	if err != nil {
		return nil, err
	}
	_, list, err := s.identityPolicies(ctx, name)
	if err != nil {
		return nil, err
	}
	names := make([]string, 0, len(list))
	for _, p := range list {
		names = append(names, p.Name)
	}
	return struct {
		PolicyNames []string `xml:"PolicyNames>member"`
	}{names}, nil
}

func (s *Server) deleteIdentityPolicyV1(ctx context.Context, q queryArgs) (any, error) {
	name, err := policyIdentityV1(ctx, q)
	if err != nil {
		return nil, err
	}
	policyName, err := q.Required("PolicyName")
	if err != nil {
		return nil, err
	}
	return nil, s.deleteIdentityPolicy(ctx, name, policyName, true)
}
