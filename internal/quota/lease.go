package quota

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"

	"sesame/internal/seserr"
)

// Cluster-wide limits. When the store is shared by several nodes
// (PostgreSQL), a node's in-memory count would let each node send the whole
// quota, so the limits are leased from the database instead:
//
//   - 24-hour quota: a node takes units in batches (TakeSendLease), counted
//     in send_counts in the minute they are taken as if sent then, and
//     counts its messages against them in memory. A batch is what the node
//     sent in the last second (at least what the message needs) and at most
//     half of what is left, so it shrinks to single units near the quota.
//     Units unused leaseTTL after they were taken go back to the database
//     (ReturnSendLease), so an idle node holds none for long. The database
//     never grants more than the quota over the window, so the nodes
//     together never accept more than the quota.
//   - Send rate: one token bucket per account+region in the database, as
//     the single-node limiter's (a second's worth, refilled at the rate);
//     a node takes tokens in batches sized the same way, and drops those
//     it has not used tokenTTL after taking them.
//
// A message that fits a node's lease costs no database round trip.

const (
	// leaseTTL is how long a node may use 24-hour quota units after taking
	// them; then they go back. Short, so a grant is used within seconds of
	// the minute it is counted in, and idle nodes do not starve others.
	leaseTTL = 2 * time.Second
	// tokenTTL is how long a node may use send-rate tokens after taking
	// them; unused ones are dropped, never returned.
	tokenTTL = time.Second
	// refusalKept is how long a node refuses on the database's last word
	// that the 24-hour quota is used up, without asking again. Units other
	// nodes give back may make a refusal in that time unnecessary, never
	// a wrong acceptance.
	refusalKept = time.Second
)

// LeaseStore is what the Limiter needs of a store shared by several nodes.
// *store.Store implements it; the Limiter leases only when Shared says so.
type LeaseStore interface {
	Store
	Shared() bool
	TakeSendLease(ctx context.Context, accountID, region string, at time.Time, need, want, quota int64) (granted, left int64, err error)
	ReturnSendLease(ctx context.Context, accountID, region string, minute time.Time, n int64) error
	TakeRateTokens(ctx context.Context, accountID, region string, at time.Time, rate float64, need, want int64) (granted int64, tokens float64, err error)
}

// lease is a batch of 24-hour quota units taken from the database.
type lease struct {
	minute int64     // the minute they are counted in
	units  int64     // still unused
	until  time.Time // usable before this
}

// shared is a counter's state when leasing (the fields of counter used
// otherwise stay zero).
type shared struct {
	leases  []lease
	returns map[int64]int64 // expired unused units to give back, by minute

	// The database's last refusal of the 24-hour quota.
	refusedQuota int64
	refusedLeft  int64
	refusedUntil time.Time

	// Send-rate tokens held, and the bucket as the database last saw it.
	tokens      int64
	tokensUntil time.Time
	bucket      float64
	bucketAt    time.Time
	bucketRate  float64

	// Recent demand on this node: recipients this second and the last.
	second              int64
	dailyNow, dailyPrev int64
	rateNow, ratePrev   int64
}

// quotaUnits is the most recipients lim allows over the window.
func quotaUnits(lim Limits) int64 {
	if lim.Max24HourSend < 0 {
		return math.MaxInt64 / 4 // unlimited; still counted
	}
	return int64(math.Floor(lim.Max24HourSend))
}

// roll moves the demand counts on to now's second: a batch is sized by
// what the node counted this second and the last.
func (s *shared) roll(now time.Time) {
	sec := now.Unix()
	if sec == s.second {
		return
	}
	if sec == s.second+1 {
		s.dailyPrev, s.ratePrev = s.dailyNow, s.rateNow
	} else {
		s.dailyPrev, s.ratePrev = 0, 0
	}
	s.dailyNow, s.rateNow = 0, 0
	s.second = sec
}

// expire moves the unused units of leases past their time to returns (all
// of them when all is set).
func (s *shared) expire(now time.Time, all bool) {
	kept := s.leases[:0]
	for _, ls := range s.leases {
		if !all && now.Before(ls.until) {
			kept = append(kept, ls)
			continue
		}
		if ls.units > 0 {
			if s.returns == nil {
				s.returns = make(map[int64]int64)
			}
			s.returns[ls.minute] += ls.units
		}
	}
	s.leases = kept
	if !now.Before(s.tokensUntil) {
		s.tokens = 0
	}
}

func (s *shared) leased() int64 {
	var n int64
	for _, ls := range s.leases {
		n += ls.units
	}
	return n
}

