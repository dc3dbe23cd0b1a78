// Package sending is the one place that decides whether a message may be
// sent, for SMTP and the API alike: credentials, sending enabled, sender and
// (in the sandbox) recipient identities, recipient count, header rules,
// quotas. It prepares what it accepts (Message-ID, Date when missing) and
// appends it to the spool; the MessageId it returns is SES's.
//
// It never speaks a protocol: smtpd and api translate its *seserr.Error
// values into replies.
//
// CONTRACT STUB: the signatures below are the package's API; bodies to be
// implemented.
package sending

import (
	"context"
	"log/slog"
	"time"

	"sesame/internal/clock"
	"sesame/internal/quota"
	"sesame/internal/spool"
	"sesame/internal/store"
)

// MaxRecipients is SES's limit per message (To + CC + BCC).
const MaxRecipients = 50

// Submission is one message offered for sending.
type Submission struct {
	AccountID  string
	Region     string
	MailFrom   string   // envelope sender
	Recipients []string // envelope recipients
	Draft      *spool.Draft
	Via        string // "smtp" or "api"
}

// Config wires a Sender.
type Config struct {
	Store           *store.Store
	Spool           *spool.Spool
	Quota           *quota.Limiter
	Clock           clock.Clock
	Hostname        string // Message-ID domain part after the region
	MaxMessageBytes int64
	Logger          *slog.Logger
}

// Sender applies SES's policy and spools what passes.
type Sender struct{}

// New returns a Sender.
func New(cfg Config) *Sender { panic("sending: not implemented") }

// Submit checks the submission and, when it passes, spools it durably and
// returns its MessageId. A refusal is a *seserr.Error. The draft is consumed
// either way.
func (s *Sender) Submit(ctx context.Context, sub *Submission) (string, error) {
	panic("sending: not implemented")
}

// AuthenticateSMTP checks SES SMTP credentials (user = access key id,
// password = the key's SMTP password for region) and returns the account id.
// Failures are seserr.InvalidCredentials (or TemporaryAuthFailure).
func (s *Sender) AuthenticateSMTP(ctx context.Context, region, user, password string) (string, error) {
	panic("sending: not implemented")
}

// NewDraft starts a message in the spool.
func (s *Sender) NewDraft() (*spool.Draft, error) { panic("sending: not implemented") }

// CheckAddress is the Sender's face of the package function CheckAddress,
// so protocol servers can take it through an interface.
func (s *Sender) CheckAddress(addr string) error { return CheckAddress(addr) }

// CheckAddress checks envelope address syntax (MAIL FROM / RCPT TO / API
// Destination): a 7-bit addr-spec with a local part and a domain.
func CheckAddress(addr string) error { panic("sending: not implemented") }

// NewMessageID makes an SES MessageId: region prefix, 12 hex digits of Unix
// milliseconds, a random UUID, "-000000".
func NewMessageID(region string, t time.Time) string { panic("sending: not implemented") }
