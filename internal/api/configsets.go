package api

import (
	"context"
	"errors"
	"net/http"
	"time"

	"sesame/internal/seserr"
	"sesame/internal/store"
)

// The configuration-set group: Create/Get/List/DeleteConfigurationSet and
// the option puts (v2); Create/Describe/List/DeleteConfigurationSet and the
// v1 option updates. Both protocols decode into store shapes and call the
// same core below. checkConfigurationSet is what sending asks before it
// sends through one. Event destinations are event_destinations.go's.

func (s *Server) registerConfigurationSets() {
	s.handleV2("POST /v2/email/configuration-sets", s.createConfigurationSetV2)
	s.handleV2("GET /v2/email/configuration-sets", s.listConfigurationSetsV2)
	// Newer SDKs list with a POST (and a Filter in the body).
	s.handleV2("POST /v2/email/list-configuration-sets", s.listConfigurationSetsV2)
	s.handleV2("GET /v2/email/configuration-sets/{ConfigurationSetName}", s.getConfigurationSetV2)
	s.handleV2("DELETE /v2/email/configuration-sets/{ConfigurationSetName}", s.deleteConfigurationSetV2)
	s.handleV2("PUT /v2/email/configuration-sets/{ConfigurationSetName}/delivery-options", s.putDeliveryOptionsV2)
	s.handleV2("PUT /v2/email/configuration-sets/{ConfigurationSetName}/sending", s.putSendingOptionsV2)
	s.handleV2("PUT /v2/email/configuration-sets/{ConfigurationSetName}/reputation-options", s.putReputationOptionsV2)
	s.handleV2("PUT /v2/email/configuration-sets/{ConfigurationSetName}/suppression-options", s.putSuppressionOptionsV2)
	s.handleV2("PUT /v2/email/configuration-sets/{ConfigurationSetName}/tracking-options", s.putTrackingOptionsV2)

	s.handleV1("CreateConfigurationSet", s.createConfigurationSetV1)
	s.handleV1("DescribeConfigurationSet", s.describeConfigurationSetV1)
	s.handleV1("ListConfigurationSets", s.listConfigurationSetsV1)
	s.handleV1("DeleteConfigurationSet", s.deleteConfigurationSetV1)
	s.handleV1("PutConfigurationSetDeliveryOptions", s.putDeliveryOptionsV1)
	s.handleV1("UpdateConfigurationSetSendingEnabled", s.updateSendingEnabledV1)
	s.handleV1("UpdateConfigurationSetReputationMetricsEnabled", s.updateReputationMetricsV1)
}

// checkConfigurationSet is nil when name is "" or names a configuration set
// of the signer's account in the signer's region; otherwise SES's not-found
// error (v2 NotFoundException, v1 ConfigurationSetDoesNotExist).
func (s *Server) checkConfigurationSet(ctx context.Context, name string) error {
	if name == "" {
		return nil
	}
	_, err := s.configurationSet(ctx, name)
	return err
}

// Limits SES applies to configuration sets.
const (
	maxConfigurationSetName = 64
	minMaxDeliverySeconds   = 300
	maxMaxDeliverySeconds   = 50400
	maxConfigurationSets    = 10000 // per account and region
	defaultConfigSetPage    = 1000
	maxConfigSetPage        = 1000
)

