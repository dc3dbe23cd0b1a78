package seserr

// ConsoleCapturedNotFound: no captured message of this account and region
// has the id (another account's message is not found either, as in SES).
func ConsoleCapturedNotFound(id string) *Error {
	return consoleErr(404, "NotFoundException", "Captured message with ID "+id+" not found.")
}

// ConsoleCapturedPartNotFound: the message has no such attachment.
func ConsoleCapturedPartNotFound(id, n string) *Error {
	return consoleErr(404, "NotFoundException", "Captured message "+id+" has no attachment "+n+".")
}
