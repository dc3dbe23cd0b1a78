package delivery

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"sync/atomic"
	"time"

	"sesame/internal/outcome"
	"sesame/internal/spool"
	"sesame/internal/store"
	"sesame/internal/ttlcache"
)

// Source addresses (dedicated IPs, docs/api.md "Dedicated IPs and pools"):
// the operator lists the machine's sending addresses with their EHLO names
// ([[delivery.source_addresses]]); each account puts them in its pools and
// sets their warm-up percentages. A transaction leaves from
//
//   - the addresses of its configuration set's SendingPoolName, when the
//     set names a pool that holds any;
//   - else the account's addresses in none of its pools (SES's default
//     dedicated pool; self-hosted, these play the part of SES's shared
//     addresses);
//   - else, with no address to use (none configured, or the account has
//     put them all in pools), the system's default route with EHLO
//     hostname, as before source addresses existed.
//
// Transactions rotate among the chosen addresses. An address the account
// has in warm-up (percentage P < 100) sends at most P% of
// WarmupFullDailyVolume recipients a UTC day (the transaction that reaches
// the cap goes whole); past that the transaction moves to the next address
// with room. When the whole pool is past its
// caps, SES's rule during automatic warm-up applies: with the account's
// AutoWarmupEnabled on, the excess goes from the account's addresses in no
// pool (SES: its shared addresses); otherwise, and for mail that was not
// sent through a pool, it waits for a later attempt (never dropped;
// max_attempt_age still bounds it).

// Source is one address mail may leave from.
type Source struct {
	// Addr is the local address connections are bound to; the zero Addr
	// is the system's default route.
	Addr netip.Addr
	// EHLO is the name given in EHLO from Addr ("" = ClientOptions.Hostname).
	EHLO string
}

func (s Source) String() string {
	if !s.Addr.IsValid() {
		return "default"
	}
	return s.Addr.String()
}

// reaches says whether a connection from s can go to ip: the same
// address family (the default route reaches both).
func (s Source) reaches(ip net.IP) bool {
	if !s.Addr.IsValid() {
		return true
	}
	return s.Addr.Is4() == (ip.To4() != nil)
}

// SourceStore is what source selection needs of the store: the account's
// pools and warm-up settings, and the daily counts of addresses in
// warm-up.
type SourceStore interface {
	DedicatedIPSettings(ctx context.Context, accountID, region string) (map[string]store.DedicatedIPSetting, error)
	DedicatedIPAutoWarmup(ctx context.Context, accountID, region string) (bool, error)
	ReserveDedicatedIPSends(ctx context.Context, accountID, region, ip, day string, n, limit int) (bool, error)
	ReturnDedicatedIPSends(ctx context.Context, accountID, region, ip, day string, n int) error
}

// DefaultWarmupFullDailyVolume is an address's full daily volume when none
// is configured: the 50,000 messages a day SES's automatic warm-up plan
// reaches, and the least SES advises a warmed-up dedicated IP keep sending.
const DefaultWarmupFullDailyVolume = 50000

// accountSources is what an account set about the addresses.
type accountSources struct {
	settings map[string]store.DedicatedIPSetting
	auto     bool
}

// reservation is a transaction's hold on its source's warm-up count.
type reservation struct {
	accountID, region, ip, day string
	n                          int
}

// sourcePicker chooses transactions' source addresses.
type sourcePicker struct {
	sources []Source
	full    int
	store   SourceStore
	cache   *ttlcache.Cache[string, accountSources] // account/region
	next    atomic.Uint64                           // rotation
	log     *slog.Logger
}

// warmupDeferral is why a transaction waits for the caps of its addresses.
func warmupDeferral(what string) *outcome.Failure {
	return &outcome.Failure{Code: 451, Enhanced: "4.4.5",
		Text: fmt.Sprintf("the daily volume of %s in warm-up is reached; trying again later", what)}
}

