package seserr

import "fmt"

// Contact list and contact failures (v2 only: v1 has no list management).
// SES answers NotFound, AlreadyExists, LimitExceeded or BadRequest.

// ContactListDoesNotExist: no contact list of that name.
func ContactListDoesNotExist(name string) *Error {
	return NotFound("NotFoundException", fmt.Sprintf("List with name %s does not exist.", name))
}

// ContactListAlreadyExists: CreateContactList with a name in use.
func ContactListAlreadyExists(name string) *Error {
	return AlreadyExists("AlreadyExistsException", fmt.Sprintf("List with name %s already exists.", name))
}

// ContactListLimitExceeded: the account has SES's max contact lists (one)
// in the region.
func ContactListLimitExceeded(max int) *Error {
	return LimitExceeded(fmt.Sprintf("Maximum number of contact lists (%d) reached for this account.", max))
}

// ContactDoesNotExist: the address is not on the list.
func ContactDoesNotExist(email, list string) *Error {
	return NotFound("NotFoundException", fmt.Sprintf("Contact %s does not exist in list %s.", email, list))
}

// ContactAlreadyExists: CreateContact with an address on the list already.
func ContactAlreadyExists(email, list string) *Error {
	return AlreadyExists("AlreadyExistsException", fmt.Sprintf("Contact %s already exists in list %s.", email, list))
}

// InvalidContactList: a contact list parameter is malformed (a name, a
// topic, too many topics); why says which.
func InvalidContactList(why string) *Error { return BadRequest("Invalid contact list: " + why) }

// InvalidContact: a contact parameter is malformed (the address, a topic
// preference, AttributesData that is not JSON); why says which.
func InvalidContact(why string) *Error { return BadRequest("Invalid contact: " + why) }
