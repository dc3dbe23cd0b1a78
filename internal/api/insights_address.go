package api

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"sesame/internal/dnsx"
	"sesame/internal/sending"
	"sesame/internal/seserr"
	"sesame/internal/store"
)

// Address insights (v2 GetEmailAddressInsights), computed only from what
// sesame can know without sending anything:
//
//   - HasValidSyntax: sending.CheckAddress, the check every send applies.
//   - HasValidDnsRecords: the domain's MX through the configured resolver
//     (delivery.resolver): an MX host is HIGH; no MX but an A/AAAA record
//     (RFC 5321 §5.1's implicit MX) MEDIUM; a null MX (RFC 7505), no
//     address or no such domain LOW; an unanswered lookup leaves it out.
//   - IsRoleAddress: the local part against a list of role names
//     (postmaster, abuse, info, …).
//   - MailboxExists: LOW when the account's suppression list holds the
//     address for BOUNCE or delivery recorded a permanent bounce to it;
//     otherwise left out: sesame never probes a mailbox.
//   - IsDisposable, IsRandomInput: left out: sesame has no list of
//     disposable domains and no model of random input.
//
// Each verdict is the confidence that its evaluation's statement holds
// (IsRoleAddress HIGH: it is a role address). IsValid is LOW when the
// syntax, the DNS or the mailbox check is LOW, MEDIUM when the DNS check
// is MEDIUM or could not be made, HIGH otherwise.

func (s *Server) registerAddressInsights() {
	// The Go SDK sends no trailing slash; botocore's model has one.
	s.handleV2("POST /v2/email/email-address-insights", s.getEmailAddressInsightsV2)
	s.handleV2("POST /v2/email/email-address-insights/{$}", s.getEmailAddressInsightsV2)
}

// SES's confidence verdicts.
const (
	verdictLow    = "LOW"
	verdictMedium = "MEDIUM"
	verdictHigh   = "HIGH"
)

type addressVerdict struct{ ConfidenceVerdict string }

type mailboxEvaluations struct {
	HasValidSyntax     *addressVerdict `json:",omitempty"`
	HasValidDnsRecords *addressVerdict `json:",omitempty"`
	MailboxExists      *addressVerdict `json:",omitempty"`
	IsRoleAddress      *addressVerdict `json:",omitempty"`
	IsDisposable       *addressVerdict `json:",omitempty"`
	IsRandomInput      *addressVerdict `json:",omitempty"`
}

type mailboxValidation struct {
	IsValid     *addressVerdict
	Evaluations mailboxEvaluations
}

func verdict(v string) *addressVerdict {
	if v == "" {
		return nil
	}
	return &addressVerdict{v}
}

// roleLocalParts are local parts that name a function rather than a person
// (RFC 2142's mailbox names and the usual shared inboxes).
var roleLocalParts = map[string]bool{
	"abuse": true, "admin": true, "administrator": true, "billing": true, "contact": true, "help": true,
	"hostmaster": true, "info": true, "marketing": true, "noc": true, "no-reply": true, "noreply": true,
	"office": true, "postmaster": true, "root": true, "sales": true, "security": true, "support": true,
	"team": true, "usenet": true, "uucp": true, "webmaster": true, "www": true,
}

func (s *Server) getEmailAddressInsightsV2(ctx context.Context, r *http.Request) (any, error) {
	var in struct{ EmailAddress string }
	if err := decodeJSON(r, &in); err != nil {
		return nil, err
	}
	if in.EmailAddress == "" {
		return nil, seserr.MissingParameter("emailAddress")
	}
	v, err := s.addressInsights(ctx, in.EmailAddress)
	if err != nil {
		return nil, err
	}
	return map[string]any{"MailboxValidation": v}, nil
}

func (s *Server) addressInsights(ctx context.Context, addr string) (mailboxValidation, error) {
	var ev mailboxEvaluations
	if sending.CheckAddress(addr) != nil {
		ev.HasValidSyntax = verdict(verdictLow)
		return mailboxValidation{IsValid: verdict(verdictLow), Evaluations: ev}, nil
	}
	ev.HasValidSyntax = verdict(verdictHigh)
	at := strings.LastIndexByte(addr, '@')
	local, domain := addr[:at], strings.ToLower(addr[at+1:])
	if roleLocalParts[strings.ToLower(strings.Trim(local, `"`))] {
		ev.IsRoleAddress = verdict(verdictHigh)
	} else {
		ev.IsRoleAddress = verdict(verdictLow)
	}
	ev.HasValidDnsRecords = verdict(s.domainAcceptsMail(ctx, domain))
	mailbox, err := s.mailboxGone(ctx, addr)
	if err != nil {
		return mailboxValidation{}, err
	}
	if mailbox {
		ev.MailboxExists = verdict(verdictLow)
	}
	valid := verdictHigh
	switch {
	case ev.MailboxExists != nil || ev.HasValidDnsRecords != nil && ev.HasValidDnsRecords.ConfidenceVerdict == verdictLow:
		valid = verdictLow
	case ev.HasValidDnsRecords == nil || ev.HasValidDnsRecords.ConfidenceVerdict == verdictMedium:
		valid = verdictMedium
	}
	return mailboxValidation{IsValid: verdict(valid), Evaluations: ev}, nil
}

// domainAcceptsMail rates the domain's mail routing; "" when the resolver
// gave no answer.
func (s *Server) domainAcceptsMail(ctx context.Context, domain string) string {
	router := s.cfg.Router
	if router == nil {
		router = dnsx.System{}
	}
	mxs, _, err := router.LookupMX(ctx, domain)
	switch {
	case dnsx.IsNotFound(err):
		return verdictLow // no such domain
	case err != nil:
		s.log.Warn("address insights: MX lookup", "domain", domain, "err", err)
		return ""
	}
	for _, mx := range mxs {
		if mx.Host != "" && mx.Host != "." {
			return verdictHigh
		}
	}
	if len(mxs) > 0 {
		return verdictLow // RFC 7505 null MX: the domain accepts no mail
	}
	_, _, err = router.LookupIP(ctx, domain)
	switch {
	case err == nil, errors.Is(err, dnsx.ErrPartial):
		return verdictMedium // implicit MX (RFC 5321 §5.1)
	case dnsx.IsNotFound(err):
		return verdictLow
	}
	s.log.Warn("address insights: address lookup", "domain", domain, "err", err)
	return ""
}

// mailboxGone reports whether the account's own history says the mailbox
// does not take mail: a BOUNCE entry on its suppression list or a
// permanent bounce recorded by delivery.
func (s *Server) mailboxGone(ctx context.Context, addr string) (bool, error) {
	p := principal(ctx)
	sup, err := s.cfg.Store.SuppressedDestination(ctx, p.AccountID, p.Region, addr)
	switch {
	case err == nil && sup.Reason == "BOUNCE":
		return true, nil
	case err != nil && !errors.Is(err, store.ErrNotFound):
		return false, err
	}
	bounces, err := s.cfg.Store.RecipientBounces(ctx, p.AccountID, p.Region, addr)
	if err != nil {
		return false, err
	}
	return bounces["Permanent"] > 0, nil
}
