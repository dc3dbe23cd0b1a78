package api

import (
	"strings"

	"sesame/internal/seserr"
	"sesame/internal/store"
)

// ListEmailIdentities' Filter (v2, POST /v2/email/list-identities): a map
// of IdentityFilterKey to value, each key narrowing the list, all of them
// together. The keys and the enumerated values are the model's; an
// unknown one is refused rather than ignored, so a misspelt filter does
// not silently list everything.

// Filter keys (the model's IdentityFilterKey).
const (
	filterNameContains       = "IDENTITY_NAME_CONTAINS"
	filterIdentityType       = "IDENTITY_TYPE"
	filterVerificationStatus = "VERIFICATION_STATUS"
)

// identityFilter turns a Filter into a predicate over stored identities;
// nil when the filter is empty.
func identityFilter(filter map[string]string) (func(store.Identity) bool, error) {
	if len(filter) == 0 {
		return nil, nil
	}
	var tests []func(store.Identity) bool
	for key, value := range filter {
		switch key {
		case filterNameContains:
			// Domains are case-insensitive, so the substring is too.
			sub := strings.ToLower(value)
			tests = append(tests, func(id store.Identity) bool { return strings.Contains(strings.ToLower(id.Name), sub) })
		case filterIdentityType:
			switch value {
			case string(store.EmailAddress), string(store.Domain):
			case "MANAGED_DOMAIN": // a type of the model sesame never has
			default:
				return nil, seserr.InvalidEnumValue("Filter."+key, value, "EMAIL_ADDRESS, DOMAIN, MANAGED_DOMAIN")
			}
			tests = append(tests, func(id store.Identity) bool { return string(id.Type) == value })
		case filterVerificationStatus:
			switch value {
			case "PENDING", "SUCCESS", "FAILED", "TEMPORARY_FAILURE", "NOT_STARTED":
			default:
				return nil, seserr.InvalidEnumValue("Filter."+key, value, "PENDING, SUCCESS, FAILED, TEMPORARY_FAILURE, NOT_STARTED")
			}
			tests = append(tests, func(id store.Identity) bool { return v2Status(id.Status) == value })
		default:
			return nil, seserr.InvalidEnumValue("Filter key", key, filterNameContains+", "+filterIdentityType+", "+filterVerificationStatus)
		}
	}
	return func(id store.Identity) bool {
		for _, t := range tests {
			if !t(id) {
				return false
			}
		}
		return true
	}, nil
}
