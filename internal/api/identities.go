package api

import (
	"context"
	"errors"
	"fmt"
	"html"
	"net/http"
	"regexp"
	"strings"

	"sesame/internal/seserr"
	"sesame/internal/store"
	"sesame/internal/verify"
)

// The identities group: email address and domain identities with SES's
// verification (internal/verify does the work), v2 CreateEmailIdentity and
// the identity settings, v1 Verify*/ListIdentities/Get*Attributes, and the
// email verification link on the open mux. Both protocols call the shared
// functions in this file; identities_v1.go holds v1's encoding.

// identityPageMax bounds a page: ListEmailIdentities' PageSize (≤ 1000) and
// v1 ListIdentities' MaxItems.
const identityPageMax = 1000

func (s *Server) registerIdentities() {
	if s.cfg.Verifier == nil {
		// Without one from the caller (tests of other groups), identities
		// still work; DNS is checked only when something calls CheckNow.
		vc := verify.Config{Store: s.cfg.Store, Clock: s.clk, Logger: s.log}
		if s.cfg.Sender != nil {
			vc.Sender = s.cfg.Sender
		}
		s.cfg.Verifier = verify.New(vc)
	}
	s.open.HandleFunc("GET "+verify.VerifyEmailPath, s.verifyEmailLink)

	s.handleV2("POST /v2/email/identities", s.createEmailIdentityV2)
	s.handleV2("GET /v2/email/identities", s.listEmailIdentitiesV2)
	s.handleV2("POST /v2/email/list-identities", s.listEmailIdentitiesV2)
	s.handleV2("GET /v2/email/identities/{EmailIdentity}", s.getEmailIdentityV2)
	s.handleV2("DELETE /v2/email/identities/{EmailIdentity}", s.deleteEmailIdentityV2)
	s.handleV2("PUT /v2/email/identities/{EmailIdentity}/dkim", s.putDkimAttributesV2)
	s.handleV2("PUT /v2/email/identities/{EmailIdentity}/dkim/signing", s.putDkimSigningAttributesV2)
	s.handleV2("PUT /v1/email/identities/{EmailIdentity}/dkim/signing", s.putDkimSigningAttributesV2) // aws CLI 2.9.x
	s.handleV2("PUT /v2/email/identities/{EmailIdentity}/mail-from", s.putMailFromAttributesV2)
	s.handleV2("PUT /v2/email/identities/{EmailIdentity}/feedback", s.putFeedbackAttributesV2) // notifications.go has the rule
	s.registerIdentitiesV1()
	s.registerIdentityPolicies()
}

// v2Status spells a stored (v1-spelled) status as v2 does: PENDING,
// TEMPORARY_FAILURE, NOT_STARTED.
func v2Status(status string) string {
	var b strings.Builder
	for i, r := range status {
		if i > 0 && r >= 'A' && r <= 'Z' {
			b.WriteByte('_')
		}
		b.WriteRune(r)
	}
	return strings.ToUpper(b.String())
}

// identity looks up the caller's identity name (NotFoundException).
func (s *Server) identity(ctx context.Context, name string) (store.IdentityDetails, error) {
	p := principal(ctx)
	d, err := s.cfg.Store.IdentityDetails(ctx, p.AccountID, p.Region, name)
	if errors.Is(err, store.ErrNotFound) {
		return d, seserr.IdentityNotFound(name)
	}
	return d, err
}

// updateIdentity changes the caller's identity in one transaction.
func (s *Server) updateIdentity(ctx context.Context, name string, fn func(*store.IdentityDetails) error) (store.IdentityDetails, error) {
	p := principal(ctx)
	d, err := s.cfg.Store.UpdateIdentity(ctx, p.AccountID, p.Region, name, fn)
	if errors.Is(err, store.ErrNotFound) {
		return d, seserr.IdentityNotFound(name)
	}
	return d, err
}

