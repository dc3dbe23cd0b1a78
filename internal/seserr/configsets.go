package seserr

import "fmt"

// Failures of the configuration-set and suppression-list operations, with
// SES's texts.

// ConfigurationSetDoesNotExist: v2 NotFoundException, v1 ConfigurationSetDoesNotExist.
// Over SMTP (X-SES-CONFIGURATION-SET) SES answers "554 Configuration Set
// does not exist: Configuration set <name> does not exist." (seen in a
// real SES SMTP log).
func ConfigurationSetDoesNotExist(name string) *Error {
	e := NotFound("ConfigurationSetDoesNotExist", fmt.Sprintf("Configuration set <%s> does not exist.", name))
	e.SMTPText = "Configuration Set does not exist: " + e.Message
	return e
}

// ConfigurationSetAlreadyExists: v2 AlreadyExistsException, v1 ConfigurationSetAlreadyExists.
func ConfigurationSetAlreadyExists(name string) *Error {
	return AlreadyExists("ConfigurationSetAlreadyExists", fmt.Sprintf("Configuration set <%s> already exists.", name))
}

// InvalidConfigurationSetName: a name outside [A-Za-z0-9_-]{1,64}. v1 has
// its own code for it (InvalidConfigurationSet, a typed SDK exception).
func InvalidConfigurationSetName(name string) *Error {
	e := BadRequest(fmt.Sprintf("Configuration set name <%s> is invalid: it must be 1 to 64 ASCII letters, digits, underscores or dashes.", name))
	e.QueryCode = "InvalidConfigurationSet"
	return e
}

// InvalidNextToken: a pagination token sesame did not hand out.
func InvalidNextToken() *Error {
	return BadRequest("The NextToken is invalid.")
}

// ConfigurationSetLimitExceeded: the region holds max configuration sets.
func ConfigurationSetLimitExceeded(max int) *Error {
	return LimitExceeded(fmt.Sprintf("Maximum number of configuration sets (%d) reached.", max))
}

// InvalidConfigurationSetAttribute: v1 DescribeConfigurationSet asked for
// an attribute name SES does not have.
func InvalidConfigurationSetAttribute(attr string) *Error {
	return BadRequest(fmt.Sprintf("Invalid ConfigurationSetAttributeNames value %q.", attr))
}

// InvalidTLSPolicy: v2 delivery options with a TlsPolicy SES does not have.
func InvalidTLSPolicy(policy string) *Error {
	return BadRequest(fmt.Sprintf("Invalid TlsPolicy %q: must be REQUIRE or OPTIONAL.", policy))
}

// InvalidTLSPolicyV1: v1 delivery options with a TlsPolicy SES does not
// have (v1 spells the values its own way).
func InvalidTLSPolicyV1(policy string) *Error {
	return BadRequest(fmt.Sprintf("Invalid TlsPolicy %q: must be Require or Optional.", policy))
}

// MaxDeliverySecondsOutOfRange: a delivery option's MaxDeliverySeconds
// outside the range SES allows.
func MaxDeliverySecondsOutOfRange(min, max int) *Error {
	return BadRequest(fmt.Sprintf("MaxDeliverySeconds must be between %d and %d.", min, max))
}

// InvalidHTTPSPolicy: tracking options with an HttpsPolicy SES does not have.
func InvalidHTTPSPolicy(policy string) *Error {
	return BadRequest(fmt.Sprintf("Invalid HttpsPolicy %q: must be REQUIRE, REQUIRE_OPEN_ONLY or OPTIONAL.", policy))
}

// --- Suppression list ------------------------------------------------------

// InvalidSuppressionReason: a SuppressionListReason other than BOUNCE or COMPLAINT.
func InvalidSuppressionReason(reason string) *Error {
	return BadRequest(fmt.Sprintf("Invalid suppression reason %q: must be BOUNCE or COMPLAINT.", reason))
}

// DuplicateSuppressionReason: a list of suppression reasons names one twice.
func DuplicateSuppressionReason(reason string) *Error {
	return BadRequest(fmt.Sprintf("Duplicate suppression reason %q.", reason))
}

// InvalidSuppressedAddress: PutSuppressedDestination with an address that
// cannot be suppressed.
func InvalidSuppressedAddress(addr string) *Error {
	return BadRequest(fmt.Sprintf("Invalid email address %q.", addr))
}
