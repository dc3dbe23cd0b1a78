package delivery

import (
	"time"

	"github.com/google/uuid"

	"sesame/internal/outcome"
)

// The mailbox simulator (spec §7) is a pseudo-receiver: its addresses never
// go to the internet, in mx mode as in capture mode. The courier decides what
// each address does, as a receiving MX would, and reports it; what follows
// (bounce records, the complaint's ARF report and the auto-reply to the
// sender) is events'.

// simulatorResults are the results of delivering to a simulator address
// rcpt whose outcome is o.
func simulatorResults(rcpt, o string, now time.Time) []outcome.Result {
	switch o {
	case outcome.SimBounce, outcome.SimSuppressionList:
		typ, sub, f := simulatedBounce(o)
		return []outcome.Result{{Kind: outcome.Bounced, Recipients: []string{rcpt}, Time: now,
			Failure: f, BounceType: typ, BounceSubType: sub, FeedbackID: uuid.NewString(), MTA: f.MTA}}
	case outcome.SimComplaint:
		// Accepted, then its recipient marks it as spam.
		return []outcome.Result{simulatorDelivery(rcpt, now), {Kind: outcome.Complained, Recipients: []string{rcpt},
			Time: now, FeedbackID: uuid.NewString(), FeedbackType: "abuse", UserAgent: outcome.SimulatorUserAgent, Arrival: now}}
	case outcome.SimOutOfOffice:
		return []outcome.Result{simulatorDelivery(rcpt, now), {Kind: outcome.AutoReplied, Recipients: []string{rcpt}, Time: now}}
	}
	return []outcome.Result{simulatorDelivery(rcpt, now)}
}

// simulatorDelivery is the Delivery result of a mailbox simulator address:
// SES's simulator accepts the message as a receiving MX would.
func simulatorDelivery(rcpt string, now time.Time) outcome.Result {
	return outcome.Result{Kind: outcome.Delivered, Recipients: []string{rcpt}, Time: now,
		Reply: "250 2.6.0 Message received", MTA: outcome.SimulatorDomain}
}

// simulatedBounce is how the simulator's bounce@ and suppressionlist@
// addresses bounce. suppressionlist@ is as if the address were on SES's
// global suppression list (subtype Suppressed, SES's text), not the
// account's.
func simulatedBounce(o string) (typ, sub string, f *outcome.Failure) {
	if o == outcome.SimSuppressionList {
		return outcome.BouncePermanent, outcome.SubSuppressed, &outcome.Failure{Code: 550, Enhanced: "5.1.1", Permanent: true,
			Text: "Amazon SES has suppressed sending to this address because it has a recent history of bouncing as an invalid address."}
	}
	return outcome.BouncePermanent, outcome.SubGeneral, &outcome.Failure{Code: 550, Enhanced: "5.1.1",
		Text: "mailbox simulator: bounce", Permanent: true, Remote: true, MTA: outcome.SimulatorDomain}
}
