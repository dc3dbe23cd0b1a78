package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// AccountSettings are an account's sending settings in one region.
type AccountSettings struct {
	AccountID      string  `json:"account_id"`
	Region         string  `json:"region"`
	Production     bool    `json:"production_access_enabled"`
	SendingEnabled bool    `json:"sending_enabled"`
	MaxSendRate    float64 `json:"max_send_rate"`   // recipients per second
	Max24HourSend  float64 `json:"max_24hour_send"` // recipients per rolling 24 h; -1 = unlimited
	// EnforcementStatus is SES's: EnforcementHealthy, EnforcementProbation or
	// EnforcementShutdown (sending suspended by the operator).
	EnforcementStatus string `json:"enforcement_status"`
}

// SES's enforcement statuses (GetAccount's EnforcementStatus).
const (
	EnforcementHealthy   = "HEALTHY"
	EnforcementProbation = "PROBATION"
	EnforcementShutdown  = "SHUTDOWN"
)

// DefaultSettings are SES's for a new account in a region: the sandbox,
// 1 recipient/s, 200 per 24 h, sending enabled.
func DefaultSettings(accountID, region string) AccountSettings {
	return AccountSettings{AccountID: accountID, Region: region, SendingEnabled: true, MaxSendRate: 1, Max24HourSend: 200,
		EnforcementStatus: EnforcementHealthy}
}

// AccountSettings returns the settings, or DefaultSettings when none were put.
func (s *Store) AccountSettings(ctx context.Context, accountID, region string) (AccountSettings, error) {
	set := AccountSettings{AccountID: accountID, Region: region}
	var production, enabled int
	err := s.reads.QueryRowContext(ctx, `SELECT production, sending_enabled, max_send_rate, max_24hour_send, enforcement_status
		FROM account_settings WHERE account_id = ? AND region = ?`, accountID, region).
		Scan(&production, &enabled, &set.MaxSendRate, &set.Max24HourSend, &set.EnforcementStatus)
	if errors.Is(err, sql.ErrNoRows) {
		return DefaultSettings(accountID, region), nil
	}
	if err != nil {
		return AccountSettings{}, fmt.Errorf("store: settings of %s in %s: %w", accountID, region, err)
	}
	set.Production = production != 0
	set.SendingEnabled = enabled != 0
	return set, nil
}

// PutAccountSettings writes the settings.
func (s *Store) PutAccountSettings(ctx context.Context, set AccountSettings) error {
	err := s.announceTx(ctx, "put settings", TopicAccount, AccountKey(set.AccountID, set.Region), func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO account_settings
			(account_id, region, production, sending_enabled, max_send_rate, max_24hour_send, enforcement_status)
			VALUES (?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (account_id, region) DO UPDATE SET
			production = excluded.production, sending_enabled = excluded.sending_enabled,
			max_send_rate = excluded.max_send_rate, max_24hour_send = excluded.max_24hour_send,
			enforcement_status = excluded.enforcement_status`,
			set.AccountID, set.Region, boolDB(set.Production), boolDB(set.SendingEnabled), set.MaxSendRate, set.Max24HourSend,
			enforcementOrHealthy(set.EnforcementStatus))
		return err
	})
	if err != nil {
		return fmt.Errorf("store: put settings of %s in %s: %w", set.AccountID, set.Region, err)
	}
	return nil
}

func enforcementOrHealthy(status string) string {
	if status == "" {
		return EnforcementHealthy
	}
	return status
}
