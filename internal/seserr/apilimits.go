package seserr

import "fmt"

// Refusals of the HTTP API's own hardening (issue 9): payloads that are not
// signed, bodies too large for their operation, too many requests at once.
// Each has an SMTP face for completeness; SMTP never gives them.

// UnsignedPayload: the request declares x-amz-content-sha256:
// UNSIGNED-PAYLOAD. SES (unlike S3) signs every payload; AWS answers such a
// request with SignatureDoesNotMatch, sesame says why.
func UnsignedPayload() *Error {
	return SignatureRefused("UNSIGNED-PAYLOAD is not accepted: the request's payload must be signed " +
		"(x-amz-content-sha256 is the hex SHA-256 of the body).")
}

// PresignedWithBody: a presigned (query-string) request carries a body. A
// presigned URL signs only its query, so the body's parameters would be
// unsigned.
func PresignedWithBody() *Error {
	return IncompleteSignature("A request signed in its query string (a presigned URL) must not have a body. " +
		"Sign requests with a body in the Authorization header.")
}

// ParameterInQueryAndBody: a Query-protocol request names a parameter both
// in its URL and in its form body; sesame will not pick one.
func ParameterInQueryAndBody(name string) *Error {
	return BadRequest(fmt.Sprintf("The parameter %s is given both in the query string and in the body.", name))
}

// RequestTooLarge: the request body exceeds what its operation can need
// (limit bytes). AWS's front end answers 413 with this code.
func RequestTooLarge(limit int64) *Error {
	msg := fmt.Sprintf("Request size exceeded %d bytes.", limit)
	return &Error{SMTPCode: 552, SMTPText: "Message is too long.", HTTPStatus: 413,
		APICode: "RequestEntityTooLarge", QueryCode: "RequestEntityTooLarge", Message: msg}
}

// TooManyRequests: the API has as many requests in progress as it allows
// ([api] max_inflight). SDKs retry it with backoff: v2's
// TooManyRequestsException (429), v1's and SNS's Throttling.
func TooManyRequests() *Error {
	return &Error{SMTPCode: 421, SMTPText: "Too many concurrent requests", HTTPStatus: 429,
		APICode: "TooManyRequestsException", QueryCode: "Throttling", Message: "Rate exceeded"}
}

// UnreadableBody: the request body could not be read to its end (the
// client stopped sending, or sent a malformed chunked encoding).
func UnreadableBody() *Error { return BadRequest("Could not read the request body.") }
