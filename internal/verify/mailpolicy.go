package verify

import (
	"context"
	"sync"
	"time"

	"sesame/internal/seserr"
)

// MailLimits bound the verification mail one account may have sesame send
// in one region. SES throttles VerifyEmailIdentity (and so its mail) at one
// request per second per account; the daily cap is sesame's own, so a
// tenant cannot turn verification into an unmetered way of mailing outside
// addresses (verification mail costs no sending quota, as in SES).
type MailLimits struct {
	// PerSecond is the sustained rate (default 1, SES's).
	PerSecond float64
	// Burst is how many may go at once after a quiet spell (default 5:
	// SES tolerates short bursts above the rate).
	Burst int
	// PerDay caps a rolling 24 hours (default DefaultMailsPerDay).
	PerDay int
}

// Defaults for MailLimits' zero values.
const (
	DefaultMailsPerSecond = 1
	DefaultMailBurst      = 5
	DefaultMailsPerDay    = 1000
)

func (l MailLimits) withDefaults() MailLimits {
	if l.PerSecond <= 0 {
		l.PerSecond = DefaultMailsPerSecond
	}
	if l.Burst <= 0 {
		l.Burst = DefaultMailBurst
	}
	if l.PerDay <= 0 {
		l.PerDay = DefaultMailsPerDay
	}
	return l
}

// sendingChecker is how a sender (*sending.Sender) says whether an account
// may send at all: verification mail obeys a SHUTDOWN or paused account.
type sendingChecker interface {
	CheckSending(ctx context.Context, account, region string) error
}

// admitMail decides, before anything changes, whether a verification mail
// may go for account in region: the account's sending switch first (SES's
// AccountSuspended / SendingPaused), then the rate and the daily cap
// (Throttling, "Maximum sending rate exceeded." / "Daily message quota
// exceeded."). A refused request creates no identity and sends nothing.
func (v *Verifier) admitMail(ctx context.Context, account, region string) error {
	if v.cfg.Sender == nil {
		return nil
	}
	if c, ok := v.cfg.Sender.(sendingChecker); ok {
		if err := c.CheckSending(ctx, account, region); err != nil {
			return err
		}
	}
	return v.mailRate.take(accountRegion{account, region}, v.clk.Now())
}

type accountRegion struct{ account, region string }

// mailLimiter is a token bucket per account and region with a log of the
// last 24 hours' admissions. It lives in memory: a restart forgets it,
// which costs at most one more burst and one more day's cap.
type mailLimiter struct {
	lim MailLimits
	mu  sync.Mutex
	by  map[accountRegion]*mailBucket
}

type mailBucket struct {
	tokens float64
	last   time.Time
	day    []time.Time // admissions in the last 24 hours, oldest first
}

// maxTrackedAccounts bounds the map; past it, buckets that are full again
// and have an empty day are forgotten (they hold nothing a new one lacks).
const maxTrackedAccounts = 10000

func newMailLimiter(lim MailLimits) *mailLimiter {
	return &mailLimiter{lim: lim.withDefaults(), by: make(map[accountRegion]*mailBucket)}
}

func (l *mailLimiter) take(key accountRegion, now time.Time) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.by[key]
	if b == nil {
		if len(l.by) >= maxTrackedAccounts {
			l.sweep(now)
		}
		b = &mailBucket{tokens: float64(l.lim.Burst), last: now}
		l.by[key] = b
	}
	b.refill(now, l.lim)
	if b.tokens < 1 {
		return seserr.MaxSendRateExceeded()
	}
	if len(b.day) >= l.lim.PerDay {
		return seserr.DailyQuotaExceeded()
	}
	b.tokens--
	b.day = append(b.day, now)
	return nil
}

func (b *mailBucket) refill(now time.Time, lim MailLimits) {
	if d := now.Sub(b.last); d > 0 {
		b.tokens = min(float64(lim.Burst), b.tokens+d.Seconds()*lim.PerSecond)
		b.last = now
	}
	cut := 0
	for cut < len(b.day) && now.Sub(b.day[cut]) >= 24*time.Hour {
		cut++
	}
	if cut > 0 {
		b.day = append(b.day[:0], b.day[cut:]...)
	}
}

func (l *mailLimiter) sweep(now time.Time) {
	for k, b := range l.by {
		b.refill(now, l.lim)
		if len(b.day) == 0 && b.tokens >= float64(l.lim.Burst) {
			delete(l.by, k)
		}
	}
}
