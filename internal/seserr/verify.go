package seserr

import "fmt"

// Failures of identity verification settings (Easy DKIM, BYODKIM, MAIL
// FROM), with SES's texts.

// InvalidSigningKeyLength: an Easy DKIM key is to be generated with a length other than RSA_1024_BIT or RSA_2048_BIT.
func InvalidSigningKeyLength(length string) *Error {
	return BadRequest(fmt.Sprintf("Invalid NextSigningKeyLength %s: must be RSA_1024_BIT or RSA_2048_BIT.", length))
}

// InvalidNextSigningKeyLength: an identity's Easy DKIM NextSigningKeyLength is changed to a length SES does not know.
func InvalidNextSigningKeyLength(length string) *Error {
	return BadRequest(fmt.Sprintf("Invalid NextSigningKeyLength %s.", length))
}

// InvalidDKIMKeySize: a BYODKIM private key is an RSA key of fewer than 1024 or more than 2048 bits.
func InvalidDKIMKeySize(bits int) *Error {
	return InvalidDKIMKey(fmt.Sprintf("the key has %d bits; it must have 1024 to 2048.", bits))
}

// InvalidDKIMSelector: a BYODKIM DomainSigningSelector is not a valid selector.
func InvalidDKIMSelector(selector string) *Error {
	return InvalidDKIMKey(fmt.Sprintf("invalid DomainSigningSelector %q.", selector))
}

// InvalidBehaviorOnMxFailure: a MAIL FROM BehaviorOnMxFailure is neither USE_DEFAULT_VALUE nor REJECT_MESSAGE.
func InvalidBehaviorOnMxFailure(behavior string) *Error {
	return BadRequest(fmt.Sprintf("Invalid BehaviorOnMxFailure %s: must be USE_DEFAULT_VALUE or REJECT_MESSAGE.", behavior))
}
