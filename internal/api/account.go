package api

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"sesame/internal/seserr"
	"sesame/internal/store"
)

// The account group: GetAccount, PutAccountSendingAttributes, PutAccountDetails (v2);
// GetSendQuota, GetSendStatistics, Get/UpdateAccountSendingEnabled (v1). Suppression attributes live in
// suppression.go.

func (s *Server) registerAccount() {
	s.handleV2("GET /v2/email/account", s.getAccountV2)
	s.handleV2("PUT /v2/email/account/sending", s.putAccountSendingV2)
	s.handleV2("POST /v2/email/account/details", s.putAccountDetailsV2)
	s.handleV1("GetSendQuota", s.getSendQuotaV1)
	s.handleV1("GetSendStatistics", s.getSendStatisticsV1)
	s.handleV1("GetAccountSendingEnabled", s.getAccountSendingEnabledV1)
	s.handleV1("UpdateAccountSendingEnabled", s.updateAccountSendingEnabledV1)
}

type sendQuota struct {
	Max24HourSend   float64
	MaxSendRate     float64
	SentLast24Hours float64
}

// sendQuota reads the caller's settings as sending enforces them: in
// development mode ([accounts] development) in production with an
// unlimited quota (sending.Sender.Enforced), whatever is stored.
func (s *Server) sendQuota(ctx context.Context) (store.AccountSettings, sendQuota, error) {
	p := principal(ctx)
	set, err := s.cfg.Store.AccountSettings(ctx, p.AccountID, p.Region)
	if err != nil {
		return set, sendQuota{}, err
	}
	if s.cfg.Sender != nil {
		set = s.cfg.Sender.Enforced(set)
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
	autoWarmup, err := s.dedicatedIPAutoWarmup(ctx)
	if err != nil {
		return nil, err
	}
	out := map[string]any{
		"SendQuota":                    q,
		"SendingEnabled":               set.SendingEnabled,
		"ProductionAccessEnabled":      set.Production,
		"EnforcementStatus":            enforcementStatus(set),
		"DedicatedIpAutoWarmupEnabled": autoWarmup,
		"SuppressionAttributes":        map[string]any{"SuppressedReasons": reasons, "ValidationAttributes": accountValidationV2()},
		"VdmAttributes":                accountVdm(),
		// sesame has no pricing plans (PutAccountPricingAttributes takes NONE only).
		"PricingAttributes": map[string]string{"CurrentPlan": "NONE"},
	}
	p := principal(ctx)
	d, err := s.cfg.Store.AccountDetails(ctx, p.AccountID, p.Region)
	switch {
	case err == nil:
		out["Details"] = accountDetailsV2(d)
	case !errors.Is(err, store.ErrNotFound):
		return nil, err
	}
	return out, nil
}

// accountDetailsIn is PutAccountDetails' request (and, without
// ProductionAccessEnabled, GetAccount's Details).
type accountDetailsIn struct {
	MailType                        string
	WebsiteURL                      string
	ContactLanguage                 string   `json:",omitempty"`
	UseCaseDescription              string   `json:",omitempty"`
	AdditionalContactEmailAddresses []string `json:",omitempty"`
	ProductionAccessEnabled         *bool    `json:",omitempty"`
}

type reviewDetailsV2 struct {
	Status string
	CaseId string `json:",omitempty"`
}

type accountDetailsOut struct {
	accountDetailsIn
	ReviewDetails *reviewDetailsV2 `json:",omitempty"`
}

func accountDetailsV2(d store.AccountDetails) accountDetailsOut {
	out := accountDetailsOut{accountDetailsIn: accountDetailsIn{MailType: d.MailType, WebsiteURL: d.WebsiteURL,
		ContactLanguage: d.ContactLanguage, UseCaseDescription: d.UseCaseDescription,
		AdditionalContactEmailAddresses: d.AdditionalContacts}}
	if d.ReviewStatus != "" {
		out.ReviewDetails = &reviewDetailsV2{Status: d.ReviewStatus, CaseId: d.CaseID}
	}
	return out
}

// check applies the model's constraints, in its member order. SES's
// current model no longer requires UseCaseDescription (the SDKs do not
// send it necessarily); given, it is 1 to 5,000 characters.
func (in *accountDetailsIn) check() error {
	switch {
	case in.MailType == "":
		return seserr.MissingParameter("mailType")
	case in.MailType != "MARKETING" && in.MailType != "TRANSACTIONAL":
		return seserr.InvalidAccountDetail("mailType", "Member must satisfy enum value set: [MARKETING, TRANSACTIONAL]")
	case in.WebsiteURL == "":
		return seserr.MissingParameter("websiteURL")
	case utf8.RuneCountInString(in.WebsiteURL) > 1000:
		return seserr.InvalidAccountDetail("websiteURL", "Member must have length less than or equal to 1000")
	case in.ContactLanguage != "" && in.ContactLanguage != "EN" && in.ContactLanguage != "JA":
		return seserr.InvalidAccountDetail("contactLanguage", "Member must satisfy enum value set: [EN, JA]")
	case utf8.RuneCountInString(in.UseCaseDescription) > 5000:
		return seserr.InvalidAccountDetail("useCaseDescription", "Member must have length less than or equal to 5000")
	case in.AdditionalContactEmailAddresses != nil && len(in.AdditionalContactEmailAddresses) == 0:
		return seserr.InvalidAccountDetail("additionalContactEmailAddresses", "Member must have length greater than or equal to 1")
	case len(in.AdditionalContactEmailAddresses) > 4:
		return seserr.InvalidAccountDetail("additionalContactEmailAddresses", "Member must have length less than or equal to 4")
	}
	for _, a := range in.AdditionalContactEmailAddresses {
		n := utf8.RuneCountInString(a)
		local, domain, ok := strings.Cut(a, "@")
		switch {
		case n < 6:
			return seserr.InvalidAccountDetail("additionalContactEmailAddresses", "Member must have length greater than or equal to 6")
		case n > 254:
			return seserr.InvalidAccountDetail("additionalContactEmailAddresses", "Member must have length less than or equal to 254")
		case !ok || local == "" || domain == "":
			return seserr.InvalidAccountDetail("additionalContactEmailAddresses", "Member must satisfy regular expression pattern: ^(.+)@(.+)$")
		}
	}
	return nil
}

// putAccountDetailsV2 records the details. ProductionAccessEnabled true
// from an account in the sandbox is a request for production access: it
// is recorded PENDING under a case id until the operator decides it
// (`sesame admin account review --grant|--deny`); meanwhile SES refuses
// further details with ConflictException. From an account already in
// production, or with false, the details are recorded and nothing else
// changes (SES takes no one out of production this way).
func (s *Server) putAccountDetailsV2(ctx context.Context, r *http.Request) (any, error) {
	var in accountDetailsIn
	if err := decodeJSON(r, &in); err != nil {
		return nil, err
	}
	if err := in.check(); err != nil {
		return nil, err
	}
	p := principal(ctx)
	set, err := s.cfg.Store.AccountSettings(ctx, p.AccountID, p.Region)
	if err != nil {
		return nil, err
	}
	review := in.ProductionAccessEnabled != nil && *in.ProductionAccessEnabled && !set.Production
	_, err = s.cfg.Store.PutAccountDetails(ctx, store.AccountDetails{AccountID: p.AccountID, Region: p.Region,
		MailType: in.MailType, WebsiteURL: in.WebsiteURL, ContactLanguage: in.ContactLanguage,
		UseCaseDescription: in.UseCaseDescription, AdditionalContacts: slices.Clone(in.AdditionalContactEmailAddresses)}, review)
	if errors.Is(err, store.ErrReviewPending) {
		return nil, seserr.AccountReviewPending()
	}
	return nil, err
}

func (s *Server) putAccountSendingV2(ctx context.Context, r *http.Request) (any, error) {
	var in struct{ SendingEnabled *bool }
	if err := decodeJSON(r, &in); err != nil {
		return nil, err
	}
	// SES: an absent SendingEnabled means false.
	return nil, s.setAccountSending(ctx, in.SendingEnabled != nil && *in.SendingEnabled)
}

func (s *Server) setAccountSending(ctx context.Context, enabled bool) error {
	p := principal(ctx)
	set, err := s.cfg.Store.AccountSettings(ctx, p.AccountID, p.Region)
	if err != nil {
		return err
	}
	set.SendingEnabled = enabled
	return s.cfg.Store.PutAccountSettings(ctx, set)
}

func (s *Server) getAccountSendingEnabledV1(ctx context.Context, q queryArgs) (any, error) {
	set, _, err := s.sendQuota(ctx)
	if err != nil {
		return nil, err
	}
	return struct {
		Enabled bool `xml:"Enabled"`
	}{set.SendingEnabled}, nil
}

func (s *Server) updateAccountSendingEnabledV1(ctx context.Context, q queryArgs) (any, error) {
	// v1 as v2: an absent Enabled means false.
	enabled, _, err := q.Bool("Enabled")
	if err != nil {
		return nil, err
	}
	return nil, s.setAccountSending(ctx, enabled)
}

func (s *Server) getSendQuotaV1(ctx context.Context, q queryArgs) (any, error) {
	_, quota, err := s.sendQuota(ctx)
	if err != nil {
		return nil, err
	}
	return quota, nil
}

// SES reports send statistics in 15-minute buckets over the last two weeks.
const (
	statisticsBucket = 15 * time.Minute
	statisticsWindow = 14 * 24 * time.Hour
)

// sendDataPoint is one bucket of GetSendStatistics.
type sendDataPoint struct {
	Timestamp        string `xml:"Timestamp"`
	DeliveryAttempts int64  `xml:"DeliveryAttempts"`
	Bounces          int64  `xml:"Bounces"`
	Complaints       int64  `xml:"Complaints"`
	Rejects          int64  `xml:"Rejects"`
}

// sendStatistics reads the account's 15-minute buckets of the last two
// weeks (kept by internal/reputation from the event outbox), oldest first;
// buckets without activity are not there, as in SES's answer.
// DeliveryAttempts counts the recipients of accepted messages, Bounces and
// Complaints the bounced and complaining recipients, Rejects SES's Reject
// events (sesame makes none yet: it has no virus scan, and a rendering
// failure is SES's own event type, not a reject). The mailbox simulator's
// recipients and bounces of addresses on the account's suppression list
// count nowhere, as in SES's metrics.
func (s *Server) sendStatistics(ctx context.Context) ([]sendDataPoint, error) {
	p := principal(ctx)
	since := s.clk.Now().Add(-statisticsWindow).Truncate(statisticsBucket)
	stats, err := s.cfg.Store.SendStatsSince(ctx, p.AccountID, p.Region, since, true, "")
	if err != nil {
		return nil, err
	}
	points := make([]sendDataPoint, 0, len(stats))
	for _, st := range stats {
		if st.DeliveryAttempts == 0 && st.Bounces == 0 && st.Complaints == 0 && st.Rejects == 0 {
			continue
		}
		points = append(points, sendDataPoint{Timestamp: isoTime(st.Bucket), DeliveryAttempts: st.DeliveryAttempts,
			Bounces: st.Bounces, Complaints: st.Complaints, Rejects: st.Rejects})
	}
	return points, nil
}

func (s *Server) getSendStatisticsV1(ctx context.Context, q queryArgs) (any, error) {
	points, err := s.sendStatistics(ctx)
	if err != nil {
		return nil, err
	}
	return struct {
		SendDataPoints []sendDataPoint `xml:"SendDataPoints>member"`
	}{points}, nil
}

func enforcementStatus(set store.AccountSettings) string {
	if set.EnforcementStatus == "" {
		return store.EnforcementHealthy
	}
	return set.EnforcementStatus
}