// listIdentities pages the caller's identities that keep accepts (nil =
// all) by name after the token's; size 0 means the maximum page.
func (s *Server) listIdentities(ctx context.Context, keep func(store.Identity) bool, token string, size int) ([]store.Identity, string, error) {
	after, err := decodePageToken(token)
	if err != nil {
		return nil, "", err
	}
	if size == 0 {
		size = identityPageMax
	}
	if size < 1 || size > identityPageMax {
		return nil, "", seserr.PageSizeOutOfRange(identityPageMax)
	}
	p := principal(ctx)
	all, err := s.cfg.Store.Identities(ctx, p.AccountID, p.Region)
	if err != nil {
		return nil, "", err
	}
	var page []store.Identity
	for _, id := range all {
		if (keep != nil && !keep(id)) || (after != "" && id.Name <= after) {
			continue
		}
		if len(page) == size {
			return page, encodePageToken(page[len(page)-1].Name), nil
		}
		page = append(page, id)
	}
	return page, "", nil
}

// --- v2 -------------------------------------------------------------------

type dkimAttributesV2 struct {
	SigningEnabled             bool
	Status                     string
	Tokens                     []string `json:",omitempty"`
	SigningAttributesOrigin    string
	CurrentSigningKeyLength    string     `json:",omitempty"`
	NextSigningKeyLength       string     `json:",omitempty"`
	LastKeyGenerationTimestamp *epochTime `json:",omitempty"`
}

// dkimTokensV2 is v2's Tokens: Easy DKIM's CNAME tokens, or with BYODKIM
// the selector of the user's public key, as SES answers.
func dkimTokensV2(d store.IdentityDetails) []string {
	if d.DKIM.Origin == store.DKIMOriginExternal && d.DKIM.Selector != "" {
		return []string{d.DKIM.Selector}
	}
	return d.DKIM.Tokens
}

func dkimV2(d store.IdentityDetails) dkimAttributesV2 {
	out := dkimAttributesV2{SigningEnabled: d.DKIM.SigningEnabled, Status: v2Status(d.DKIM.Status),
		Tokens: dkimTokensV2(d), SigningAttributesOrigin: d.DKIM.Origin,
		CurrentSigningKeyLength: d.DKIM.KeyLength, NextSigningKeyLength: d.DKIM.NextKeyLength}
	if out.SigningAttributesOrigin == "" {
		out.SigningAttributesOrigin = store.DKIMOriginAWS
	}
	if !d.DKIM.KeyGenerated.IsZero() {
		t := epochTime(d.DKIM.KeyGenerated)
		out.LastKeyGenerationTimestamp = &t
	}
	return out
}

type dkimSigningAttributesV2 struct {
	DomainSigningSelector         string
	DomainSigningPrivateKey       string
	NextSigningKeyLength          string
	DomainSigningAttributesOrigin string
}

// regionalDKIMOrigin matches SES's AWS_SES_<REGION> signing origins
// (AWS_SES_US_EAST_1, AWS_SES_US_GOV_WEST_1, …): Deterministic Easy DKIM,
// the key of the same identity in another region.
var regionalDKIMOrigin = regexp.MustCompile(`^AWS_SES_[A-Z]+(_[A-Z]+)*_[0-9]+$`)

// checkDomainSigningOrigin refuses DkimSigningAttributes'
// DomainSigningAttributesOrigin: CreateEmailIdentity allows only a
// regional origin, which sesame cannot honour (it does not replicate keys
// between regions), and PutEmailIdentityDkimSigningAttributes none.
func (a *dkimSigningAttributesV2) checkDomainSigningOrigin(operation string) error {
	switch {
	case a == nil || a.DomainSigningAttributesOrigin == "":
		return nil
	case operation == "CreateEmailIdentity" && regionalDKIMOrigin.MatchString(a.DomainSigningAttributesOrigin):
		return seserr.DKIMReplicationUnsupported(a.DomainSigningAttributesOrigin)
	}
	return seserr.DomainSigningOriginMisplaced(a.DomainSigningAttributesOrigin, operation)
}

func (a *dkimSigningAttributesV2) options() verify.DKIMOptions {
	if a == nil {
		return verify.DKIMOptions{}
	}
	return verify.DKIMOptions{Selector: a.DomainSigningSelector, PrivateKey: a.DomainSigningPrivateKey, KeyLength: a.NextSigningKeyLength}
}

