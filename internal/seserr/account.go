package seserr

import "fmt"

// AccountSuspended: the operator shut the account's sending down in this
// region (enforcement status SHUTDOWN); unlike a pause, the account cannot
// lift it. v2 has its own code; v1 and SMTP have none published, so they
// give SES's observed suspension text under MessageRejected.
func AccountSuspended() *Error {
	msg := "Sending suspended for this account. For more information, please check the inbox of the email address associated with your AWS account."
	return &Error{SMTPCode: 554, SMTPText: "Message rejected: " + msg, HTTPStatus: 400,
		APICode: "AccountSuspendedException", QueryCode: "MessageRejected",
		Message: "The message can't be sent because the account's ability to send email has been permanently restricted."}
}

// AccountReviewPending: PutAccountDetails while the account's production
// access request in the region is still under review (SES's
// ConflictException, "an ongoing account details update under review").
func AccountReviewPending() *Error {
	msg := "There is already an ongoing account details update under review."
	return &Error{SMTPCode: 554, SMTPText: "Transaction failed: " + msg, HTTPStatus: 409,
		APICode: "ConflictException", QueryCode: "ConflictException", Message: msg}
}

// InvalidAccountDetail: a PutAccountDetails member that breaks the model's
// constraint. The members are sensitive in SES's model, so, as AWS's
// validation does for such members, the value is not repeated.
func InvalidAccountDetail(member, constraint string) *Error {
	e := BadRequest(fmt.Sprintf("1 validation error detected: Value at '%s' failed to satisfy constraint: %s", member, constraint))
	e.QueryCode = "ValidationError"
	return e
}
