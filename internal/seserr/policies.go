package seserr

import "fmt"

// Sending authorization: identity policies (v2 Create/Get/Update/Delete
// EmailIdentityPolicy, v1 Put/Get/List/DeleteIdentityPolicy) and the
// refusal of a delegate's send the owner's policies do not allow.

// InvalidPolicy: a policy document SES would not take; why is the policy
// package's reason. v1's code is InvalidPolicy, v2's BadRequestException.
func InvalidPolicy(why string) *Error {
	e := BadRequest("Invalid policy: " + why)
	e.QueryCode = "InvalidPolicy"
	return e
}

// InvalidPolicyName: a name longer than 64 characters or with characters
// other than alphanumerics, '-' and '_'.
func InvalidPolicyName(name string) *Error {
	return BadRequest(fmt.Sprintf("Invalid policy name %s: the name cannot exceed 64 characters and can only include alphanumeric characters, dashes, and underscores.", name))
}

// PolicyLimitExceeded: the identity has SES's maximum of policies.
func PolicyLimitExceeded(identity string, max int) *Error {
	return LimitExceeded(fmt.Sprintf("Maximum number of policies (%d) exceeded for identity %s.", max, identity))
}

// PolicyExists: CreateEmailIdentityPolicy for a name the identity has.
func PolicyExists(identity, name string) *Error {
	return AlreadyExists("AlreadyExists", fmt.Sprintf("Policy %s already exists for identity %s.", name, identity))
}

// PolicyNotFound: Update/DeleteEmailIdentityPolicy for a name the identity
// does not have.
func PolicyNotFound(identity, name string) *Error {
	return NotFound("NotFound", fmt.Sprintf("Policy %s does not exist for identity %s.", name, identity))
}

// TooManyPolicyNames: v1 GetIdentityPolicies asks for more than SES's 20.
func TooManyPolicyNames(max int) *Error {
	return BadRequest(fmt.Sprintf("PolicyNames may list at most %d policies.", max))
}

// InvalidIdentityArn: a sending-authorization ARN (SourceArn, FromArn,
// ReturnPathArn, FromEmailAddressIdentityArn, X-SES-*-ARN, …) that is not
// an SES identity ARN of this region; param names where it came from.
func InvalidIdentityArn(param, arn, region string) *Error {
	return BadRequest(fmt.Sprintf("Invalid %s %s: it must be the ARN of an identity in %s (arn:aws:ses:%s:ACCOUNT:identity/NAME).",
		param, arn, region, region))
}

// SendingNotAuthorized: a delegate's send the identity owner's policies do
// not allow (or an ARN whose identity does not cover the address it is
// given for), in SES's words: AccessDenied (v1, HTTP 403),
// AccessDeniedException (v2), "554 Access denied: …" over SMTP. user is
// the caller as an IAM ARN (arn:aws:iam::ACCOUNT:root), action the IAM
// action (ses:SendRawEmail over SMTP), resource the identity's ARN.
func SendingNotAuthorized(user, action, resource string) *Error {
	msg := fmt.Sprintf("User `%s' is not authorized to perform `%s' on resource `%s'", user, action, resource)
	return &Error{SMTPCode: 554, SMTPText: "Access denied: " + msg, HTTPStatus: 403,
		APICode: "AccessDeniedException", QueryCode: "AccessDenied", Message: msg, bulk: "FAILED"}
}
