package seserr

// SigV4 failures, as AWS's common errors name them. The unknown-key case is
// InvalidCredentials (InvalidClientTokenId), shared with SMTP AUTH. SMTP never
// sees these (it authenticates with SMTP passwords), but each still has an
// SMTP face so an *Error is complete wherever it ends up.

// MessageSignatureMismatch is AWS's text for a signature that does not verify.
const MessageSignatureMismatch = "The request signature we calculated does not match the signature you provided. " +
	"Check your AWS Secret Access Key and signing method. Consult the service documentation for details."

// MissingAuthenticationToken: the request carries neither an Authorization
// header nor presigned query parameters.
func MissingAuthenticationToken() *Error {
	return &Error{SMTPCode: 530, SMTPText: "Authentication required", HTTPStatus: 403,
		APICode: "MissingAuthenticationToken", QueryCode: "MissingAuthenticationToken",
		Message: "Request is missing Authentication Token"}
}

// IncompleteSignature: the signature is malformed or lacks a part; msg says
// which, in AWS's words.
func IncompleteSignature(msg string) *Error {
	return &Error{SMTPCode: 535, SMTPText: "Authentication Credentials Invalid", HTTPStatus: 400,
		APICode: "IncompleteSignature", QueryCode: "IncompleteSignature", Message: msg}
}

// SignatureDoesNotMatch: the signature is well formed but wrong.
func SignatureDoesNotMatch() *Error { return SignatureRefused(MessageSignatureMismatch) }

// SignatureRefused is SignatureDoesNotMatch with AWS's text for a more
// specific reason (a credential scope with the wrong service or date, a
// payload that does not match its declared hash).
func SignatureRefused(msg string) *Error {
	return &Error{SMTPCode: 535, SMTPText: "Authentication Credentials Invalid", HTTPStatus: 403,
		APICode: "SignatureDoesNotMatch", QueryCode: "SignatureDoesNotMatch", Message: msg}
}

// RequestExpired: the signing time is too far from the server's clock (or a
// presigned request has outlived X-Amz-Expires); msg gives the times as AWS
// does ("Signature expired: … is now earlier than …").
func RequestExpired(msg string) *Error {
	return &Error{SMTPCode: 535, SMTPText: "Authentication Credentials Invalid", HTTPStatus: 400,
		APICode: "RequestExpired", QueryCode: "RequestExpired", Message: msg}
}
