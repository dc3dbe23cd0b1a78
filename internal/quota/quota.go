// Package quota enforces SES's per account+region sending limits: the max
// send rate (recipients per second, short bursts tolerated) and the rolling
// 24-hour quota (recipients), counted as SES counts them.
//
// It only counts and answers; which recipients count (the mailbox simulator
// counts toward the rate, not the daily quota) and which limits apply are the
// caller's (sending's) decisions. Its refusals are seserr values.
//
// The 24-hour count survives restarts: each account+region keeps per-minute
// buckets in memory, loaded from the store (SendCountsSince) at first use;
// increments are flushed to the store (AddSendCounts) in the background about
// once a second and on Close. A crash loses at most the increments of the last
// second or so, which only ever lets an account send slightly more, never
// blocks it wrongly: a deliberate trade for no SQL write per message.
//
// That is for a store one node has to itself (SQLite). When the store is
// shared by several nodes (PostgreSQL), both limits are leased from it in
// batches instead, so they hold across the nodes: see lease.go.
package quota

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"sesame/internal/clock"
	"sesame/internal/seserr"
	"sesame/internal/store"
)

// window is SES's rolling quota period, kept in minute buckets.
const (
	window        = 24 * time.Hour
	windowMinutes = int64(window / time.Minute)
	flushEvery    = time.Second
	storeTimeout  = 5 * time.Second
)

// Limits are one account's limits in one region (from its settings).
type Limits struct {
	// MaxSendRate is recipients per second; ≤ 0 means no rate limit.
	MaxSendRate float64
	// Max24HourSend is recipients per rolling 24 hours; < 0 means unlimited.
	Max24HourSend float64
}

// Limiter tracks send rates and 24-hour counts.
type Limiter struct {
	st     Store
	ls     LeaseStore // non-nil when the store is shared: limits are leased
	clk    clock.Clock
	logger *slog.Logger

	mu       sync.Mutex
	accounts map[accountRegion]*counter

	stopOnce sync.Once
	stop     chan struct{}
	done     chan struct{}
}

type accountRegion struct{ account, region string }

// counter is one account+region's state. Its own mutex keeps a slow first
// load of one account from holding up the others.
type counter struct {
	mu     sync.Mutex
	loaded atomic.Bool // set once, under mu; read without it on the hot path

	// Rate: a token bucket holding at most one second's worth of recipients.
	tokens float64
	last   time.Time

	// Daily: minute buckets in a ring indexed by minute mod windowMinutes;
	// stamp says which minute a slot holds, so stale slots are recognised.
	slots   [windowMinutes]int64
	stamp   [windowMinutes]int64
	total   int64 // sum of the slots inside the window as of expired
	expired int64 // every minute ≤ expired has been subtracted from total

	// pending are increments not yet in the store, by minute.
	pending map[int64]int64

	// shared is the state when leasing from a shared store.
	shared shared
}

// New returns a Limiter counting into st and starts its background flush.
// A nil st keeps counts in memory only (tests); it must be an untyped nil,
// as a nil *store.Store in the interface is not nil.
func New(st Store, clk clock.Clock, logger *slog.Logger) *Limiter {
	if clk == nil {
		clk = clock.Real{}
	}
	if logger == nil {
		logger = slog.Default()
	}
	l := &Limiter{
		st: st, clk: clk, logger: logger,
		accounts: make(map[accountRegion]*counter),
		stop:     make(chan struct{}),
		done:     make(chan struct{}),
	}
	if ls, ok := st.(LeaseStore); ok && ls.Shared() {
		l.ls = ls
	}
	go l.flushLoop()
	return l
}

// Close stops the background flush and flushes what is pending.
func (l *Limiter) Close() error {
	l.stopOnce.Do(func() { close(l.stop) })
	<-l.done
	ctx, cancel := context.WithTimeout(context.Background(), storeTimeout)
	defer cancel()
	if l.ls != nil {
		return l.returnLeases(ctx, true)
	}
	return l.Flush(ctx)
}