// reserveShared is Reserve against leases (c.mu held).
func (l *Limiter) reserveShared(ctx context.Context, c *counter, k accountRegion, lim Limits, rate, daily int) error {
	now := l.clk.Now()
	s := &c.shared
	s.roll(now)
	s.expire(now, false)

	if need := int64(daily) - s.leased(); daily > 0 && need > 0 {
		q := quotaUnits(lim)
		if now.Before(s.refusedUntil) && s.refusedQuota == q && need > s.refusedLeft {
			return seserr.DailyQuotaExceeded()
		}
		want := max(need, s.dailyPrev, s.dailyNow)
		granted, left, err := l.ls.TakeSendLease(ctx, k.account, k.region, now, need, want, q)
		if err != nil {
			return seserr.TemporaryFailure().Wrap(fmt.Errorf("quota: leasing the 24-hour quota of %s in %s: %w", k.account, k.region, err))
		}
		if granted == 0 {
			s.refusedQuota, s.refusedLeft, s.refusedUntil = q, left, now.Add(refusalKept)
			return seserr.DailyQuotaExceeded()
		}
		s.leases = append(s.leases, lease{minute: minuteOf(now), units: granted, until: now.Add(leaseTTL)})
	}

	if need := int64(rate) - s.tokens; lim.MaxSendRate > 0 && rate > 0 && need > 0 {
		// The bucket only refills at the rate and other nodes only take
		// from it, so while it cannot hold what is needed the database
		// would refuse. Ask again only once it may hold a quarter second's
		// worth (or what is needed, if more), so a node at the limit asks
		// a few times a second, not per message.
		if s.bucketRate == lim.MaxSendRate && !s.bucketAt.IsZero() {
			projected := s.bucket + max(now.Sub(s.bucketAt).Seconds(), 0)*lim.MaxSendRate
			if projected < min(max(float64(need), lim.MaxSendRate/4), lim.MaxSendRate) {
				return seserr.MaxSendRateExceeded()
			}
		}
		want := max(need, s.ratePrev, s.rateNow)
		granted, tokens, err := l.ls.TakeRateTokens(ctx, k.account, k.region, now, lim.MaxSendRate, need, want)
		if err != nil {
			return seserr.TemporaryFailure().Wrap(fmt.Errorf("quota: leasing the send rate of %s in %s: %w", k.account, k.region, err))
		}
		s.bucket, s.bucketAt, s.bucketRate = tokens, now, lim.MaxSendRate
		if granted == 0 {
			return seserr.MaxSendRateExceeded()
		}
		s.tokens += granted
		s.tokensUntil = now.Add(tokenTTL)
	}

	// Both fit: count the message.
	if lim.MaxSendRate > 0 {
		s.tokens -= int64(rate)
	}
	// Used-up leases stay until their time is over, for Refund.
	n := int64(daily)
	for i := range s.leases {
		take := min(n, s.leases[i].units)
		s.leases[i].units -= take
		n -= take
	}
	s.dailyNow += int64(daily)
	s.rateNow += int64(rate)
	return nil
}

// refundShared puts a reservation back into the node's leases when they
// are still usable; otherwise the units stay counted (a refund is rare, and
// dropping it only makes the limit stricter).
func (l *Limiter) refundShared(c *counter, lim Limits, rate, daily int) {
	now := l.clk.Now()
	s := &c.shared
	if lim.MaxSendRate > 0 && now.Before(s.tokensUntil) {
		s.tokens += int64(rate)
	}
	if n := len(s.leases); daily > 0 && n > 0 && now.Before(s.leases[n-1].until) {
		s.leases[n-1].units += int64(daily)
	}
}

// returnLeases gives back the unused units of leases past their time (all
// of them when all is set, at Close). Units that fail to go back are
// retried at the next flush.
func (l *Limiter) returnLeases(ctx context.Context, all bool) error {
	now := l.clk.Now()
	l.mu.Lock()
	keys := make([]accountRegion, 0, len(l.accounts))
	counters := make([]*counter, 0, len(l.accounts))
	for k, c := range l.accounts {
		keys = append(keys, k)
		counters = append(counters, c)
	}
	l.mu.Unlock()

	var errs []error
	for i, c := range counters {
		c.mu.Lock()
		c.shared.expire(now, all)
		returns := c.shared.returns
		c.shared.returns = nil
		c.mu.Unlock()
		for m, n := range returns {
			err := l.ls.ReturnSendLease(ctx, keys[i].account, keys[i].region, time.Unix(m*60, 0).UTC(), n)
			if err == nil {
				delete(returns, m)
				continue
			}
			errs = append(errs, fmt.Errorf("quota: returning %d leased units of %s in %s: %w", n, keys[i].account, keys[i].region, err))
		}
		if len(returns) > 0 {
			c.mu.Lock()
			if c.shared.returns == nil {
				c.shared.returns = make(map[int64]int64)
			}
			for m, n := range returns {
				c.shared.returns[m] += n
			}
			c.mu.Unlock()
		}
	}
	return errors.Join(errs...)
}

// sentShared is SentLast24Hours from the shared store: what every node
// counted, less this node's unused leased units (other nodes' unused units,
// at most a few seconds' worth, count as sent until they go back). A store
// failure is logged and reported as zero.
func (l *Limiter) sentShared(ctx context.Context, accountID, region string) float64 {
	now := l.clk.Now()
	counts, err := l.st.SendCountsSince(ctx, accountID, region, now.Add(-window+time.Minute))
	if err != nil {
		l.logger.Warn("quota: loading send counts", "account", accountID, "region", region, "err", err)
		return 0
	}
	var n int64
	for _, sc := range counts {
		n += sc.N
	}
	l.mu.Lock()
	c := l.accounts[accountRegion{accountID, region}]
	l.mu.Unlock()
	if c != nil {
		c.mu.Lock()
		c.shared.expire(now, false)
		n -= c.shared.leased()
		c.mu.Unlock()
	}
	return float64(max(n, 0))
}
