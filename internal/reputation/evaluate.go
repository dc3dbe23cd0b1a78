package reputation

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"sesame/internal/clock"
	"sesame/internal/store"
)

// What the rates call for (store.Reputation.Status).
const (
	StatusHealthy   = "HEALTHY"
	StatusProbation = "PROBATION"
	StatusPaused    = "PAUSED"
	// StatusLowVolume: fewer sends than Config.MinVolume in the window, so
	// the rates judge nothing.
	StatusLowVolume = "LOW_VOLUME"
)

// Thresholds are rates (0.05 = 5 %) at or above which SES acts.
type Thresholds struct {
	BounceReview    float64
	BouncePause     float64
	ComplaintReview float64
	ComplaintPause  float64
}

// SESThresholds are SES's published ones: under review at a 5 % bounce or
// 0.1 % complaint rate, sending paused at 10 % or 0.5 %.
var SESThresholds = Thresholds{BounceReview: 0.05, BouncePause: 0.10, ComplaintReview: 0.001, ComplaintPause: 0.005}

// EvaluatorStore is what evaluating needs of the store.
type EvaluatorStore interface {
	SendStatsSince(ctx context.Context, accountID, region string, since time.Time, all bool, configurationSet string) ([]store.SendStat, error)
	SendStatKeys(ctx context.Context, since time.Time) ([]store.ReputationKey, error)
	Reputations(ctx context.Context, accountID string) ([]store.Reputation, error)
	PutReputation(ctx context.Context, r store.Reputation) error
	AccountSettings(ctx context.Context, accountID, region string) (store.AccountSettings, error)
	SetAccountSendingEnabled(ctx context.Context, accountID, region string, enabled bool) error
	SetEnforcementStatus(ctx context.Context, accountID, region, status string) error
	ConfigurationSet(ctx context.Context, accountID, region, name string) (store.ConfigurationSet, error)
	UpdateConfigurationSetOptions(ctx context.Context, accountID, region, name string, fn func(*store.ConfigurationSetOptions) error) error
}

// Evaluator judges the rates of every account and of every configuration
// set with reputation metrics, and acts on them when Enforce is set.
type Evaluator struct {
	Store EvaluatorStore
	// Enforce lets the Evaluator change statuses and pause sending; without
	// it the rates are only recorded.
	Enforce    bool
	Thresholds Thresholds
	// Window is how far back the rates look at most.
	Window time.Duration
	// Volume is the representative volume: the rates are over the newest
	// buckets that hold at least this many recipients.
	Volume int64
	// MinVolume: with fewer recipients in the window nothing is judged.
	MinVolume int64
	Clock     clock.Clock
	Logger    *slog.Logger

	lastRound time.Time // when the last round without failures began
}

// Rates are what one evaluation counted.
type Rates struct {
	Sends, HardBounces, Complaints int64
	BounceRate, ComplaintRate      float64
}

// RatesOf sums buckets (oldest first) from the newest back until they hold
// volume recipients (volume ≤ 0: all of them).
func RatesOf(buckets []store.SendStat, volume int64) Rates {
	var r Rates
	for i := len(buckets) - 1; i >= 0; i-- {
		b := buckets[i]
		r.Sends += b.DeliveryAttempts
		r.HardBounces += b.HardBounces
		r.Complaints += b.Complaints
		if volume > 0 && r.Sends >= volume {
			break
		}
	}
	if r.Sends > 0 {
		r.BounceRate = float64(r.HardBounces) / float64(r.Sends)
		r.ComplaintRate = float64(r.Complaints) / float64(r.Sends)
	}
	return r
}

// Judge says what rates call for.
func (t Thresholds) Judge(r Rates, minVolume int64) string {
	switch {
	case r.Sends == 0 || r.Sends < minVolume:
		return StatusLowVolume
	case r.BounceRate >= t.BouncePause || r.ComplaintRate >= t.ComplaintPause:
		return StatusPaused
	case r.BounceRate >= t.BounceReview || r.ComplaintRate >= t.ComplaintReview:
		return StatusProbation
	}
	return StatusHealthy
}

// nextBucket is the start of the first bucket that begins at or after t.
func nextBucket(t time.Time) time.Time {
	b := t.Truncate(Bucket)
	if b.Before(t) {
		b = b.Add(Bucket)
	}
	return b.UTC()
}

