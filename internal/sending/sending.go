// Package sending is the one place that decides whether a message may be
// sent, for SMTP and the API alike: credentials, sending enabled, sender and
// (in the sandbox) recipient identities, recipient count, header rules,
// quotas, and sending authorization (a delegate sending as another
// account's identity, authorize.go). It prepares what it accepts
// (Message-ID, Date when missing) and appends it to the spool; the
// MessageId it returns is SES's. In
// development mode ([accounts] development, development.go) it lifts the
// sandbox, the quotas and the identity checks for every account, without
// writing anything to the store.
//
// It never speaks a protocol: smtpd and api translate its *seserr.Error
// values into replies. It reads policy data (settings, identities, access
// keys) through caches at most a second stale, so the hot path does no SQL.
package sending

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"sesame/internal/awsauth"
	"sesame/internal/clock"
	"sesame/internal/mailmsg"
	"sesame/internal/metrics"
	"sesame/internal/policy"
	"sesame/internal/quota"
	"sesame/internal/seserr"
	"sesame/internal/spool"
	"sesame/internal/store"
	"sesame/internal/ttlcache"
)

// MaxRecipients is SES's limit per message (To + CC + BCC).
const MaxRecipients = 50

// DefaultMaxMessageBytes is SES's 40 MB limit (SMTP and API v2), used when
// Config.MaxMessageBytes is zero.
const DefaultMaxMessageBytes = 40 << 20

// Submission is one message offered for sending.
type Submission struct {
	AccountID  string
	Region     string
	MailFrom   string   // envelope sender
	Recipients []string // envelope recipients
	Draft      *spool.Draft
	Via        string // spool.ViaSMTP or spool.ViaAPI
	// MaxBytes, when positive and below the Sender's limit, lowers it for
	// this message (SES v1's SendRawEmail: 10 MB).
	MaxBytes int64
	// Meta is kept with the message in the spool (configuration set,
	// tags, where it came from: what later stages report on and act by).
	Meta spool.Meta
	// Tracking overrides the configuration set's open and click tracking
	// for this message (v2 ConfigurationOverrides).
	Tracking TrackingOverride

	// SourceArn, FromArn and ReturnPathArn are the identity ARNs the call
	// gave for sending authorization (authorize.go); each beats its
	// X-SES-*-ARN header.
	SourceArn, FromArn, ReturnPathArn string
	// Secure and APIVersion are the request's aws:SecureTransport (TLS)
	// and ses:ApiVersion ("1", "2"; "" over SMTP), for the caller's key
	// policy (keypolicy.go).
	Secure     bool
	APIVersion string
}

// Config wires a Sender.
type Config struct {
	Store Store
	Spool *spool.Spool
	// Quota counts sends; nil makes the Sender own one (closed by Close).
	Quota           *quota.Limiter
	Clock           clock.Clock
	Hostname        string // Message-ID domain part after the region
	MaxMessageBytes int64
	Logger          *slog.Logger
	// Tracking signs and places open and click tracking URLs; nil: no
	// message is tracked.
	Tracking *Tracking
	// ListManagement signs and places unsubscribe links in mail sent
	// with list management options; nil: such mail gets none (the
	// unsubscribed are still skipped).
	ListManagement *ListManagement
	// BareLF is what a bare LF in raw API content becomes ([smtp] bare_lf:
	// the rule SMTP's DATA follows too).
	BareLF mailmsg.BareLF
	// Development is [accounts] development (development.go): every
	// account in production without limits, every identity verified.
	Development bool
}

// Sender applies SES's policy and spools what passes.
type Sender struct {
	store     Store
	spool     *spool.Spool
	quota     *quota.Limiter
	ownsQuota bool
	clk       clock.Clock
	hostname  string
	maxBytes  int64
	logger    *slog.Logger
	rules     *headerRules
	bareLF    mailmsg.BareLF
	// development: see development.go.
	development bool

	// Policy data, kept for cacheTTL (settings: settingsTTL).
	settings   *ttlcache.Cache[accountRegion, store.AccountSettings]
	identities *ttlcache.Cache[accountRegion, *identitySet]
	configSets *ttlcache.Cache[configSetKey, store.ConfigurationSet]
	keys       *ttlcache.Cache[string, Key]                // keys.go
	policies   *ttlcache.Cache[string, []*policy.Document] // policyKey → an identity's policies

	tracking      *Tracking
	trackingPlans *ttlcache.Cache[configSetKey, trackingPlan]

	listMgmt *ListManagement
}