func (l *Limiter) flushLoop() {
	defer close(l.done)
	// Real time on purpose: flushing is housekeeping, not quota logic, and
	// tests call Flush directly.
	t := time.NewTicker(flushEvery)
	defer t.Stop()
	for {
		select {
		case <-l.stop:
			return
		case <-t.C:
			ctx, cancel := context.WithTimeout(context.Background(), storeTimeout)
			if err := l.Flush(ctx); err != nil {
				l.logger.Warn("quota: flushing send counts", "err", err)
			}
			cancel()
		}
	}
}

// Reserve counts a message against the account's limits in region, or
// refuses it: seserr.DailyQuotaExceeded when the rolling 24-hour count plus
// daily would pass Max24HourSend, seserr.MaxSendRateExceeded when rate
// recipients would overrun the send rate. Nothing is counted on refusal.
//
// rate is every recipient (the simulator included), daily those counted
// toward the 24-hour quota. A message with more recipients than one second's
// worth passes when the bucket is full and leaves it in debt, so a sandbox
// account (1/s) can still send to two recipients, then waits two seconds.
func (l *Limiter) Reserve(ctx context.Context, accountID, region string, lim Limits, rate, daily int) error {
	c, err := l.counter(ctx, accountID, region)
	if err != nil {
		return err
	}
	if l.ls != nil {
		c.mu.Lock()
		defer c.mu.Unlock()
		return l.reserveShared(ctx, c, accountRegion{accountID, region}, lim, rate, daily)
	}
	now := l.clk.Now()
	minute := minuteOf(now)

	c.mu.Lock()
	defer c.mu.Unlock()
	if latest := c.expired + windowMinutes; minute < latest {
		minute = latest // the clock stepped back: count in the newest minute seen
	}
	c.expire(minute)
	if lim.Max24HourSend >= 0 && float64(c.total+int64(daily)) > lim.Max24HourSend {
		return seserr.DailyQuotaExceeded()
	}
	if lim.MaxSendRate > 0 {
		tokens := c.refill(now, lim.MaxSendRate)
		if float64(rate) > tokens && tokens < lim.MaxSendRate {
			c.tokens = tokens
			return seserr.MaxSendRateExceeded()
		}
		c.tokens = tokens - float64(rate)
	}
	if daily > 0 {
		c.add(minute, int64(daily))
		if c.pending == nil {
			c.pending = make(map[int64]int64)
		}
		c.pending[minute] += int64(daily)
	}
	return nil
}

// Refund takes back a reservation whose message was not accepted after all
// (the spool failed), so a server-side fault does not eat the client's quota.
func (l *Limiter) Refund(accountID, region string, lim Limits, rate, daily int) {
	l.mu.Lock()
	c := l.accounts[accountRegion{accountID, region}]
	l.mu.Unlock()
	if c == nil {
		return
	}
	minute := minuteOf(l.clk.Now())
	c.mu.Lock()
	defer c.mu.Unlock()
	if l.ls != nil {
		l.refundShared(c, lim, rate, daily)
		return
	}
	if lim.MaxSendRate > 0 {
		c.tokens = min(c.tokens+float64(rate), lim.MaxSendRate)
	}
	if daily > 0 && c.pending[minute] >= int64(daily) {
		c.add(minute, -int64(daily))
		c.pending[minute] -= int64(daily)
	}
}

