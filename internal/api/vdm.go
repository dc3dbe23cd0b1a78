package api

// Virtual Deliverability Manager as GetAccount and the configuration sets
// show it: sesame has none (deliverability.go's vdmSwitch refuses
// ENABLED), so what is read back is the only state there is, DISABLED,
// and a VdmOptions given to CreateConfigurationSet is checked the same
// way PutConfigurationSetVdmOptions checks it rather than dropped.

const vdmDisabled = "DISABLED"

type (
	vdmDashboardV2 struct{ EngagementMetrics *string }
	vdmGuardianV2  struct{ OptimizedSharedDelivery *string }
	vdmOptionsV2   struct {
		DashboardOptions *vdmDashboardV2 `json:",omitempty"`
		GuardianOptions  *vdmGuardianV2  `json:",omitempty"`
	}
	vdmAttributesV2 struct {
		VdmEnabled          string
		DashboardAttributes *vdmDashboardV2 `json:",omitempty"`
		GuardianAttributes  *vdmGuardianV2  `json:",omitempty"`
	}
)

// check refuses ENABLED (and values outside ENABLED/DISABLED).
func (o *vdmOptionsV2) check() error {
	if o == nil {
		return nil
	}
	if o.DashboardOptions != nil {
		if err := vdmSwitch("EngagementMetrics", o.DashboardOptions.EngagementMetrics); err != nil {
			return err
		}
	}
	if o.GuardianOptions != nil {
		if err := vdmSwitch("OptimizedSharedDelivery", o.GuardianOptions.OptimizedSharedDelivery); err != nil {
			return err
		}
	}
	return nil
}

// vdmOff is a fresh DISABLED setting.
func vdmOff() *string {
	s := vdmDisabled
	return &s
}

// accountVdm is GetAccount's VdmAttributes.
func accountVdm() vdmAttributesV2 {
	return vdmAttributesV2{VdmEnabled: vdmDisabled,
		DashboardAttributes: &vdmDashboardV2{EngagementMetrics: vdmOff()},
		GuardianAttributes:  &vdmGuardianV2{OptimizedSharedDelivery: vdmOff()}}
}

// configurationSetVdm is GetConfigurationSet's VdmOptions.
func configurationSetVdm() *vdmOptionsV2 {
	return &vdmOptionsV2{DashboardOptions: &vdmDashboardV2{EngagementMetrics: vdmOff()},
		GuardianOptions: &vdmGuardianV2{OptimizedSharedDelivery: vdmOff()}}
}