// pick chooses the source of an n-recipient transaction of e, sent
// through pool ("" = none), and reserves its warm-up count when it is in
// warm-up (res, for release). A failure means the transaction waits.
func (p *sourcePicker) pick(ctx context.Context, e *spool.Entry, pool string, n int, now time.Time) (Source, *reservation, *outcome.Failure) {
	if p == nil || len(p.sources) == 0 {
		return Source{}, nil, nil
	}
	acct, err := p.cache.Get(ctx, e.AccountID+"/"+e.Region, func(ctx context.Context) (accountSources, error) {
		settings, err := p.store.DedicatedIPSettings(ctx, e.AccountID, e.Region)
		if err != nil {
			return accountSources{}, err
		}
		auto, err := p.store.DedicatedIPAutoWarmup(ctx, e.AccountID, e.Region)
		return accountSources{settings: settings, auto: auto}, err
	})
	if err != nil {
		// The pool, and the caps, are unknown: sending from another
		// address than the account chose would be worse than waiting.
		p.log.Warn("reading the dedicated IP settings; the message waits", "err", err)
		return Source{}, nil, &outcome.Failure{Code: 451, Enhanced: "4.3.0", Text: "local error reading the dedicated IP settings"}
	}
	var dedicated, shared []Source
	for _, s := range p.sources {
		switch acct.settings[s.Addr.String()].PoolName {
		case "":
			shared = append(shared, s)
		case pool:
			dedicated = append(dedicated, s)
		}
	}
	candidates, overflow, what := shared, []Source(nil), "the addresses in no pool"
	if pool != "" && len(dedicated) > 0 {
		candidates, what = dedicated, "the addresses of pool "+pool
		if acct.auto {
			overflow = shared
			if len(overflow) == 0 {
				overflow = []Source{{}}
			}
		}
	} else if pool != "" {
		p.log.Warn("sending pool holds no address; sending as mail without a pool", "pool", pool, "account", e.AccountID)
	}
	if len(candidates) == 0 {
		return Source{}, nil, nil
	}
	for _, list := range [][]Source{candidates, overflow} {
		s, res, err := p.first(ctx, e, list, acct, n, now)
		if err != nil {
			p.log.Warn("counting a dedicated IP's warm-up volume; the message waits", "err", err)
			return Source{}, nil, &outcome.Failure{Code: 451, Enhanced: "4.3.0", Text: "local error counting the dedicated IP's warm-up volume"}
		}
		if s != nil {
			return *s, res, nil
		}
	}
	return Source{}, nil, warmupDeferral(what)
}

// first is the first address of list, from the rotation's next position,
// with room for n more recipients today (nil: none has).
func (p *sourcePicker) first(ctx context.Context, e *spool.Entry, list []Source, acct accountSources, n int, t time.Time) (*Source, *reservation, error) {
	if len(list) == 0 {
		return nil, nil, nil
	}
	start := int(p.next.Add(1) % uint64(len(list)))
	day := t.UTC().Format("2006-01-02")
	for i := range list {
		s := list[(start+i)%len(list)]
		if !s.Addr.IsValid() {
			return &s, nil, nil // the default route has no cap
		}
		set, ok := acct.settings[s.Addr.String()]
		pct := 100
		if ok {
			pct = set.Percentage(acct.auto, t)
		}
		if pct >= 100 {
			return &s, nil, nil
		}
		limit := p.full * pct / 100
		ok, err := p.store.ReserveDedicatedIPSends(ctx, e.AccountID, e.Region, s.Addr.String(), day, n, limit)
		if err != nil {
			return nil, nil, err
		}
		if ok {
			return &s, &reservation{accountID: e.AccountID, region: e.Region, ip: s.Addr.String(), day: day, n: n}, nil
		}
		p.log.Debug("dedicated IP past its warm-up cap", "ip", s.Addr, "percentage", pct, "cap", limit)
	}
	return nil, nil, nil
}

// release gives back the reserved recipients that were not sent.
func (p *sourcePicker) release(ctx context.Context, r *reservation, sent int) {
	if r == nil || sent >= r.n {
		return
	}
	if err := p.store.ReturnDedicatedIPSends(ctx, r.accountID, r.region, r.ip, r.day, r.n-sent); err != nil {
		p.log.Warn("giving back a dedicated IP's unused warm-up volume", "ip", r.ip, "err", err)
	}
}
