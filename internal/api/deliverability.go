package api

import (
	"context"
	"net/http"

	"sesame/internal/seserr"
)

// The Deliverability dashboard and Virtual Deliverability Manager (v2
// only). Their data — inbox placement, blocklists, campaigns seen by panel
// mailboxes, VDM's advice — comes from Amazon's mailbox-provider partners,
// which a self-hosted service does not have. So sesame answers what is true:
// the dashboard is disabled, there are no test reports, campaigns or
// recommendations, and VDM is off; asking to turn either on is a
// BadRequest that says why and where sesame's own numbers are.

func (s *Server) registerDeliverability() {
	const base = "/v2/email/deliverability-dashboard"
	s.handleV2("GET "+base, s.getDeliverabilityDashboardOptionsV2)
	s.handleV2("PUT "+base, s.putDeliverabilityDashboardOptionV2)
	s.handleV2("GET "+base+"/test-reports", s.listDeliverabilityTestReportsV2)
	s.handleV2("POST "+base+"/test", s.createDeliverabilityTestReportV2)
	s.handleV2("GET "+base+"/test-reports/{ReportId}", s.getDeliverabilityTestReportV2)
	s.handleV2("GET "+base+"/blacklist-report", s.getBlacklistReportsV2)
	s.handleV2("GET "+base+"/domains/{SubscribedDomain}/campaigns", s.listDomainDeliverabilityCampaignsV2)
	s.handleV2("GET "+base+"/campaigns/{CampaignId}", s.getDomainDeliverabilityCampaignV2)
	s.handleV2("GET "+base+"/statistics-report/{Domain}", s.getDomainStatisticsReportV2)

	s.handleV2("PUT /v2/email/account/vdm", s.putAccountVdmAttributesV2)
	s.handleV2("PUT /v2/email/configuration-sets/{ConfigurationSetName}/vdm-options", s.putConfigurationSetVdmOptionsV2)
	s.handleV2("POST /v2/email/vdm/recommendations", s.listRecommendationsV2)
}

func (s *Server) getDeliverabilityDashboardOptionsV2(ctx context.Context, r *http.Request) (any, error) {
	// AccountStatus and SubscriptionExpiryDate describe a subscription;
	// there is none, so they are left out.
	return struct {
		DashboardEnabled                   bool
		ActiveSubscribedDomains            []struct{}
		PendingExpirationSubscribedDomains []struct{}
	}{false, []struct{}{}, []struct{}{}}, nil
}

func (s *Server) putDeliverabilityDashboardOptionV2(ctx context.Context, r *http.Request) (any, error) {
	var in struct {
		DashboardEnabled  *bool
		SubscribedDomains []struct{ Domain string }
	}
	if err := decodeJSON(r, &in); err != nil {
		return nil, err
	}
	if in.DashboardEnabled == nil {
		return nil, seserr.MissingParameter("DashboardEnabled")
	}
	// Disabling is what is already so; subscribing domains is not.
	if *in.DashboardEnabled || len(in.SubscribedDomains) > 0 {
		return nil, seserr.NoDeliverabilityDashboard()
	}
	return nil, nil
}

func (s *Server) listDeliverabilityTestReportsV2(ctx context.Context, r *http.Request) (any, error) {
	if err := checkEmptyPageQuery(r); err != nil {
		return nil, err
	}
	return struct{ DeliverabilityTestReports []struct{} }{[]struct{}{}}, nil
}

func (s *Server) createDeliverabilityTestReportV2(ctx context.Context, r *http.Request) (any, error) {
	return refuseV2(r, seserr.NoDeliverabilityTestReports(), "FromEmailAddress", "Content")
}

func (s *Server) getDeliverabilityTestReportV2(ctx context.Context, r *http.Request) (any, error) {
	return nil, seserr.DeliverabilityTestReportNotFound(r.PathValue("ReportId"))
}

func (s *Server) getBlacklistReportsV2(ctx context.Context, r *http.Request) (any, error) {
	if len(r.URL.Query()["BlacklistItemNames"]) == 0 {
		return nil, seserr.MissingParameter("BlacklistItemNames")
	}
	return nil, seserr.NoBlacklistReports()
}

