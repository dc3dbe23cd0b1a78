package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// Dedicated IP pools and what an account sets about the operator's sending
// addresses (the dedicated IPs): which of its pools one is in, and its
// warm-up percentage. The addresses come from the configuration, so the
// store keeps only these settings; an address it has no row for is in no
// pool and fully warmed up.

// ErrNotEmpty is returned (wrapped) when a pool to delete still holds
// addresses.
var ErrNotEmpty = errors.New("store: not empty")

// DedicatedIPPool is one of an account's pools of dedicated IPs.
type DedicatedIPPool struct {
	AccountID   string
	Region      string
	Name        string
	ScalingMode string // STANDARD
	Tags        []Tag  // at creation
	Created     time.Time
}

// DedicatedIPSetting is what an account set about one address.
type DedicatedIPSetting struct {
	IP               string // canonical text
	PoolName         string // "" for none
	WarmupPercentage int
	// WarmupSet is when WarmupPercentage was last set (zero: never).
	WarmupSet time.Time
}

// WarmupPlanDays is how long SES's automatic warm-up plan takes an address
// from nothing to its full daily volume ("over 45 days", SES's
// announcement of automatic warm-up).
const WarmupPlanDays = 45

// Percentage is the address's warm-up percentage at now: as set, or, with
// the account's automatic warm-up on, advanced from the value set by
// 100/WarmupPlanDays a day since it was set (SES ramps an address over its
// plan by itself), never past 100.
func (d DedicatedIPSetting) Percentage(auto bool, now time.Time) int {
	p := d.WarmupPercentage
	if !auto || p >= 100 || d.WarmupSet.IsZero() || !now.After(d.WarmupSet) {
		return p
	}
	days := int(now.Sub(d.WarmupSet) / (24 * time.Hour))
	return min(100, p+days*100/WarmupPlanDays)
}

// ResourceDedicatedIPPool is the tag type of pools.
const ResourceDedicatedIPPool ResourceType = "dedicated-ip-pool"

// CreateDedicatedIPPool adds a pool with its tags: ErrExists if the account
// has one of that name in the region, ErrLimit if it has max of them.
func (s *Store) CreateDedicatedIPPool(ctx context.Context, p DedicatedIPPool, max int) error {
	if p.Created.IsZero() {
		p.Created = time.Now()
	}
	what := fmt.Sprintf("create dedicated IP pool %s of %s in %s", p.Name, p.AccountID, p.Region)
	return s.inTx(ctx, what, func(tx *sql.Tx) error {
		var exists, n int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*), COALESCE(SUM(CASE WHEN name = ? THEN 1 ELSE 0 END), 0) FROM dedicated_ip_pools
			WHERE account_id = ? AND region = ?`, p.Name, p.AccountID, p.Region).Scan(&n, &exists); err != nil {
			return fmt.Errorf("store: %s: %w", what, err)
		}
		if exists > 0 {
			return fmt.Errorf("store: %s: %w", what, ErrExists)
		}
		if n >= max {
			return fmt.Errorf("store: %s: %d pools: %w", what, n, ErrLimit)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO dedicated_ip_pools (account_id, region, name, scaling_mode, created_at)
			VALUES (?, ?, ?, ?, ?)`, p.AccountID, p.Region, p.Name, p.ScalingMode, toDB(p.Created)); err != nil {
			return fmt.Errorf("store: %s: %w", what, err)
		}
		return upsertTags(ctx, tx, Resource{AccountID: p.AccountID, Region: p.Region, Type: ResourceDedicatedIPPool, Name: p.Name}, p.Tags)
	})
}

// DedicatedIPPool looks a pool up (ErrNotFound if absent); Tags stay nil.
func (s *Store) DedicatedIPPool(ctx context.Context, accountID, region, name string) (DedicatedIPPool, error) {
	p := DedicatedIPPool{AccountID: accountID, Region: region, Name: name}
	var created int64
	err := s.reads.QueryRowContext(ctx, `SELECT scaling_mode, created_at FROM dedicated_ip_pools
		WHERE account_id = ? AND region = ? AND name = ?`, accountID, region, name).Scan(&p.ScalingMode, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return p, fmt.Errorf("store: dedicated IP pool %s of %s in %s: %w", name, accountID, region, ErrNotFound)
	}
	if err != nil {
		return p, fmt.Errorf("store: dedicated IP pool %s of %s in %s: %w", name, accountID, region, err)
	}
	p.Created = fromDB(created)
	return p, nil
}