// SentLast24Hours is the account's recipient count over the rolling 24 hours
// in region, for GetSendQuota / GetAccount. A store failure on first use is
// logged and the in-memory count (then zero) is reported.
func (l *Limiter) SentLast24Hours(accountID, region string) float64 {
	ctx, cancel := context.WithTimeout(context.Background(), storeTimeout)
	defer cancel()
	if l.ls != nil {
		return l.sentShared(ctx, accountID, region)
	}
	c, err := l.counter(ctx, accountID, region)
	if err != nil {
		l.logger.Warn("quota: loading send counts", "account", accountID, "region", region, "err", err)
		l.mu.Lock()
		c = l.accounts[accountRegion{accountID, region}]
		l.mu.Unlock()
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.expire(minuteOf(l.clk.Now()))
	return float64(c.total)
}

// Flush writes pending increments to the store (or, when leasing, gives
// back the units of leases past their time). Increments that fail to
// write stay pending for the next flush.
func (l *Limiter) Flush(ctx context.Context) error {
	if l.ls != nil {
		return l.returnLeases(ctx, false)
	}
	if l.st == nil {
		return nil
	}
	l.mu.Lock()
	keys := make([]accountRegion, 0, len(l.accounts))
	counters := make([]*counter, 0, len(l.accounts))
	for k, c := range l.accounts {
		keys = append(keys, k)
		counters = append(counters, c)
	}
	l.mu.Unlock()

	var batch []store.SendCount
	for i, c := range counters {
		c.mu.Lock()
		for m, n := range c.pending {
			if n != 0 {
				batch = append(batch, store.SendCount{AccountID: keys[i].account, Region: keys[i].region,
					Minute: time.Unix(m*60, 0).UTC(), N: n})
			}
		}
		clear(c.pending)
		c.mu.Unlock()
	}
	if len(batch) == 0 {
		return nil
	}
	if err := l.st.AddSendCounts(ctx, batch); err != nil {
		l.putBack(batch)
		return fmt.Errorf("quota: adding %d send counts: %w", len(batch), err)
	}
	return nil
}

func (l *Limiter) putBack(batch []store.SendCount) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, sc := range batch {
		c := l.accounts[accountRegion{sc.AccountID, sc.Region}]
		c.mu.Lock()
		if c.pending == nil {
			c.pending = make(map[int64]int64)
		}
		c.pending[sc.Minute.Unix()/60] += sc.N
		c.mu.Unlock()
	}
}

// counter returns the account+region's counter, loading its last 24 hours
// from the store on first use.
func (l *Limiter) counter(ctx context.Context, accountID, region string) (*counter, error) {
	k := accountRegion{accountID, region}
	l.mu.Lock()
	c := l.accounts[k]
	if c == nil {
		c = &counter{expired: -1}
		l.accounts[k] = c
	}
	l.mu.Unlock()
	if c.loaded.Load() || l.ls != nil {
		return c, nil
	}

	c.mu.Lock()
	defer c.mu.Unlock()
	if c.loaded.Load() {
		return c, nil
	}
	if l.st != nil {
		now := l.clk.Now()
		counts, err := l.st.SendCountsSince(ctx, accountID, region, now.Add(-window))
		if err != nil {
			return nil, seserr.TemporaryFailure().Wrap(fmt.Errorf("quota: loading send counts of %s in %s: %w", accountID, region, err))
		}
		minute := minuteOf(now)
		c.expire(minute)
		for _, sc := range counts {
			m := sc.Minute.Unix() / 60
			if m > minute-windowMinutes && m <= minute {
				c.add(m, sc.N)
			}
		}
	}
	c.loaded.Store(true)
	return c, nil
}

func minuteOf(t time.Time) int64 { return t.Unix() / 60 }

// refill returns the bucket's tokens at now, capped at one second's worth.
// A fresh bucket starts full.
func (c *counter) refill(now time.Time, rate float64) float64 {
	if c.last.IsZero() {
		c.last = now
		return rate
	}
	elapsed := now.Sub(c.last).Seconds()
	if elapsed < 0 {
		elapsed = 0 // the clock stepped back: no refill, no penalty
	}
	c.last = now
	return min(c.tokens+elapsed*rate, rate)
}

// expire moves the window's start to minute-windowMinutes+1, subtracting
// the minutes that left it.
func (c *counter) expire(minute int64) {
	oldest := minute - windowMinutes // last minute outside the window
	if c.expired >= oldest {
		return
	}
	from := c.expired + 1
	if oldest-from >= windowMinutes {
		// Idle longer than the window: everything expired.
		clear(c.slots[:])
		clear(c.stamp[:])
		c.total = 0
		c.expired = oldest
		return
	}
	for m := from; m <= oldest; m++ {
		i := slot(m)
		if c.stamp[i] == m && c.slots[i] != 0 {
			c.total -= c.slots[i]
			c.slots[i] = 0
		}
	}
	c.expired = oldest
}

// add counts n recipients in minute (which must be inside the window).
func (c *counter) add(minute, n int64) {
	i := slot(minute)
	if c.stamp[i] != minute {
		c.slots[i] = 0
		c.stamp[i] = minute
	}
	c.slots[i] += n
	c.total += n
}

func slot(minute int64) int64 {
	s := minute % windowMinutes
	if s < 0 {
		s += windowMinutes
	}
	return s
}
