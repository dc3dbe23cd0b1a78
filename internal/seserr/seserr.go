// Package seserr is the catalogue of failures a client of sesame can see.
// Each failure has two faces kept side by side: the SMTP reply SES gives
// (code and exact text) and the API error (HTTP status, v2 error code, v1
// Query error code, message). The exact SES texts live here and nowhere else.
//
// An *Error may wrap a cause for the log; clients only ever see the faces.
package seserr

import (
	"errors"
	"fmt"
	"strings"
)

// Error is one client-visible failure.
type Error struct {
	// SMTPCode and SMTPText form the SMTP reply line: "<code> <text>".
	SMTPCode int
	SMTPText string
	// HTTPStatus, APICode (v2 REST-JSON error type), QueryCode (v1 Query
	// <Code>) and Message form the API error. HTTPStatus is v2's; v1 Query
	// answers every client error with 400.
	HTTPStatus int
	APICode    string
	QueryCode  string
	Message    string
	// Cause is for the log only.
	Cause error
	// bulk is the BulkEmailStatus when the codes do not tell it.
	bulk string
}

// BulkStatus is the failure's face in SendBulkEmail's results (v2's
// BulkEmailStatus; v1 spells the same values its own way).
func (e *Error) BulkStatus() string {
	if e.bulk != "" {
		return e.bulk
	}
	switch e.QueryCode {
	case "MessageRejected":
		return "MESSAGE_REJECTED"
	case "MailFromDomainNotVerifiedException":
		return "MAIL_FROM_DOMAIN_NOT_VERIFIED"
	case "ConfigurationSetDoesNotExist":
		return "CONFIGURATION_SET_NOT_FOUND"
	case "TemplateDoesNotExist":
		return "TEMPLATE_NOT_FOUND"
	case "AccountSendingPausedException":
		return "ACCOUNT_SENDING_PAUSED"
	case "ConfigurationSetSendingPausedException":
		return "CONFIGURATION_SET_SENDING_PAUSED"
	case "Throttling":
		return "ACCOUNT_THROTTLED"
	}
	switch {
	case e.HTTPStatus >= 500:
		return "TRANSIENT_FAILURE"
	case e.HTTPStatus == 400:
		return "INVALID_PARAMETER"
	}
	return "FAILED"
}

// Error implements error; it is the SMTP reply followed by the cause, for logs.
func (e *Error) Error() string {
	if e.Cause != nil {
		return e.SMTPReply() + ": " + e.Cause.Error()
	}
	return e.SMTPReply()
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Cause }

// SMTPReply is the reply line without CRLF, e.g. "554 Transaction failed: Recipient count exceeds 50.".
func (e *Error) SMTPReply() string { return fmt.Sprintf("%d %s", e.SMTPCode, e.SMTPText) }

// Temporary reports whether the client should retry (an SMTP 4xx).
func (e *Error) Temporary() bool { return e.SMTPCode >= 400 && e.SMTPCode < 500 }

// Wrap returns a copy of e carrying cause for the log.
func (e *Error) Wrap(cause error) *Error {
	c := *e
	c.Cause = cause
	return &c
}

// As returns the *Error in err's chain, or a TemporaryFailure wrapping err
// when there is none, so every failure reaching a client has SES's form.
func As(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return TemporaryFailure().Wrap(err)
}

func smtpOnly(code int, text string) *Error {
	return &Error{SMTPCode: code, SMTPText: text, HTTPStatus: 400, APICode: "BadRequestException", QueryCode: "InvalidParameterValue", Message: text}
}

// --- Connection and authentication ---------------------------------------

// TooManyConnections is given instead of the greeting when the listener is full.
func TooManyConnections() *Error {
	return smtpOnly(421, "Too many concurrent SMTP connections")
}

// Timeout is given when a client stays silent past the idle timeout.
func Timeout() *Error {
	return smtpOnly(451, "4.4.2 Timeout waiting for data from client.")
}

// TemporaryFailure is SES's "local processing error" (a server-side fault).
func TemporaryFailure() *Error {
	return &Error{SMTPCode: 451, SMTPText: "Temporary service failure", HTTPStatus: 500,
		APICode: "InternalFailure", QueryCode: "InternalFailure", Message: "Temporary service failure"}
}

// TemporaryAuthFailure: the credential check itself failed inside sesame.
func TemporaryAuthFailure() *Error { return smtpOnly(454, "Temporary authentication failure") }

// AuthRequired: a mail command before AUTH.
func AuthRequired() *Error { return smtpOnly(530, "Authentication required") }

// MustStartTLS: AUTH (or mail) on a connection not yet under TLS.
func MustStartTLS() *Error { return smtpOnly(530, "Must issue a STARTTLS command first") }

// InvalidCredentials: user or password wrong (or the key unknown or disabled).
func InvalidCredentials() *Error {
	return &Error{SMTPCode: 535, SMTPText: "Authentication Credentials Invalid", HTTPStatus: 403,
		APICode: "InvalidClientTokenId", QueryCode: "InvalidClientTokenId",
		Message: "The security token included in the request is invalid."}
}

