package receiving

import (
	"context"
	"time"

	"sesame/internal/clock"
	"sesame/internal/receipt"
	"sesame/internal/ttlcache"
)

// CachedRules keeps what Rules answer for a second (DESIGN.md: a change
// reaches a running server within a second), so that the RCPT path and the
// processor do not query the store per recipient and per message.
type CachedRules struct {
	rules    Rules
	accounts *ttlcache.Cache[accountsKey, []string]
	sets     *ttlcache.Cache[[2]string, *receipt.RuleSet]
	filters  *ttlcache.Cache[[2]string, []receipt.Filter]
}

// NewCachedRules caches r.
func NewCachedRules(r Rules, clk clock.Clock) *CachedRules {
	return &CachedRules{rules: r,
		// Recipient addresses come from outside: bounded.
		accounts: ttlcache.New[accountsKey, []string](clk, time.Second, 100000),
		sets:     ttlcache.New[[2]string, *receipt.RuleSet](clk, time.Second, 0),
		filters:  ttlcache.New[[2]string, []receipt.Filter](clk, time.Second, 0),
	}
}

type accountsKey struct {
	region, rcpt string
	unverified   bool
}

func (c *CachedRules) AccountsReceiving(ctx context.Context, region, rcpt string, unverified bool) ([]string, error) {
	return c.accounts.Get(ctx, accountsKey{region, rcpt, unverified}, func(ctx context.Context) ([]string, error) {
		return c.rules.AccountsReceiving(ctx, region, rcpt, unverified)
	})
}

func (c *CachedRules) ActiveReceiptRuleSet(ctx context.Context, accountID, region string) (*receipt.RuleSet, error) {
	return c.sets.Get(ctx, [2]string{accountID, region}, func(ctx context.Context) (*receipt.RuleSet, error) {
		return c.rules.ActiveReceiptRuleSet(ctx, accountID, region)
	})
}

func (c *CachedRules) ReceiptFilters(ctx context.Context, accountID, region string) ([]receipt.Filter, error) {
	return c.filters.Get(ctx, [2]string{accountID, region}, func(ctx context.Context) ([]receipt.Filter, error) {
		return c.rules.ReceiptFilters(ctx, accountID, region)
	})
}
