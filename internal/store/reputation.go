package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// SendStat is one bucket of send statistics of an account in a region
// through one configuration set ("" = none), or a change to it (migration
// 0013). The mailbox simulator's recipients are never in it.
type SendStat struct {
	AccountID        string
	Region           string
	ConfigurationSet string
	Bucket           time.Time // start of the bucket, UTC
	DeliveryAttempts int64     // recipients sesame tried to deliver to
	Bounces          int64     // bounced recipients, as GetSendStatistics counts them
	HardBounces      int64     // the bounces the bounce rate counts
	Complaints       int64
	Rejects          int64
}

// StatsBucket is the length of a statistics bucket: SES's GetSendStatistics
// answers in 15-minute data points.
const StatsBucket = 15 * time.Minute

// SendCounts is what one event adds to its bucket's counters.
type SendCounts struct {
	DeliveryAttempts, Bounces, HardBounces, Complaints, Rejects int64
}

func (c SendCounts) zero() bool { return c == SendCounts{} }

// AddSendStats adds the changes to the bucket counters.
func (s *Store) AddSendStats(ctx context.Context, stats []SendStat) error {
	if len(stats) == 0 {
		return nil
	}
	return s.inTx(ctx, "add send statistics", func(tx *sql.Tx) error { return addSendStats(ctx, tx, stats) })
}

func addSendStats(ctx context.Context, tx *sql.Tx, stats []SendStat) error {
	stmt, err := tx.PrepareContext(ctx, `INSERT INTO send_statistics (account_id, region, bucket, configuration_set,
		delivery_attempts, bounces, hard_bounces, complaints, rejects) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (account_id, region, bucket, configuration_set) DO UPDATE SET
		delivery_attempts = send_statistics.delivery_attempts + excluded.delivery_attempts,
		bounces = send_statistics.bounces + excluded.bounces,
		hard_bounces = send_statistics.hard_bounces + excluded.hard_bounces,
		complaints = send_statistics.complaints + excluded.complaints,
		rejects = send_statistics.rejects + excluded.rejects`)
	if err != nil {
		return fmt.Errorf("store: add send statistics: %w", err)
	}
	defer stmt.Close()
	for _, st := range stats {
		if _, err := stmt.ExecContext(ctx, st.AccountID, st.Region, toDB(st.Bucket), st.ConfigurationSet,
			st.DeliveryAttempts, st.Bounces, st.HardBounces, st.Complaints, st.Rejects); err != nil {
			return fmt.Errorf("store: add send statistics of %s in %s: %w", st.AccountID, st.Region, err)
		}
	}
	return nil
}

// statsTally sums the counts of the events an append inserted, per bucket.
type statsTally struct {
	byKey map[statsKey]*SendStat
	order []statsKey
}

type statsKey struct {
	acct, region, set string
	bucket            int64
}

func (t *statsTally) add(e OutboxEvent) {
	if e.Counts.zero() {
		return
	}
	b := e.Created.Truncate(StatsBucket).UTC()
	k := statsKey{e.AccountID, e.Region, e.ConfigurationSet, b.UnixNano()}
	st, ok := t.byKey[k]
	if !ok {
		if t.byKey == nil {
			t.byKey = map[statsKey]*SendStat{}
		}
		st = &SendStat{AccountID: e.AccountID, Region: e.Region, ConfigurationSet: e.ConfigurationSet, Bucket: b}
		t.byKey[k] = st
		t.order = append(t.order, k)
	}
	c := e.Counts
	st.DeliveryAttempts += c.DeliveryAttempts
	st.Bounces += c.Bounces
	st.HardBounces += c.HardBounces
	st.Complaints += c.Complaints
	st.Rejects += c.Rejects
}

func (t *statsTally) stats() []SendStat {
	out := make([]SendStat, len(t.order))
	for i, k := range t.order {
		out[i] = *t.byKey[k]
	}
	return out
}

