package seserr

// The feedback MX's replies: it answers other mail servers (bounces,
// complaints, auto-replies sent to a bounce domain), not SES clients, so
// its texts are Postfix's kind rather than SES's. Each SMTPText starts
// with its enhanced status code (RFC 3463).

// FeedbackUnknownAddress: a recipient that is no bounce address of this
// server.
func FeedbackUnknownAddress() *Error {
	return &Error{SMTPCode: 550, SMTPText: "5.1.1 Recipient address rejected: not a bounce address of this server"}
}

// FeedbackTemporary: a lookup or a store write failed; the sender retries.
func FeedbackTemporary() *Error {
	return &Error{SMTPCode: 451, SMTPText: "4.3.0 Local error, try again later"}
}

// FeedbackBusy: the memory shared by all connections is spent (RFC 5321
// §4.2.5's 452, Postfix's answer when its queue file system is short).
func FeedbackBusy() *Error {
	return &Error{SMTPCode: 452, SMTPText: "4.3.1 Insufficient system resources, try again later"}
}

// FeedbackUnparsable: not even a message.
func FeedbackUnparsable() *Error {
	return &Error{SMTPCode: 554, SMTPText: "5.6.0 Message could not be parsed"}
}
