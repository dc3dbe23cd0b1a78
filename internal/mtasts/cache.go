package mtasts

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sesame/internal/safefile"
	"sync"
	"time"

	"sesame/internal/clock"
	"sesame/internal/dnsx"
)

// The policy cache (RFC 8461 §5.1, §10.2). For each recipient domain:
//
//   - the TXT record is looked up at most every RecheckInterval (a busy
//     destination would otherwise cost a lookup per message);
//   - a record whose id differs from the cached policy's (or no cached
//     policy) means fetching the policy; a cached policy whose id still
//     matches is fetched again once half its max_age has passed, so a
//     domain that keeps publishing the same id never drops out of the cache;
//   - no record, a malformed one, a DNS failure or a failed fetch leave
//     a cached, unexpired policy in force (§5.1: an attacker who can
//     suppress the record or the fetch must not be able to remove a policy
//     a sender already knows); without one, the domain has no policy.
//
// Policies are kept in memory and, when Path is set, in a JSON file in the
// data dir (written atomically on every change), so a restart keeps them.

// RecheckInterval is how long a cached policy is used before its TXT
// record is looked up again.
const RecheckInterval = 5 * time.Minute

// maxEntries bounds the cache; past it the entry closest to expiry makes
// room.
const maxEntries = 100000

// TXTResolver looks up TXT records (dnsx.Resolver does); a missing record
// is dnsx.ErrNotFound.
type TXTResolver interface {
	TXT(ctx context.Context, name string) ([]string, error)
}

// PolicyFetcher gets a domain's policy file (Fetcher does).
type PolicyFetcher interface {
	Fetch(ctx context.Context, domain string) (*Policy, error)
}

// Cache finds the policy in force for recipient domains.
type Cache struct {
	Resolver TXTResolver
	Fetcher  PolicyFetcher
	Clock    clock.Clock
	Logger   *slog.Logger
	// Path is the file policies are persisted in ("" = memory only).
	Path string

	loadOnce sync.Once
	mu       sync.Mutex
	entries  map[string]*entry
	inflight map[string]chan struct{}
	saveMu   sync.Mutex
}

// entry is one domain's cached policy.
type entry struct {
	Policy  *Policy   `json:"policy"`
	ID      string    `json:"id"`
	Fetched time.Time `json:"fetched"`
	Checked time.Time `json:"checked"` // when the TXT record was last looked up
}

func (e *entry) expires() time.Time {
	return e.Fetched.Add(time.Duration(e.Policy.MaxAge) * time.Second)
}

func (c *Cache) now() time.Time {
	if c.Clock == nil {
		return time.Now()
	}
	return c.Clock.Now()
}

func (c *Cache) log() *slog.Logger {
	if c.Logger == nil {
		return slog.Default()
	}
	return c.Logger
}

// Get returns the policy in force for domain, nil when it has none (or
// only one of mode none). It never fails: what cannot be learnt now
// leaves the domain with the policy last known, as §5.1 says.
func (c *Cache) Get(ctx context.Context, domain string) *Policy {
	c.loadOnce.Do(c.load)
	for {
		c.mu.Lock()
		e := c.valid(domain)
		if e != nil && c.now().Sub(e.Checked) < RecheckInterval {
			c.mu.Unlock()
			return active(e.Policy)
		}
		// One lookup per domain at a time; the others wait for its result.
		if wait, busy := c.inflight[domain]; busy {
			c.mu.Unlock()
			select {
			case <-wait:
				continue
			case <-ctx.Done():
				if e != nil {
					return active(e.Policy)
				}
				return nil
			}
		}
		done := make(chan struct{})
		c.inflight[domain] = done
		c.mu.Unlock()
		p := c.refresh(ctx, domain, e)
		c.mu.Lock()
		delete(c.inflight, domain)
		close(done)
		c.mu.Unlock()
		return active(p)
	}
}

func active(p *Policy) *Policy {
	if p == nil || p.Mode == ModeNone {
		return nil
	}
	return p
}

// valid returns domain's unexpired entry; c.mu held.
func (c *Cache) valid(domain string) *entry {
	e := c.entries[domain]
	if e == nil {
		return nil
	}
	if !c.now().Before(e.expires()) {
		delete(c.entries, domain)
		return nil
	}
	return e
}

