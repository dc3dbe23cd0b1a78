package seserr

import (
	"fmt"
	"time"
)

// The web console's own failures (sign-in, its session and forms). An
// SES operation the console calls fails with that operation's error; these
// are what happens before one is called. The texts follow the AWS
// console's where it has one.

func consoleErr(status int, code, msg string) *Error {
	return &Error{HTTPStatus: status, APICode: code, QueryCode: code, Message: msg}
}

// ConsoleSignInFailed: an unknown access key id, a wrong secret or a
// deactivated key, never saying which (AWS's sign-in text).
func ConsoleSignInFailed() *Error {
	return consoleErr(401, "InvalidClientTokenId", "Your authentication information is incorrect. Please try again.")
}

// ConsoleSignInThrottled: too many failed sign-ins from this address or
// for this key; wait is how long until the next try.
func ConsoleSignInThrottled(wait time.Duration) *Error {
	minutes := int((wait + time.Minute - 1) / time.Minute)
	return consoleErr(429, "Throttling", fmt.Sprintf("Too many failed sign-in attempts. Try again in %d minute%s.",
		minutes, map[bool]string{true: "", false: "s"}[minutes == 1]))
}

// ConsoleOperatorTokenInvalid: the admin token is unknown or expired.
func ConsoleOperatorTokenInvalid() *Error {
	return consoleErr(401, "InvalidClientTokenId",
		"The admin token is incorrect or has expired. Make a new one with `sesame admin console-token`.")
}

// ConsoleBadCSRF: a form without this session's token (a stale page, or
// a form from another site).
func ConsoleBadCSRF() *Error {
	return consoleErr(403, "InvalidCsrfToken", "This form has expired or did not come from the console. Reload the page and try again.")
}

// ConsoleCrossSite: a state-changing request another site's page sent.
func ConsoleCrossSite() *Error {
	return consoleErr(403, "AccessDenied", "Cross-site requests are refused.")
}

// ConsoleNoSuchPage: an unknown page, or a region sesame does not serve.
func ConsoleNoSuchPage() *Error {
	return consoleErr(404, "NotFoundException", "There is no such page in the console.")
}

// ConsoleNoOperatorView: the operator's pages are off in this server.
func ConsoleNoOperatorView() *Error {
	return consoleErr(404, "NotFoundException", "This server has no operator view.")
}

// ConsoleAdminRefused: an admin command the operator's page ran refused
// what it was asked (msg is the command's own message, as on the command
// line).
func ConsoleAdminRefused(msg string) *Error {
	return consoleErr(400, "ValidationException", msg)
}

// The console's own form checks, made before an SES operation is called
// (what the SDK cannot carry, or a choice the form's fields contradict).

// ConsoleIdentityKindMissing: neither "Domain" nor "Email address" chosen.
func ConsoleIdentityKindMissing() *Error {
	return consoleErr(400, "ValidationException", "Choose whether the identity is a domain or an email address.")
}

// ConsoleDomainHasAt: an address typed in the domain field.
func ConsoleDomainHasAt(name string) *Error {
	return consoleErr(400, "ValidationException", "A domain has no @: choose \"Email address\" to verify "+name+".")
}

// ConsoleAddressNeedsAt: a domain typed in the address field.
func ConsoleAddressNeedsAt(name string) *Error {
	return consoleErr(400, "ValidationException", "An email address needs an @: choose \"Domain\" to verify "+name+".")
}

// ConsoleMailFromDomainMissing: the custom MAIL FROM box ticked, no domain.
func ConsoleMailFromDomainMissing() *Error {
	return consoleErr(400, "ValidationException", "Enter the custom MAIL FROM domain, or untick \"Use a custom MAIL FROM domain\".")
}

// ConsoleNotSeconds: a field of seconds that is not a whole number.
func ConsoleNotSeconds(field, value string) *Error {
	return consoleErr(400, "ValidationException", fmt.Sprintf("%s: %q is not a number of seconds.", field, value))
}

// ConsoleNotADate: a date field that is not YYYY-MM-DD; which is "start"
// or "end".
func ConsoleNotADate(which string) *Error {
	return consoleErr(400, "ValidationException", "The "+which+" date must be a date (YYYY-MM-DD).")
}
