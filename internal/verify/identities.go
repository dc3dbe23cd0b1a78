package verify

import (
	"context"
	"errors"
	"strings"
	"time"

	"sesame/internal/sending"
	"sesame/internal/seserr"
	"sesame/internal/store"
)

// CanonicalName checks an identity name and returns its stored form: an
// address as given, a domain lower-case without a trailing dot. A bad name
// is seserr.InvalidIdentity.
func CanonicalName(name string) (string, error) {
	if store.TypeOf(name) == store.EmailAddress {
		if sending.CheckAddress(name) != nil {
			return "", seserr.InvalidIdentity(name)
		}
		return name, nil
	}
	d := strings.ToLower(strings.TrimSuffix(name, "."))
	if !strings.Contains(d, ".") || sending.CheckAddress("x@"+d) != nil {
		return "", seserr.InvalidIdentity(name)
	}
	return d, nil
}

// apiErr maps the store's sentinel errors to SES's.
func apiErr(err error, name string, max int) error {
	switch {
	case errors.Is(err, store.ErrExists):
		return seserr.IdentityExists(name)
	case errors.Is(err, store.ErrNotFound):
		return seserr.IdentityNotFound(name)
	case errors.Is(err, store.ErrLimitExceeded):
		return seserr.IdentityLimitExceeded(max)
	}
	return err
}

// DKIMOptions are the DKIM choices of CreateEmailIdentity and
// PutEmailIdentityDkimSigningAttributes. A Selector means BYODKIM
// (origin EXTERNAL) with PrivateKey; otherwise Easy DKIM with KeyLength
// (RSA_2048_BIT when empty).
type DKIMOptions struct {
	Selector   string
	PrivateKey string // base64 PEM body
	KeyLength  string
}

// dkimFor builds the DKIM setup opts ask for, Pending from now.
func (v *Verifier) dkimFor(opts DKIMOptions) (store.DKIM, error) {
	return NewDKIM(opts, v.clk.Now())
}

// NewDKIM builds the DKIM setup opts ask for, generated at now and Pending:
// BYODKIM with the given selector and key, or Easy DKIM with three new
// tokens and a new key. CreateEmailIdentity, PutEmailIdentityDkimSigningAttributes
// and `sesame admin identity verify` all set DKIM up through it. seserr
// errors: InvalidDKIMKey, InvalidDKIMSelector, InvalidDKIMKeySize,
// InvalidSigningKeyLength.
func NewDKIM(opts DKIMOptions, now time.Time) (store.DKIM, error) {
	if opts.Selector != "" || opts.PrivateKey != "" {
		if opts.Selector == "" || opts.PrivateKey == "" {
			return store.DKIM{}, seserr.InvalidDKIMKey("BYODKIM needs both DomainSigningSelector and DomainSigningPrivateKey.")
		}
		if CanonicalSelector(opts.Selector) == "" {
			return store.DKIM{}, seserr.InvalidDKIMSelector(opts.Selector)
		}
		der, err := parseBYODKIMKey(opts.PrivateKey)
		if err != nil {
			return store.DKIM{}, err
		}
		length := keyLengthOf(der)
		return store.DKIM{Origin: store.DKIMOriginExternal, SigningEnabled: true, Status: store.StatusPending,
			Selector: CanonicalSelector(opts.Selector), PrivateKey: der, KeyLength: length, NextKeyLength: length,
			KeyGenerated: now}, nil
	}
	length := opts.KeyLength
	if length == "" {
		length = RSA2048
	}
	der, err := newDKIMKey(length)
	if err != nil {
		return store.DKIM{}, err
	}
	return store.DKIM{Origin: store.DKIMOriginAWS, SigningEnabled: true, Status: store.StatusPending,
		Tokens: newDKIMTokens(), PrivateKey: der, KeyLength: length, NextKeyLength: length, KeyGenerated: now}, nil
}

