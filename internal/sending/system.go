package sending

import (
	"context"
	"errors"
	"fmt"

	"sesame/internal/mailmsg"
	"sesame/internal/metrics"
	"sesame/internal/seserr"
	"sesame/internal/spool"
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
}

// SubmitSystem spools m like any message and returns its MessageId. It
// skips the account policy Submit applies (sending paused, sandbox
// recipients, identities, quotas): SES's own verification mail reaches an
// unverified address from an account in the sandbox and costs no quota.
func (s *Sender) SubmitSystem(ctx context.Context, m SystemMessage) (string, error) {
	if len(m.Recipients) == 0 || len(m.Message) == 0 {
		return "", seserr.TemporaryFailure().Wrap(errors.New("sending: system message without recipients or content"))
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
	}
	// A zero header: the message has neither Message-ID nor Date, CRLF ends.
	prefix := s.prefix(&header{}, id, m.Region, now)
	if err := s.spool.Append(ctx, env, prefix, d); err != nil {
		return "", seserr.TemporaryFailure().Wrap(fmt.Errorf("sending: spooling system message %s: %w", id, err))
	}
	metrics.Accepted(spool.ViaSystem)
	return id, nil
}
