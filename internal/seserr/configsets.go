package seserr

import "fmt"

// Failures of the configuration-set and suppression-list operations, with
// SES's texts.

// ConfigurationSetDoesNotExist: v2 NotFoundException, v1 ConfigurationSetDoesNotExist.
// Over SMTP (X-SES-CONFIGURATION-SET) SES answers "554 Configuration Set
// does not exist: Configuration set <name> does not exist." (seen in a
// real SES SMTP log).
func ConfigurationSetDoesNotExist(name string) *Error {
	e := NotFound("ConfigurationSetDoesNotExist", fmt.Sprintf("Configuration set <%s> does not exist.", name))
	e.SMTPText = "Configuration Set does not exist: " + e.Message
	return e
}

// ConfigurationSetAlreadyExists: v2 AlreadyExistsException, v1 ConfigurationSetAlreadyExists.
func ConfigurationSetAlreadyExists(name string) *Error {
	return AlreadyExists("ConfigurationSetAlreadyExists", fmt.Sprintf("Configuration set <%s> already exists.", name))
}

// InvalidConfigurationSetName: a name outside [A-Za-z0-9_-]{1,64}. v1 has
// its own code for it (InvalidConfigurationSet, a typed SDK exception).
func InvalidConfigurationSetName(name string) *Error {
	e := BadRequest(fmt.Sprintf("Configuration set name <%s> is invalid: it must be 1 to 64 ASCII letters, digits, underscores or dashes.", name))
	e.QueryCode = "InvalidConfigurationSet"
	return e
}

// InvalidNextToken: a pagination token sesame did not hand out.
func InvalidNextToken() *Error {
	return BadRequest("The NextToken is invalid.")
}
