package api

import (
	"sesame/internal/sending"
	"sesame/internal/seserr"
)

// sendOptionsV2 are the members of SendEmail and SendBulkEmail that name
// SES features around the message rather than the message: a tenant, a
// multi-region endpoint, and per-message tracking overrides. sesame has no
// tenants and no multi-region endpoints, so naming one is SES's
// NotFoundException for a tenant or endpoint that does not exist; the
// tracking overrides work (sending.TrackingOverride).
type sendOptionsV2 struct {
	TenantName             *string
	EndpointId             *string
	ConfigurationOverrides *struct {
		Tracking *struct{ ClickTrackingEnabled, OpenTrackingEnabled string }
	}
}

// apply checks the options and sets what they ask on o.
func (in *sendOptionsV2) apply(o *outbound) error {
	if in.TenantName != nil {
		return seserr.TenantNotFound(*in.TenantName)
	}
	if in.EndpointId != nil {
		return seserr.MultiRegionEndpointNotFound(*in.EndpointId)
	}
	if c := in.ConfigurationOverrides; c != nil && c.Tracking != nil {
		for _, f := range []struct{ name, value string }{
			{"ConfigurationOverrides.Tracking.ClickTrackingEnabled", c.Tracking.ClickTrackingEnabled},
			{"ConfigurationOverrides.Tracking.OpenTrackingEnabled", c.Tracking.OpenTrackingEnabled},
		} {
			switch f.value {
			case "", sending.TrackingEnabled, sending.TrackingDisabled:
			default:
				return seserr.InvalidEnumValue(f.name, f.value, "ENABLED, DISABLED")
			}
		}
		o.tracking = sending.TrackingOverride{Open: c.Tracking.OpenTrackingEnabled, Click: c.Tracking.ClickTrackingEnabled}
	}
	return nil
}
