// Package verify runs identity verification as SES does: it creates
// identities with what their verification needs (an email link token, a v1
// domain token, Easy DKIM tokens and keys or a BYODKIM key), mails the
// verification message for addresses through sesame itself, serves the
// link's confirmation, and checks domains' DNS records (DKIM CNAMEs, the
// _amazonses TXT token, BYODKIM's public key, the custom MAIL FROM MX) at
// creation and every check interval, moving statuses Pending → Success,
// Failed (after 72 h; an email link after 24 h) or TemporaryFailure.
//
// It keeps its state in the store and asks DNS through dnsx. It speaks no
// protocol: the api package maps its errors (*seserr.Error) and results to
// SES's shapes. Whether a verified identity may send is sending's call.
package verify

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"sesame/internal/clock"
	"sesame/internal/dnsx"
	"sesame/internal/sending"
	"sesame/internal/store"
)

// SES's verification windows.
const (
	// EmailLinkTTL is how long an email verification link works.
	EmailLinkTTL = 24 * time.Hour
	// DNSSearch is how long DNS records are searched for before Failed.
	DNSSearch = 72 * time.Hour
)

// DefaultCheckInterval is Config.CheckInterval's zero value. The zero
// DKIMCNAMEDomain and MailFromMXDomain derive from Hostname, as the
// configuration's defaults do: never Amazon's hosts.
const DefaultCheckInterval = 5 * time.Minute

// SystemSender spools mail sesame itself sends (*sending.Sender).
type SystemSender interface {
	SubmitSystem(ctx context.Context, m sending.SystemMessage) (string, error)
}

// identityNotifier is how a sender (*sending.Sender) hears that an
// account's identities changed, so the next message sees the change.
type identityNotifier interface {
	IdentitiesChanged(account, region string)
}

// Changed tells the sender that account's identities in region changed
// (the API calls it after deleting one; the Verifier after its own changes).
func (v *Verifier) Changed(account, region string) {
	if n, ok := v.cfg.Sender.(identityNotifier); ok {
		n.IdentitiesChanged(account, region)
	}
}

// Config wires a Verifier.
type Config struct {
	Store    Store
	Resolver dnsx.Resolver
	Sender   SystemSender // nil: email identities are created but no mail goes out
	Clock    clock.Clock
	Logger   *slog.Logger
	// Hostname is the domain of the verification mail's sender, no-reply@<Hostname>.
	Hostname string
	// CheckInterval is how often Run checks identities in progress.
	CheckInterval time.Duration
	// DKIMCNAMEDomain is where Easy DKIM CNAMEs point:
	// <token>._domainkey.<domain> → <token>.<DKIMCNAMEDomain>
	// ("" = dkim.<Hostname>).
	DKIMCNAMEDomain string
	// MailFromMXDomain makes the MX a custom MAIL FROM domain must have:
	// feedback-smtp.<region>.<MailFromMXDomain> ("" = Hostname).
	MailFromMXDomain string
	// MaxIdentities is the limit per account and region (0 = SES's
	// store.MaxIdentities); tests lower it.
	MaxIdentities int
	// MailLimits bound verification mail per account and region (zero
	// fields take the defaults).
	MailLimits MailLimits
}

// Verifier creates identities and checks their verification.
type Verifier struct {
	cfg  Config
	log  *slog.Logger
	clk  clock.Clock
	kick chan struct{}
	// checking serialises check passes, so Run and CheckNow do not ask DNS
	// twice for the same identity at once.
	checking sync.Mutex
	mailRate *mailLimiter
}

