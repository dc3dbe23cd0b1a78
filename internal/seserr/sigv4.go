package seserr

import "fmt"

// Failures of parsing and checking a SigV4 signature (Authorization header
// or presigned query), with AWS's texts.

// UnsupportedAlgorithm: the signature names an AWS4 algorithm other than AWS4-HMAC-SHA256.
func UnsupportedAlgorithm(alg string) *Error {
	return IncompleteSignature(fmt.Sprintf("Unsupported AWS 'algorithm': '%s'", alg))
}

// InvalidPresignExpires: a presigned URL's X-Amz-Expires is not a non-negative integer.
func InvalidPresignExpires(expires string) *Error {
	return IncompleteSignature(fmt.Sprintf("X-Amz-Expires should be a non-negative number of seconds, got '%s'", expires))
}

// InvalidSigningDate: the signing time (X-Amz-Date or Date) is not in ISO 8601 basic format.
func InvalidSigningDate(date string) *Error {
	return IncompleteSignature(fmt.Sprintf(
		"Date must be in ISO-8601 'basic format'. Got '%s'. See http://en.wikipedia.org/wiki/ISO_8601", date))
}

// MalformedCredential: the Credential is not keyid/date/region/service/term.
func MalformedCredential(cred string) *Error {
	return IncompleteSignature(fmt.Sprintf(
		"Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, got '%s'", cred))
}

// WrongScopeTerminator: the credential scope does not end in aws4_request.
func WrongScopeTerminator(term string) *Error {
	return SignatureRefused(fmt.Sprintf(
		"Credential should be scoped with a valid terminator: 'aws4_request', not '%s'. ", term))
}

// WrongScopeService: the credential scope names another service than service, the one expected.
func WrongScopeService(service string) *Error {
	return SignatureRefused(fmt.Sprintf("Credential should be scoped to correct service: '%s'. ", service))
}

// ScopeDateMismatch: the credential scope's date is not date, the YYYYMMDD of the signing time amzDate.
func ScopeDateMismatch(scopeDate, date, amzDate string) *Error {
	return SignatureRefused(fmt.Sprintf(
		"Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '%s' != '%s', from '%s'.",
		scopeDate, date, amzDate))
}

// SignatureNotYetCurrent: the signing time is later than the server's clock (now) plus 5 minutes (latest).
// AWS's text; SES itself has been seen to allow 15 minutes, sesame keeps SigV4's 5.
func SignatureNotYetCurrent(amzDate, latest, now string) *Error {
	return RequestExpired(fmt.Sprintf("Signature not yet current: %s is still later than %s (%s + 5 min.)",
		amzDate, latest, now))
}

// SignatureExpired: the signing time is earlier than the server's clock (now) minus 5 minutes (earliest).
func SignatureExpired(amzDate, earliest, now string) *Error {
	return RequestExpired(fmt.Sprintf("Signature expired: %s is now earlier than %s (%s - 5 min.)",
		amzDate, earliest, now))
}

// PresignedURLExpired: a presigned URL has outlived its X-Amz-Expires (seconds): signed before earliest.
func PresignedURLExpired(amzDate, earliest, now string, seconds int64) *Error {
	return RequestExpired(fmt.Sprintf("Signature expired: %s is now earlier than %s (%s - %d sec.)",
		amzDate, earliest, now, seconds))
}