// SendStatsSince returns an account's buckets in a region from since on,
// oldest first. With all set, the buckets are summed over configuration
// sets (ConfigurationSet ""); else they are those of configurationSet alone
// ("" = mail sent without one).
func (s *Store) SendStatsSince(ctx context.Context, accountID, region string, since time.Time, all bool, configurationSet string) ([]SendStat, error) {
	q := `SELECT bucket, SUM(delivery_attempts), SUM(bounces), SUM(hard_bounces), SUM(complaints), SUM(rejects)
		FROM send_statistics WHERE account_id = ? AND region = ? AND bucket >= ?`
	args := []any{accountID, region, toDB(since)}
	if !all {
		q += ` AND configuration_set = ?`
		args = append(args, configurationSet)
	}
	q += ` GROUP BY bucket ORDER BY bucket`
	rows, err := s.reads.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("store: send statistics of %s in %s: %w", accountID, region, err)
	}
	defer rows.Close()
	var out []SendStat
	for rows.Next() {
		st := SendStat{AccountID: accountID, Region: region}
		if !all {
			st.ConfigurationSet = configurationSet
		}
		var bucket int64
		if err := rows.Scan(&bucket, &st.DeliveryAttempts, &st.Bounces, &st.HardBounces, &st.Complaints, &st.Rejects); err != nil {
			return nil, fmt.Errorf("store: send statistics of %s in %s: %w", accountID, region, err)
		}
		st.Bucket = fromDB(bucket)
		out = append(out, st)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: send statistics of %s in %s: %w", accountID, region, err)
	}
	return out, nil
}

// ReputationKey names what a reputation is of: an account in a region, or
// one of its configuration sets.
type ReputationKey struct {
	AccountID        string `json:"account_id"`
	Region           string `json:"region"`
	ConfigurationSet string `json:"configuration_set"` // "" = the account
}

// SendStatKeys lists the account, region and configuration set
// combinations with buckets from since on.
func (s *Store) SendStatKeys(ctx context.Context, since time.Time) ([]ReputationKey, error) {
	rows, err := s.reads.QueryContext(ctx, `SELECT DISTINCT account_id, region, configuration_set
		FROM send_statistics WHERE bucket >= ? ORDER BY account_id, region, configuration_set`, toDB(since))
	if err != nil {
		return nil, fmt.Errorf("store: send statistics keys: %w", err)
	}
	defer rows.Close()
	var out []ReputationKey
	for rows.Next() {
		var k ReputationKey
		if err := rows.Scan(&k.AccountID, &k.Region, &k.ConfigurationSet); err != nil {
			return nil, fmt.Errorf("store: send statistics keys: %w", err)
		}
		out = append(out, k)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: send statistics keys: %w", err)
	}
	return out, nil
}

// PruneSendStats deletes buckets that start before cutoff.
func (s *Store) PruneSendStats(ctx context.Context, cutoff time.Time) (int64, error) {
	res, err := s.writes.ExecContext(ctx, `DELETE FROM send_statistics WHERE bucket < ?`, toDB(cutoff))
	if err != nil {
		return 0, fmt.Errorf("store: prune send statistics: %w", err)
	}
	return res.RowsAffected()
}

// Reputation is the last evaluation of an account's or a configuration
// set's bounce and complaint rates, and what sesame did about them.
type Reputation struct {
	ReputationKey
	Sends         int64   `json:"sends"`
	HardBounces   int64   `json:"hard_bounces"`
	Complaints    int64   `json:"complaints"`
	BounceRate    float64 `json:"bounce_rate"`
	ComplaintRate float64 `json:"complaint_rate"`
	// Status is what the rates call for: HEALTHY, PROBATION or PAUSED.
	Status string `json:"status"`
	// Paused is set while a pause sesame imposed is not lifted.
	Paused bool `json:"paused"`
	// Probation is set while the account's PROBATION is sesame's doing.
	Probation bool      `json:"probation"`
	PausedAt  time.Time `json:"paused_at,omitzero"`
	// CountsFrom is where the rates start after a lifted pause (zero: the
	// whole window).
	CountsFrom  time.Time `json:"counts_from,omitzero"`
	EvaluatedAt time.Time `json:"evaluated_at"`
}

const reputationColumns = `account_id, region, configuration_set, sends, hard_bounces, complaints, bounce_rate,
	complaint_rate, status, paused, probation, paused_at, counts_from, evaluated_at`

