package outcome

import "time"

// Kind is what became of a message for some of its recipients.
type Kind int

const (
	// Sent: sesame accepted the message and will try to deliver it (SES's
	// Send event). Reported once, on the message's first attempt.
	Sent Kind = iota + 1
	// Delivered: a receiver took the message for Recipients.
	Delivered
	// Bounced: Recipients will not get the message (a final failure, the
	// suppression list, the simulator, or a DSN that came back later).
	Bounced
	// Delayed: Recipients are still being tried after the delay threshold.
	Delayed
	// Complained: a recipient reported the message as unwanted.
	Complained
	// RenderingFailed: the message's template did not render; nothing is
	// delivered.
	RenderingFailed
	// AutoReplied: a recipient answered with an auto-reply (the mailbox
	// simulator's ooto@); no SES event, an answer to the sender.
	AutoReplied
	// Rejected: the message was accepted but holds a virus; nothing is
	// delivered (SES's Reject event; Error is its reason).
	Rejected
)

// Result is one thing the courier (or the feedback MX) learnt about a
// message: what happened, to whom, when, and the details the matching SES
// event carries.
type Result struct {
	Kind       Kind
	Recipients []string
	Time       time.Time

	// Delivered: the receiver's reply to the final dot, its host name and
	// address, and the local address sesame sent from.
	Reply, MTA, RemoteIP, LocalIP string
	// Delivered, Bounced: the envelope sender (bounce address) used; its
	// domain is where later feedback about the message arrives.
	MailFrom string

	// Bounced and Delayed: the failure as an SMTP reply, and the RFC 3464
	// Diagnostic-Code as a receiver's DSN worded it ("" = the failure's).
	Failure    *Failure
	Diagnostic string
	// Bounced: SES's classification and the bounce's feedback id (the
	// bounce record's, so a replay names the same bounce).
	BounceType, BounceSubType, FeedbackID string
	// Delayed: SES's delayType, the attempts so far and when sesame gives up.
	DelayType string
	Attempts  int
	Expires   time.Time

	// Complained: the report's fields (FeedbackID as above).
	FeedbackType, UserAgent string
	Arrival                 time.Time

	// RenderingFailed, Rejected: why.
	Error string
}