// DedicatedIPPoolNames lists an account's pools in a region by name, after
// the name after ("" = from the start), at most limit.
func (s *Store) DedicatedIPPoolNames(ctx context.Context, accountID, region, after string, limit int) ([]string, error) {
	rows, err := s.reads.QueryContext(ctx, `SELECT name FROM dedicated_ip_pools
		WHERE account_id = ? AND region = ? AND name > ? ORDER BY name LIMIT ?`, accountID, region, after, limit)
	if err != nil {
		return nil, fmt.Errorf("store: dedicated IP pools of %s in %s: %w", accountID, region, err)
	}
	defer rows.Close()
	names := []string{}
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			return nil, fmt.Errorf("store: dedicated IP pools of %s in %s: %w", accountID, region, err)
		}
		names = append(names, n)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: dedicated IP pools of %s in %s: %w", accountID, region, err)
	}
	return names, nil
}

// DeleteDedicatedIPPool removes a pool and its tags: ErrNotFound if absent,
// ErrNotEmpty while an address is in it (SES keeps a STANDARD pool that
// holds addresses).
func (s *Store) DeleteDedicatedIPPool(ctx context.Context, accountID, region, name string) error {
	what := fmt.Sprintf("delete dedicated IP pool %s of %s in %s", name, accountID, region)
	return s.inTx(ctx, what, func(tx *sql.Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM dedicated_ips
			WHERE account_id = ? AND region = ? AND pool_name = ?`, accountID, region, name).Scan(&n); err != nil {
			return fmt.Errorf("store: %s: %w", what, err)
		}
		res, err := tx.ExecContext(ctx, `DELETE FROM dedicated_ip_pools WHERE account_id = ? AND region = ? AND name = ?`,
			accountID, region, name)
		if err != nil {
			return fmt.Errorf("store: %s: %w", what, err)
		}
		if k, err := res.RowsAffected(); err != nil || k == 0 {
			return fmt.Errorf("store: %s: %w", what, ErrNotFound)
		}
		if n > 0 {
			return fmt.Errorf("store: %s: %d addresses: %w", what, n, ErrNotEmpty)
		}
		return deleteResourceTags(ctx, tx, Resource{AccountID: accountID, Region: region, Type: ResourceDedicatedIPPool, Name: name})
	})
}

// DedicatedIPSettings is what the account set about its addresses, by
// address (an address it set nothing about is absent).
func (s *Store) DedicatedIPSettings(ctx context.Context, accountID, region string) (map[string]DedicatedIPSetting, error) {
	rows, err := s.reads.QueryContext(ctx, `SELECT ip, pool_name, warmup_percentage, warmup_set_at FROM dedicated_ips
		WHERE account_id = ? AND region = ?`, accountID, region)
	if err != nil {
		return nil, fmt.Errorf("store: dedicated IPs of %s in %s: %w", accountID, region, err)
	}
	defer rows.Close()
	out := map[string]DedicatedIPSetting{}
	for rows.Next() {
		var d DedicatedIPSetting
		var set int64
		if err := rows.Scan(&d.IP, &d.PoolName, &d.WarmupPercentage, &set); err != nil {
			return nil, fmt.Errorf("store: dedicated IPs of %s in %s: %w", accountID, region, err)
		}
		if set != 0 {
			d.WarmupSet = fromDB(set)
		}
		out[d.IP] = d
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: dedicated IPs of %s in %s: %w", accountID, region, err)
	}
	return out, nil
}

// PutDedicatedIPInPool moves ip into the account's pool (ErrNotFound if the
// pool does not exist).
func (s *Store) PutDedicatedIPInPool(ctx context.Context, accountID, region, ip, pool string) error {
	what := fmt.Sprintf("put dedicated IP %s in pool %s of %s in %s", ip, pool, accountID, region)
	return s.inTx(ctx, what, func(tx *sql.Tx) error {
		if err := resourceExists(ctx, tx, Resource{AccountID: accountID, Region: region, Type: ResourceDedicatedIPPool, Name: pool}); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO dedicated_ips (account_id, region, ip, pool_name, warmup_percentage)
			VALUES (?, ?, ?, ?, 100) ON CONFLICT (account_id, region, ip) DO UPDATE SET pool_name = excluded.pool_name`,
			accountID, region, ip, pool); err != nil {
			return fmt.Errorf("store: %s: %w", what, err)
		}
		return nil
	})
}

// SetDedicatedIPWarmup sets ip's warm-up percentage for the account, as of
// at (where automatic warm-up advances it from).
func (s *Store) SetDedicatedIPWarmup(ctx context.Context, accountID, region, ip string, percentage int, at time.Time) error {
	if _, err := s.writes.ExecContext(ctx, `INSERT INTO dedicated_ips (account_id, region, ip, pool_name, warmup_percentage, warmup_set_at)
		VALUES (?, ?, ?, '', ?, ?) ON CONFLICT (account_id, region, ip) DO UPDATE SET warmup_percentage = excluded.warmup_percentage,
		warmup_set_at = excluded.warmup_set_at`,
		accountID, region, ip, percentage, toDB(at)); err != nil {
		return fmt.Errorf("store: warm-up of dedicated IP %s of %s in %s: %w", ip, accountID, region, err)
	}
	return nil
}

