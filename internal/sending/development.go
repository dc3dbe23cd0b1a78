package sending

import "sesame/internal/store"

// Development mode ([accounts] development): every account is in
// production without limits in every region and every identity counts as
// verified for sending, as in LocalStack. It is applied here, when mail is
// admitted, and never written to the store, so turning it off brings back
// each account's stored settings. What stays: the operator's and the
// account's own switches (SHUTDOWN, sending paused, a configuration set's
// sending paused), the suppression list, the message rules (size, headers,
// 50 recipients).

// DevelopmentMaxSendRate is the send rate an account has in development
// mode. SES has no spelling for an unlimited rate (only Max24HourSend has
// -1), and clients pace themselves by it (1/MaxSendRate seconds between
// messages), so it is a finite rate far above what one sesame accepts:
// no limit in practice, and what GetSendQuota reports is what is enforced.
const DevelopmentMaxSendRate = 1_000_000

// Enforced returns the account settings as the Sender applies them: in
// development mode in production, with an unlimited 24-hour quota (-1,
// SES's spelling) and DevelopmentMaxSendRate; otherwise set unchanged.
// GetAccount and GetSendQuota report these.
func (s *Sender) Enforced(set store.AccountSettings) store.AccountSettings {
	if !s.development {
		return set
	}
	set.Production = true
	set.Max24HourSend = -1
	set.MaxSendRate = DevelopmentMaxSendRate
	return set
}

// Development reports whether the Sender runs in development mode.
func (s *Sender) Development() bool { return s.development }
