package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"sesame/internal/seserr"
	"sesame/internal/store"
)

// The suppression group (v2 only; v1 has no suppression list):
// PutAccountSuppressionAttributes and Put/Get/List/DeleteSuppressedDestination.
//
// SES disables manual suppression-list edits for accounts in the sandbox
// ("SES API calls related to suppression list management are disabled")
// without documenting the error it answers. sesame allows them in the
// sandbox too: sesame accounts start in the sandbox, and testing how code
// reacts to a suppressed recipient is what a local SES is for.

func (s *Server) registerSuppression() {
	s.handleV2("PUT /v2/email/account/suppression", s.putAccountSuppressionV2)
	s.handleV2("PUT /v2/email/suppression/addresses", s.putSuppressedDestinationV2)
	s.handleV2("GET /v2/email/suppression/addresses", s.listSuppressedDestinationsV2)
	s.handleV2("GET /v2/email/suppression/addresses/{EmailAddress}", s.getSuppressedDestinationV2)
	s.handleV2("DELETE /v2/email/suppression/addresses/{EmailAddress}", s.deleteSuppressedDestinationV2)
}

// Page sizes of ListSuppressedDestinations (SES: at most 1000).
const (
	defaultSuppressionPage = 1000
	maxSuppressionPage     = 1000
)

// suppressedReasons is the account's suppression setting in the signer's
// region (SES's default for new accounts: BOUNCE and COMPLAINT).
func (s *Server) suppressedReasons(ctx context.Context) ([]string, error) {
	p := principal(ctx)
	return s.cfg.Store.SuppressedReasons(ctx, p.AccountID, p.Region)
}

// validateReasons accepts SES's SuppressionListReason values, once each.
func validateReasons(reasons []string) error {
	seen := map[string]bool{}
	for _, r := range reasons {
		if r != store.ReasonBounce && r != store.ReasonComplaint {
			return seserr.InvalidSuppressionReason(r)
		}
		if seen[r] {
			return seserr.DuplicateSuppressionReason(r)
		}
		seen[r] = true
	}
	return nil
}

// validSuppressionAddress: something with a local part and a domain, and
// nothing that could split a header.
func validSuppressionAddress(addr string) bool {
	at := strings.LastIndexByte(addr, '@')
	return at > 0 && at < len(addr)-1 && len(addr) <= 320 && !strings.ContainsAny(addr, "\r\n\x00 <>")
}

// noTenantQuery refuses a TenantName query parameter (Get, Delete and
// ListSuppressedDestinations) as SES refuses a tenant that does not exist:
// sesame has none, and each account's list is its own.
func noTenantQuery(r *http.Request) error {
	if q := r.URL.Query(); q.Has("TenantName") {
		return seserr.TenantNotFound(q.Get("TenantName"))
	}
	return nil
}

func suppressedNotFound(addr string) error {
	return seserr.NotFound("NotFoundException", fmt.Sprintf("Email address %s does not exist on your suppression list.", addr))
}

func (s *Server) putAccountSuppressionV2(ctx context.Context, r *http.Request) (any, error) {
	var in struct {
		SuppressedReasons    []string
		ValidationAttributes *suppressionValidationV2
	}
	if err := decodeJSON(r, &in); err != nil {
		return nil, err
	}
	if err := validateReasons(in.SuppressedReasons); err != nil {
		return nil, err
	}
	// Only DISABLED passes, which GetAccount always answers: nothing to keep.
	if _, err := in.ValidationAttributes.store("ValidationAttributes"); err != nil {
		return nil, err
	}
	p := principal(ctx)
	// SES: an absent list turns automatic suppression off, like an empty one.
	return nil, s.cfg.Store.PutSuppressedReasons(ctx, p.AccountID, p.Region, nonNil(in.SuppressedReasons))
}

func (s *Server) putSuppressedDestinationV2(ctx context.Context, r *http.Request) (any, error) {
	var in struct {
		EmailAddress, Reason string
		TenantName           *string
	}
	if err := decodeJSON(r, &in); err != nil {
		return nil, err
	}
	if in.TenantName != nil {
		return nil, seserr.TenantNotFound(*in.TenantName)
	}
	switch {
	case in.EmailAddress == "":
		return nil, seserr.MissingParameter("EmailAddress")
	case in.Reason == "":
		return nil, seserr.MissingParameter("Reason")
	case !validSuppressionAddress(in.EmailAddress):
		return nil, seserr.InvalidSuppressedAddress(in.EmailAddress)
	}
	if err := validateReasons([]string{in.Reason}); err != nil {
		return nil, err
	}
	p := principal(ctx)
	return nil, s.cfg.Store.PutSuppressedDestination(ctx, store.SuppressedDestination{AccountID: p.AccountID, Region: p.Region,
		Address: in.EmailAddress, Reason: in.Reason, Updated: s.clk.Now()})
}

