package seserr

import "fmt"

// Template and rendering failures (SES v1 codes TemplateDoesNotExist,
// AlreadyExists, InvalidTemplate, MissingRenderingAttribute,
// InvalidRenderingParameter; v2 has only NotFound, AlreadyExists and
// BadRequest for them).

// TemplateDoesNotExist: no template of that name in the region.
func TemplateDoesNotExist(name string) *Error {
	return NotFound("TemplateDoesNotExist", fmt.Sprintf("Template %s does not exist.", name))
}

// TemplateAlreadyExists: CreateTemplate with a name in use.
func TemplateAlreadyExists(name string) *Error {
	return AlreadyExists("AlreadyExists", fmt.Sprintf("Template %s already exists.", name))
}

// TemplateLimitExceeded: the region holds SES's 10,000 templates.
func TemplateLimitExceeded() *Error {
	return LimitExceeded("Maximum number of templates exceeded.")
}

// InvalidTemplate: a template part is not valid Handlebars, too large, or
// the template has no name.
func InvalidTemplate(name, why string) *Error {
	e := BadRequest(fmt.Sprintf("Template %s is invalid: %s", name, why))
	e.QueryCode = "InvalidTemplate"
	return e
}

// MissingRenderingAttribute: TestRender* over data that lacks a variable
// the template uses. msg is SES's "Attribute 'x' is not present in the
// rendering data."
func MissingRenderingAttribute(msg string) *Error {
	e := BadRequest(msg)
	e.QueryCode = "MissingRenderingAttribute"
	return e
}

// InvalidRenderingParameter: TemplateData is not valid JSON (or too long).
func InvalidRenderingParameter(msg string) *Error {
	e := BadRequest(msg)
	e.QueryCode = "InvalidRenderingParameter"
	return e
}

// TemplateDataNotJSON: TemplateData that does not parse as a JSON object,
// in SES's words (its answer to SendEmail and TestRender* alike); the
// decoder's own reason goes to the log only. SES documents TemplateData as
// a JSON object, so an array or a bare value gets the same answer.
func TemplateDataNotJSON(cause error) *Error {
	e := InvalidRenderingParameter("Unable to parse template data (invalid JSON).")
	e.Cause = cause
	return e
}

// HeaderInjection: a CR or LF where a header line would be built from it
// (Subject, addresses, custom headers, attachment names). API-only: SMTP
// clients write their own headers.
func HeaderInjection(field string) *Error {
	return BadRequest(fmt.Sprintf("Invalid %s: line breaks (CR or LF) are not allowed.", field))
}

// NoRecipients: an API send with no destination at all (SMTP needs a RCPT
// before DATA, so only the API meets it).
func NoRecipients() *Error {
	return BadRequest("Missing required header 'To'.")
}

// IllegalAddressInHeader: an API raw message whose To, Cc or Bcc header
// does not parse as an address list.
func IllegalAddressInHeader(header string) *Error {
	return BadRequest(fmt.Sprintf("Illegal address in the %s header.", header))
}

// TooManyBulkDestinations: SendBulkEmail with more than max entries.
func TooManyBulkDestinations(max int) *Error {
	return BadRequest(fmt.Sprintf("The number of destinations exceeds the limit of %d.", max))
}

// ConfigurationSetSendingPaused: sending through this configuration set is
// disabled (v2 SendingPausedException, v1 ConfigurationSetSendingPausedException).
func ConfigurationSetSendingPaused(name string) *Error {
	msg := fmt.Sprintf("Sending is paused for configuration set <%s>.", name)
	return &Error{SMTPCode: 554, SMTPText: "Message rejected: " + msg, HTTPStatus: 400,
		APICode: "SendingPausedException", QueryCode: "ConfigurationSetSendingPausedException", Message: msg}
}