func (s *Server) createEmailIdentityV2(ctx context.Context, r *http.Request) (any, error) {
	var in struct {
		EmailIdentity         string
		DkimSigningAttributes *dkimSigningAttributesV2
		ConfigurationSetName  string
		Tags                  []store.Tag
	}
	if err := decodeJSON(r, &in); err != nil {
		return nil, err
	}
	if in.EmailIdentity == "" {
		return nil, seserr.MissingParameter("emailIdentity")
	}
	name, err := verify.CanonicalName(in.EmailIdentity)
	if err != nil {
		return nil, err
	}
	if err := in.DkimSigningAttributes.checkDomainSigningOrigin("CreateEmailIdentity"); err != nil {
		return nil, err
	}
	// Bad tags refuse the create before anything is made.
	if err := validateTags(in.Tags); err != nil {
		return nil, err
	}
	if err := s.checkConfigurationSet(ctx, in.ConfigurationSetName); err != nil {
		return nil, err
	}
	p := principal(ctx)
	var d store.IdentityDetails
	if store.TypeOf(name) == store.EmailAddress {
		if in.DkimSigningAttributes != nil {
			return nil, seserr.NotADomain(name, "DKIM signing attributes")
		}
		d, err = s.cfg.Verifier.CreateEmail(ctx, p.AccountID, p.Region, name, s.cfg.BaseURL)
	} else {
		d, err = s.cfg.Verifier.CreateDomain(ctx, p.AccountID, p.Region, name, in.DkimSigningAttributes.options())
	}
	if err != nil {
		return nil, err
	}
	if in.ConfigurationSetName != "" {
		if err := s.setIdentityConfigurationSet(ctx, name, in.ConfigurationSetName); err != nil {
			return nil, err
		}
	}
	if err := s.setCreatedTags(ctx, store.ResourceIdentity, name, in.Tags); err != nil {
		return nil, err
	}
	return map[string]any{
		"IdentityType":             string(d.Type),
		"VerifiedForSendingStatus": d.Status == store.StatusSuccess,
		"DkimAttributes":           dkimV2(d),
	}, nil
}

func (s *Server) listEmailIdentitiesV2(ctx context.Context, r *http.Request) (any, error) {
	var in struct {
		Filter    map[string]string
		NextToken string
		PageSize  int
	}
	if r.Method == http.MethodPost {
		if err := decodeJSON(r, &in); err != nil {
			return nil, err
		}
	} else {
		n, _, err := queryInt(r, "PageSize")
		if err != nil {
			return nil, err
		}
		in.PageSize, in.NextToken = n, r.URL.Query().Get("NextToken")
	}
	keep, err := identityFilter(in.Filter)
	if err != nil {
		return nil, err
	}
	page, next, err := s.listIdentities(ctx, keep, in.NextToken, in.PageSize)
	if err != nil {
		return nil, err
	}
	type item struct {
		IdentityType       string
		IdentityName       string
		SendingEnabled     bool
		VerificationStatus string
	}
	items := make([]item, 0, len(page))
	for _, id := range page {
		items = append(items, item{string(id.Type), id.Name, id.Status == store.StatusSuccess, v2Status(id.Status)})
	}
	out := map[string]any{"EmailIdentities": items}
	if next != "" {
		out["NextToken"] = next
	}
	return out, nil
}

func (s *Server) getEmailIdentityV2(ctx context.Context, r *http.Request) (any, error) {
	d, err := s.identity(ctx, r.PathValue("EmailIdentity"))
	if err != nil {
		return nil, err
	}
	configSet, err := s.identityConfigurationSet(ctx, d.Name)
	if err != nil {
		return nil, err
	}
	tags, err := s.resourceTags(ctx, store.ResourceIdentity, d.Name)
	if errors.Is(err, store.ErrNotFound) { // deleted since it was read
		return nil, seserr.IdentityNotFound(d.Name)
	}
	if err != nil {
		return nil, err
	}
	_, policies, err := s.identityPolicies(ctx, d.Name)
	if err != nil {
		return nil, err
	}
	mailFrom := map[string]any{"BehaviorOnMxFailure": d.MailFrom.Behavior}
	if d.MailFrom.Domain != "" {
		mailFrom["MailFromDomain"] = d.MailFrom.Domain
		mailFrom["MailFromDomainStatus"] = v2Status(d.MailFrom.Status)
	}
	out := map[string]any{
		"IdentityType":             string(d.Type),
		"FeedbackForwardingStatus": d.FeedbackForwarding,
		"VerifiedForSendingStatus": d.Status == store.StatusSuccess,
		"VerificationStatus":       v2Status(d.Status),
		"DkimAttributes":           dkimV2(d),
		"MailFromAttributes":       mailFrom,
		"Policies":                 policiesMap(policies),
		"Tags":                     tags,
	}
	if configSet != "" {
		out["ConfigurationSetName"] = configSet
	}
	if info := verificationInfo(d); info != nil {
		out["VerificationInfo"] = info
	}
	return out, nil
}