// Reputations lists the recorded reputations; accountID "" means every
// account's.
func (s *Store) Reputations(ctx context.Context, accountID string) ([]Reputation, error) {
	q := `SELECT ` + reputationColumns + ` FROM reputation`
	var args []any
	if accountID != "" {
		q += ` WHERE account_id = ?`
		args = append(args, accountID)
	}
	q += ` ORDER BY account_id, region, configuration_set`
	rows, err := s.reads.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("store: reputations: %w", err)
	}
	defer rows.Close()
	var out []Reputation
	for rows.Next() {
		var r Reputation
		var pausedAt, countsFrom, evaluated int64
		if err := rows.Scan(&r.AccountID, &r.Region, &r.ConfigurationSet, &r.Sends, &r.HardBounces, &r.Complaints,
			&r.BounceRate, &r.ComplaintRate, &r.Status, &r.Paused, &r.Probation, &pausedAt, &countsFrom, &evaluated); err != nil {
			return nil, fmt.Errorf("store: reputations: %w", err)
		}
		r.PausedAt, r.CountsFrom, r.EvaluatedAt = optionalTime(pausedAt), optionalTime(countsFrom), fromDB(evaluated)
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: reputations: %w", err)
	}
	return out, nil
}

// PutReputation writes an evaluation.
func (s *Store) PutReputation(ctx context.Context, r Reputation) error {
	_, err := s.writes.ExecContext(ctx, `INSERT INTO reputation (`+reputationColumns+`)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (account_id, region, configuration_set) DO UPDATE SET
		sends = excluded.sends, hard_bounces = excluded.hard_bounces, complaints = excluded.complaints,
		bounce_rate = excluded.bounce_rate, complaint_rate = excluded.complaint_rate, status = excluded.status,
		paused = excluded.paused, probation = excluded.probation, paused_at = excluded.paused_at,
		counts_from = excluded.counts_from, evaluated_at = excluded.evaluated_at`,
		r.AccountID, r.Region, r.ConfigurationSet, r.Sends, r.HardBounces, r.Complaints, r.BounceRate, r.ComplaintRate,
		r.Status, boolDB(r.Paused), boolDB(r.Probation), optionalDB(r.PausedAt), optionalDB(r.CountsFrom), toDB(r.EvaluatedAt))
	if err != nil {
		return fmt.Errorf("store: put reputation of %s in %s (%q): %w", r.AccountID, r.Region, r.ConfigurationSet, err)
	}
	return nil
}

// SetAccountSendingEnabled changes only SendingEnabled of an account's
// settings in a region, leaving whatever else an operator changed
// meanwhile alone.
func (s *Store) SetAccountSendingEnabled(ctx context.Context, accountID, region string, enabled bool) error {
	d := DefaultSettings(accountID, region)
	err := s.announceTx(ctx, "set sending", TopicAccount, AccountKey(accountID, region), func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO account_settings
			(account_id, region, production, sending_enabled, max_send_rate, max_24hour_send, enforcement_status)
			VALUES (?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (account_id, region) DO UPDATE SET sending_enabled = excluded.sending_enabled`,
			accountID, region, boolDB(d.Production), boolDB(enabled), d.MaxSendRate, d.Max24HourSend, d.EnforcementStatus)
		return err
	})
	if err != nil {
		return fmt.Errorf("store: set sending of %s in %s: %w", accountID, region, err)
	}
	return nil
}

// SetEnforcementStatus changes only the EnforcementStatus of an account's
// settings in a region.
func (s *Store) SetEnforcementStatus(ctx context.Context, accountID, region, status string) error {
	d := DefaultSettings(accountID, region)
	err := s.announceTx(ctx, "set enforcement status", TopicAccount, AccountKey(accountID, region), func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO account_settings
			(account_id, region, production, sending_enabled, max_send_rate, max_24hour_send, enforcement_status)
			VALUES (?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (account_id, region) DO UPDATE SET enforcement_status = excluded.enforcement_status`,
			accountID, region, boolDB(d.Production), boolDB(d.SendingEnabled), d.MaxSendRate, d.Max24HourSend,
			enforcementOrHealthy(status))
		return err
	})
	if err != nil {
		return fmt.Errorf("store: set enforcement status of %s in %s: %w", accountID, region, err)
	}
	return nil
}

func optionalDB(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return toDB(t)
}

func optionalTime(ns int64) time.Time {
	if ns == 0 {
		return time.Time{}
	}
	return fromDB(ns)
}
