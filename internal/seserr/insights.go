package seserr

// Failures of message insights (GetMessageInsights). The text is sesame's:
// SES's was not recorded.

// MessageNotFound: no events of the message id are kept for the caller's
// account and region (unknown, another account's, or past retention).
func MessageNotFound(messageID string) *Error {
	return NotFound("NotFoundException", "Message with ID "+messageID+" not found.")
}