// verificationInfo is GetEmailIdentity's VerificationInfo from what the
// verifier records (store.VerificationCheck): when it last checked the
// identity (a domain's DNS records each check interval while it is in
// progress; an address's link followed or expired), when a check last
// succeeded, why the last one failed, and the SOA of the domain's zone that
// check found (none with the system resolver, which asks for no SOA). An
// identity checked before sesame recorded checks has only its
// TemporaryFailure (DNS_SERVER_ERROR). Nothing known, no VerificationInfo.
func verificationInfo(d store.IdentityDetails) map[string]any {
	out := map[string]any{}
	if c := d.Check; !c.Checked.IsZero() {
		out["LastCheckedTimestamp"] = epochTime(c.Checked)
	}
	if c := d.Check; !c.Succeeded.IsZero() {
		out["LastSuccessTimestamp"] = epochTime(c.Succeeded)
	}
	if soa := d.Check.SOA; soa.PrimaryNameServer != "" {
		out["SOARecord"] = soa
	}
	switch {
	case d.Status == store.StatusSuccess:
	case d.Check.Error != "":
		out["ErrorType"] = d.Check.Error
	case d.Type == store.Domain && (d.Status == store.StatusTemporaryFailure || d.DKIM.Status == store.StatusTemporaryFailure):
		out["ErrorType"] = "DNS_SERVER_ERROR"
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

func (s *Server) deleteEmailIdentityV2(ctx context.Context, r *http.Request) (any, error) {
	name := r.PathValue("EmailIdentity")
	if _, err := s.identity(ctx, name); err != nil {
		return nil, err
	}
	return nil, s.deleteIdentity(ctx, name)
}

// deleteIdentity removes the caller's identity (no error if absent) and
// tells sending at once.
func (s *Server) deleteIdentity(ctx context.Context, name string) error {
	p := principal(ctx)
	if err := s.cfg.Store.DeleteIdentity(ctx, p.AccountID, p.Region, name); err != nil {
		return err
	}
	s.cfg.Verifier.Changed(p.AccountID, p.Region)
	return nil
}

func (s *Server) putDkimAttributesV2(ctx context.Context, r *http.Request) (any, error) {
	var in struct{ SigningEnabled bool }
	if err := decodeJSON(r, &in); err != nil {
		return nil, err
	}
	return nil, s.setDkimEnabled(ctx, r.PathValue("EmailIdentity"), in.SigningEnabled)
}

// setDkimEnabled turns DKIM signing on or off; turning it on needs DKIM
// set up on the domain (an address may use its domain's).
func (s *Server) setDkimEnabled(ctx context.Context, name string, enabled bool) error {
	_, err := s.updateIdentity(ctx, name, func(d *store.IdentityDetails) error {
		if enabled && d.Type == store.Domain && d.DKIM.Origin == "" {
			return seserr.DKIMNotSetUp(name)
		}
		d.DKIM.SigningEnabled, d.DKIM.SigningSet = enabled, true
		return nil
	})
	return err
}

func (s *Server) putDkimSigningAttributesV2(ctx context.Context, r *http.Request) (any, error) {
	var in struct {
		SigningAttributesOrigin string
		SigningAttributes       *dkimSigningAttributesV2
	}
	if err := decodeJSON(r, &in); err != nil {
		return nil, err
	}
	if err := in.SigningAttributes.checkDomainSigningOrigin("PutEmailIdentityDkimSigningAttributes"); err != nil {
		return nil, err
	}
	opts := in.SigningAttributes.options()
	switch origin := in.SigningAttributesOrigin; {
	case origin == store.DKIMOriginExternal:
		if opts.Selector == "" || opts.PrivateKey == "" {
			return nil, seserr.InvalidDKIMKey("EXTERNAL needs DomainSigningSelector and DomainSigningPrivateKey.")
		}
		opts.KeyLength = ""
	case origin == store.DKIMOriginAWS:
		opts.Selector, opts.PrivateKey = "", ""
	case origin == "":
		return nil, seserr.MissingParameter("signingAttributesOrigin")
	case regionalDKIMOrigin.MatchString(origin):
		return nil, seserr.DKIMReplicationUnsupported(origin)
	default:
		return nil, seserr.InvalidSigningAttributesOrigin(in.SigningAttributesOrigin)
	}
	name := r.PathValue("EmailIdentity")
	if _, err := s.identity(ctx, name); err != nil {
		return nil, err
	}
	p := principal(ctx)
	d, err := s.cfg.Verifier.PutDKIMSigning(ctx, p.AccountID, p.Region, name, opts)
	if err != nil {
		return nil, err
	}
	out := map[string]any{"DkimStatus": v2Status(d.DKIM.Status)}
	if t := dkimTokensV2(d); len(t) > 0 {
		out["DkimTokens"] = t
	}
	return out, nil
}

func (s *Server) putMailFromAttributesV2(ctx context.Context, r *http.Request) (any, error) {
	var in struct{ MailFromDomain, BehaviorOnMxFailure string }
	if err := decodeJSON(r, &in); err != nil {
		return nil, err
	}
	return nil, s.setMailFrom(ctx, r.PathValue("EmailIdentity"), in.MailFromDomain, in.BehaviorOnMxFailure)
}

func (s *Server) setMailFrom(ctx context.Context, name, domain, behavior string) error {
	if _, err := s.identity(ctx, name); err != nil {
		return err
	}
	p := principal(ctx)
	_, err := s.cfg.Verifier.PutMailFrom(ctx, p.AccountID, p.Region, name, domain, behavior)
	return err
}

func (s *Server) putFeedbackAttributesV2(ctx context.Context, r *http.Request) (any, error) {
	var in struct{ EmailForwardingEnabled bool }
	if err := decodeJSON(r, &in); err != nil {
		return nil, err
	}
	return nil, s.setFeedbackForwarding(ctx, r.PathValue("EmailIdentity"), in.EmailForwardingEnabled, false)
}

// --- the verification link --------------------------------------------------

// verifyEmailLink serves the link mailed to an address being verified.
func (s *Server) verifyEmailLink(w http.ResponseWriter, r *http.Request) {
	d, res, err := s.cfg.Verifier.ConfirmEmail(r.Context(), r.URL.Query().Get("token"))
	if err != nil {
		s.log.Error("api: email verification link", "err", err)
		verifyPage(w, http.StatusInternalServerError, "Something went wrong",
			"sesame could not check this link. Please try again later.")
		return
	}
	if r.URL.Query().Has(verify.LinkTemplateParam) && s.customVerificationRedirect(w, r, d, res) {
		return
	}
	switch res {
	case verify.Verified:
		verifyPage(w, http.StatusOK, "Congratulations!",
			fmt.Sprintf("You have successfully verified an email address (%s) in region %s. You can now start sending email from this address.",
				d.Name, verify.RegionName(d.Region)))
	case verify.Expired:
		verifyPage(w, http.StatusGone, "Link expired",
			"The verification link you followed has expired: links work for 24 hours. Request verification of the address again to get a new one.")
	default:
		verifyPage(w, http.StatusNotFound, "Invalid link",
			"This verification link is not valid. It may have been replaced by a newer verification request.")
	}
}

func verifyPage(w http.ResponseWriter, status int, title, text string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	fmt.Fprintf(w, "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>%s</title></head>\n<body><h1>%s</h1>\n<p>%s</p></body></html>\n",
		html.EscapeString(title), html.EscapeString(title), html.EscapeString(text))
}
