package seserr

// SMTP protocol failures: replies to a malformed or out-of-order dialogue.
// SES publishes no texts for these, so they follow RFC 5321 and RFC 4954 in
// SES's style: a basic code and a short text, no enhanced status code.
// They have no API face beyond the generic one; the API never produces them.

// CommandUnrecognized: a verb the server does not know (RFC 5321 §4.2.4).
func CommandUnrecognized() *Error { return smtpOnly(500, "Unrecognized command") }

// CommandLineTooLong: a command line over 512 octets (RFC 5321 §4.5.3.1.4).
func CommandLineTooLong() *Error { return smtpOnly(500, "Line too long") }

// CommandNotImplemented: a known verb sesame does not offer (VRFY, EXPN, ...).
func CommandNotImplemented() *Error { return smtpOnly(502, "Command not implemented") }

// ArgumentSyntax: a command's arguments cannot be parsed.
func ArgumentSyntax() *Error { return smtpOnly(501, "Syntax error in parameters or arguments") }

// ParameterNotImplemented: an unknown MAIL FROM / RCPT TO parameter (RFC 5321 §4.1.1.11).
func ParameterNotImplemented() *Error {
	return smtpOnly(555, "MAIL FROM/RCPT TO parameters not recognized or not implemented")
}

// BadSequence: a command out of order (RCPT before MAIL, DATA before RCPT, ...).
func BadSequence() *Error { return smtpOnly(503, "Bad sequence of commands") }

// AlreadyAuthenticated: a second AUTH in one session (RFC 4954 §4).
func AlreadyAuthenticated() *Error { return smtpOnly(503, "Already authenticated") }

// TLSAlreadyActive: STARTTLS on a session already under TLS.
func TLSAlreadyActive() *Error { return smtpOnly(503, "TLS already active") }

// UnknownAuthMechanism: AUTH with a mechanism other than PLAIN and LOGIN (RFC 4954 §6).
func UnknownAuthMechanism() *Error { return smtpOnly(504, "Unrecognized authentication type") }

// AuthCancelled: the client answered a 334 challenge with "*" (RFC 4954 §4).
func AuthCancelled() *Error { return smtpOnly(501, "Authentication cancelled") }

// AuthBadEncoding: an AUTH response that is not valid base64 (RFC 4954 §4).
func AuthBadEncoding() *Error { return smtpOnly(501, "Cannot decode base64 response") }

// ServiceClosing: the server ends the session (shutting down, or the
// session reached its age or message limit); the client reconnects.
func ServiceClosing() *Error {
	return smtpOnly(421, "Service not available, closing transmission channel")
}