// New returns a Verifier.
func New(cfg Config) *Verifier {
	if cfg.Clock == nil {
		cfg.Clock = clock.Real{}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Resolver == nil {
		cfg.Resolver = dnsx.System{}
	}
	if cfg.Hostname == "" {
		cfg.Hostname = "localhost"
	}
	if cfg.CheckInterval <= 0 {
		cfg.CheckInterval = DefaultCheckInterval
	}
	if cfg.DKIMCNAMEDomain == "" {
		cfg.DKIMCNAMEDomain = "dkim." + cfg.Hostname
	}
	if cfg.MaxIdentities <= 0 {
		cfg.MaxIdentities = store.MaxIdentities
	}
	if cfg.MailFromMXDomain == "" {
		cfg.MailFromMXDomain = cfg.Hostname
	}
	return &Verifier{cfg: cfg, log: cfg.Logger, clk: cfg.Clock, kick: make(chan struct{}, 1), mailRate: newMailLimiter(cfg.MailLimits)}
}

// Run checks the identities in progress when something was created or
// changed and every check interval, until ctx ends.
func (v *Verifier) Run(ctx context.Context) error {
	t := time.NewTicker(v.cfg.CheckInterval)
	defer t.Stop()
	for {
		if err := v.CheckNow(ctx); err != nil && ctx.Err() == nil {
			v.log.Warn("verify: check pass failed", "err", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		case <-v.kick:
		}
	}
}

// soon asks Run for a check pass without waiting for the interval.
func (v *Verifier) soon() {
	select {
	case v.kick <- struct{}{}:
	default:
	}
}

// CheckNow checks every identity in progress once: DNS for domains and
// MAIL FROM domains, link expiry for addresses.
func (v *Verifier) CheckNow(ctx context.Context) error {
	v.checking.Lock()
	defer v.checking.Unlock()
	list, err := v.cfg.Store.IdentitiesInProgress(ctx)
	if err != nil {
		return fmt.Errorf("verify: %w", err)
	}
	var errs []error
	for _, d := range list {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := v.check(ctx, d); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// check computes d's statuses and writes those that changed.
func (v *Verifier) check(ctx context.Context, d store.IdentityDetails) error {
	now := v.clk.Now()
	next := d
	if d.Type == store.EmailAddress {
		if inProgress(d.Status) && !d.VerifyExpires.IsZero() && now.After(d.VerifyExpires) {
			next.Status = store.StatusFailed
			next.Check.Checked, next.Check.Error = now, ""
		}
	} else {
		v.checkDomain(ctx, &next, now)
	}
	changed := next.Status != d.Status || next.DKIM.Status != d.DKIM.Status || next.MailFrom.Status != d.MailFrom.Status
	if !changed && next.Check == d.Check {
		return nil
	}
	_, err := v.cfg.Store.UpdateIdentity(ctx, d.AccountID, d.Region, d.Name, func(cur *store.IdentityDetails) error {
		// Apply only results computed from what is still there: an API
		// call may have replaced tokens or the MAIL FROM domain meanwhile.
		if cur.Status == d.Status && cur.DomainToken == d.DomainToken && cur.VerifyTokenHash == d.VerifyTokenHash {
			cur.Status = next.Status
			cur.Check = next.Check
		}
		if cur.DKIM.Status == d.DKIM.Status && sameDKIM(cur.DKIM, d.DKIM) {
			cur.DKIM.Status = next.DKIM.Status
		}
		if cur.MailFrom == d.MailFrom {
			cur.MailFrom.Status = next.MailFrom.Status
		}
		return nil
	})
	if errors.Is(err, store.ErrNotFound) {
		return nil // deleted meanwhile
	}
	if err != nil {
		return fmt.Errorf("verify: %w", err)
	}
	if !changed {
		return nil // only the check's time and outcome were recorded
	}
	v.Changed(d.AccountID, d.Region)
	v.log.Info("verify: status changed", "account", d.AccountID, "region", d.Region, "identity", d.Name,
		"status", next.Status, "dkim", next.DKIM.Status, "mail_from", next.MailFrom.Status)
	return nil
}

func sameDKIM(a, b store.DKIM) bool {
	if a.Origin != b.Origin || a.Selector != b.Selector || len(a.Tokens) != len(b.Tokens) || !a.KeyGenerated.Equal(b.KeyGenerated) {
		return false
	}
	for i := range a.Tokens {
		if a.Tokens[i] != b.Tokens[i] {
			return false
		}
	}
	return true
}

func inProgress(status string) bool {
	return status == store.StatusPending || status == store.StatusTemporaryFailure
}

// lookup is one DNS check's outcome.
type lookup int

const (
	absent lookup = iota // not there (yet): stays Pending
	found
	temporary // the server did not answer: TemporaryFailure
)

// settle turns a lookup outcome into a status, Failed once the search
// started at started has run DNSSearch.
func settle(l lookup, started, now time.Time) string {
	switch {
	case l == found:
		return store.StatusSuccess
	case !started.IsZero() && now.Sub(started) >= DNSSearch:
		return store.StatusFailed
	case l == temporary:
		return store.StatusTemporaryFailure
	}
	return store.StatusPending
}

func classify(err error) lookup {
	if dnsx.IsNotFound(err) {
		return absent
	}
	return temporary
}

// SES's VerificationError values (GetEmailIdentity's VerificationInfo).
const (
	errHostNotFound   = "HOST_NOT_FOUND"
	errTypeNotFound   = "TYPE_NOT_FOUND"
	errInvalidValue   = "INVALID_VALUE"
	errDNSServerError = "DNS_SERVER_ERROR"
)

// errorType is SES's VerificationError for a failed lookup. The system
// resolver does not tell a missing name from a missing record: that is
// HOST_NOT_FOUND, SES's "does not exist or was not reachable".
func errorType(err error) string {
	switch {
	case errors.Is(err, dnsx.ErrNoRecord):
		return errTypeNotFound
	case dnsx.IsNotFound(err):
		return errHostNotFound
	}
	return errDNSServerError
}

// checkDomain runs a domain's DNS checks: DKIM, then the identity itself
// (verified by DKIM or by the v1 TXT token), then its MAIL FROM domain.
func (v *Verifier) checkDomain(ctx context.Context, d *store.IdentityDetails, now time.Time) {
	dkimWhy := ""
	if d.DKIM.Origin != "" && inProgress(d.DKIM.Status) {
		started := d.DKIM.KeyGenerated
		if started.IsZero() {
			started = d.VerifyStarted
		}
		var l lookup
		l, dkimWhy = v.lookupDKIM(ctx, d)
		d.DKIM.Status = settle(l, started, now)
	}
	if inProgress(d.Status) {
		l, why := absent, dkimWhy
		switch {
		case d.DKIM.Status == store.StatusSuccess:
			l = found
		case d.DomainToken != "":
			// The TXT token's reason is reported when DKIM gave none.
			var tokenWhy string
			if l, tokenWhy = v.lookupDomainToken(ctx, d); why == "" {
				why = tokenWhy
			}
		}
		if l == absent && d.DKIM.Status == store.StatusTemporaryFailure {
			l, why = temporary, errDNSServerError
		}
		d.Status = settle(l, d.VerifyStarted, now)
		d.Check.Checked, d.Check.Error = now, why
		if l == found {
			d.Check.Succeeded, d.Check.Error = now, ""
		}
		v.lookupSOA(ctx, d)
	}
	if d.MailFrom.Domain != "" && inProgress(d.MailFrom.Status) {
		d.MailFrom.Status = settle(v.lookupMailFrom(ctx, d), d.MailFrom.Started, now)
	}
}

// lookupDKIM checks d's DKIM records; when they are not all there, the
// second result is SES's VerificationError for the first that is not.
func (v *Verifier) lookupDKIM(ctx context.Context, d *store.IdentityDetails) (lookup, string) {
	if d.DKIM.Origin == store.DKIMOriginExternal {
		txts, err := v.cfg.Resolver.TXT(ctx, d.DKIM.Selector+"._domainkey."+d.Name)
		if err != nil {
			return classify(err), errorType(err)
		}
		for _, t := range txts {
			if publicKeyMatches(t, d.DKIM.PrivateKey) {
				return found, ""
			}
		}
		return absent, errInvalidValue
	}
	if len(d.DKIM.Tokens) == 0 {
		return absent, ""
	}
	// All three must be there; one the server could not answer for makes
	// the outcome unknown rather than absent.
	result, why := found, ""
	for _, tok := range d.DKIM.Tokens {
		target, err := v.cfg.Resolver.CNAME(ctx, tok+"._domainkey."+d.Name)
		switch {
		case err != nil && classify(err) == temporary:
			return temporary, errDNSServerError
		case err != nil:
			if result == found {
				why = errorType(err)
			}
			result = absent
		case target != tok+"."+v.cfg.DKIMCNAMEDomain:
			if result == found {
				why = errInvalidValue
			}
			result = absent
		}
	}
	return result, why
}

// lookupDomainToken checks v1's _amazonses TXT token, with SES's
// VerificationError when it is not there.
func (v *Verifier) lookupDomainToken(ctx context.Context, d *store.IdentityDetails) (lookup, string) {
	txts, err := v.cfg.Resolver.TXT(ctx, "_amazonses."+d.Name)
	if err != nil {
		return classify(err), errorType(err)
	}
	for _, t := range txts {
		if t == d.DomainToken {
			return found, ""
		}
	}
	return absent, errInvalidValue
}

// lookupSOA records the SOA of d's zone with its check, when the resolver
// asks for SOA records: none found clears it, a failed lookup keeps the
// last one found.
func (v *Verifier) lookupSOA(ctx context.Context, d *store.IdentityDetails) {
	r, ok := v.cfg.Resolver.(dnsx.SOAResolver)
	if !ok {
		return
	}
	soa, err := r.SOA(ctx, d.Name)
	switch {
	case err == nil:
		d.Check.SOA = store.SOA{PrimaryNameServer: soa.PrimaryNS, AdminEmail: soa.AdminEmail, SerialNumber: int64(soa.Serial)}
	case dnsx.IsNotFound(err):
		d.Check.SOA = store.SOA{}
	}
}

// lookupMailFrom wants exactly one MX, feedback-smtp.<region>.<MailFromMXDomain>.
func (v *Verifier) lookupMailFrom(ctx context.Context, d *store.IdentityDetails) lookup {
	mxs, err := v.cfg.Resolver.MX(ctx, d.MailFrom.Domain)
	if err != nil {
		return classify(err)
	}
	if len(mxs) == 1 && mxs[0].Host == v.MailFromMX(d.Region) {
		return found
	}
	return absent
}

// MailFromMX is the MX host a custom MAIL FROM domain in region must name.
func (v *Verifier) MailFromMX(region string) string {
	return "feedback-smtp." + region + "." + v.cfg.MailFromMXDomain
}

// DKIMCNAMEDomain is where Easy DKIM CNAMEs point.
func (v *Verifier) DKIMCNAMEDomain() string { return v.cfg.DKIMCNAMEDomain }