type accountRegion struct{ account, region string }

// New returns a Sender.
func New(cfg Config) *Sender {
	s := &Sender{
		store: cfg.Store, spool: cfg.Spool, quota: cfg.Quota,
		clk: cfg.Clock, hostname: cfg.Hostname, maxBytes: cfg.MaxMessageBytes, logger: cfg.Logger,
		rules: newHeaderRules(), tracking: cfg.Tracking, bareLF: cfg.BareLF,
		development: cfg.Development, listMgmt: cfg.ListManagement,
	}
	if s.clk == nil {
		s.clk = clock.Real{}
	}
	if s.logger == nil {
		s.logger = slog.Default()
	}
	if s.hostname == "" {
		s.hostname = "localhost"
	}
	if s.maxBytes <= 0 {
		s.maxBytes = DefaultMaxMessageBytes
	}
	if s.quota == nil {
		s.quota = quota.New(cfg.Store, s.clk, s.logger)
		s.ownsQuota = true
	}
	s.settings = ttlcache.New[accountRegion, store.AccountSettings](s.clk, settingsTTL, 0)
	s.identities = ttlcache.New[accountRegion, *identitySet](s.clk, cacheTTL, 0)
	s.keys = ttlcache.New[string, Key](s.clk, cacheTTL, 0)
	s.policies = ttlcache.New[string, []*policy.Document](s.clk, cacheTTL, 0)
	s.configSets = ttlcache.New[configSetKey, store.ConfigurationSet](s.clk, cacheTTL, 0)
	s.trackingPlans = ttlcache.New[configSetKey, trackingPlan](s.clk, cacheTTL, 0)
	if s.tracking != nil && s.tracking.Links == nil {
		s.tracking = nil
	}
	if s.listMgmt != nil && s.listMgmt.Links == nil {
		s.listMgmt = nil
	}
	return s
}