// refresh looks the TXT record up and fetches the policy when it must;
// old is the cached entry (nil: none).
func (c *Cache) refresh(ctx context.Context, domain string, old *entry) *Policy {
	log := c.log().With("domain", domain)
	var oldPolicy *Policy
	if old != nil {
		oldPolicy = old.Policy
	}
	rec, err := c.lookup(ctx, domain)
	now := c.now()
	if err != nil {
		if !dnsx.IsNotFound(err) {
			log.Info("MTA-STS record lookup failed", "err", err, "cached", old != nil)
		}
		if old != nil {
			c.touch(domain, old, now)
		}
		return oldPolicy
	}
	if old != nil && old.ID == rec.ID && now.Sub(old.Fetched) < time.Duration(old.Policy.MaxAge)*time.Second/2 {
		c.touch(domain, old, now)
		return oldPolicy
	}
	p, err := c.Fetcher.Fetch(ctx, domain)
	if err != nil {
		log.Warn("MTA-STS policy fetch failed", "err", err, "cached", old != nil)
		if old != nil {
			c.touch(domain, old, now)
		}
		return oldPolicy
	}
	log.Info("MTA-STS policy", "id", rec.ID, "mode", p.Mode, "mx", p.MX, "max_age", p.MaxAge)
	c.store(domain, &entry{Policy: p, ID: rec.ID, Fetched: now, Checked: now})
	return p
}

// lookup finds the domain's one MTA-STS record. None, several (§3.1: as
// if none) or a malformed one is dnsx.ErrNotFound.
func (c *Cache) lookup(ctx context.Context, domain string) (Record, error) {
	txts, err := c.Resolver.TXT(ctx, "_mta-sts."+domain)
	if err != nil {
		return Record{}, err
	}
	var found []Record
	for _, t := range txts {
		rec, isSTS, err := ParseRecord(t)
		if !isSTS {
			continue
		}
		if err != nil {
			return Record{}, fmt.Errorf("%w: %w", dnsx.ErrNotFound, err)
		}
		found = append(found, rec)
	}
	if len(found) != 1 {
		return Record{}, fmt.Errorf("%d MTA-STS records: %w", len(found), dnsx.ErrNotFound)
	}
	return found[0], nil
}

// touch records that old was confirmed (or kept) at now.
func (c *Cache) touch(domain string, old *entry, now time.Time) {
	c.mu.Lock()
	if c.entries[domain] == old {
		cp := *old
		cp.Checked = now
		c.entries[domain] = &cp
	}
	c.mu.Unlock()
}

func (c *Cache) store(domain string, e *entry) {
	c.mu.Lock()
	if len(c.entries) >= maxEntries {
		var victim string
		var soonest time.Time
		for d, o := range c.entries {
			if victim == "" || o.expires().Before(soonest) {
				victim, soonest = d, o.expires()
			}
		}
		delete(c.entries, victim)
	}
	c.entries[domain] = e
	snapshot := make(map[string]*entry, len(c.entries))
	for d, o := range c.entries {
		snapshot[d] = o
	}
	c.mu.Unlock()
	if err := c.save(snapshot); err != nil {
		c.log().Warn("saving the MTA-STS policy cache; it is kept in memory", "err", err)
	}
}

// load reads the persisted cache, dropping expired policies.
func (c *Cache) load() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.entries = map[string]*entry{}
	c.inflight = map[string]chan struct{}{}
	if c.Path == "" {
		return
	}
	b, err := os.ReadFile(c.Path)
	if errors.Is(err, os.ErrNotExist) {
		return
	}
	var m map[string]*entry
	if err == nil {
		err = json.Unmarshal(b, &m)
	}
	if err != nil {
		c.log().Warn("reading the MTA-STS policy cache; starting empty", "path", c.Path, "err", err)
		return
	}
	now := c.now()
	for d, e := range m {
		if e == nil || e.Policy == nil || !now.Before(e.expires()) {
			continue
		}
		e.Checked = time.Time{} // look the record up again on first use
		c.entries[d] = e
	}
}

// save writes the cache atomically (safefile).
func (c *Cache) save(m map[string]*entry) error {
	if c.Path == "" {
		return nil
	}
	c.saveMu.Lock()
	defer c.saveMu.Unlock()
	b, err := json.Marshal(m)
	if err != nil {
		return err
	}
	return safefile.Write(c.Path, b, 0o600)
}
