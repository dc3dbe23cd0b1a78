package seserr

import "fmt"

// Custom verification email template failures. v1 has a code of its own for
// each (CustomVerificationEmailTemplateDoesNotExist, …AlreadyExists,
// CustomVerificationEmailInvalidContent, FromEmailAddressNotVerified,
// ProductionAccessNotGranted); v2 answers NotFound, AlreadyExists,
// LimitExceeded or BadRequest.

// CustomVerificationTemplateDoesNotExist: no custom verification template of that name.
func CustomVerificationTemplateDoesNotExist(name string) *Error {
	return NotFound("CustomVerificationEmailTemplateDoesNotExist",
		fmt.Sprintf("Custom verification email template %s does not exist.", name))
}

// CustomVerificationTemplateAlreadyExists: Create with a name in use.
func CustomVerificationTemplateAlreadyExists(name string) *Error {
	return AlreadyExists("CustomVerificationEmailTemplateAlreadyExists",
		fmt.Sprintf("Custom verification email template %s already exists.", name))
}

// CustomVerificationTemplateLimitExceeded: the account holds SES's max templates.
func CustomVerificationTemplateLimitExceeded(max int) *Error {
	return LimitExceeded(fmt.Sprintf("Maximum number of custom verification email templates (%d) reached.", max))
}

// CustomVerificationInvalidContent: the template's content breaks SES's
// rules (size, comment tags, tags or attributes outside SES's list); why
// says which.
func CustomVerificationInvalidContent(why string) *Error {
	e := BadRequest("Invalid custom verification email template content: " + why)
	e.QueryCode = "CustomVerificationEmailInvalidContent"
	return e
}

// InvalidCustomVerificationTemplate: a parameter other than the content is
// missing or malformed (a name too long, an empty subject, a redirection
// URL that is not http(s)).
func InvalidCustomVerificationTemplate(why string) *Error {
	return BadRequest("Invalid custom verification email template: " + why)
}

// FromEmailAddressNotVerified: the template's FromEmailAddress is not a
// verified identity (nor on a verified domain) of the account.
func FromEmailAddressNotVerified(addr string) *Error {
	e := BadRequest(fmt.Sprintf("From email address %s is not verified.", addr))
	e.QueryCode = "FromEmailAddressNotVerified"
	return e
}

// ProductionAccessNotGranted: SendCustomVerificationEmail from an account
// in the sandbox (SES sends custom verification mail only out of it).
func ProductionAccessNotGranted() *Error {
	e := BadRequest("Production access not granted: custom verification emails can only be sent by an account out of the sandbox.")
	e.QueryCode = "ProductionAccessNotGranted"
	return e
}
