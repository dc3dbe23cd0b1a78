package seserr

import "fmt"

// Failures of the event-destination and identity-notification operations,
// and of message tags, with SES's texts (spec §9, recorded on AWS) where
// they are known; texts marked "sesame's" were not recorded.

// EventDestinationAlreadyExists: v2 AlreadyExistsException, v1
// EventDestinationAlreadyExists. The text is sesame's.
func EventDestinationAlreadyExists(configSet, name string) *Error {
	return AlreadyExists("EventDestinationAlreadyExists",
		fmt.Sprintf("Event destination %s already exists in configuration set <%s>.", name, configSet))
}

// EventDestinationDoesNotExist: v2 NotFoundException, v1
// EventDestinationDoesNotExist. SES names the configuration set, not the
// destination, and without angle brackets (recorded).
func EventDestinationDoesNotExist(configSet string) *Error {
	return NotFound("EventDestinationDoesNotExist", "No EventDestination found for "+configSet)
}

// EventDestinationLimitExceeded: a configuration set has max destinations
// already. The text is sesame's.
func EventDestinationLimitExceeded(configSet string, max int) *Error {
	return LimitExceeded(fmt.Sprintf("Maximum number of event destinations (%d) reached for configuration set <%s>.", max, configSet))
}

// InvalidSNSDestination: the event destination's SNS topic does not exist
// (v1 InvalidSNSDestination, v2 BadRequestException; text recorded).
func InvalidSNSDestination(topicARN string) *Error {
	e := BadRequest(fmt.Sprintf("SNS topic <%s> not found.", topicARN))
	e.QueryCode = "InvalidSNSDestination"
	return e
}

// InvalidSNSTopic: SetIdentityNotificationTopic with a topic that is not
// one of the caller's (v1 InvalidParameterValue). The text is sesame's.
func InvalidSNSTopic(topicARN string) *Error {
	return BadRequest(fmt.Sprintf("Invalid SNS topic %s: it does not exist or is not in this account.", topicARN))
}

// InvalidNotificationType: a NotificationType other than Bounce, Complaint
// or Delivery (recorded).
func InvalidNotificationType(t string) *Error {
	return BadRequest(fmt.Sprintf("Invalid notification type: %s. Valid values are: Bounce, Complaint, Delivery.", t))
}

// IdentityNotVerified: v1's notification settings of an identity that does
// not exist (recorded: MessageRejected, HTTP 400). Its v2 face is the
// NotFoundException of a missing identity.
func IdentityNotVerified(identity string) *Error {
	msg := fmt.Sprintf("Identity %s is not verified or does not exist.", identity)
	return &Error{SMTPCode: 554, SMTPText: "Transaction failed: " + msg, HTTPStatus: 404,
		APICode: "NotFoundException", QueryCode: "MessageRejected", Message: msg}
}

// FeedbackForwardingNeedsTopics: feedback forwarding turned off while the
// identity lacks a bounce or a complaint topic (SES's documented rule; its
// error text was not recorded, so the text is sesame's).
func FeedbackForwardingNeedsTopics(identity string) *Error {
	return BadRequest(fmt.Sprintf("Feedback forwarding for %s can only be disabled when Amazon SNS topics are set for both Bounce and Complaint notification types.", identity))
}

// --- Event destinations' contents ----------------------------------------

// InvalidEventDestinationName: a name outside [A-Za-z0-9_-]{1,64}.
func InvalidEventDestinationName(name string) *Error {
	return BadRequest(fmt.Sprintf("Event destination name <%s> is invalid: it must be 1 to 64 ASCII letters, digits, underscores or dashes.", name))
}

// InvalidEventType: a MatchingEventTypes value SES does not have (in the
// protocol's own spelling).
func InvalidEventType(t string) *Error {
	return BadRequest(fmt.Sprintf("Invalid event type %s.", t))
}

// InvalidDimensionValueSource: a CloudWatch dimension whose value source
// SES does not have.
func InvalidDimensionValueSource(source string) *Error {
	return BadRequest(fmt.Sprintf("Invalid DimensionValueSource %s.", source))
}

// --- Message tags (recorded; spacing as SES writes it) ---------------------

// TagNameMissing: an empty message tag name.
func TagNameMissing() *Error { return BadRequest("The tag name must be specified.") }

// TagValueMissing: an empty message tag value.
func TagValueMissing() *Error { return BadRequest("The tag value must be specified.") }

// TagNameTooLong: a message tag name over 255 characters.
func TagNameTooLong() *Error { return BadRequest("Tag name cannot exceed 255 characters.") }

// TagValueTooLong: a message tag value over 255 characters.
func TagValueTooLong() *Error { return BadRequest("Tag value cannot exceed 255 characters.") }

// InvalidTagName: a message tag name outside [A-Za-z0-9_-].
func InvalidTagName(name string) *Error {
	return BadRequest(fmt.Sprintf("Invalid tag name <%s>: only alphanumeric ASCII characters, '_',  '-' are allowed.", name))
}

// InvalidTagValue: a message tag value outside [A-Za-z0-9_.@-].
func InvalidTagValue(value string) *Error {
	return BadRequest(fmt.Sprintf("Invalid tag value <%s>: only alphanumeric ASCII characters, '_',  '-' , '.', '@' are allowed.", value))
}
