package api

import (
	"context"
	"time"

	"sesame/internal/importexport"
	"sesame/internal/receipt"
	"sesame/internal/store"
	"sesame/internal/verify"
)

// Store is what the Server needs of the state store, declared here rather
// than taken as *store.Store so the package depends on these methods only,
// whichever backend (SQLite, PostgreSQL) or test fake serves them;
// *store.Store implements it. It is split by area, one interface per group
// of operations (as ContactStore and the others already were), so each
// part's needs read on their own; verify.Store and importexport.Store are
// embedded because the Server builds a Verifier and a job runner on it.
type Store interface {
	AccountStore
	IdentityStore
	ConfigSetStore
	TemplateStore
	SuppressionStore
	ReceiptStore
	CapturedStore
	ContactStore
	DedicatedIPStore
	PolicyStore
	JobStore
	TagStore
	verify.Store
	importexport.Store
}

// AccountStore is what the account and credential operations need: the
// key behind a signature, the account's settings and its sending statistics.
type AccountStore interface {
	AccessKey(ctx context.Context, keyID string) (store.AccessKey, error)
	AccountDetails(ctx context.Context, accountID, region string) (store.AccountDetails, error)
	AccountSettings(ctx context.Context, accountID, region string) (store.AccountSettings, error)
	PutAccountDetails(ctx context.Context, d store.AccountDetails, requestReview bool) (store.AccountDetails, error)
	PutAccountSettings(ctx context.Context, set store.AccountSettings) error
	SendStatsSince(ctx context.Context, accountID, region string, since time.Time, all bool, configurationSet string) ([]store.SendStat, error)
}

// IdentityStore is what the identity operations need beyond verify.Store:
// listing and the feedback notification settings.
type IdentityStore interface {
	Identities(ctx context.Context, accountID, region string) ([]store.Identity, error)
	IdentityNotifications(ctx context.Context, accountID, region, name string) (store.IdentityNotifications, error)
	UpdateIdentityNotifications(ctx context.Context, accountID, region, name string, fn func(*store.IdentityNotifications) error) (store.IdentityNotifications, error)
}

// ConfigSetStore is what the configuration set and event destination
// operations need.
type ConfigSetStore interface {
	ConfigurationSet(ctx context.Context, accountID, region, name string) (store.ConfigurationSet, error)
	ConfigurationSetNames(ctx context.Context, accountID, region, after, contains string, limit int) ([]string, bool, error)
	CreateConfigurationSet(ctx context.Context, cs store.ConfigurationSet, limit int) error
	DeleteConfigurationSet(ctx context.Context, accountID, region, name string) error
	UpdateConfigurationSetOptions(ctx context.Context, accountID, region, name string, fn func(*store.ConfigurationSetOptions) error) error
	EventDestinations(ctx context.Context, accountID, region, configSet string) ([]store.EventDestination, error)
	CreateEventDestination(ctx context.Context, d store.EventDestination, limit int) error
	DeleteEventDestination(ctx context.Context, accountID, region, configSet, name string) error
	UpdateEventDestination(ctx context.Context, d store.EventDestination) error
}

// TemplateStore is what the email template and custom verification email
// template operations need.
type TemplateStore interface {
	Template(ctx context.Context, accountID, region, name string) (store.Template, error)
	Templates(ctx context.Context, accountID, region, after string, limit int) ([]store.TemplateMeta, error)
	CreateTemplate(ctx context.Context, t store.Template, max int) error
	UpdateTemplate(ctx context.Context, t store.Template) error
	DeleteTemplate(ctx context.Context, accountID, region, name string) error
	CustomVerificationTemplate(ctx context.Context, accountID, region, name string) (store.CustomVerificationTemplate, error)
	CustomVerificationTemplateByLink(ctx context.Context, linkID string) (store.CustomVerificationTemplate, error)
	CustomVerificationTemplates(ctx context.Context, accountID, region, after string, limit int) ([]store.CustomVerificationTemplate, error)
	CreateCustomVerificationTemplate(ctx context.Context, t store.CustomVerificationTemplate, max int) error
	UpdateCustomVerificationTemplate(ctx context.Context, accountID, region, name string, fn func(*store.CustomVerificationTemplate) error) (store.CustomVerificationTemplate, error)
	DeleteCustomVerificationTemplate(ctx context.Context, accountID, region, name string) error
}

// SuppressionStore is what the suppression list and address insight
// operations need.
type SuppressionStore interface {
	SuppressedDestination(ctx context.Context, accountID, region, addr string) (store.SuppressedDestination, error)
	SuppressedDestinations(ctx context.Context, accountID, region string, q store.SuppressionQuery) ([]store.SuppressedDestination, string, error)
	SuppressedReasons(ctx context.Context, accountID, region string) ([]string, error)
	PutSuppressedReasons(ctx context.Context, accountID, region string, reasons []string) error
	RecipientBounces(ctx context.Context, accountID, region, addr string) (map[string]int, error)
}

// ReceiptStore is what the receiving operations need: receipt rule sets,
// IP filters and, for SendBounce, the received message bounced.
type ReceiptStore interface {
	ReceiptRuleSet(ctx context.Context, accountID, region, name string) (*receipt.RuleSet, error)
	ReceiptRuleSets(ctx context.Context, accountID, region, after string, limit int) ([]receipt.RuleSet, error)
	ActiveReceiptRuleSet(ctx context.Context, accountID, region string) (*receipt.RuleSet, error)
	SetActiveReceiptRuleSet(ctx context.Context, accountID, region, name string) error
	CreateReceiptRuleSet(ctx context.Context, accountID, region, name string, created time.Time, max int) error
	CloneReceiptRuleSet(ctx context.Context, accountID, region, name, original string, created time.Time, max int) error
	DeleteReceiptRuleSet(ctx context.Context, accountID, region, name string) error
	EditReceiptRules(ctx context.Context, accountID, region, set string, edit func([]receipt.Rule) ([]receipt.Rule, error)) error
	ReceiptFilters(ctx context.Context, accountID, region string) ([]receipt.Filter, error)
	CreateReceiptFilter(ctx context.Context, accountID, region string, f receipt.Filter, created time.Time, max int) error
	DeleteReceiptFilter(ctx context.Context, accountID, region, name string) error
	ReceivedMessage(ctx context.Context, accountID, region, id string) (store.ReceivedMessage, error)
}

// CapturedStore is what the captured mail operations need.
type CapturedStore interface {
	Captured(ctx context.Context, f store.CaptureFilter) ([]store.Captured, error)
	DeleteCaptured(ctx context.Context, f store.CaptureFilter) (int, error)
}