// Close flushes the quota counters (and stops the Limiter if the Sender made
// it). The store and spool are the caller's to close, after this.
func (s *Sender) Close() error {
	if s.ownsQuota {
		return s.quota.Close()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return s.quota.Flush(ctx)
}

// Submit checks the submission and, when it passes, spools it durably and
// returns its MessageId. A refusal is a *seserr.Error. The draft is consumed
// either way.
func (s *Sender) Submit(ctx context.Context, sub *Submission) (string, error) {
	appended := false
	defer func() {
		if !appended && sub.Draft != nil {
			if err := sub.Draft.Discard(); err != nil {
				s.logger.Warn("sending: discarding a refused draft", "err", err)
			}
		}
	}()
	if sub.Draft == nil {
		return "", seserr.TemporaryFailure().Wrap(errors.New("sending: submission without a draft"))
	}
	now := s.clk.Now()
	a, err := s.admit(ctx, sub)
	if err != nil {
		metrics.Rejected(seserr.As(err).APICode)
		return "", err
	}
	id := mailmsg.NewMessageID(sub.Region, now)
	virus, err := hasVirus(sub.Draft.Reader, sub.Draft.Size())
	if err != nil {
		s.quota.Refund(sub.AccountID, sub.Region, a.limits, len(sub.Recipients), a.daily)
		return "", seserr.TemporaryFailure().Wrap(fmt.Errorf("sending: scanning %s: %w", id, err))
	}
	if virus {
		// Accepted as SES does, never delivered: a Reject event.
		a.meta.Rejected = RejectReason
	}
	if err := s.track(ctx, sub, &a.meta, id); err != nil {
		s.quota.Refund(sub.AccountID, sub.Region, a.limits, len(sub.Recipients), a.daily)
		return "", seserr.As(err)
	}
	// After tracking: the placeholder is no URL, so the unsubscribe link
	// is never made a click-tracking redirect.
	if err := s.listManage(sub, &a.meta, id); err != nil {
		s.quota.Refund(sub.AccountID, sub.Region, a.limits, len(sub.Recipients), a.daily)
		return "", seserr.As(err)
	}
	env := &spool.Envelope{
		ID: id, AccountID: sub.AccountID, Region: sub.Region,
		MailFrom: sub.MailFrom, Recipients: sub.Recipients, Received: now, Via: sub.Via,
		Meta: a.meta,
	}
	prefix := s.prefix(&a.header, id, sub.Region, now)
	appended = true // Append takes over the draft, even when it fails
	if err := s.spool.Append(ctx, env, prefix, sub.Draft); err != nil {
		s.quota.Refund(sub.AccountID, sub.Region, a.limits, len(sub.Recipients), a.daily)
		return "", seserr.TemporaryFailure().Wrap(fmt.Errorf("sending: spooling %s: %w", id, err))
	}
	metrics.Accepted(sub.Via)
	return id, nil
}

// admission is what the checks learnt about an accepted submission.
type admission struct {
	header header
	limits quota.Limits
	daily  int        // recipients counted toward the 24-hour quota
	meta   spool.Meta // the submission's, with what its control headers add
}

// admit runs SES's checks in SES's order: sending paused, configuration
// set, size, header rules (and the configuration set and tags the control
// headers name), recipient count, identities (and the sender identity's
// default configuration set), list management options (and who is
// unsubscribed), quotas. Quota is reserved only when
// all the others passed, so a refused message costs the sender nothing.
func (s *Sender) admit(ctx context.Context, sub *Submission) (admission, error) {
	var a admission
	key := accountRegion{sub.AccountID, sub.Region}
	set, err := s.settings.Get(ctx, key, func(ctx context.Context) (store.AccountSettings, error) {
		return s.store.AccountSettings(ctx, sub.AccountID, sub.Region)
	})
	if err != nil {
		return a, seserr.TemporaryFailure().Wrap(fmt.Errorf("sending: settings of %s in %s: %w", sub.AccountID, sub.Region, err))
	}
	set = s.Enforced(set)
	if set.EnforcementStatus == store.EnforcementShutdown {
		return a, seserr.AccountSuspended()
	}
	if !set.SendingEnabled {
		return a, seserr.SendingPaused()
	}
	if err := s.CheckConfigurationSet(ctx, sub.AccountID, sub.Region, sub.Meta.ConfigurationSet); err != nil {
		return a, err
	}
	if sub.Draft.Size() > s.maxBytes || (sub.MaxBytes > 0 && sub.Draft.Size() > sub.MaxBytes) {
		return a, seserr.MessageTooLong()
	}

	buf := bufPool.Get().(*[]byte)
	sec, err := readHeaderSection(sub.Draft.Reader(), buf)
	if err == nil {
		a.header, err = s.rules.parse(sec)
	}
	if cap(*buf) <= 64<<10 {
		bufPool.Put(buf)
	}
	if err != nil {
		if errors.Is(err, errHeaderTooLong) {
			return a, seserr.MessageTooLong().Wrap(err)
		}
		return a, seserr.As(err)
	}
	// The control headers fill in what the submission did not say (over
	// SMTP they are the only way to name a configuration set or tags); a
	// set named there is held to the same rule as one an API call names.
	if err := checkHeaderTags(sub.Meta, &a.header); err != nil {
		return a, err
	}
	a.meta = controlMeta(sub.Meta, &a.header)
	if name := a.meta.ConfigurationSet; name != sub.Meta.ConfigurationSet {
		if err := s.CheckConfigurationSet(ctx, sub.AccountID, sub.Region, name); err != nil {
			return a, err
		}
	}
	senders, err := a.header.senderAddresses()
	if err != nil {
		return a, err
	}
	if len(sub.Recipients) > MaxRecipients {
		return a, seserr.RecipientCountExceeded()
	}
	// SMTP cannot get here without a RCPT; an API call can.
	if len(sub.Recipients) == 0 {
		return a, seserr.NoRecipients()
	}

	ids, err := s.identities.Get(ctx, key, func(ctx context.Context) (*identitySet, error) {
		list, err := s.store.Identities(ctx, sub.AccountID, sub.Region)
		if err != nil {
			return nil, err
		}
		return newIdentitySet(list, s.development), nil
	})
	if err != nil {
		return a, seserr.TemporaryFailure().Wrap(fmt.Errorf("sending: identities of %s in %s: %w", sub.AccountID, sub.Region, err))
	}
	// The send as IAM sees it, for the owner's policies (sending
	// authorization) and the caller's key policy: built only when one of
	// them asks, as most sends name no ARN and come with an unscoped key.
	request := func() policy.Request {
		req := s.sendRequest(sub, &a.header, senders, ids)
		if a.meta.FeedbackTo != "" {
			req.FeedbackAddress = a.meta.FeedbackTo // the Return-Path header's too
		}
		return req
	}
	dlg, err := s.authorize(ctx, sub, &a.header, senders, a.meta.FeedbackTo, request)
	if err != nil {
		return a, err
	}
	// Whose identities the envelope sender and the From address are (the
	// first for MAIL FROM, events and notifications, the second signs).
	a.meta.IdentityAccountID = dlg.accountOf(sub.MailFrom, sub.AccountID)
	keyRequest := request
	if len(senders) > 0 {
		a.meta.SigningAccountID = dlg.accountOf(senders[0], sub.AccountID)
		if c, ok := dlg.covered[senders[0]]; ok {
			keyRequest = func() policy.Request {
				req := request()
				req.Resource = c.arn // a delegate's key acts on the owner's identity
				return req
			}
		}
	}
	if err := s.checkKeyPolicy(ctx, sub, keyRequest, a.meta.ConfigurationSet); err != nil {
		return a, err
	}
	if err := s.checkIdentities(ids, sub, senders, set.Production, &dlg); err != nil {
		return a, err
	}
	if a.meta.ConfigurationSet, err = s.withDefaultConfigSet(ctx, sub.AccountID, sub.Region, a.meta.ConfigurationSet, ids, senders); err != nil {
		return a, err
	}
	if err := s.checkListManagement(ctx, sub, &a.header, &a.meta); err != nil {
		return a, err
	}

	for _, r := range sub.Recipients {
		if !isSimulator(r) {
			a.daily++
		}
	}
	a.limits = quota.Limits{MaxSendRate: set.MaxSendRate, Max24HourSend: set.Max24HourSend}
	if err := s.quota.Reserve(ctx, sub.AccountID, sub.Region, a.limits, len(sub.Recipients), a.daily); err != nil {
		return a, seserr.As(err)
	}
	return a, nil
}

// checkIdentities refuses mail whose senders (or, in the sandbox,
// recipients) are not verified, or whose sender identity's unverified
// custom MAIL FROM domain refuses mail. Addresses another account's
// identity covers (sending authorization, dlg) were checked against that
// account's identities; its sandbox applies to the recipients too. In
// development mode every identity counts as verified and nothing is
// refused.
func (s *Sender) checkIdentities(ids *identitySet, sub *Submission, senders []string, production bool, dlg *delegation) error {
	if s.development {
		return nil
	}
	own := senders
	var delegated []string
	if len(dlg.covered) > 0 {
		own = nil
		for _, a := range senders {
			if _, ok := dlg.covered[a]; ok {
				delegated = append(delegated, a)
			} else {
				own = append(own, a)
			}
		}
	}
	mailFrom := sub.MailFrom
	if _, ok := dlg.covered[mailFrom]; ok {
		mailFrom = ""
	}
	if failed := unverified(ids, mailFrom, own, sub.Recipients, !production); len(failed) > 0 {
		return seserr.NotVerified(sub.Region, failed)
	}
	for _, o := range dlg.owners {
		if failed := unverified(o.ids, "", nil, sub.Recipients, !o.production); len(failed) > 0 {
			return seserr.NotVerified(sub.Region, failed)
		}
	}
	if id := ids.mailFromRefusal(own); id != "" {
		return seserr.MailFromDomainNotVerified(id)
	}
	for _, o := range dlg.owners {
		if id := o.ids.mailFromRefusal(delegated); id != "" {
			return seserr.MailFromDomainNotVerified(id)
		}
	}
	return nil
}

// unverified lists, in SES's order and without repeats, the identities that
// fail the check: the envelope sender and header senders always, the
// recipients in the sandbox (mailbox simulator excepted).
func unverified(ids *identitySet, mailFrom string, senders, recipients []string, sandbox bool) []string {
	var failed []string
	add := func(addr string) {
		if ids.verified(addr) {
			return
		}
		for _, f := range failed {
			if f == addr {
				return
			}
		}
		failed = append(failed, addr)
	}
	if mailFrom != "" {
		add(mailFrom)
	}
	for _, a := range senders {
		add(a)
	}
	if sandbox {
		for _, r := range recipients {
			if !isSimulator(r) {
				add(r)
			}
		}
	}
	return failed
}

// prefix is the header lines Submit puts in front of every message: its
// Message-ID (<MessageId@region.hostname>) and Date (RFC 5322 §3.6.1, UTC,
// the accept time), in the message's own line-ending style. SES overrides
// a client's own Message-ID and Date (spec §9): the spool keeps them, and
// StripForDelivery drops them on the way out, after these.
func (s *Sender) prefix(h *header, id, region string, now time.Time) []byte {
	eol := "\r\n"
	if h.lf {
		eol = "\n"
	}
	b := make([]byte, 0, 160)
	b = append(b, "Message-ID: <"...)
	b = append(b, id...)
	b = append(b, '@')
	b = append(b, region...)
	b = append(b, '.')
	b = append(b, s.hostname...)
	b = append(b, '>')
	b = append(b, eol...)
	b = append(b, "Date: "...)
	b = now.UTC().AppendFormat(b, time.RFC1123Z)
	b = append(b, eol...)
	return b
}

// AuthenticateSMTP checks SES SMTP credentials (user = access key id,
// password = the key's SMTP password for region) and returns the account id.
// Failures are seserr.InvalidCredentials (or TemporaryAuthFailure).
func (s *Sender) AuthenticateSMTP(ctx context.Context, region, user, password string) (string, error) {
	if user == "" || password == "" {
		return "", seserr.InvalidCredentials()
	}
	key, err := s.key(ctx, user)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return "", seserr.InvalidCredentials()
	case err != nil:
		return "", seserr.TemporaryAuthFailure().Wrap(fmt.Errorf("sending: looking up access key: %w", err))
	case !key.Active:
		return "", seserr.InvalidCredentials()
	case !awsauth.CheckSMTPPassword(key.Secret, region, password):
		return "", seserr.InvalidCredentials()
	}
	return key.AccountID, nil
}