func (s *Server) getSuppressedDestinationV2(ctx context.Context, r *http.Request) (any, error) {
	addr := r.PathValue("EmailAddress")
	if err := noTenantQuery(r); err != nil {
		return nil, err
	}
	p := principal(ctx)
	d, err := s.cfg.Store.SuppressedDestination(ctx, p.AccountID, p.Region, addr)
	if errors.Is(err, store.ErrNotFound) {
		return nil, suppressedNotFound(addr)
	}
	if err != nil {
		return nil, err
	}
	out := map[string]any{"EmailAddress": d.Address, "Reason": d.Reason, "LastUpdateTime": epochTime(d.Updated)}
	if d.MessageID != "" || d.FeedbackID != "" {
		out["Attributes"] = map[string]string{"MessageId": d.MessageID, "FeedbackId": d.FeedbackID}
	}
	return map[string]any{"SuppressedDestination": out}, nil
}

func (s *Server) deleteSuppressedDestinationV2(ctx context.Context, r *http.Request) (any, error) {
	addr := r.PathValue("EmailAddress")
	if err := noTenantQuery(r); err != nil {
		return nil, err
	}
	p := principal(ctx)
	err := s.cfg.Store.DeleteSuppressedDestination(ctx, p.AccountID, p.Region, addr)
	if errors.Is(err, store.ErrNotFound) {
		return nil, suppressedNotFound(addr)
	}
	return nil, err
}

func (s *Server) listSuppressedDestinationsV2(ctx context.Context, r *http.Request) (any, error) {
	if err := noTenantQuery(r); err != nil {
		return nil, err
	}
	q := r.URL.Query()
	sq := store.SuppressionQuery{Reasons: q["Reason"]}
	if err := validateReasons(sq.Reasons); err != nil {
		return nil, err
	}
	var err error
	if sq.Start, err = queryTime(r, "StartDate"); err != nil {
		return nil, err
	}
	if sq.End, err = queryTime(r, "EndDate"); err != nil {
		return nil, err
	}
	if sq.After, err = decodePageToken(q.Get("NextToken")); err != nil {
		return nil, err
	}
	n, ok, err := queryInt(r, "PageSize")
	if err != nil {
		return nil, err
	}
	sq.Limit = defaultSuppressionPage
	if ok {
		if n < 1 || n > maxSuppressionPage {
			return nil, seserr.PageSizeOutOfRange(maxSuppressionPage)
		}
		sq.Limit = n
	}
	p := principal(ctx)
	list, last, err := s.cfg.Store.SuppressedDestinations(ctx, p.AccountID, p.Region, sq)
	if err != nil {
		return nil, err
	}
	type summary struct {
		EmailAddress   string
		Reason         string
		LastUpdateTime epochTime
	}
	out := struct {
		SuppressedDestinationSummaries []summary
		NextToken                      string `json:",omitempty"`
	}{SuppressedDestinationSummaries: []summary{}}
	for _, d := range list {
		out.SuppressedDestinationSummaries = append(out.SuppressedDestinationSummaries, summary{d.Address, d.Reason, epochTime(d.Updated)})
	}
	if last != "" {
		out.NextToken = encodePageToken(last)
	}
	return out, nil
}

// queryTime reads an optional timestamp query parameter: ISO-8601 as the
// SDKs send it, or seconds since the epoch.
func queryTime(r *http.Request, name string) (time.Time, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return time.Time{}, nil
	}
	// Zone-less forms are UTC, as botocore writes them.
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02"} {
		if t, err := time.Parse(layout, v); err == nil {
			return t, nil
		}
	}
	if f, err := strconv.ParseFloat(v, 64); err == nil {
		return time.UnixMilli(int64(f * 1000)).UTC(), nil
	}
	return time.Time{}, seserr.NotATimestamp(name)
}