// DedicatedIPAutoWarmup is the account's automatic warm-up switch (off
// until set).
func (s *Store) DedicatedIPAutoWarmup(ctx context.Context, accountID, region string) (bool, error) {
	var on bool
	err := s.reads.QueryRowContext(ctx, `SELECT auto_warmup FROM dedicated_ip_warmup WHERE account_id = ? AND region = ?`,
		accountID, region).Scan(&on)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return false, fmt.Errorf("store: automatic warm-up of %s in %s: %w", accountID, region, err)
	}
	return on, nil
}

// SetDedicatedIPAutoWarmup sets the account's automatic warm-up switch.
func (s *Store) SetDedicatedIPAutoWarmup(ctx context.Context, accountID, region string, on bool) error {
	if _, err := s.writes.ExecContext(ctx, `INSERT INTO dedicated_ip_warmup (account_id, region, auto_warmup) VALUES (?, ?, ?)
		ON CONFLICT (account_id, region) DO UPDATE SET auto_warmup = excluded.auto_warmup`,
		accountID, region, boolDB(on)); err != nil {
		return fmt.Errorf("store: automatic warm-up of %s in %s: %w", accountID, region, err)
	}
	return nil
}

// ReserveDedicatedIPSends counts n more recipients sent from ip by the
// account on day (UTC, "2006-01-02") if the day's count is still below
// limit, and says whether it did: delivery asks before each transaction
// from an address in warm-up, so concurrent deliveries cannot together go
// past the cap. The transaction that reaches the cap goes whole (it may
// pass the cap by up to n-1): refusing one larger than the room left would
// keep a many-recipient message from a small cap for ever. A new day's
// first reservation drops the rows of days past.
func (s *Store) ReserveDedicatedIPSends(ctx context.Context, accountID, region, ip, day string, n, limit int) (bool, error) {
	what := fmt.Sprintf("warm-up count of dedicated IP %s of %s in %s on %s", ip, accountID, region, day)
	ok := false
	err := s.inTx(ctx, what, func(tx *sql.Tx) error {
		var sent int
		err := tx.QueryRowContext(ctx, `SELECT sent FROM dedicated_ip_sends WHERE account_id = ? AND region = ? AND ip = ? AND day = ?`,
			accountID, region, ip, day).Scan(&sent)
		fresh := errors.Is(err, sql.ErrNoRows)
		if err != nil && !fresh {
			return fmt.Errorf("store: %s: %w", what, err)
		}
		if sent >= limit {
			return nil
		}
		if fresh {
			if _, err := tx.ExecContext(ctx, `DELETE FROM dedicated_ip_sends WHERE day < ?`, day); err != nil {
				return fmt.Errorf("store: %s: %w", what, err)
			}
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO dedicated_ip_sends (account_id, region, ip, day, sent) VALUES (?, ?, ?, ?, ?)
			ON CONFLICT (account_id, region, ip, day) DO UPDATE SET sent = dedicated_ip_sends.sent + excluded.sent`,
			accountID, region, ip, day, n); err != nil {
			return fmt.Errorf("store: %s: %w", what, err)
		}
		ok = true
		return nil
	})
	return ok, err
}

// ReturnDedicatedIPSends gives back n reserved recipients that were not
// sent after all (the receiver refused them or could not be reached).
func (s *Store) ReturnDedicatedIPSends(ctx context.Context, accountID, region, ip, day string, n int) error {
	if _, err := s.writes.ExecContext(ctx, `UPDATE dedicated_ip_sends SET sent = CASE WHEN sent > ? THEN sent - ? ELSE 0 END
		WHERE account_id = ? AND region = ? AND ip = ? AND day = ?`, n, n, accountID, region, ip, day); err != nil {
		return fmt.Errorf("store: warm-up count of dedicated IP %s of %s in %s on %s: %w", ip, accountID, region, day, err)
	}
	return nil
}

// DedicatedIPSends is how many recipients the account sent from ip on day
// while it was in warm-up.
func (s *Store) DedicatedIPSends(ctx context.Context, accountID, region, ip, day string) (int, error) {
	var n int
	err := s.reads.QueryRowContext(ctx, `SELECT sent FROM dedicated_ip_sends WHERE account_id = ? AND region = ? AND ip = ? AND day = ?`,
		accountID, region, ip, day).Scan(&n)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return 0, fmt.Errorf("store: warm-up count of dedicated IP %s of %s in %s on %s: %w", ip, accountID, region, day, err)
	}
	return n, nil
}
