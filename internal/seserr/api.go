package seserr

import "fmt"

// API failures common to every operation group. Each group adds its own
// (templates, identities, …) in a file of its own beside this one.

// BadRequest: a parameter is missing or invalid.
func BadRequest(msg string) *Error {
	return &Error{SMTPCode: 554, SMTPText: "Transaction failed: " + msg, HTTPStatus: 400,
		APICode: "BadRequestException", QueryCode: "InvalidParameterValue", Message: msg}
}

// MissingParameter: a required parameter is absent.
func MissingParameter(name string) *Error {
	e := BadRequest(fmt.Sprintf("1 validation error detected: Value null at '%s' failed to satisfy constraint: Member must not be null", name))
	e.QueryCode = "ValidationError"
	return e
}

// UnknownOperation: no operation at this path / no such Action.
func UnknownOperation() *Error {
	return &Error{SMTPCode: 500, SMTPText: "Unrecognized command", HTTPStatus: 404,
		APICode: "UnknownOperationException", QueryCode: "InvalidAction",
		Message: "The requested operation is not supported."}
}

// InvalidAction: a v1 (Query) Action SES does not have, in the text AWS's
// Query front ends answer ("The action DescribeX is not valid for this web
// service."), HTTP 400.
func InvalidAction(action string) *Error {
	e := UnknownOperation()
	e.HTTPStatus = 400
	e.Message = fmt.Sprintf("The action %s is not valid for this web service.", action)
	return e
}

// UnknownRegion: a request signed for a region this server does not serve.
// AWS's code and opening sentence, then what to do about it: the region is
// valid for AWS, only this installation does not serve it.
func UnknownRegion(region string) *Error {
	msg := fmt.Sprintf("Credential should be scoped to a valid region, not '%s'. "+
		"Region %s is not served by this sesame; add it to `regions` in the configuration.", region, region)
	return &Error{SMTPCode: 535, SMTPText: "Authentication Credentials Invalid", HTTPStatus: 403,
		APICode: "SignatureDoesNotMatch", QueryCode: "SignatureDoesNotMatch", Message: msg}
}

// NotFound: the named resource does not exist. queryCode is v1's code for
// this resource (e.g. "TemplateDoesNotExist").
func NotFound(queryCode, msg string) *Error {
	return &Error{SMTPCode: 554, SMTPText: "Transaction failed: " + msg, HTTPStatus: 404,
		APICode: "NotFoundException", QueryCode: queryCode, Message: msg}
}

// AlreadyExists: the resource to create exists. queryCode is v1's code
// (e.g. "AlreadyExists", "ConfigurationSetAlreadyExists").
func AlreadyExists(queryCode, msg string) *Error {
	return &Error{SMTPCode: 554, SMTPText: "Transaction failed: " + msg, HTTPStatus: 400,
		APICode: "AlreadyExistsException", QueryCode: queryCode, Message: msg}
}

// LimitExceeded: a per-account limit (identities, templates, …) is reached.
func LimitExceeded(msg string) *Error {
	return &Error{SMTPCode: 554, SMTPText: "Transaction failed: " + msg, HTTPStatus: 400,
		APICode: "LimitExceededException", QueryCode: "LimitExceeded", Message: msg}
}

// --- Parameters of the wrong form -----------------------------------------

// NotAnInteger: a numeric parameter (PageSize, MaxItems, …) is not an integer.
func NotAnInteger(name string) *Error {
	return BadRequest(fmt.Sprintf("%s must be an integer", name))
}

// NotABoolean: a v1 flag parameter is neither true nor false.
func NotABoolean(name string) *Error {
	return BadRequest(fmt.Sprintf("%s must be true or false", name))
}

// NotATimestamp: a date parameter is neither ISO-8601 nor epoch seconds.
func NotATimestamp(name string) *Error {
	return BadRequest(fmt.Sprintf("%s must be an ISO-8601 timestamp.", name))
}

// PageSizeOutOfRange: PageSize is not between 1 and max.
func PageSizeOutOfRange(max int) *Error {
	return BadRequest(fmt.Sprintf("PageSize must be between 1 and %d.", max))
}