// NewDomain is the domain identity CreateEmailIdentity creates: DKIM set
// up as opts say (NewDKIM), a v1 verification token, Pending from now,
// feedback forwarding on. The caller stores it.
func NewDomain(account, region, domain string, opts DKIMOptions, now time.Time) (store.IdentityDetails, error) {
	dkim, err := NewDKIM(opts, now)
	if err != nil {
		return store.IdentityDetails{}, err
	}
	return store.IdentityDetails{
		Identity:      store.Identity{AccountID: account, Region: region, Name: domain, Type: store.Domain, Status: store.StatusPending, Created: now},
		VerifyStarted: now, DomainToken: newDomainToken(), DKIM: dkim, FeedbackForwarding: true,
	}, nil
}

// CanonicalSelector returns a DKIM selector lower-case, or "" if it is not
// one (dot-separated LDH labels).
func CanonicalSelector(s string) string {
	s = strings.ToLower(s)
	if s == "" || len(s) > 63 || sending.CheckAddress("x@"+s) != nil {
		return ""
	}
	return s
}

// CreateDomain creates a domain identity (v2 CreateEmailIdentity) with DKIM
// set up as opts say and a v1 verification token, Pending, and starts
// checking it. seserr errors: IdentityExists, IdentityLimitExceeded,
// InvalidDKIMKey.
func (v *Verifier) CreateDomain(ctx context.Context, account, region, domain string, opts DKIMOptions) (store.IdentityDetails, error) {
	d, err := NewDomain(account, region, domain, opts, v.clk.Now())
	if err != nil {
		return store.IdentityDetails{}, err
	}
	if err := v.cfg.Store.CreateIdentity(ctx, d, v.cfg.MaxIdentities); err != nil {
		return d, apiErr(err, domain, v.cfg.MaxIdentities)
	}
	v.soon()
	return v.cfg.Store.IdentityDetails(ctx, account, region, domain)
}

// VerifyDomain is v1 VerifyDomainIdentity: it creates the domain (no DKIM)
// or restarts a failed verification, and returns the TXT token.
func (v *Verifier) VerifyDomain(ctx context.Context, account, region, domain string) (string, error) {
	now := v.clk.Now()
	d := store.IdentityDetails{
		Identity:      store.Identity{AccountID: account, Region: region, Name: domain, Type: store.Domain, Status: store.StatusPending, Created: now},
		VerifyStarted: now, DomainToken: newDomainToken(), FeedbackForwarding: true,
	}
	err := v.cfg.Store.CreateIdentity(ctx, d, v.cfg.MaxIdentities)
	if errors.Is(err, store.ErrExists) {
		d, err = v.cfg.Store.UpdateIdentity(ctx, account, region, domain, func(cur *store.IdentityDetails) error {
			if cur.DomainToken == "" {
				cur.DomainToken = newDomainToken()
			}
			if cur.Status == store.StatusFailed || cur.Status == store.StatusNotStarted {
				cur.Status, cur.VerifyStarted = store.StatusPending, now
			}
			return nil
		})
	}
	if err != nil {
		return "", apiErr(err, domain, v.cfg.MaxIdentities)
	}
	v.soon()
	return d.DomainToken, nil
}

// VerifyDomainDKIM is v1 VerifyDomainDkim: it sets up Easy DKIM for the
// domain (creating the identity if needed) unless DKIM is set up already,
// and returns the tokens.
func (v *Verifier) VerifyDomainDKIM(ctx context.Context, account, region, domain string) ([]string, error) {
	d, err := v.cfg.Store.IdentityDetails(ctx, account, region, domain)
	if errors.Is(err, store.ErrNotFound) {
		if _, err := v.VerifyDomain(ctx, account, region, domain); err != nil {
			return nil, err
		}
		d, err = v.cfg.Store.IdentityDetails(ctx, account, region, domain)
	}
	if err != nil {
		return nil, apiErr(err, domain, v.cfg.MaxIdentities)
	}
	if d.DKIM.Origin == store.DKIMOriginAWS && len(d.DKIM.Tokens) > 0 && d.DKIM.Status != store.StatusFailed {
		return d.DKIM.Tokens, nil
	}
	d, err = v.PutDKIMSigning(ctx, account, region, domain, DKIMOptions{})
	if err != nil {
		return nil, err
	}
	return d.DKIM.Tokens, nil
}

