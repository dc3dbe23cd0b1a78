package api

import (
	"context"
	"errors"

	"sesame/internal/seserr"
	"sesame/internal/store"
	"sesame/internal/verify"
)

// SES v1's identity actions: their Query decoding and XML results. The work
// is the shared code in identities.go and internal/verify.

func (s *Server) registerIdentitiesV1() {
	s.handleV1("VerifyEmailIdentity", s.verifyEmailIdentityV1)
	s.handleV1("VerifyEmailAddress", s.verifyEmailAddressV1)
	s.handleV1("VerifyDomainIdentity", s.verifyDomainIdentityV1)
	s.handleV1("VerifyDomainDkim", s.verifyDomainDkimV1)
	s.handleV1("ListIdentities", s.listIdentitiesV1)
	s.handleV1("ListVerifiedEmailAddresses", s.listVerifiedEmailAddressesV1)
	s.handleV1("GetIdentityVerificationAttributes", s.getIdentityVerificationAttributesV1)
	s.handleV1("GetIdentityDkimAttributes", s.getIdentityDkimAttributesV1)
	s.handleV1("GetIdentityMailFromDomainAttributes", s.getIdentityMailFromDomainAttributesV1)
	s.handleV1("DeleteIdentity", s.deleteIdentityV1)
	s.handleV1("DeleteVerifiedEmailAddress", s.deleteVerifiedEmailAddressV1)
	s.handleV1("SetIdentityDkimEnabled", s.setIdentityDkimEnabledV1)
	s.handleV1("SetIdentityMailFromDomain", s.setIdentityMailFromDomainV1)
	s.handleV1("SetIdentityFeedbackForwardingEnabled", s.setIdentityFeedbackForwardingEnabledV1)
}

// xmlEntry is one entry of a Query protocol map: <entry><key/><value/></entry>.
type xmlEntry[V any] struct {
	Key   string `xml:"key"`
	Value V      `xml:"value"`
}

func (s *Server) verifyEmailV1(ctx context.Context, q queryArgs) (any, error) {
	addr, err := q.Required("EmailAddress")
	if err != nil {
		return nil, err
	}
	if store.TypeOf(addr) != store.EmailAddress {
		return nil, seserr.InvalidEmailAddress(addr)
	}
	if _, err := verify.CanonicalName(addr); err != nil {
		return nil, err
	}
	p := principal(ctx)
	return nil, s.cfg.Verifier.VerifyEmail(ctx, p.AccountID, p.Region, addr, s.cfg.BaseURL)
}

func (s *Server) verifyEmailIdentityV1(ctx context.Context, q queryArgs) (any, error) {
	return s.verifyEmailV1(ctx, q)
}

func (s *Server) verifyEmailAddressV1(ctx context.Context, q queryArgs) (any, error) {
	return s.verifyEmailV1(ctx, q)
}

// domainArg reads a v1 Domain parameter as a valid domain.
func domainArg(q queryArgs) (string, error) {
	d, err := q.Required("Domain")
	if err != nil {
		return "", err
	}
	if store.TypeOf(d) != store.Domain {
		return "", seserr.InvalidDomainName(d)
	}
	return verify.CanonicalName(d)
}

func (s *Server) verifyDomainIdentityV1(ctx context.Context, q queryArgs) (any, error) {
	domain, err := domainArg(q)
	if err != nil {
		return nil, err
	}
	p := principal(ctx)
	tok, err := s.cfg.Verifier.VerifyDomain(ctx, p.AccountID, p.Region, domain)
	if err != nil {
		return nil, err
	}
	return struct {
		VerificationToken string
	}{tok}, nil
}

func (s *Server) verifyDomainDkimV1(ctx context.Context, q queryArgs) (any, error) {
	domain, err := domainArg(q)
	if err != nil {
		return nil, err
	}
	p := principal(ctx)
	toks, err := s.cfg.Verifier.VerifyDomainDKIM(ctx, p.AccountID, p.Region, domain)
	if err != nil {
		return nil, err
	}
	return struct {
		DkimTokens []string `xml:"DkimTokens>member"`
	}{toks}, nil
}

func (s *Server) listIdentitiesV1(ctx context.Context, q queryArgs) (any, error) {
	var typ store.IdentityType
	switch q.Get("IdentityType") {
	case "":
	case "EmailAddress":
		typ = store.EmailAddress
	case "Domain":
		typ = store.Domain
	default:
		return nil, seserr.InvalidIdentityType(q.Get("IdentityType"))
	}
	size, _, err := q.Int("MaxItems")
	if err != nil {
		return nil, err
	}
	var keep func(store.Identity) bool
	if typ != "" {
		keep = func(id store.Identity) bool { return id.Type == typ }
	}
	page, next, err := s.listIdentities(ctx, keep, q.Get("NextToken"), size)
	if err != nil {
		return nil, err
	}
	names := make([]string, 0, len(page))
	for _, id := range page {
		names = append(names, id.Name)
	}
	return struct {
		Identities []string `xml:"Identities>member"`
		NextToken  string   `xml:",omitempty"`
	}{names, next}, nil
}

func (s *Server) listVerifiedEmailAddressesV1(ctx context.Context, q queryArgs) (any, error) {
	p := principal(ctx)
	all, err := s.cfg.Store.Identities(ctx, p.AccountID, p.Region)
	if err != nil {
		return nil, err
	}
	addrs := []string{}
	for _, id := range all {
		if id.Type == store.EmailAddress && id.Status == store.StatusSuccess {
			addrs = append(addrs, id.Name)
		}
	}
	return struct {
		VerifiedEmailAddresses []string `xml:"VerifiedEmailAddresses>member"`
	}{addrs}, nil
}

