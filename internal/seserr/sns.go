package seserr

import "fmt"

// Failures of the SNS-compatible topics API, with SNS's codes and texts (as
// recorded from AWS in localstack's SNS snapshots). SNS speaks only the
// Query protocol: QueryCode is the <Code>, HTTPStatus the status.

func snsError(status int, code, msg string) *Error {
	return &Error{SMTPCode: 554, SMTPText: "Transaction failed: " + msg, HTTPStatus: status,
		APICode: code, QueryCode: code, Message: msg}
}

// SNSInvalidParameter: SNS's catch-all validation failure; what is
// "Invalid parameter: <what>".
func SNSInvalidParameter(what string) *Error {
	return snsError(400, "InvalidParameter", "Invalid parameter: "+what)
}

// SNSInvalidParameterText: an InvalidParameter whose text SNS words on its own
// (e.g. "Invalid token").
func SNSInvalidParameterText(msg string) *Error { return snsError(400, "InvalidParameter", msg) }

// SNSInvalidARN: an ARN with fewer than six colon-separated elements.
func SNSInvalidARN(param string, elements int) *Error {
	return SNSInvalidParameter(fmt.Sprintf("%s Reason: An ARN must have at least 6 elements, not %d", param, elements))
}

// SNSTopicNotFound: the topic does not exist.
func SNSTopicNotFound() *Error { return snsError(404, "NotFound", "Topic does not exist") }

// SNSSubscriptionNotFound: the subscription does not exist.
func SNSSubscriptionNotFound() *Error {
	return snsError(404, "NotFound", "Subscription does not exist")
}

// SNSAuthorizationError: a resource of another account.
func SNSAuthorizationError(accountID, action, resource string) *Error {
	return snsError(403, "AuthorizationError", fmt.Sprintf(
		"User: arn:aws:iam::%s:root is not authorized to perform: SNS:%s on resource: %s", accountID, action, resource))
}

// SNSUnsupportedProtocol: a protocol SNS does not know.
func SNSUnsupportedProtocol(protocol string) *Error {
	return SNSInvalidParameter("Amazon SNS does not support this protocol string: " + protocol)
}

// SNSInvalidAction: an Action the SNS API does not have.
func SNSInvalidAction(action string) *Error {
	return snsError(400, "InvalidAction", fmt.Sprintf("Unrecognized action: %s", action))
}

// SNSValidationError: a required parameter is missing (SNS's model
// validation, e.g. Value null at 'name').
func SNSValidationError(member string) *Error {
	return snsError(400, "ValidationError", fmt.Sprintf(
		"1 validation error detected: Value null at '%s' failed to satisfy constraint: Member must not be null", member))
}

// SNSFifoUnsupported: FifoTopic=true (sesame has standard topics only).
func SNSFifoUnsupported() *Error {
	return SNSInvalidParameter("Attributes Reason: FifoTopic: sesame supports standard topics only")
}

// SNSProtocolNotDelivered: a protocol SNS knows that sesame does not deliver
// to (lambda, sms, application, firehose; email without a mailer).
func SNSProtocolNotDelivered(protocol string) *Error {
	return SNSInvalidParameter("Protocol Reason: sesame does not deliver to " + protocol + " endpoints; use http, https, email, email-json or sqs")
}

// SNSNoSQSEndpoint: an sqs subscription on a server whose operator named no
// SQS API ([sns] sqs_endpoint): sesame never reaches for AWS's on its own.
func SNSNoSQSEndpoint() *Error {
	return SNSInvalidParameter("Protocol Reason: this sesame delivers to no SQS queues: its operator has set no SQS endpoint ([sns] sqs_endpoint)")
}

// SNSEndpointMismatch: an endpoint that does not fit its protocol.
func SNSEndpointMismatch() *Error {
	return SNSInvalidParameter("Endpoint must match the specified protocol")
}
