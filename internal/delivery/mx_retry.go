package delivery

import (
	"math"
	"time"
)

// RetryPolicy schedules the next attempt after a temporary failure:
// exponential backoff with jitter, capped, until the message is MaxAge old
// (SES gives up after about 14 hours). The decision is a pure function of
// the attempt count, the times and a random number, so it is tested without
// a clock.
type RetryPolicy struct {
	// First is the wait after the first failed attempt (default 1 min: a
	// greylisting receiver usually accepts after a few minutes).
	First time.Duration
	// Max caps one wait (default 1 h).
	Max time.Duration
	// MaxAge is how long after acceptance delivery is attempted at all
	// (default 14 h); the last attempt is made at that age.
	MaxAge time.Duration
	// Jitter spreads each wait by ±Jitter of itself (default 0.2), so that
	// messages deferred together do not come back together.
	Jitter float64
	// DelayAfter is the age past which a deferral is recorded as a
	// delivery delay (default 15 min).
	DelayAfter time.Duration
}

// Defaults for RetryPolicy's zero fields.
const (
	DefaultRetryFirst  = time.Minute
	DefaultRetryMax    = time.Hour
	DefaultMaxAge      = 14 * time.Hour
	DefaultRetryJitter = 0.2
	DefaultDelayAfter  = 15 * time.Minute
)

func (p RetryPolicy) withDefaults() RetryPolicy {
	if p.First <= 0 {
		p.First = DefaultRetryFirst
	}
	if p.Max <= 0 {
		p.Max = DefaultRetryMax
	}
	if p.MaxAge <= 0 {
		p.MaxAge = DefaultMaxAge
	}
	if p.Jitter < 0 || p.Jitter >= 1 {
		p.Jitter = 0
	} else if p.Jitter == 0 {
		p.Jitter = DefaultRetryJitter
	}
	if p.DelayAfter <= 0 {
		p.DelayAfter = DefaultDelayAfter
	}
	return p
}

// Next says when to try again after attempts failed attempts (≥ 1) of a
// message accepted at received, now; or expired=true when the message has
// reached MaxAge and its remaining recipients fail permanently. rnd is a
// uniform number in [0, 1). maxAge > 0 overrides the policy's (a
// configuration set's MaxDeliverySeconds).
func (p RetryPolicy) Next(attempts int, received, now time.Time, rnd float64, maxAge time.Duration) (next time.Time, expired bool) {
	p = p.withDefaults()
	if maxAge <= 0 {
		maxAge = p.MaxAge
	}
	deadline := received.Add(maxAge)
	if !now.Before(deadline) {
		return time.Time{}, true
	}
	next = now.Add(p.Backoff(attempts, rnd))
	if next.After(deadline) {
		// One last attempt at the deadline rather than none.
		next = deadline
	}
	return next, false
}

// Backoff is the wait after attempts failed attempts (≥ 1): First, doubled
// at each attempt, capped at Max, spread by ±Jitter (rnd uniform in [0, 1)).
func (p RetryPolicy) Backoff(attempts int, rnd float64) time.Duration {
	p = p.withDefaults()
	if attempts < 1 {
		attempts = 1
	}
	wait := float64(p.First) * math.Pow(2, float64(attempts-1))
	wait = math.Min(wait, float64(p.Max))
	wait *= 1 + p.Jitter*(2*rnd-1)
	return time.Duration(wait)
}

// Delayed reports whether a deferral of a message accepted at received is
// late enough, at now, to be recorded as a delivery delay.
func (p RetryPolicy) Delayed(received, now time.Time) bool {
	return now.Sub(received) >= p.withDefaults().DelayAfter
}
