// Package receiving is what happens to mail the inbound MX
// (internal/inbound) takes for the accounts' verified domains: at RCPT it
// decides whom a recipient belongs to (verified identities, IP address
// filters, the active receipt rule set, TLS policies); at DATA it spools
// the message durably; afterwards Processor runs the matching rules'
// actions in order (S3, SNS, Lambda-style functions, Bounce, AddHeader,
// Stop) with the message's SPF, DKIM, DMARC and scan verdicts, and sends
// SES's Received notifications.
//
// It never parses SMTP (inbound does), never evaluates a verdict itself
// (internal/verdict) and never keeps rules (internal/store, through Rules).
package receiving

import (
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"sync/atomic"
	"time"

	"sesame/internal/clock"
	"sesame/internal/inbound"
	"sesame/internal/metrics"
	"sesame/internal/receipt"
	"sesame/internal/seserr"
	"sesame/internal/spool"
)

// Rules is what receiving reads of the store.
type Rules interface {
	// AccountsReceiving lists the accounts with a verified identity
	// covering rcpt in region; with unverified, one of any status.
	AccountsReceiving(ctx context.Context, region, rcpt string, unverified bool) ([]string, error)
	// ActiveReceiptRuleSet is the account's active set; nil when none.
	ActiveReceiptRuleSet(ctx context.Context, accountID, region string) (*receipt.RuleSet, error)
	ReceiptFilters(ctx context.Context, accountID, region string) ([]receipt.Filter, error)
}

// Acceptor is the inbound MX's Receiver.
type Acceptor struct {
	Region string
	Rules  Rules
	Spool  *spool.Spool
	Clock  clock.Clock
	Logger *slog.Logger
	// Development is [accounts] development: every identity counts as
	// verified, for receiving as for sending (a domain created through the
	// API and not yet verified receives).
	Development bool

	lastData atomic.Int64 // unix nanoseconds of the last DATA begun or ended
}

var _ inbound.Receiver = (*Acceptor)(nil)

// Recipient takes rcpt for every account that verified it, lets the
// client send to it (IP address filters: each account's own) and has an
// enabled rule in its active set matching it; a matching rule that
// requires TLS refuses a clear-text session. The refusal names the most
// specific reason any account had.
func (a *Acceptor) Recipient(ctx context.Context, s *inbound.Session, rcpt string) (inbound.Route, error) {
	accounts, err := a.Rules.AccountsReceiving(ctx, a.Region, rcpt, a.Development)
	if err != nil {
		return inbound.Route{}, fmt.Errorf("receiving: recipient %s: %w", rcpt, err)
	}
	route := inbound.Route{Recipient: rcpt}
	var filtered, needTLS bool
	for _, acct := range accounts {
		filters, err := a.Rules.ReceiptFilters(ctx, acct, a.Region)
		if err != nil {
			return inbound.Route{}, fmt.Errorf("receiving: filters of %s: %w", acct, err)
		}
		if !receipt.Allowed(filters, s.Remote.Addr()) {
			filtered = true
			continue
		}
		set, err := a.Rules.ActiveReceiptRuleSet(ctx, acct, a.Region)
		if err != nil {
			return inbound.Route{}, fmt.Errorf("receiving: rule set of %s: %w", acct, err)
		}
		if set == nil {
			continue
		}
		rules := set.Matching(rcpt)
		if len(rules) == 0 {
			continue
		}
		if !s.TLS && slices.ContainsFunc(rules, func(r *receipt.Rule) bool { return r.TLSPolicy == receipt.TLSRequire }) {
			needTLS = true
			continue
		}
		route.Accounts = append(route.Accounts, acct)
	}
	switch {
	case len(route.Accounts) > 0:
		return route, nil
	case needTLS:
		metrics.ReceivedRefused(metrics.RefusedTLS)
		return route, seserr.InboundTLSRequired()
	case filtered:
		metrics.ReceivedRefused(metrics.RefusedFilter)
		a.log().Info("receiving: client blocked by an IP address filter", "rcpt", rcpt, "remote", s.Remote.Addr())
		return route, seserr.InboundAccessDenied()
	}
	metrics.ReceivedRefused(metrics.RefusedUnknown)
	return route, seserr.InboundUnknownRecipient()
}

// Accept spools the message once for every route; it returns after the
// spool has it on disk.
func (a *Acceptor) Accept(ctx context.Context, s *inbound.Session, from string, routes []inbound.Route, msg io.Reader) (string, error) {
	a.lastData.Store(a.Clock.Now().UnixNano())
	defer func() { a.lastData.Store(a.Clock.Now().UnixNano()) }()
	d, err := a.Spool.NewDraft()
	if err != nil {
		return "", fmt.Errorf("receiving: draft: %w", err)
	}
	if _, err := io.Copy(d, msg); err != nil {
		d.Discard()
		return "", err // the reader's error: too large, or the client went away
	}
	env := &spool.Envelope{
		ID:       NewMessageID(),
		Region:   a.Region,
		MailFrom: from,
		Received: a.Clock.Now().UTC(),
		Via:      spool.ViaMX,
		Meta: spool.Meta{
			SourceIP: s.Remote.Addr().String(),
			Inbound:  &spool.Inbound{Helo: s.Helo, TLS: s.TLS},
		},
	}
	for _, r := range routes {
		for _, acct := range r.Accounts {
			env.Recipients = append(env.Recipients, r.Recipient)
			env.Inbound.Accounts = append(env.Inbound.Accounts, acct)
		}
	}
	env.AccountID = env.Inbound.Accounts[0]
	size := d.Size()
	if err := a.Spool.Append(ctx, env, nil, d); err != nil {
		return "", fmt.Errorf("receiving: spool %s: %w", env.ID, err)
	}
	metrics.Received()
	a.log().Info("received", "id", env.ID, "from", from, "rcpts", len(env.Recipients), "remote", s.Remote.Addr(),
		"size", size)
	return env.ID, nil
}

// arrivingWithin is how recent the last DATA must be for mail to count as
// arriving.
const arrivingWithin = 100 * time.Millisecond

// Arriving reports whether a message was being received in the last
// 100 ms: the Processor's Hold.
func (a *Acceptor) Arriving() bool {
	return a.Clock.Now().UnixNano()-a.lastData.Load() < int64(arrivingWithin)
}

func (a *Acceptor) log() *slog.Logger {
	if a.Logger == nil {
		return slog.Default()
	}
	return a.Logger
}

// idAlphabet spells the ids SES gives received mail (40 lower-case
// letters and digits, e.g. "o3vrnil0e2ic28trm7dfhrc2v0clambda4nbp0g1").
const idAlphabet = "abcdefghijklmnopqrstuvwxyz0123456789"

// NewMessageID is a received message's id: the S3 object key's last part
// and the notification's mail.messageId.
func NewMessageID() string {
	var b [40]byte
	rand.Read(b[:])
	for i := range b {
		b[i] = idAlphabet[int(b[i])%len(idAlphabet)]
	}
	return string(b[:])
}
