package seserr

// The inbound MX's replies to the mail servers that deliver to sesame's
// receiving domains. SES's inbound endpoint answers with these codes; the
// texts follow it where it is known and Postfix's kind elsewhere. Each
// SMTPText starts with its enhanced status code (RFC 3463).

// InboundTooBig: a message over the size the listener takes.
func InboundTooBig() *Error {
	return &Error{SMTPCode: 552, SMTPText: "5.3.4 Message size exceeds fixed maximum message size"}
}

// InboundUnknownRecipient: no account verified the recipient's domain (or
// address), or no rule of the account's active rule set matches it.
func InboundUnknownRecipient() *Error {
	return &Error{SMTPCode: 550, SMTPText: "5.1.1 Requested action not taken: mailbox unavailable"}
}

// InboundAccessDenied: the account's IP address filters block the client.
func InboundAccessDenied() *Error {
	return &Error{SMTPCode: 554, SMTPText: "5.7.1 Access denied"}
}

// InboundTLSRequired: a rule matching the recipient has TlsPolicy
// Require and the session is not encrypted.
func InboundTLSRequired() *Error {
	return &Error{SMTPCode: 530, SMTPText: "5.7.0 Must issue a STARTTLS command first"}
}

// InboundTemporary: a lookup or the spool failed; the sender retries.
func InboundTemporary() *Error {
	return &Error{SMTPCode: 451, SMTPText: "4.3.0 Local error, try again later"}
}

// InboundLineTooLong: a line of the message is longer than the server
// reads (RFC 5321 §4.5.3.1.6 allows 1,000 octets; go-smtp reads more).
func InboundLineTooLong() *Error {
	return &Error{SMTPCode: 500, SMTPText: "5.5.2 Line too long"}
}

// InboundSNSContentTooLarge: the DSN's reason when a received message is
// too big for a receipt rule's SNS action (150 KB), which SES bounces.
func InboundSNSContentTooLarge() *Error {
	return &Error{SMTPCode: 552, SMTPText: "5.3.4 Message too large for the SNS action (150 KB)"}
}

// InboundQueued: the reply to a received message's DATA, naming its id as
// Postfix names its queue id.
func InboundQueued(id string) *Error {
	return &Error{SMTPCode: 250, SMTPText: "2.0.0 Ok: queued as " + id}
}

// InboundShuttingDown: the server is stopping (SIGTERM); a session waiting
// for a command, or one whose transaction just finished, is told so and
// closed, and the sender retries later (RFC 5321 §3.8). The submission
// endpoint's ServiceClosing with the enhanced code the inbound MX's replies
// carry.
func InboundShuttingDown() *Error {
	e := ServiceClosing()
	e.SMTPText = "4.3.2 " + e.SMTPText
	return e
}
