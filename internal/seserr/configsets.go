package seserr

import "fmt"

// Failures of the configuration-set and suppression-list operations, with
// SES's texts.

// ConfigurationSetDoesNotExist: v2 NotFoundException, v1 ConfigurationSetDoesNotExist.
func ConfigurationSetDoesNotExist(name string) *Error {
	return NotFound("ConfigurationSetDoesNotExist", fmt.Sprintf("Configuration set <%s> does not exist.", name))
}

// ConfigurationSetAlreadyExists: v2 AlreadyExistsException, v1 ConfigurationSetAlreadyExists.
func ConfigurationSetAlreadyExists(name string) *Error {
	return AlreadyExists("ConfigurationSetAlreadyExists", fmt.Sprintf("Configuration set <%s> already exists.", name))
}
