package seserr

import "fmt"

// Identity failures (CreateEmailIdentity, Verify*, identity settings).

// IdentityNotFound: the named identity does not exist in the region.
func IdentityNotFound(name string) *Error {
	return NotFound("NotFound", fmt.Sprintf("Email identity %s does not exist.", name))
}

// IdentityExists: CreateEmailIdentity for an identity already there.
func IdentityExists(name string) *Error {
	return AlreadyExists("AlreadyExists", fmt.Sprintf("Email identity %s already exists.", name))
}

// InvalidIdentity: neither a valid address nor a valid domain name.
func InvalidIdentity(name string) *Error {
	if containsAt(name) {
		return InvalidEmailAddress(name)
	}
	return InvalidDomainName(name)
}

// InvalidEmailAddress: an identity that must be an email address is not a
// valid one.
func InvalidEmailAddress(addr string) *Error {
	return BadRequest(fmt.Sprintf("Invalid email address %s.", addr))
}

// InvalidDomainName: an identity that must be a domain is not a valid one.
func InvalidDomainName(domain string) *Error {
	return BadRequest(fmt.Sprintf("Invalid domain name %s.", domain))
}

// InvalidIdentityType: v1 ListIdentities with an IdentityType SES does not have.
func InvalidIdentityType(t string) *Error {
	return BadRequest(fmt.Sprintf("Invalid IdentityType %s: must be EmailAddress or Domain.", t))
}

// IdentityLimitExceeded: the region holds the maximum number of identities.
func IdentityLimitExceeded(max int) *Error {
	return LimitExceeded(fmt.Sprintf("Maximum number of identities (%d) exceeded for this region.", max))
}

// InvalidMailFromDomain: the MAIL FROM domain is not a subdomain of the identity.
func InvalidMailFromDomain(mailFrom, identity string) *Error {
	return BadRequest(fmt.Sprintf("Invalid MAIL FROM domain %s: it must be a subdomain of %s.", mailFrom, identity))
}

// InvalidBehaviorOnMXFailureV1: v1 SetIdentityMailFromDomain with a
// BehaviorOnMXFailure SES does not have (v1 spells the values its own way).
func InvalidBehaviorOnMXFailureV1(behavior string) *Error {
	return BadRequest(fmt.Sprintf("Invalid BehaviorOnMXFailure %s: must be UseDefaultValue or RejectMessage.", behavior))
}

// DKIMNotSetUp: DKIM signing turned on for a domain that has no DKIM keys yet.
func DKIMNotSetUp(name string) *Error {
	return BadRequest(fmt.Sprintf("DKIM is not set up for %s: call VerifyDomainDkim or PutEmailIdentityDkimSigningAttributes first.", name))
}

// InvalidSigningAttributesOrigin: DKIM signing attributes whose origin is
// neither SES's keys nor the caller's own.
func InvalidSigningAttributesOrigin(origin string) *Error {
	return BadRequest(fmt.Sprintf("Invalid SigningAttributesOrigin %s: must be AWS_SES or EXTERNAL.", origin))
}

// InvalidDKIMKey: a BYODKIM private key that is not a 1024–2048-bit RSA key
// in base64 PEM body form.
func InvalidDKIMKey(why string) *Error {
	return BadRequest("Invalid DKIM signing attributes: " + why)
}

// NotADomain: a domain-only setting (DKIM signing, MAIL FROM, v1 domain
// verification) asked of an email address identity.
func NotADomain(name, what string) *Error {
	return BadRequest(fmt.Sprintf("%s is only available for domain identities, not %s.", what, name))
}

func containsAt(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] == '@' {
			return true
		}
	}
	return false
}

// MailFromDomainNotVerified: the sending identity's custom MAIL FROM domain
// is not verified and its behaviour on MX failure is REJECT_MESSAGE. v1
// keeps the Exception suffix on the wire.
func MailFromDomainNotVerified(identity string) *Error {
	msg := fmt.Sprintf("The custom MAIL FROM domain of %s is not verified, and its behavior on MX failure is to reject the message.", identity)
	return &Error{SMTPCode: 554, SMTPText: "Transaction failed: " + msg, HTTPStatus: 400,
		APICode: "MailFromDomainNotVerifiedException", QueryCode: "MailFromDomainNotVerifiedException", Message: msg}
}

// DKIMReplicationUnsupported: a regional Easy DKIM origin
// (AWS_SES_<REGION>, Deterministic Easy DKIM) asks SES to copy the signing
// key of the same identity in another region; sesame keeps each region's
// keys apart and does not replicate them, so it refuses rather than
// pretend with a key the parent's DNS records do not publish.
func DKIMReplicationUnsupported(origin string) *Error {
	return BadRequest(fmt.Sprintf("SigningAttributesOrigin %s replicates DKIM from another region (Deterministic Easy DKIM), "+
		"which sesame does not support: use AWS_SES (Easy DKIM in this region) or EXTERNAL.", origin))
}

// DomainSigningOriginMisplaced: DkimSigningAttributes'
// DomainSigningAttributesOrigin where SES's model does not allow the value
// (PutEmailIdentityDkimSigningAttributes takes none; CreateEmailIdentity
// only a parent region's AWS_SES_<REGION>).
func DomainSigningOriginMisplaced(origin, operation string) *Error {
	return BadRequest(fmt.Sprintf("DomainSigningAttributesOrigin %s is not allowed in %s.", origin, operation))
}
