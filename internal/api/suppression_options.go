package api

import (
	"sesame/internal/seserr"
	"sesame/internal/store"
)

// The suppression settings SES added for tenants and Auto Validation:
// SuppressionScope (a configuration set's list: the account's or its
// tenant's) and a ConditionThreshold (suppress addresses SES judges
// undeliverable with some confidence). sesame has no tenants and judges no
// address, so each is accepted only with the value that says what sesame
// does (ACCOUNT, DISABLED), kept and read back; the other values are
// refused with a message that says why, rather than accepted and ignored.

// conditionThresholdV2 is SES's SuppressionConditionThreshold.
type conditionThresholdV2 struct {
	ConditionThresholdEnabled  string
	OverallConfidenceThreshold *struct{ ConfidenceVerdictThreshold string } `json:",omitempty"`
}

// suppressionValidationV2 is SuppressionValidationOptions (a configuration
// set's) and SuppressionValidationAttributes (the account's): one shape.
type suppressionValidationV2 struct {
	ConditionThreshold *conditionThresholdV2
}

// store checks v (member names the field for MissingParameter) and returns
// what is kept; nil in, nil out.
func (v *suppressionValidationV2) store(member string) (*store.SuppressionValidation, error) {
	if v == nil {
		return nil, nil
	}
	c := v.ConditionThreshold
	if c == nil {
		return nil, seserr.MissingParameter(member + ".ConditionThreshold")
	}
	out := &store.SuppressionValidation{ConditionThresholdEnabled: c.ConditionThresholdEnabled}
	if t := c.OverallConfidenceThreshold; t != nil {
		out.ConfidenceVerdictThreshold = t.ConfidenceVerdictThreshold
		switch t.ConfidenceVerdictThreshold {
		case "MEDIUM", "HIGH", "MANAGED":
		case "":
			return nil, seserr.MissingParameter(member + ".ConditionThreshold.OverallConfidenceThreshold.ConfidenceVerdictThreshold")
		default:
			return nil, seserr.InvalidEnumValue("ConfidenceVerdictThreshold", t.ConfidenceVerdictThreshold, "MEDIUM, HIGH, MANAGED")
		}
	}
	return out, checkSuppressionValidation(out)
}

// checkSuppressionValidation: only DISABLED, as sesame has no Auto Validation.
func checkSuppressionValidation(v *store.SuppressionValidation) error {
	if v == nil {
		return nil
	}
	switch v.ConditionThresholdEnabled {
	case "DISABLED":
		return nil
	case "ENABLED":
		return seserr.NoAutoValidation()
	case "":
		return seserr.MissingParameter("ConditionThresholdEnabled")
	}
	return seserr.InvalidEnumValue("ConditionThresholdEnabled", v.ConditionThresholdEnabled, "ENABLED, DISABLED")
}

// checkSuppressionScope: only ACCOUNT (or none), as sesame has no tenants.
func checkSuppressionScope(scope string) error {
	switch scope {
	case "", "ACCOUNT":
		return nil
	case "TENANT":
		return seserr.NoTenantSuppression()
	}
	return seserr.InvalidEnumValue("SuppressionScope", scope, "ACCOUNT, TENANT")
}

// validationV2 is what GetConfigurationSet answers of a kept setting.
func validationV2(v *store.SuppressionValidation) *suppressionValidationV2 {
	if v == nil {
		return nil
	}
	out := &suppressionValidationV2{ConditionThreshold: &conditionThresholdV2{ConditionThresholdEnabled: v.ConditionThresholdEnabled}}
	if v.ConfidenceVerdictThreshold != "" {
		out.ConditionThreshold.OverallConfidenceThreshold = &struct{ ConfidenceVerdictThreshold string }{v.ConfidenceVerdictThreshold}
	}
	return out
}

// store converts a configuration set's SuppressionOptions (create or put).
func (o *suppressionOptionsV2) store() (*store.SuppressionOptions, error) {
	if o == nil {
		return nil, nil
	}
	v, err := o.ValidationOptions.store("ValidationOptions")
	if err != nil {
		return nil, err
	}
	return &store.SuppressionOptions{SuppressedReasons: nonNil(o.SuppressedReasons), Scope: o.SuppressionScope, Validation: v}, nil
}

// suppressionOptionsOf is GetConfigurationSet's SuppressionOptions.
func suppressionOptionsOf(sup *store.SuppressionOptions) *suppressionOptionsV2 {
	if sup == nil {
		return nil
	}
	return &suppressionOptionsV2{SuppressedReasons: nonNil(sup.SuppressedReasons), SuppressionScope: sup.Scope,
		ValidationOptions: validationV2(sup.Validation)}
}

// accountValidationV2 is GetAccount's SuppressionAttributes.ValidationAttributes:
// Auto Validation is off, always.
func accountValidationV2() *suppressionValidationV2 {
	return &suppressionValidationV2{ConditionThreshold: &conditionThresholdV2{ConditionThresholdEnabled: "DISABLED"}}
}