func (s *Server) listDomainDeliverabilityCampaignsV2(ctx context.Context, r *http.Request) (any, error) {
	if err := requireQueryTimes(r, "StartDate", "EndDate"); err != nil {
		return nil, err
	}
	if err := checkEmptyPageQuery(r); err != nil {
		return nil, err
	}
	return struct{ DomainDeliverabilityCampaigns []struct{} }{[]struct{}{}}, nil
}

func (s *Server) getDomainDeliverabilityCampaignV2(ctx context.Context, r *http.Request) (any, error) {
	return nil, seserr.DomainDeliverabilityCampaignNotFound(r.PathValue("CampaignId"))
}

func (s *Server) getDomainStatisticsReportV2(ctx context.Context, r *http.Request) (any, error) {
	if err := requireQueryTimes(r, "StartDate", "EndDate"); err != nil {
		return nil, err
	}
	return nil, seserr.NoDomainStatisticsReport()
}

// --- Virtual Deliverability Manager ----------------------------------------

// vdmSwitch is one ENABLED/DISABLED setting of VDM's. Only DISABLED is
// accepted: accepting ENABLED would claim a feature sesame does not have,
// and GetAccount / GetConfigurationSet would not show it.
func vdmSwitch(name string, v *string) error {
	if v == nil {
		return nil
	}
	switch *v {
	case "DISABLED":
		return nil
	case "ENABLED":
		return seserr.NoVirtualDeliverabilityManager()
	}
	return seserr.InvalidEnumValue(name, *v, "ENABLED, DISABLED")
}

func (s *Server) putAccountVdmAttributesV2(ctx context.Context, r *http.Request) (any, error) {
	var in struct {
		VdmAttributes *struct {
			VdmEnabled          *string
			DashboardAttributes *struct{ EngagementMetrics *string }
			GuardianAttributes  *struct{ OptimizedSharedDelivery *string }
		}
	}
	if err := decodeJSON(r, &in); err != nil {
		return nil, err
	}
	a := in.VdmAttributes
	if a == nil {
		return nil, seserr.MissingParameter("VdmAttributes")
	}
	if a.VdmEnabled == nil {
		return nil, seserr.MissingParameter("VdmAttributes.VdmEnabled")
	}
	if err := vdmSwitch("VdmEnabled", a.VdmEnabled); err != nil {
		return nil, err
	}
	if a.DashboardAttributes != nil {
		if err := vdmSwitch("EngagementMetrics", a.DashboardAttributes.EngagementMetrics); err != nil {
			return nil, err
		}
	}
	if a.GuardianAttributes != nil {
		if err := vdmSwitch("OptimizedSharedDelivery", a.GuardianAttributes.OptimizedSharedDelivery); err != nil {
			return nil, err
		}
	}
	return nil, nil
}

func (s *Server) putConfigurationSetVdmOptionsV2(ctx context.Context, r *http.Request) (any, error) {
	var in struct {
		VdmOptions *struct {
			DashboardOptions *struct{ EngagementMetrics *string }
			GuardianOptions  *struct{ OptimizedSharedDelivery *string }
		}
	}
	if err := decodeJSON(r, &in); err != nil {
		return nil, err
	}
	if err := s.checkConfigurationSet(ctx, r.PathValue("ConfigurationSetName")); err != nil {
		return nil, err
	}
	if o := in.VdmOptions; o != nil {
		if o.DashboardOptions != nil {
			if err := vdmSwitch("EngagementMetrics", o.DashboardOptions.EngagementMetrics); err != nil {
				return nil, err
			}
		}
		if o.GuardianOptions != nil {
			if err := vdmSwitch("OptimizedSharedDelivery", o.GuardianOptions.OptimizedSharedDelivery); err != nil {
				return nil, err
			}
		}
	}
	return nil, nil
}

func (s *Server) listRecommendationsV2(ctx context.Context, r *http.Request) (any, error) {
	return emptyListV2(r, "Recommendations")
}