// Evaluate judges the accounts and sets whose rates may have changed since
// the last call (all of them the first time). It goes on past a failure
// with one and returns the first; the next call then looks back as far as
// this one did.
// Calls must not overlap.
func (e *Evaluator) Evaluate(ctx context.Context) error {
	now := e.now()
	// Rates change with new events: after the first round only what was
	// counted since the last one (its bucket and later) is judged again,
	// with whatever sesame paused or put on probation.
	since := now.Add(-e.Window)
	if !e.lastRound.IsZero() && e.lastRound.Add(-Bucket).After(since) {
		since = e.lastRound.Add(-Bucket)
	}
	keys, err := e.Store.SendStatKeys(ctx, since)
	if err != nil {
		return err
	}
	prev, err := e.Store.Reputations(ctx, "")
	if err != nil {
		return err
	}
	known := map[store.ReputationKey]store.Reputation{}
	for _, r := range prev {
		known[r.ReputationKey] = r
	}
	// Every account with new events, or paused or on probation by sesame
	// (a paused account sends nothing, yet its pause may be lifted), and
	// every set likewise.
	todo := map[store.ReputationKey]bool{}
	var order []store.ReputationKey
	add := func(k store.ReputationKey) {
		if !todo[k] {
			todo[k] = true
			order = append(order, k)
		}
	}
	for _, k := range keys {
		add(store.ReputationKey{AccountID: k.AccountID, Region: k.Region})
		if k.ConfigurationSet != "" {
			add(k)
		}
	}
	for _, r := range prev {
		if r.Paused || r.Probation || e.lastRound.IsZero() {
			add(r.ReputationKey)
		}
	}
	var first error
	for _, k := range order {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		p, ok := known[k]
		if !ok {
			p = store.Reputation{ReputationKey: k}
		}
		var err error
		if k.ConfigurationSet == "" {
			err = e.account(ctx, p, now)
		} else {
			err = e.configurationSet(ctx, p, now)
		}
		if err != nil {
			e.logger().Error("reputation: evaluating", "account", k.AccountID, "region", k.Region,
				"configuration_set", k.ConfigurationSet, "err", err)
			if first == nil {
				first = err
			}
		}
	}
	if first == nil {
		e.lastRound = now
	}
	return first
}

// rates counts rep's window: Window back from now, and not before a lifted
// pause.
func (e *Evaluator) rates(ctx context.Context, rep store.Reputation, now time.Time) (Rates, error) {
	since := now.Add(-e.Window)
	if rep.CountsFrom.After(since) {
		since = rep.CountsFrom
	}
	k := rep.ReputationKey
	buckets, err := e.Store.SendStatsSince(ctx, k.AccountID, k.Region, since, k.ConfigurationSet == "", k.ConfigurationSet)
	if err != nil {
		return Rates{}, err
	}
	return RatesOf(buckets, e.Volume), nil
}

// account evaluates an account in a region.
func (e *Evaluator) account(ctx context.Context, rep store.Reputation, now time.Time) error {
	k := rep.ReputationKey
	set, err := e.Store.AccountSettings(ctx, k.AccountID, k.Region)
	if err != nil {
		return err
	}
	if rep.Paused && set.SendingEnabled {
		// Lifted: judge only what is sent from now on.
		rep.Paused, rep.CountsFrom = false, nextBucket(now)
		e.logger().Info("reputation: sending pause lifted; rates start afresh", "account", k.AccountID,
			"region", k.Region, "from", rep.CountsFrom)
	}
	r, err := e.rates(ctx, rep, now)
	if err != nil {
		return err
	}
	setRates(&rep, r, e.Thresholds.Judge(r, e.MinVolume), now)
	if e.Enforce && rep.Status != StatusLowVolume && set.EnforcementStatus != store.EnforcementShutdown {
		troubled := rep.Status == StatusProbation || rep.Status == StatusPaused
		switch {
		case troubled && set.EnforcementStatus == store.EnforcementHealthy:
			if err := e.Store.SetEnforcementStatus(ctx, k.AccountID, k.Region, store.EnforcementProbation); err != nil {
				return err
			}
			rep.Probation = true
			e.logger().Warn("reputation: account under review", "account", k.AccountID, "region", k.Region,
				"bounce_rate", r.BounceRate, "complaint_rate", r.ComplaintRate, "sends", r.Sends)
		case !troubled && set.EnforcementStatus == store.EnforcementProbation && rep.Probation:
			if err := e.Store.SetEnforcementStatus(ctx, k.AccountID, k.Region, store.EnforcementHealthy); err != nil {
				return err
			}
			rep.Probation = false
			e.logger().Info("reputation: account healthy again", "account", k.AccountID, "region", k.Region,
				"bounce_rate", r.BounceRate, "complaint_rate", r.ComplaintRate, "sends", r.Sends)
		}
		if rep.Status == StatusPaused && !rep.Paused {
			// The settings first: a crash before the reputation row is
			// written finds the account paused and records it next time.
			if set.SendingEnabled {
				if err := e.Store.SetAccountSendingEnabled(ctx, k.AccountID, k.Region, false); err != nil {
					return err
				}
				e.logger().Warn("reputation: sending paused", "account", k.AccountID, "region", k.Region,
					"bounce_rate", r.BounceRate, "complaint_rate", r.ComplaintRate, "sends", r.Sends)
			}
			rep.Paused, rep.PausedAt = true, now
		}
	}
	return e.Store.PutReputation(ctx, rep)
}

