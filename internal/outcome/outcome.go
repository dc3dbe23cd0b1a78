// Package outcome is the vocabulary of what became of a message for one
// recipient, shared by the courier (internal/delivery), which reports
// outcomes, and the stages that give them meaning (bounce records, DSNs,
// suppression, events): an SMTP-shaped Failure, SES's bounce and delay
// classification, and the mailbox simulator's outcomes. It imports nothing
// of sesame's and decides nothing about what an outcome leads to.
package outcome

import (
	"fmt"
	"strings"
)

// SES bounce classification (the bounceType and bounceSubType of SES's
// bounce notifications). A recipient that cannot be delivered gets exactly
// one of these; only Permanent bounces put the address on the account's
// suppression list, as SES does.
const (
	BounceUndetermined = "Undetermined"
	BouncePermanent    = "Permanent"
	BounceTransient    = "Transient"

	SubGeneral                  = "General"
	SubNoEmail                  = "NoEmail"
	SubSuppressed               = "Suppressed"
	SubOnAccountSuppressionList = "OnAccountSuppressionList"
	SubMailboxFull              = "MailboxFull"
	SubMessageTooLarge          = "MessageTooLarge"
	SubContentRejected          = "ContentRejected"
	// SubUnsubscribedRecipient: the recipient is a contact who unsubscribed
	// from the message's contact list or topic. SES "issues a bounce event
	// for a message that is sent to an unsubscribed contact" (developer
	// guide, list management) without documenting its subtype [?]; this
	// one is sesame's name for it. Like OnAccountSuppressionList, it never
	// puts the address on the suppression list or counts as a bounce.
	SubUnsubscribedRecipient = "UnsubscribedRecipient"
)

// Failure is a recipient's (or a whole attempt's) failed outcome, as an SMTP
// reply: the receiver's own, or one sesame makes up for a failure it saw
// (DNS, connection, timeout, expiry) in the same shape, so that bounces
// and DSNs carry one kind of diagnostic.
type Failure struct {
	Code      int    // SMTP reply code, e.g. 550
	Enhanced  string // RFC 3463 status, e.g. "5.1.1"; "" when none
	Text      string
	Permanent bool
	// Remote is true when the receiver said it (a reply), false when sesame
	// concluded it.
	Remote bool
	// MTA is the receiving host that answered ("" when none did), and
	// RemoteIP its address when a session with it was open.
	MTA      string
	RemoteIP string
}

func (f *Failure) Error() string {
	if f.Enhanced != "" {
		return fmt.Sprintf("%d %s %s", f.Code, f.Enhanced, f.Text)
	}
	return fmt.Sprintf("%d %s", f.Code, f.Text)
}

// Status is the RFC 3463 status code of f, derived from the reply code
// when the receiver gave none (RFC 3464 §2.3.4 needs one).
func (f *Failure) Status() string {
	if f.Enhanced != "" {
		return f.Enhanced
	}
	if f.Permanent {
		return "5.0.0"
	}
	return "4.0.0"
}

// Diagnostic is the RFC 3464 §2.3.6 Diagnostic-Code value.
func (f *Failure) Diagnostic() string { return "smtp; " + f.Error() }

// Classify gives SES's bounce type and subtype for a final failure. It
// reads the RFC 3463 status first (subject.detail says what went wrong),
// then the reply text for receivers that give no status.
func Classify(f *Failure) (bounceType, subType string) {
	status := f.Status()
	text := strings.ToLower(f.Text)
	// Mailbox full and message too large are the receiver's temporary
	// conditions even when answered with 5xx: SES reports them Transient.
	switch {
	case status == "5.2.2" || status == "4.2.2" || strings.Contains(text, "mailbox full") || strings.Contains(text, "over quota"):
		return BounceTransient, SubMailboxFull
	case status == "5.3.4" || status == "5.2.3" || status == "4.3.4" || f.Code == 552 && strings.Contains(text, "size"):
		return BounceTransient, SubMessageTooLarge
	case strings.HasPrefix(status, "5.7.") && (strings.Contains(text, "content") || strings.Contains(text, "spam")) || status == "5.6.0":
		return BounceTransient, SubContentRejected
	}
	if !f.Permanent {
		// A temporary failure that ran out of time (expiry).
		return BounceTransient, SubGeneral
	}
	switch status {
	case "5.1.1", "5.1.0", "5.1.6", "5.2.1":
		return BouncePermanent, SubNoEmail
	case "5.1.10":
		// RFC 7505's null MX (556), or Exchange's RecipientNotFound (550).
		if f.Code != 556 && !strings.Contains(text, "null mx") {
			return BouncePermanent, SubNoEmail
		}
	}
	if status == "5.0.0" && (strings.Contains(text, "user unknown") || strings.Contains(text, "no such user") ||
		strings.Contains(text, "does not exist") && !strings.Contains(text, "domain")) {
		return BouncePermanent, SubNoEmail
	}
	return BouncePermanent, SubGeneral
}

// SES delayType values of DeliveryDelay events.
const (
	DelayInternalFailure               = "InternalFailure"
	DelayGeneral                       = "General"
	DelayMailboxFull                   = "MailboxFull"
	DelaySpamDetected                  = "SpamDetected"
	DelayRecipientServerError          = "RecipientServerError"
	DelayTransientCommunicationFailure = "TransientCommunicationFailure"
	// DelaySendingDeferral: sesame itself held the message back (a
	// dedicated IP's warm-up cap), SES's "deemed it appropriate to
	// internally defer the message".
	DelaySendingDeferral = "SendingDeferral"
)

// DelayType gives SES's delayType for a temporary failure.
func DelayType(f *Failure) string {
	status := f.Status()
	switch {
	case f.Remote && (status == "4.2.2" || strings.Contains(strings.ToLower(f.Text), "mailbox full")):
		return DelayMailboxFull
	case f.Remote && strings.Contains(strings.ToLower(f.Text), "spam"):
		return DelaySpamDetected
	case f.Remote:
		return DelayRecipientServerError
	case status == "4.4.1" || status == "4.4.2" || status == "4.7.5":
		return DelayTransientCommunicationFailure
	case strings.HasPrefix(status, "4.3."):
		return DelayInternalFailure
	case status == "4.4.5":
		return DelaySendingDeferral
	}
	return DelayGeneral
}
