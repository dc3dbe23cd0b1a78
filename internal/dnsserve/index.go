package dnsserve

import (
	"context"
	"fmt"
	"hash/fnv"
	"slices"
	"strings"
	"sync"
	"time"

	"sesame/internal/clock"
	"sesame/internal/dkim"
)

// index is the zone's records as last read from the store, reloaded by
// the first query after it is MaxAge old. Public halves are derived once
// per private key (parsing an RSA key costs far more than the query).
type index struct {
	st     Store
	clk    clock.Clock
	maxAge time.Duration

	load   sync.Mutex // one reload at a time
	mu     sync.Mutex
	cur    *snapshot
	public map[string]string // private key DER → TXT value
}

// snapshot is one load: token (lower-case) → TXT character-strings.
type snapshot struct {
	records map[string][]string
	serial  uint32
	sum     uint64 // fingerprint of the records, to move the serial on change
	loaded  time.Time
}

func newIndex(st Store, clk clock.Clock, maxAge time.Duration) *index {
	return &index{st: st, clk: clk, maxAge: maxAge, public: map[string]string{}}
}

// get returns the current snapshot, reloading it when stale.
func (x *index) get(ctx context.Context) (*snapshot, error) {
	if snap := x.fresh(); snap != nil {
		return snap, nil
	}
	x.load.Lock()
	defer x.load.Unlock()
	if snap := x.fresh(); snap != nil {
		return snap, nil // another query reloaded meanwhile
	}
	return x.reload(ctx)
}

func (x *index) fresh() *snapshot {
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.cur != nil && x.clk.Now().Sub(x.cur.loaded) < x.maxAge {
		return x.cur
	}
	return nil
}

func (x *index) reload(ctx context.Context) (*snapshot, error) {
	ids, err := x.st.EasyDKIMIdentities(ctx, "")
	if err != nil {
		return nil, err
	}
	now := x.clk.Now()
	snap := &snapshot{records: map[string][]string{}, loaded: now}
	used := map[string]string{}
	for _, d := range ids {
		if len(d.DKIM.PrivateKey) == 0 {
			continue
		}
		value, ok := x.public[string(d.DKIM.PrivateKey)]
		if !ok {
			if value, err = dkim.PublicKeyRecord(d.DKIM.PrivateKey); err != nil {
				return nil, fmt.Errorf("DKIM key of %s (%s, %s): %w", d.Name, d.AccountID, d.Region, err)
			}
		}
		used[string(d.DKIM.PrivateKey)] = value
		for _, tok := range d.DKIM.Tokens {
			snap.records[strings.ToLower(tok)] = dkim.TXTStrings(value)
		}
	}
	snap.sum = fingerprint(snap.records)
	x.mu.Lock()
	defer x.mu.Unlock()
	x.public = used // keys of deleted identities are forgotten
	switch {
	case x.cur == nil:
		snap.serial = uint32(now.Unix())
	case x.cur.sum == snap.sum:
		snap.serial = x.cur.serial
	default:
		// RFC 1982 serial arithmetic: a change moves it forward.
		snap.serial = max(x.cur.serial+1, uint32(now.Unix()))
	}
	x.cur = snap
	return snap, nil
}

func fingerprint(records map[string][]string) uint64 {
	labels := make([]string, 0, len(records))
	for l := range records {
		labels = append(labels, l)
	}
	slices.Sort(labels)
	h := fnv.New64a()
	for _, l := range labels {
		h.Write([]byte(l))
		h.Write([]byte{0})
		h.Write([]byte(strings.Join(records[l], "")))
		h.Write([]byte{0})
	}
	return h.Sum64()
}
