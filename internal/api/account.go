package api

import (
	"context"
	"net/http"

	"sesame/internal/store"
)

// The account group: GetAccount, PutAccountSendingAttributes (v2);
// GetSendQuota (v1). Suppression attributes live in suppression.go.

func (s *Server) registerAccount() {
	s.handleV2("GET /v2/email/account", s.getAccountV2)
	s.handleV2("PUT /v2/email/account/sending", s.putAccountSendingV2)
	s.handleV1("GetSendQuota", s.getSendQuotaV1)
}

type sendQuota struct {
	Max24HourSend   float64
	MaxSendRate     float64
	SentLast24Hours float64
}

func (s *Server) sendQuota(ctx context.Context) (store.AccountSettings, sendQuota, error) {
	p := principal(ctx)
	set, err := s.cfg.Store.AccountSettings(ctx, p.AccountID, p.Region)
	if err != nil {
		return set, sendQuota{}, err
	}
	q := sendQuota{Max24HourSend: set.Max24HourSend, MaxSendRate: set.MaxSendRate}
	if s.cfg.Quota != nil {
		q.SentLast24Hours = s.cfg.Quota.SentLast24Hours(p.AccountID, p.Region)
	}
	return set, q, nil
}

func (s *Server) getAccountV2(ctx context.Context, r *http.Request) (any, error) {
	set, q, err := s.sendQuota(ctx)
	if err != nil {
		return nil, err
	}
	reasons, err := s.suppressedReasons(ctx)
	if err != nil {
		return nil, err
	}
	return map[string]any{
		"SendQuota":                    q,
		"SendingEnabled":               set.SendingEnabled,
		"ProductionAccessEnabled":      set.Production,
		"EnforcementStatus":            "HEALTHY",
		"DedicatedIpAutoWarmupEnabled": false,
		"SuppressionAttributes":        map[string]any{"SuppressedReasons": reasons},
	}, nil
}

func (s *Server) putAccountSendingV2(ctx context.Context, r *http.Request) (any, error) {
	var in struct{ SendingEnabled *bool }
	if err := decodeJSON(r, &in); err != nil {
		return nil, err
	}
	p := principal(ctx)
	set, err := s.cfg.Store.AccountSettings(ctx, p.AccountID, p.Region)
	if err != nil {
		return nil, err
	}
	// SES: an absent SendingEnabled means false.
	set.SendingEnabled = in.SendingEnabled != nil && *in.SendingEnabled
	return nil, s.cfg.Store.PutAccountSettings(ctx, set)
}

func (s *Server) getSendQuotaV1(ctx context.Context, q queryArgs) (any, error) {
	_, quota, err := s.sendQuota(ctx)
	if err != nil {
		return nil, err
	}
	return quota, nil
}
