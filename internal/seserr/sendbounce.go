package seserr

import "fmt"

// SES v1 SendBounce (bouncing a received message). SES documents only
// MessageRejected for it and publishes no texts; these are sesame's, in
// SES's manner. An unverified BounceSender answers NotVerified, SES's
// text for an unverified sender.

// BounceMessageNotReceived: OriginalMessageId names no message received
// for the caller in the region within SendBounce's 24 hours.
func BounceMessageNotReceived(id string) *Error {
	e := BadRequest(fmt.Sprintf("Message %s was not received by this account in this region within the last "+
		"24 hours: SendBounce bounces only such messages.", id))
	e.APICode, e.QueryCode = "MessageRejected", "MessageRejected"
	return e
}

// BounceRecipientNotReceived: a BouncedRecipientInfo's Recipient was not a
// recipient of the message (SendBounce sends no generic bounces).
func BounceRecipientNotReceived(recipient, id string) *Error {
	e := BadRequest(fmt.Sprintf("%s is not a recipient of message %s.", recipient, id))
	e.APICode, e.QueryCode = "MessageRejected", "MessageRejected"
	return e
}

// InvalidBounceType: a BounceType outside SES's enum, in AWS's validation
// text.
func InvalidBounceType(member, value string) *Error {
	e := BadRequest(fmt.Sprintf("1 validation error detected: Value '%s' at '%s' failed to satisfy constraint: "+
		"Member must satisfy enum value set: [DoesNotExist, MessageTooLarge, ExceededQuota, ContentRejected, "+
		"Undefined, TemporaryFailure]", value, member))
	e.QueryCode = "ValidationError"
	return e
}

// InvalidDsnAction: a RecipientDsnFields Action outside SES's enum.
func InvalidDsnAction(member, value string) *Error {
	e := BadRequest(fmt.Sprintf("1 validation error detected: Value '%s' at '%s' failed to satisfy constraint: "+
		"Member must satisfy enum value set: [failed, delayed, delivered, relayed, expanded]", value, member))
	e.QueryCode = "ValidationError"
	return e
}

// BounceTypeOrDsnFields: a BouncedRecipientInfo with neither BounceType nor
// RecipientDsnFields (SES: "You must provide either").
func BounceTypeOrDsnFields(recipient string) *Error {
	return BadRequest(fmt.Sprintf("BouncedRecipientInfo for %s must have a BounceType or RecipientDsnFields.", recipient))
}

// InvalidDsnDate: ArrivalDate or LastAttemptDate is not a timestamp.
func InvalidDsnDate(member, value string) *Error {
	return BadRequest(fmt.Sprintf("Invalid %s %s: it must be an ISO 8601 timestamp.", member, value))
}

// BounceNullSender: the message came with the null reverse-path, so there
// is no one to send a bounce to (RFC 5321 §4.5.5).
func BounceNullSender(id string) *Error {
	e := BadRequest(fmt.Sprintf("Message %s has no sender to bounce to: it came with the null reverse-path (MAIL FROM:<>).", id))
	e.APICode, e.QueryCode = "MessageRejected", "MessageRejected"
	return e
}