// --- Envelope syntax (MAIL / RCPT) -----------------------------------------

// InvalidMailFrom: MAIL FROM address unparsable (or empty: SES refuses <>).
func InvalidMailFrom() *Error { return smtpOnly(501, "Invalid MAIL FROM address provided") }

// InvalidRcptTo: RCPT TO address unparsable.
func InvalidRcptTo() *Error { return smtpOnly(501, "Invalid RCPT TO address provided") }

// --- Message checks (end of DATA / Send*) ---------------------------------

// MessageTooLong: the message exceeds the size limit.
func MessageTooLong() *Error {
	return &Error{SMTPCode: 552, SMTPText: "Message is too long.", HTTPStatus: 400,
		APICode: "MessageRejected", QueryCode: "MessageRejected",
		Message: "Message length is more than the maximum message size allowed."}
}

// NotVerified: sender or (in the sandbox) recipient identities not verified.
// SES lists the failed identities and names the region upper-case.
func NotVerified(region string, identities []string) *Error {
	list := strings.Join(identities, ", ")
	const max = 900 // keep the SMTP line well under 1000 octets; SES truncates with "..."
	if len(list) > max {
		list = list[:max] + "..."
	}
	msg := fmt.Sprintf("Email address is not verified. The following identities failed the check in region %s: %s",
		strings.ToUpper(region), list)
	return &Error{SMTPCode: 554, SMTPText: "Message rejected: " + msg, HTTPStatus: 400,
		APICode: "MessageRejected", QueryCode: "MessageRejected", Message: msg}
}

// SendingPaused: sending is disabled for the account in this region.
func SendingPaused() *Error {
	msg := "Sending suspended for this account. For more information, please check the inbox of the email address associated with your AWS account."
	return &Error{SMTPCode: 554, SMTPText: "Message rejected: " + msg, HTTPStatus: 400,
		APICode: "SendingPausedException", QueryCode: "AccountSendingPausedException", Message: msg}
}

// RecipientCountExceeded: more than 50 recipients.
func RecipientCountExceeded() *Error {
	return transactionFailed("Recipient count exceeds 50.")
}

// DuplicateHeader: a header that may appear once appears more often.
func DuplicateHeader(name string) *Error {
	return transactionFailed(fmt.Sprintf("Duplicate header '%s'.", name))
}

// IllegalAddress: a header address with characters SES refuses.
func IllegalAddress(addr string) *Error {
	return transactionFailed(fmt.Sprintf("Address contains illegal characters in user name: '%s'.", addr))
}

// UserNameMissing: a header address without a local part.
func UserNameMissing(addr string) *Error {
	return transactionFailed(fmt.Sprintf("User name is missing: '%s'", addr))
}

// MissingFrom: a message without a From header (SES: "Missing final '@domain'").
func MissingFrom() *Error {
	return transactionFailed("Missing final '@domain'")
}

func transactionFailed(what string) *Error {
	return &Error{SMTPCode: 554, SMTPText: "Transaction failed: " + what, HTTPStatus: 400,
		APICode: "MessageRejected", QueryCode: "MessageRejected", Message: what}
}

// BareLineEnding: a bare CR (or, in strict mode, a bare LF) in message
// content, over SMTP or in raw API content (SMTP smuggling defence; SES has
// no published text, so sesame says plainly what is wrong). The API face is
// an invalid parameter, as for other content SES cannot take.
func BareLineEnding() *Error {
	return BadRequest("Message contains bare CR or LF characters; lines must end with CRLF.")
}

// LineTooLong: a DATA or command line longer than allowed.
func LineTooLong() *Error {
	return smtpOnly(554, "Transaction failed: Message contains a line longer than 1000 characters.")
}

// NULByte: a NUL octet in the message (SMTP or raw API content).
func NULByte() *Error {
	return BadRequest("Message contains NUL characters.")
}

// --- Quotas --------------------------------------------------------------

// DailyQuotaExceeded: the rolling 24-hour quota is used up.
func DailyQuotaExceeded() *Error {
	return &Error{SMTPCode: 454, SMTPText: "Throttling failure: Daily message quota exceeded", HTTPStatus: 429,
		APICode: "TooManyRequestsException", QueryCode: "Throttling", Message: "Daily message quota exceeded.",
		bulk: "ACCOUNT_DAILY_QUOTA_EXCEEDED"}
}

// MaxSendRateExceeded: the per-second send rate is exceeded.
func MaxSendRateExceeded() *Error {
	return &Error{SMTPCode: 454, SMTPText: "Throttling failure: Maximum sending rate exceeded", HTTPStatus: 429,
		APICode: "TooManyRequestsException", QueryCode: "Throttling", Message: "Maximum sending rate exceeded."}
}