// PutDKIMSigning is PutEmailIdentityDkimSigningAttributes: switch a domain
// to BYODKIM (a Selector in opts) or Easy DKIM. Staying on Easy DKIM only
// records NextKeyLength (SES changes the length at the next rotation).
func (v *Verifier) PutDKIMSigning(ctx context.Context, account, region, name string, opts DKIMOptions) (store.IdentityDetails, error) {
	if store.TypeOf(name) != store.Domain {
		return store.IdentityDetails{}, seserr.NotADomain(name, "DKIM signing attributes")
	}
	cur, err := v.cfg.Store.IdentityDetails(ctx, account, region, name)
	if err != nil {
		return cur, apiErr(err, name, v.cfg.MaxIdentities)
	}
	external := opts.Selector != "" || opts.PrivateKey != ""
	if !external && cur.DKIM.Origin == store.DKIMOriginAWS && cur.DKIM.Status != store.StatusFailed {
		if opts.KeyLength != "" && keyBits(opts.KeyLength) == 0 {
			return cur, seserr.InvalidNextSigningKeyLength(opts.KeyLength)
		}
		d, err := v.cfg.Store.UpdateIdentity(ctx, account, region, name, func(d *store.IdentityDetails) error {
			if opts.KeyLength != "" {
				d.DKIM.NextKeyLength = opts.KeyLength
			}
			return nil
		})
		return d, apiErr(err, name, v.cfg.MaxIdentities)
	}
	dkim, err := v.dkimFor(opts) // key generation outside the write transaction
	if err != nil {
		return cur, err
	}
	d, err := v.cfg.Store.UpdateIdentity(ctx, account, region, name, func(d *store.IdentityDetails) error {
		d.DKIM = dkim
		if d.Status == store.StatusFailed {
			d.Status, d.VerifyStarted = store.StatusPending, dkim.KeyGenerated
		}
		return nil
	})
	if err != nil {
		return d, apiErr(err, name, v.cfg.MaxIdentities)
	}
	v.soon()
	return d, nil
}

// PutMailFrom is PutEmailIdentityMailFromAttributes: an empty domain
// removes the custom MAIL FROM; otherwise it must be a subdomain of the
// identity's domain and its MX is checked (status Pending until then).
func (v *Verifier) PutMailFrom(ctx context.Context, account, region, name, mailFrom, behavior string) (store.IdentityDetails, error) {
	switch behavior {
	case "":
		behavior = store.MailFromUseDefault
	case store.MailFromUseDefault, store.MailFromReject:
	default:
		return store.IdentityDetails{}, seserr.InvalidBehaviorOnMxFailure(behavior)
	}
	domain := name
	if store.TypeOf(name) == store.EmailAddress {
		domain = name[strings.LastIndexByte(name, '@')+1:]
	}
	domain = strings.ToLower(domain)
	if mailFrom != "" {
		mf, err := CanonicalName(mailFrom)
		if err != nil || store.TypeOf(mailFrom) != store.Domain || !strings.HasSuffix(mf, "."+domain) {
			return store.IdentityDetails{}, seserr.InvalidMailFromDomain(mailFrom, domain)
		}
		mailFrom = mf
	}
	now := v.clk.Now()
	d, err := v.cfg.Store.UpdateIdentity(ctx, account, region, name, func(d *store.IdentityDetails) error {
		if mailFrom == "" {
			d.MailFrom = store.MailFrom{Behavior: behavior}
			return nil
		}
		if d.MailFrom.Domain != mailFrom || d.MailFrom.Status == store.StatusFailed {
			d.MailFrom.Domain, d.MailFrom.Status, d.MailFrom.Started = mailFrom, store.StatusPending, now
		}
		d.MailFrom.Behavior = behavior
		return nil
	})
	if err != nil {
		return d, apiErr(err, name, v.cfg.MaxIdentities)
	}
	v.Changed(account, region)
	v.soon()
	return d, nil
}