// validConfigurationSetName: SES allows ASCII letters, digits, underscores
// and dashes, up to 64 characters.
func validConfigurationSetName(name string) bool {
	if name == "" || len(name) > maxConfigurationSetName {
		return false
	}
	for _, c := range name {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// --- the core, shared by both protocols ----------------------------------

func (s *Server) configurationSet(ctx context.Context, name string) (store.ConfigurationSet, error) {
	p := principal(ctx)
	cs, err := s.cfg.Store.ConfigurationSet(ctx, p.AccountID, p.Region, name)
	if errors.Is(err, store.ErrNotFound) {
		return cs, seserr.ConfigurationSetDoesNotExist(name)
	}
	return cs, err
}

func (s *Server) createConfigurationSet(ctx context.Context, cs store.ConfigurationSet) error {
	if !validConfigurationSetName(cs.Name) {
		return seserr.InvalidConfigurationSetName(cs.Name)
	}
	if err := validateOptions(cs.Options); err != nil {
		return err
	}
	if err := validateTags(cs.Tags); err != nil {
		return err
	}
	if err := s.checkSendingPool(ctx, cs.Options.Delivery); err != nil {
		return err
	}
	p := principal(ctx)
	cs.AccountID, cs.Region, cs.Created = p.AccountID, p.Region, s.clk.Now()
	err := s.cfg.Store.CreateConfigurationSet(ctx, cs, maxConfigurationSets)
	switch {
	case errors.Is(err, store.ErrExists):
		return seserr.ConfigurationSetAlreadyExists(cs.Name)
	case errors.Is(err, store.ErrLimit):
		return seserr.ConfigurationSetLimitExceeded(maxConfigurationSets)
	}
	return err
}

func (s *Server) deleteConfigurationSet(ctx context.Context, name string) error {
	p := principal(ctx)
	err := s.cfg.Store.DeleteConfigurationSet(ctx, p.AccountID, p.Region, name)
	if errors.Is(err, store.ErrNotFound) {
		return seserr.ConfigurationSetDoesNotExist(name)
	}
	return err
}

// updateOptions edits a set's options: edit changes them, then they are
// validated as a whole and stored.
func (s *Server) updateOptions(ctx context.Context, name string, edit func(*store.ConfigurationSetOptions)) error {
	p := principal(ctx)
	err := s.cfg.Store.UpdateConfigurationSetOptions(ctx, p.AccountID, p.Region, name, func(o *store.ConfigurationSetOptions) error {
		edit(o)
		return validateOptions(*o)
	})
	if errors.Is(err, store.ErrNotFound) {
		return seserr.ConfigurationSetDoesNotExist(name)
	}
	return err
}

// listConfigurationSets pages names; token is the previous page's NextToken,
// pageSize nil means SES's default.
func (s *Server) listConfigurationSets(ctx context.Context, token string, size *int, contains string) ([]string, string, error) {
	after, err := decodePageToken(token)
	if err != nil {
		return nil, "", err
	}
	pageSize := defaultConfigSetPage
	if size != nil {
		pageSize = *size
	}
	if pageSize < 1 || pageSize > maxConfigSetPage {
		return nil, "", seserr.PageSizeOutOfRange(maxConfigSetPage)
	}
	p := principal(ctx)
	names, more, err := s.cfg.Store.ConfigurationSetNames(ctx, p.AccountID, p.Region, after, contains, pageSize)
	if err != nil {
		return nil, "", err
	}
	next := ""
	if more {
		next = encodePageToken(names[len(names)-1])
	}
	return names, next, nil
}

func validateOptions(o store.ConfigurationSetOptions) error {
	if d := o.Delivery; d != nil {
		if d.TlsPolicy != "" && d.TlsPolicy != "REQUIRE" && d.TlsPolicy != "OPTIONAL" {
			return seserr.InvalidTLSPolicy(d.TlsPolicy)
		}
		if d.MaxDeliverySeconds != 0 && (d.MaxDeliverySeconds < minMaxDeliverySeconds || d.MaxDeliverySeconds > maxMaxDeliverySeconds) {
			return seserr.MaxDeliverySecondsOutOfRange(minMaxDeliverySeconds, maxMaxDeliverySeconds)
		}
	}
	if sup := o.Suppression; sup != nil {
		if err := validateReasons(sup.SuppressedReasons); err != nil {
			return err
		}
		if err := checkSuppressionScope(sup.Scope); err != nil {
			return err
		}
		if err := checkSuppressionValidation(sup.Validation); err != nil {
			return err
		}
	}
	if t := o.Tracking; t != nil {
		switch t.HttpsPolicy {
		case "", "REQUIRE", "REQUIRE_OPEN_ONLY", "OPTIONAL":
		default:
			return seserr.InvalidHTTPSPolicy(t.HttpsPolicy)
		}
		if t.CustomRedirectDomain != "" && !validRedirectDomain(t.CustomRedirectDomain) {
			return seserr.InvalidTrackingOptions(t.CustomRedirectDomain)
		}
	}
	return nil
}

// --- v2 ------------------------------------------------------------------

// v2 shapes of the option groups.
type (
	deliveryOptionsV2 struct {
		TlsPolicy          string `json:",omitempty"`
		SendingPoolName    string `json:",omitempty"`
		MaxDeliverySeconds int64  `json:",omitempty"`
	}
	reputationOptionsV2 struct {
		ReputationMetricsEnabled bool
		LastFreshStart           *epochTime `json:",omitempty"`
	}
	sendingOptionsV2     struct{ SendingEnabled bool }
	suppressionOptionsV2 struct {
		SuppressedReasons []string
		SuppressionScope  string                   `json:",omitempty"`
		ValidationOptions *suppressionValidationV2 `json:",omitempty"`
	}
	trackingOptionsV2 struct {
		CustomRedirectDomain string `json:",omitempty"`
		HttpsPolicy          string `json:",omitempty"`
	}
	configurationSetV2 struct {
		ConfigurationSetName string
		DeliveryOptions      *deliveryOptionsV2    `json:",omitempty"`
		ReputationOptions    *reputationOptionsV2  `json:",omitempty"`
		SendingOptions       *sendingOptionsV2     `json:",omitempty"`
		SuppressionOptions   *suppressionOptionsV2 `json:",omitempty"`
		TrackingOptions      *trackingOptionsV2    `json:",omitempty"`
		VdmOptions           *vdmOptionsV2         `json:",omitempty"`
		Tags                 []store.Tag

		// Checked at create (aws_only.go), never stored, so never returned.
		ArchivingOptions       *archivingOptionsV2       `json:",omitempty"`
		MessageSecurityOptions *messageSecurityOptionsV2 `json:",omitempty"`
	}
)

func (d *deliveryOptionsV2) store() *store.DeliveryOptions {
	if d == nil {
		return nil
	}
	return &store.DeliveryOptions{TlsPolicy: d.TlsPolicy, SendingPoolName: d.SendingPoolName, MaxDeliverySeconds: d.MaxDeliverySeconds}
}

func (r *reputationOptionsV2) store() *store.ReputationOptions {
	if r == nil {
		return nil
	}
	out := &store.ReputationOptions{ReputationMetricsEnabled: r.ReputationMetricsEnabled}
	if r.LastFreshStart != nil {
		t := time.Time(*r.LastFreshStart)
		out.LastFreshStart = &t
	}
	return out
}

func (t *trackingOptionsV2) store() *store.TrackingOptions {
	if t == nil {
		return nil
	}
	return &store.TrackingOptions{CustomRedirectDomain: t.CustomRedirectDomain, HttpsPolicy: t.HttpsPolicy}
}

func (s *Server) createConfigurationSetV2(ctx context.Context, r *http.Request) (any, error) {
	var in configurationSetV2
	if err := decodeJSON(r, &in); err != nil {
		return nil, err
	}
	if in.ConfigurationSetName == "" {
		return nil, seserr.MissingParameter("ConfigurationSetName")
	}
	if err := in.VdmOptions.check(); err != nil {
		return nil, err
	}
	if err := in.ArchivingOptions.check(); err != nil {
		return nil, err
	}
	if err := in.MessageSecurityOptions.check(); err != nil {
		return nil, err
	}
	cs := store.ConfigurationSet{Name: in.ConfigurationSetName, Tags: in.Tags, Options: store.ConfigurationSetOptions{
		Delivery: in.DeliveryOptions.store(), Reputation: in.ReputationOptions.store(), Tracking: in.TrackingOptions.store()}}
	if in.SendingOptions != nil {
		cs.Options.Sending = &store.SendingOptions{SendingEnabled: in.SendingOptions.SendingEnabled}
	}
	sup, err := in.SuppressionOptions.store()
	if err != nil {
		return nil, err
	}
	cs.Options.Suppression = sup
	return nil, s.createConfigurationSet(ctx, cs)
}

// getConfigurationSetV2 answers as SES does: delivery, reputation and
// sending options always appear (with their defaults when never set).
func (s *Server) getConfigurationSetV2(ctx context.Context, r *http.Request) (any, error) {
	cs, err := s.configurationSet(ctx, r.PathValue("ConfigurationSetName"))
	if err != nil {
		return nil, err
	}
	out := configurationSetV2{ConfigurationSetName: cs.Name, Tags: cs.Tags,
		DeliveryOptions:   &deliveryOptionsV2{TlsPolicy: "OPTIONAL"},
		ReputationOptions: &reputationOptionsV2{},
		SendingOptions:    &sendingOptionsV2{SendingEnabled: cs.SendingEnabled()},
		VdmOptions:        configurationSetVdm()}
	if out.Tags == nil {
		out.Tags = []store.Tag{}
	}
	o := cs.Options
	if d := o.Delivery; d != nil {
		out.DeliveryOptions = &deliveryOptionsV2{TlsPolicy: d.TlsPolicy, SendingPoolName: d.SendingPoolName, MaxDeliverySeconds: d.MaxDeliverySeconds}
		if d.TlsPolicy == "" {
			out.DeliveryOptions.TlsPolicy = "OPTIONAL"
		}
	}
	if rep := o.Reputation; rep != nil {
		out.ReputationOptions.ReputationMetricsEnabled = rep.ReputationMetricsEnabled
		if rep.LastFreshStart != nil {
			t := epochTime(*rep.LastFreshStart)
			out.ReputationOptions.LastFreshStart = &t
		}
	}
	out.SuppressionOptions = suppressionOptionsOf(o.Suppression)
	if t := o.Tracking; t != nil {
		out.TrackingOptions = &trackingOptionsV2{CustomRedirectDomain: t.CustomRedirectDomain, HttpsPolicy: t.HttpsPolicy}
	}
	return out, nil
}

func (s *Server) listConfigurationSetsV2(ctx context.Context, r *http.Request) (any, error) {
	var in struct {
		NextToken string
		PageSize  *int
		Filter    map[string]string
	}
	if r.Method == http.MethodPost {
		if err := decodeJSON(r, &in); err != nil {
			return nil, err
		}
	} else {
		n, ok, err := queryInt(r, "PageSize")
		if err != nil {
			return nil, err
		}
		in.NextToken = r.URL.Query().Get("NextToken")
		if ok {
			in.PageSize = &n
		}
	}
	names, next, err := s.listConfigurationSets(ctx, in.NextToken, in.PageSize, in.Filter["CONFIGURATION_SET_NAME_CONTAINS"])
	if err != nil {
		return nil, err
	}
	out := map[string]any{"ConfigurationSets": names}
	if next != "" {
		out["NextToken"] = next
	}
	return out, nil
}

func (s *Server) deleteConfigurationSetV2(ctx context.Context, r *http.Request) (any, error) {
	return nil, s.deleteConfigurationSet(ctx, r.PathValue("ConfigurationSetName"))
}

func (s *Server) putDeliveryOptionsV2(ctx context.Context, r *http.Request) (any, error) {
	var in deliveryOptionsV2
	if err := decodeJSON(r, &in); err != nil {
		return nil, err
	}
	if _, err := s.configurationSet(ctx, r.PathValue("ConfigurationSetName")); err != nil {
		return nil, err
	}
	if err := s.checkSendingPool(ctx, in.store()); err != nil {
		return nil, err
	}
	return nil, s.updateOptions(ctx, r.PathValue("ConfigurationSetName"), func(o *store.ConfigurationSetOptions) {
		o.Delivery = in.store()
	})
}

func (s *Server) putSendingOptionsV2(ctx context.Context, r *http.Request) (any, error) {
	var in sendingOptionsV2
	if err := decodeJSON(r, &in); err != nil {
		return nil, err
	}
	// SES: an absent SendingEnabled means false, as for the account.
	return nil, s.updateOptions(ctx, r.PathValue("ConfigurationSetName"), func(o *store.ConfigurationSetOptions) {
		o.Sending = &store.SendingOptions{SendingEnabled: in.SendingEnabled}
	})
}

func (s *Server) putReputationOptionsV2(ctx context.Context, r *http.Request) (any, error) {
	var in struct{ ReputationMetricsEnabled bool }
	if err := decodeJSON(r, &in); err != nil {
		return nil, err
	}
	return nil, s.updateOptions(ctx, r.PathValue("ConfigurationSetName"), func(o *store.ConfigurationSetOptions) {
		o.Reputation = &store.ReputationOptions{ReputationMetricsEnabled: in.ReputationMetricsEnabled}
	})
}

func (s *Server) putSuppressionOptionsV2(ctx context.Context, r *http.Request) (any, error) {
	var in suppressionOptionsV2
	if err := decodeJSON(r, &in); err != nil {
		return nil, err
	}
	sup, err := in.store()
	if err != nil {
		return nil, err
	}
	return nil, s.updateOptions(ctx, r.PathValue("ConfigurationSetName"), func(o *store.ConfigurationSetOptions) {
		o.Suppression = sup
	})
}

func (s *Server) putTrackingOptionsV2(ctx context.Context, r *http.Request) (any, error) {
	var in trackingOptionsV2
	if err := decodeJSON(r, &in); err != nil {
		return nil, err
	}
	return nil, s.updateOptions(ctx, r.PathValue("ConfigurationSetName"), func(o *store.ConfigurationSetOptions) {
		o.Tracking = in.store()
	})
}

func nonNil(ss []string) []string {
	if ss == nil {
		return []string{}
	}
	return ss
}

// --- v1 ------------------------------------------------------------------

type configSetNameV1 struct {
	Name string `xml:"Name"`
}

// v1 spells TlsPolicy "Require" / "Optional".
func tlsPolicyV1(v2 string) string {
	if v2 == "REQUIRE" {
		return "Require"
	}
	return "Optional"
}

func (s *Server) createConfigurationSetV1(ctx context.Context, q queryArgs) (any, error) {
	name, err := q.Required("ConfigurationSet.Name")
	if err != nil {
		return nil, err
	}
	return nil, s.createConfigurationSet(ctx, store.ConfigurationSet{Name: name})
}

func (s *Server) describeConfigurationSetV1(ctx context.Context, q queryArgs) (any, error) {
	name, err := q.Required("ConfigurationSetName")
	if err != nil {
		return nil, err
	}
	cs, err := s.configurationSet(ctx, name)
	if err != nil {
		return nil, err
	}
	type tracking struct {
		CustomRedirectDomain string `xml:"CustomRedirectDomain,omitempty"`
	}
	type delivery struct {
		TlsPolicy string `xml:"TlsPolicy"`
	}
	type reputation struct {
		SendingEnabled           bool   `xml:"SendingEnabled"`
		ReputationMetricsEnabled bool   `xml:"ReputationMetricsEnabled"`
		LastFreshStart           string `xml:"LastFreshStart,omitempty"`
	}
	type eventDestinations struct {
		Members []eventDestinationOutV1 `xml:"member"`
	}
	out := struct {
		ConfigurationSet  configSetNameV1    `xml:"ConfigurationSet"`
		EventDestinations *eventDestinations `xml:"EventDestinations,omitempty"`
		TrackingOptions   *tracking          `xml:"TrackingOptions,omitempty"`
		DeliveryOptions   *delivery          `xml:"DeliveryOptions,omitempty"`
		ReputationOptions *reputation        `xml:"ReputationOptions,omitempty"`
	}{ConfigurationSet: configSetNameV1{cs.Name}}
	// Each group appears when asked for by ConfigurationSetAttributeNames.
	for _, attr := range q.List("ConfigurationSetAttributeNames") {
		o := cs.Options
		switch attr {
		case "eventDestinations":
			list, err := s.eventDestinations(ctx, name)
			if err != nil {
				return nil, err
			}
			out.EventDestinations = &eventDestinations{eventDestinationsV1(list)}
		case "trackingOptions":
			out.TrackingOptions = &tracking{}
			if o.Tracking != nil {
				out.TrackingOptions.CustomRedirectDomain = o.Tracking.CustomRedirectDomain
			}
		case "deliveryOptions":
			out.DeliveryOptions = &delivery{TlsPolicy: "Optional"}
			if o.Delivery != nil {
				out.DeliveryOptions.TlsPolicy = tlsPolicyV1(o.Delivery.TlsPolicy)
			}
		case "reputationOptions":
			out.ReputationOptions = &reputation{SendingEnabled: cs.SendingEnabled()}
			if o.Reputation != nil {
				out.ReputationOptions.ReputationMetricsEnabled = o.Reputation.ReputationMetricsEnabled
				if o.Reputation.LastFreshStart != nil {
					out.ReputationOptions.LastFreshStart = isoTime(*o.Reputation.LastFreshStart)
				}
			}
		default:
			return nil, seserr.InvalidConfigurationSetAttribute(attr)
		}
	}
	return out, nil
}

func (s *Server) listConfigurationSetsV1(ctx context.Context, q queryArgs) (any, error) {
	n, ok, err := q.Int("MaxItems")
	if err != nil {
		return nil, err
	}
	var size *int
	if ok {
		size = &n
	}
	names, next, err := s.listConfigurationSets(ctx, q.Get("NextToken"), size, "")
	if err != nil {
		return nil, err
	}
	out := struct {
		ConfigurationSets []configSetNameV1 `xml:"ConfigurationSets>member"`
		NextToken         string            `xml:"NextToken,omitempty"`
	}{ConfigurationSets: []configSetNameV1{}, NextToken: next}
	for _, name := range names {
		out.ConfigurationSets = append(out.ConfigurationSets, configSetNameV1{name})
	}
	return out, nil
}

func (s *Server) deleteConfigurationSetV1(ctx context.Context, q queryArgs) (any, error) {
	name, err := q.Required("ConfigurationSetName")
	if err != nil {
		return nil, err
	}
	return nil, s.deleteConfigurationSet(ctx, name)
}

func (s *Server) putDeliveryOptionsV1(ctx context.Context, q queryArgs) (any, error) {
	name, err := q.Required("ConfigurationSetName")
	if err != nil {
		return nil, err
	}
	var policy string
	switch p := q.Get("DeliveryOptions.TlsPolicy"); p {
	case "Require":
		policy = "REQUIRE"
	case "Optional", "":
		policy = "OPTIONAL"
	default:
		return nil, seserr.InvalidTLSPolicyV1(p)
	}
	return nil, s.updateOptions(ctx, name, func(o *store.ConfigurationSetOptions) {
		if o.Delivery == nil {
			o.Delivery = &store.DeliveryOptions{}
		}
		o.Delivery.TlsPolicy = policy
	})
}

func (s *Server) updateSendingEnabledV1(ctx context.Context, q queryArgs) (any, error) {
	name, err := q.Required("ConfigurationSetName")
	if err != nil {
		return nil, err
	}
	enabled, ok, err := q.Bool("Enabled")
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, seserr.MissingParameter("Enabled")
	}
	return nil, s.updateOptions(ctx, name, func(o *store.ConfigurationSetOptions) {
		o.Sending = &store.SendingOptions{SendingEnabled: enabled}
	})
}

func (s *Server) updateReputationMetricsV1(ctx context.Context, q queryArgs) (any, error) {
	name, err := q.Required("ConfigurationSetName")
	if err != nil {
		return nil, err
	}
	enabled, ok, err := q.Bool("Enabled")
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, seserr.MissingParameter("Enabled")
	}
	return nil, s.updateOptions(ctx, name, func(o *store.ConfigurationSetOptions) {
		if o.Reputation == nil {
			o.Reputation = &store.ReputationOptions{}
		}
		o.Reputation.ReputationMetricsEnabled = enabled
	})
}
