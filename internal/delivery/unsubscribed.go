package delivery

import (
	"strings"
	"time"

	"github.com/google/uuid"

	"sesame/internal/outcome"
	"sesame/internal/spool"
)

// Recipients that sending found unsubscribed from the message's contact
// list or topic (spool.Meta.Unsubscribed) are never delivered to, in
// capture and MX mode alike: each is a permanent bounce of its own, as SES
// bounces mail sent to an unsubscribed contact. Delivery only carries out
// what sending decided; it does not look the list up again.

// unsubscribedFailure is the bounce's diagnostic (sesame's words: SES
// documents none for it).
var unsubscribedFailure = outcome.Failure{Code: 550, Enhanced: "5.7.1", Permanent: true,
	Text: "recipient has unsubscribed from this contact list or topic"}

// subscribed is env's recipients without the unsubscribed ones.
func subscribed(env *spool.Envelope) []string {
	if len(env.Unsubscribed) == 0 {
		return env.Recipients
	}
	out := make([]string, 0, len(env.Recipients))
	for _, r := range env.Recipients {
		if !isUnsubscribed(env, r) {
			out = append(out, r)
		}
	}
	return out
}

func isUnsubscribed(env *spool.Envelope, rcpt string) bool {
	for _, u := range env.Unsubscribed {
		if strings.EqualFold(u, rcpt) {
			return true
		}
	}
	return false
}

// unsubscribedResults are the bounces of env's unsubscribed recipients.
func unsubscribedResults(env *spool.Envelope, now time.Time) []outcome.Result {
	var out []outcome.Result
	for _, r := range env.Recipients {
		if isUnsubscribed(env, r) {
			f := unsubscribedFailure
			out = append(out, outcome.Result{Kind: outcome.Bounced, Recipients: []string{r}, Time: now, Failure: &f,
				BounceType: outcome.BouncePermanent, BounceSubType: outcome.SubUnsubscribedRecipient,
				FeedbackID: uuid.NewString()})
		}
	}
	return out
}

// unsubscribed settles the recipients sending found unsubscribed: not
// attempted, bounced.
func (m *MX) unsubscribed(a *attempt, rcpts []string) []string {
	if len(a.e.Unsubscribed) == 0 {
		return rcpts
	}
	out := rcpts[:0:0]
	for _, r := range rcpts {
		if !isUnsubscribed(&a.e.Envelope, r) {
			out = append(out, r)
			continue
		}
		f := unsubscribedFailure
		a.bounceAs(r, &f, outcome.BouncePermanent, outcome.SubUnsubscribedRecipient, m.now())
	}
	return out
}