// configurationSet evaluates a configuration set: only one with reputation
// metrics enabled is judged; a pause it got is still seen lifted.
func (e *Evaluator) configurationSet(ctx context.Context, rep store.Reputation, now time.Time) error {
	k := rep.ReputationKey
	cs, err := e.Store.ConfigurationSet(ctx, k.AccountID, k.Region, k.ConfigurationSet)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	metrics := cs.Options.Reputation != nil && cs.Options.Reputation.ReputationMetricsEnabled
	if !metrics && !rep.Paused && rep.EvaluatedAt.IsZero() {
		return nil
	}
	var fresh time.Time // a fresh start given when the set was made
	if rep.Paused && cs.SendingEnabled() {
		// Lifted: SES's "fresh start" (ReputationOptions.LastFreshStart,
		// which GetConfigurationSet shows): only what is sent from the next
		// bucket on counts.
		from := nextBucket(now)
		err := e.Store.UpdateConfigurationSetOptions(ctx, k.AccountID, k.Region, k.ConfigurationSet,
			func(o *store.ConfigurationSetOptions) error {
				if o.Reputation == nil {
					o.Reputation = &store.ReputationOptions{}
				}
				o.Reputation.LastFreshStart = &from
				return nil
			})
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
		rep.Paused, rep.CountsFrom = false, from
		e.logger().Info("reputation: configuration set's sending pause lifted; rates start afresh", "account", k.AccountID,
			"region", k.Region, "configuration_set", k.ConfigurationSet, "from", rep.CountsFrom)
	} else if ro := cs.Options.Reputation; ro != nil && ro.LastFreshStart != nil {
		fresh = *ro.LastFreshStart
	}
	if fresh.After(rep.CountsFrom) {
		rep.CountsFrom = fresh
	}
	r, err := e.rates(ctx, rep, now)
	if err != nil {
		return err
	}
	setRates(&rep, r, e.Thresholds.Judge(r, e.MinVolume), now)
	if e.Enforce && metrics && rep.Status == StatusPaused && !rep.Paused {
		if cs.SendingEnabled() {
			err := e.Store.UpdateConfigurationSetOptions(ctx, k.AccountID, k.Region, k.ConfigurationSet,
				func(o *store.ConfigurationSetOptions) error {
					o.Sending = &store.SendingOptions{SendingEnabled: false}
					return nil
				})
			if errors.Is(err, store.ErrNotFound) {
				return nil
			}
			if err != nil {
				return err
			}
			e.logger().Warn("reputation: configuration set's sending paused", "account", k.AccountID, "region", k.Region,
				"configuration_set", k.ConfigurationSet, "bounce_rate", r.BounceRate, "complaint_rate", r.ComplaintRate,
				"sends", r.Sends)
		}
		rep.Paused, rep.PausedAt = true, now
	}
	return e.Store.PutReputation(ctx, rep)
}

func setRates(rep *store.Reputation, r Rates, status string, now time.Time) {
	rep.Sends, rep.HardBounces, rep.Complaints = r.Sends, r.HardBounces, r.Complaints
	rep.BounceRate, rep.ComplaintRate = r.BounceRate, r.ComplaintRate
	rep.Status, rep.EvaluatedAt = status, now
}

func (e *Evaluator) now() time.Time {
	if e.Clock == nil {
		return time.Now()
	}
	return e.Clock.Now()
}

func (e *Evaluator) logger() *slog.Logger {
	if e.Logger == nil {
		return slog.Default()
	}
	return e.Logger
}
