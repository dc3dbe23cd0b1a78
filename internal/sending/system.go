package sending

import (
	"context"
	"errors"
	"fmt"

	"sesame/internal/mailmsg"
	"sesame/internal/metrics"
	"sesame/internal/seserr"
	"sesame/internal/spool"
	"sesame/internal/store"
)

// SystemMessage is mail sesame itself sends on an account's behalf — the
// email identity verification message — rather than mail a client submits.
type SystemMessage struct {
	AccountID  string // whose request caused it: the capture shows it there
	Region     string
	MailFrom   string   // envelope sender, e.g. no-reply@<hostname>
	Recipients []string // envelope recipients
	// Message is the complete RFC 5322 message with CRLF line ends and
	// without Message-ID and Date, which SubmitSystem adds as Submit does.
	Message []byte
	// Requested marks mail an account's own calls make sesame send to
	// addresses it chose (SNS email subscriptions): it is held to
	// CheckSending, so a SHUTDOWN or paused account cannot mail outside
	// addresses through a topic.
	Requested bool
	// ConfigurationSet is the set the message is sent with ("" = none):
	// the one SendCustomVerificationEmail names.
	ConfigurationSet string
}

// SubmitSystem spools m like any message and returns its MessageId. It
// skips the account policy Submit applies (sending paused, sandbox
// recipients, identities, quotas): SES's own verification mail reaches an
// unverified address from an account in the sandbox and costs no quota.
// Callers sending on an account's request check CheckSending first (and
// verify limits verification mail per account).
func (s *Sender) SubmitSystem(ctx context.Context, m SystemMessage) (string, error) {
	if len(m.Recipients) == 0 || len(m.Message) == 0 {
		return "", seserr.TemporaryFailure().Wrap(errors.New("sending: system message without recipients or content"))
	}
	if m.Requested {
		if err := s.CheckSending(ctx, m.AccountID, m.Region); err != nil {
			return "", err
		}
	}
	d, err := s.DraftOf(m.Message)
	if err != nil {
		return "", err
	}
	now := s.clk.Now()
	id := mailmsg.NewMessageID(m.Region, now)
	env := &spool.Envelope{
		ID: id, AccountID: m.AccountID, Region: m.Region,
		MailFrom: m.MailFrom, Recipients: m.Recipients, Received: now, Via: spool.ViaSystem,
		Meta: spool.Meta{ConfigurationSet: m.ConfigurationSet},
	}
	// A zero header: the message has neither Message-ID nor Date, CRLF ends.
	prefix := s.prefix(&header{}, id, m.Region, now)
	if err := s.spool.Append(ctx, env, prefix, d); err != nil {
		return "", seserr.TemporaryFailure().Wrap(fmt.Errorf("sending: spooling system message %s: %w", id, err))
	}
	metrics.Accepted(spool.ViaSystem)
	return id, nil
}

// CheckSending is Submit's first check on its own: whether the account may
// send at all in region. Mail sesame sends because an account asked for it
// (the identity verification message) is held to it, so a SHUTDOWN or
// paused account cannot reach outside addresses through verification
// requests; DSNs and other mail about messages already accepted are not.
// seserr errors: AccountSuspended, SendingPaused, TemporaryFailure.
func (s *Sender) CheckSending(ctx context.Context, account, region string) error {
	set, err := s.settings.Get(ctx, accountRegion{account, region}, func(ctx context.Context) (store.AccountSettings, error) {
		return s.store.AccountSettings(ctx, account, region)
	})
	if err != nil {
		return seserr.TemporaryFailure().Wrap(fmt.Errorf("sending: settings of %s in %s: %w", account, region, err))
	}
	return sendingAllowed(set)
}

// sendingAllowed is the account-wide switch, SHUTDOWN before paused as SES
// answers.
func sendingAllowed(set store.AccountSettings) error {
	if set.EnforcementStatus == store.EnforcementShutdown {
		return seserr.AccountSuspended()
	}
	if !set.SendingEnabled {
		return seserr.SendingPaused()
	}
	return nil
}
