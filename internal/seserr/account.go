package seserr

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
