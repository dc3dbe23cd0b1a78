package seserr

import "fmt"

// KeyNotAuthorized: the access key's policy does not allow action on
// resource, IAM's refusal of a user whose attached policy says no. The API
// text is IAM's ("User: ARN is not authorized to perform: ACTION on
// resource: ARN" and why: an explicit Deny or no Allow); over SMTP it is
// SES's 554 "Access denied" line (spec ses-smtp-and-accounts.md §errors).
// v2 answers 403 AccessDeniedException, v1 403 AccessDenied.
func KeyNotAuthorized(userARN, action, resource string, explicit bool) *Error {
	why := "because no identity-based policy allows the " + action + " action"
	if explicit {
		why = "with an explicit deny in an identity-based policy"
	}
	return &Error{SMTPCode: 554,
		SMTPText:   fmt.Sprintf("Access denied: User `%s' is not authorized to perform `%s' on resource `%s'", userARN, action, resource),
		HTTPStatus: 403, APICode: "AccessDeniedException", QueryCode: "AccessDenied",
		Message: fmt.Sprintf("User: %s is not authorized to perform: %s on resource: %s %s", userARN, action, resource, why)}
}

// SNSKeyNotAuthorized: a key with a policy called the SNS API. A key's
// policy speaks SES's actions only, so it never allows an SNS one; the
// refusal is SNS's AuthorizationError with the key's user ARN.
func SNSKeyNotAuthorized(userARN, action, resource string) *Error {
	return snsError(403, "AuthorizationError", fmt.Sprintf(
		"User: %s is not authorized to perform: SNS:%s on resource: %s", userARN, action, resource))
}