// NewDraft starts a message in the spool.
func (s *Sender) NewDraft() (*spool.Draft, error) {
	d, err := s.spool.NewDraft()
	if err != nil {
		return nil, seserr.TemporaryFailure().Wrap(fmt.Errorf("sending: new draft: %w", err))
	}
	return d, nil
}

// DraftOf puts a whole message, built in memory (the API's composed or raw
// content, sesame's own mail), into a new draft.
func (s *Sender) DraftOf(msg []byte) (*spool.Draft, error) {
	d, err := s.NewDraft()
	if err != nil {
		return nil, err
	}
	if _, err := d.Write(msg); err != nil {
		if derr := d.Discard(); derr != nil {
			s.logger.Warn("sending: discarding a draft", "err", derr)
		}
		return nil, seserr.TemporaryFailure().Wrap(fmt.Errorf("sending: writing a draft: %w", err))
	}
	return d, nil
}

// CheckAddress is the Sender's face of the package function CheckAddress,
// so protocol servers can take it through an interface.
func (s *Sender) CheckAddress(addr string) error { return CheckAddress(addr) }

// cacheTTL bounds how stale policy data may be: `sesame admin` changes must
// reach a running server within a second (DESIGN.md), and the hot path must
// not query the store per message.
const cacheTTL = time.Second

// settingsTTL bounds how stale an account's settings may be. Every write of
// them is announced (store.Watch → Changed), which drops the cached copy in
// well under a second on every node that watches; the TTL is the same as the
// other caches', so a Sender whose process watches nothing (a test, an
// embedding) still sees a pause within a second.
const settingsTTL = cacheTTL