// identitiesArg reads the Identities list; identities that do not exist
// are left out of the answer, as SES does.
func (s *Server) identitiesArg(ctx context.Context, q queryArgs) ([]store.IdentityDetails, error) {
	names := q.List("Identities")
	if len(names) == 0 && !q.Has("Identities") {
		return nil, seserr.MissingParameter("Identities")
	}
	if len(names) > 100 {
		return nil, seserr.BadRequest("At most 100 identities can be given.")
	}
	var out []store.IdentityDetails
	for _, n := range names {
		d, err := s.identity(ctx, n)
		var e *seserr.Error
		if errors.As(err, &e) && e.HTTPStatus == 404 {
			continue
		}
		if err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, nil
}

func (s *Server) getIdentityVerificationAttributesV1(ctx context.Context, q queryArgs) (any, error) {
	ids, err := s.identitiesArg(ctx, q)
	if err != nil {
		return nil, err
	}
	type attrs struct {
		VerificationStatus string
		VerificationToken  string `xml:",omitempty"`
	}
	out := struct {
		Entries []xmlEntry[attrs] `xml:"VerificationAttributes>entry"`
	}{Entries: []xmlEntry[attrs]{}}
	for _, d := range ids {
		out.Entries = append(out.Entries, xmlEntry[attrs]{d.Name, attrs{d.Status, d.DomainToken}})
	}
	return out, nil
}

func (s *Server) getIdentityDkimAttributesV1(ctx context.Context, q queryArgs) (any, error) {
	ids, err := s.identitiesArg(ctx, q)
	if err != nil {
		return nil, err
	}
	type attrs struct {
		DkimEnabled            bool
		DkimVerificationStatus string
		DkimTokens             []string `xml:"DkimTokens>member,omitempty"`
	}
	out := struct {
		Entries []xmlEntry[attrs] `xml:"DkimAttributes>entry"`
	}{Entries: []xmlEntry[attrs]{}}
	for _, d := range ids {
		out.Entries = append(out.Entries, xmlEntry[attrs]{d.Name, attrs{d.DKIM.SigningEnabled, d.DKIM.Status, d.DKIM.Tokens}})
	}
	return out, nil
}

// v1 spells MAIL FROM behaviours in camel case.
var mailFromBehaviorV1 = map[string]string{
	store.MailFromUseDefault: "UseDefaultValue",
	store.MailFromReject:     "RejectMessage",
}

func (s *Server) getIdentityMailFromDomainAttributesV1(ctx context.Context, q queryArgs) (any, error) {
	ids, err := s.identitiesArg(ctx, q)
	if err != nil {
		return nil, err
	}
	type attrs struct {
		MailFromDomain       string
		MailFromDomainStatus string
		BehaviorOnMXFailure  string
	}
	out := struct {
		Entries []xmlEntry[attrs] `xml:"MailFromDomainAttributes>entry"`
	}{Entries: []xmlEntry[attrs]{}}
	for _, d := range ids {
		status := d.MailFrom.Status
		if d.MailFrom.Domain == "" {
			status = store.StatusNotStarted
		}
		out.Entries = append(out.Entries, xmlEntry[attrs]{d.Name, attrs{d.MailFrom.Domain, status, mailFromBehaviorV1[d.MailFrom.Behavior]}})
	}
	return out, nil
}

func (s *Server) deleteIdentityV1(ctx context.Context, q queryArgs) (any, error) {
	name, err := q.Required("Identity")
	if err != nil {
		return nil, err
	}
	return nil, s.deleteIdentity(ctx, name)
}

func (s *Server) deleteVerifiedEmailAddressV1(ctx context.Context, q queryArgs) (any, error) {
	addr, err := q.Required("EmailAddress")
	if err != nil {
		return nil, err
	}
	return nil, s.deleteIdentity(ctx, addr)
}

func (s *Server) setIdentityDkimEnabledV1(ctx context.Context, q queryArgs) (any, error) {
	name, err := q.Required("Identity")
	if err != nil {
		return nil, err
	}
	enabled, ok, err := q.Bool("DkimEnabled")
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, seserr.MissingParameter("DkimEnabled")
	}
	return nil, s.setDkimEnabled(ctx, name, enabled)
}

func (s *Server) setIdentityMailFromDomainV1(ctx context.Context, q queryArgs) (any, error) {
	name, err := q.Required("Identity")
	if err != nil {
		return nil, err
	}
	behavior := ""
	switch q.Get("BehaviorOnMXFailure") {
	case "":
	case "UseDefaultValue":
		behavior = store.MailFromUseDefault
	case "RejectMessage":
		behavior = store.MailFromReject
	default:
		return nil, seserr.InvalidBehaviorOnMXFailureV1(q.Get("BehaviorOnMXFailure"))
	}
	return nil, s.setMailFrom(ctx, name, q.Get("MailFromDomain"), behavior)
}

func (s *Server) setIdentityFeedbackForwardingEnabledV1(ctx context.Context, q queryArgs) (any, error) {
	name, err := q.Required("Identity")
	if err != nil {
		return nil, err
	}
	enabled, ok, err := q.Bool("ForwardingEnabled")
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, seserr.MissingParameter("ForwardingEnabled")
	}
	return nil, s.setFeedbackForwarding(ctx, name, enabled, true)
}
