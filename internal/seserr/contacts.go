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

// TopicDoesNotExist: list management options (ListManagementOptions or
// X-SES-LIST-MANAGEMENT-OPTIONS) name a topic the contact list lacks.
// SES's text for it is undocumented [?]; this one is worded as its
// list's.
func TopicDoesNotExist(topic, list string) *Error {
	return NotFound("NotFoundException", fmt.Sprintf("Topic %s does not exist in list %s.", topic, list))
}

// InvalidListManagementOptions: an X-SES-LIST-MANAGEMENT-OPTIONS value
// that is not "<list>" or "<list>; topic=<topic>".
func InvalidListManagementOptions(value string) *Error {
	return BadRequest(fmt.Sprintf("Invalid X-SES-LIST-MANAGEMENT-OPTIONS header value: %q.", value))
}

// The unsubscribe endpoint's answers (sesame's own pages: SES's hosted
// page has no documented texts). Message is what the page says.

// UnsubscribeLinkInvalid: a link sesame did not sign (edited, forged,
// truncated).
func UnsubscribeLinkInvalid() *Error {
	return &Error{HTTPStatus: 400, APICode: "BadRequestException",
		Message: "This unsubscribe link is not valid. Use the link from the email you received, complete and unchanged."}
}

// UnsubscribeListGone: the link's contact list (or the sender's account)
// no longer exists.
func UnsubscribeListGone() *Error {
	return &Error{HTTPStatus: 404, APICode: "NotFoundException",
		Message: "This mailing list no longer exists: there is nothing to unsubscribe from."}
}

// UnsubscribeBadRequest: a POST that is neither RFC 8058's one-click body
// nor the preference page's form.
func UnsubscribeBadRequest() *Error {
	return &Error{HTTPStatus: 400, APICode: "BadRequestException",
		Message: "This request is neither a one-click unsubscribe (List-Unsubscribe=One-Click) nor the preference form."}
}

// Texts the unsubscribe endpoint shows on success.
const (
	UnsubscribedText     = "You have been unsubscribed."
	PreferencesSavedText = "Your subscription preferences have been saved."
)
