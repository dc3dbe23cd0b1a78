// Package sns is sesame's SNS-compatible topics: topics and subscriptions per
// account and region, Publish, and the durable delivery of SNS's signed
// envelopes to subscribers — HTTP(S) POSTs, mail sent through sesame itself
// (email, email-json) and messages to SQS-compatible queues (sqs) — so
// applications written for SES → SNS → webhook/inbox/queue work unchanged
// against sesame.
//
// Publishing only commits rows to the store (one transaction per batch);
// Run hands them to subscribers, up to 16 at a time per healthy
// subscription (one at a time once one failed), retrying with backoff for
// an hour. A slow or dead subscriber holds up only its own subscription.
// Signing and POSTing run in a helper process at the lowest CPU priority
// when Config.Helper names one (helper.go).
//
// Limits: lambda, sms, application and firehose are refused; no FIFO
// topics, filter policies, message attributes or per-subscription delivery
// policies. The Query codec lives in internal/api; this package never
// speaks XML.
package sns

import (
	"context"
	"crypto"
	"crypto/rsa"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"sesame/internal/clock"
	"sesame/internal/lowprio"
	"sesame/internal/seserr"
	"sesame/internal/store"
)

// Store is what the package needs of the state store (*store.Store).
type Store interface {
	PutSNSTopicIfAbsent(ctx context.Context, t store.SNSTopic) (store.SNSTopic, bool, error)
	SNSTopic(ctx context.Context, accountID, region, name string) (store.SNSTopic, error)
	SNSTopics(ctx context.Context, accountID, region, after string, limit int) ([]store.SNSTopic, error)
	SetSNSTopicAttributes(ctx context.Context, accountID, region, name string, attrs map[string]string) error
	DeleteSNSTopic(ctx context.Context, accountID, region, name string) error
	SubscribeSNS(ctx context.Context, sub store.SNSSubscription, confirm *store.SNSDelivery) (store.SNSSubscription, bool, error)
	SNSSubscription(ctx context.Context, arn string) (store.SNSSubscription, error)
	SNSSubscriptionByToken(ctx context.Context, token string) (store.SNSSubscription, error)
	SNSSubscriptions(ctx context.Context, accountID, region, topic, after string, limit int) ([]store.SNSSubscription, error)
	ConfirmSNSSubscription(ctx context.Context, arn string, authenticated bool) error
	DeleteSNSSubscription(ctx context.Context, arn string) error
	SetSNSSubscriptionAttributes(ctx context.Context, arn string, attrs map[string]string) error
	UnsubscribeSNS(ctx context.Context, sub store.SNSSubscription, farewell *store.SNSDelivery, now, pruneBefore time.Time) error
	RestoreSNSSubscription(ctx context.Context, token string, notBefore time.Time) (store.SNSSubscription, error)
	EnqueueSNSDeliveries(ctx context.Context, ds []*store.SNSDelivery) error
	PublishEvents(ctx context.Context, m store.CursorMove, ds []*store.SNSDelivery) error
	SNSDeliveries(ctx context.Context, subscriptionARN string, fromSeq, toSeq int64, limit int) ([]store.SNSDelivery, error)
	DeleteSNSDeliveries(ctx context.Context, seqs []int64) error
	SNSSigningKey(ctx context.Context, create func() (string, []byte, string, error)) (string, []byte, string, error)
}

// Config wires a Service.
type Config struct {
	Store Store
	// BaseURL is how subscribers reach the API listener (e.g.
	// "http://127.0.0.1:8787"): SubscribeURL, UnsubscribeURL and
	// SigningCertURL start with it.
	BaseURL string
	// DataDir is the server's data directory (unused: the signing key is
	// sealed in the store); kept so the wiring reads like the other services.
	DataDir    string
	Clock      clock.Clock
	Logger     *slog.Logger
	HTTPClient *http.Client // nil: a keep-alive client with a 15 s timeout
	// NewSigner wraps the persisted RSA key in a faster signing engine (e.g.
	// OpenSSL's, as internal/dkim has) for the signatures the server makes
	// itself (no Helper, or one that did not start); it must sign PKCS#1
	// v1.5 when given crypto.SHA1 or crypto.SHA256 as opts. nil signs with
	// crypto/rsa.
	NewSigner func(*rsa.PrivateKey) (crypto.Signer, error)
	// Helper, when set, is the command (the sesame binary and
	// HelperSubcommand) of a process at the lowest CPU priority that signs
	// and POSTs HTTP(S) notifications and signs the others' envelopes
	// (helper.go); HelperEngine names the RSA engine it signs with. A
	// helper that does not start is reported and the server does the work.
	Helper       []string
	HelperEngine string
	// MaxConcurrency bounds requests in flight to all subscribers (default 64).
	MaxConcurrency int
	// PollInterval is how often Run looks for retries that came due
	// (default 1 s of real time; the due time itself is read from Clock).
	PollInterval time.Duration
	// RetryPeriod is how long a message is retried before it is dropped
	// (default one hour, as SNS's HTTP limit).
	RetryPeriod time.Duration
	// Mailer sends the mail of email and email-json subscriptions through
	// sesame (*sending.Sender); nil refuses those protocols.
	Mailer Mailer
	// MailFrom is the address that mail comes from, shown with the topic's
	// DisplayName or "AWS Notifications" (default no-reply@localhost; the
	// server passes no-reply@<hostname> or [sns] email_from).
	MailFrom string
	// SQS says how to reach the queues of sqs subscriptions; Queues, when
	// set, replaces the SQS client (tests).
	SQS    SQSConfig
	Queues Queues
}

// Service is the SNS-compatible topics service.
type Service struct {
	cfg     Config
	st      Store
	log     *slog.Logger
	clk     clock.Clock
	client  *http.Client
	queues  Queues
	sign    *signing
	courier *courier                       // envelopes and POSTs in the server
	helper  atomic.Pointer[lowprio.Client] // or in the low-priority helper (nil: none, or not up yet)
	// helperReady is closed once the helper has answered its probe or
	// failed to.
	helperReady chan struct{}
	// helperWarned is when a helper that could not start was last logged.
	helperWarned atomic.Int64
	wake         chan struct{}
	sem          chan struct{} // requests in flight
	signers      chan struct{} // envelopes being signed

	mu sync.Mutex
	// running is set while Run delivers (on the node that holds the
	// deliveries' lease, in a cluster): rows committed meanwhile go
	// straight to their lanes; otherwise they wait in the store for the
	// node that delivers.
	running bool
	lanes   map[string]*lane
	// loaded is the highest seq handed to a lane (or skipped for a lane in
	// overflow, which re-reads it from the store).
	loaded int64
	done   []int64
}

// Caller is a verified signer of an API request: its account and the region
// of its credential scope.
type Caller struct {
	AccountID string
	Region    string
}

// New loads (creating on first start) the signing key and returns a service.
func New(cfg Config) (*Service, error) {
	if cfg.Store == nil {
		return nil, errors.New("sns: no store")
	}
	s := &Service{cfg: cfg, st: cfg.Store, log: cfg.Logger, clk: cfg.Clock, client: cfg.HTTPClient,
		wake: make(chan struct{}, 1), lanes: map[string]*lane{}}
	if s.log == nil {
		s.log = slog.Default()
	}
	if s.clk == nil {
		s.clk = clock.Real{}
	}
	if s.client == nil {
		s.client = newHTTPClient()
	}
	if s.cfg.MaxConcurrency <= 0 {
		s.cfg.MaxConcurrency = 64
	}
	if s.cfg.PollInterval <= 0 {
		s.cfg.PollInterval = time.Second
	}
	if s.cfg.RetryPeriod <= 0 {
		s.cfg.RetryPeriod = time.Hour
	}
	s.cfg.BaseURL = strings.TrimRight(s.cfg.BaseURL, "/")
	if s.cfg.MailFrom == "" {
		s.cfg.MailFrom = "no-reply@localhost"
	}
	s.queues = cfg.Queues
	if s.queues == nil && cfg.SQS.Endpoint != "" {
		s.queues = NewSQSQueues(cfg.SQS)
	}
	s.sem = make(chan struct{}, s.cfg.MaxConcurrency)
	// Envelopes the server signs itself, at most this many at a time.
	s.signers = make(chan struct{}, 2*runtime.GOMAXPROCS(0))
	sign, key, err := loadSigning(context.Background(), cfg.Store, cfg.NewSigner, s.cfg.BaseURL)
	if err != nil {
		return nil, err
	}
	s.sign = sign
	s.courier = &courier{sign: sign, baseURL: s.cfg.BaseURL, client: s.client}
	s.helperReady = make(chan struct{})
	if len(cfg.Helper) == 0 {
		close(s.helperReady)
		return s, nil
	}
	// The helper's first answer comes at idle priority: on a machine whose
	// CPUs other programs keep busy it may take seconds. The server does
	// not wait for it; it signs and posts itself until the helper is up.
	go func() {
		defer close(s.helperReady)
		h, err := startHelper(s.cfg, key, sign)
		if err != nil {
			s.log.Warn("sns: the low-priority helper does not work; signing and posting in the server", "err", err)
			return
		}
		s.helper.Store(h)
	}()
	return s, nil
}

// Publication is one message for a topic (Go API).
type Publication struct {
	TopicArn string
	Subject  string
	Message  string
}

// Publish fans each publication out to its topic's confirmed subscriptions
// durably, all in one transaction, and returns the SNS MessageIds in order;
// a publication to a topic that does not exist is skipped (its id "").
func (s *Service) Publish(ctx context.Context, pubs []Publication) ([]string, error) {
	return s.publish(ctx, pubs, nil)
}

// PublishEvents is Publish for the event publisher: the rows are committed
// with move (the outbox cursor past the records they came from) in one
// transaction, so a record is queued once however many nodes publish;
// store.ErrCursorMoved when another node moved the cursor first.
func (s *Service) PublishEvents(ctx context.Context, pubs []Publication, move store.CursorMove) error {
	_, err := s.publish(ctx, pubs, &move)
	return err
}

func (s *Service) publish(ctx context.Context, pubs []Publication, move *store.CursorMove) ([]string, error) {
	ids := make([]string, len(pubs))
	var rows []*store.SNSDelivery
	f := s.newFanout()
	now := s.clk.Now()
	for i, p := range pubs {
		a, err := parseTopicARN(p.TopicArn, "TopicArn")
		if err != nil {
			continue
		}
		ds, ok, err := f.deliveries(ctx, a, p.Subject, message{def: p.Message}, now)
		if err != nil {
			return nil, err
		}
		if !ok {
			continue
		}
		ids[i] = ds.id
		rows = append(rows, ds.rows...)
	}
	var err error
	if move != nil {
		err = s.st.PublishEvents(ctx, *move, rows)
	} else {
		err = s.st.EnqueueSNSDeliveries(ctx, rows)
	}
	if err != nil {
		return nil, fmt.Errorf("sns: publish: %w", err)
	}
	s.handOff(rows)
	return ids, nil
}

// TopicExists reports whether the topic an ARN names exists.
func (s *Service) TopicExists(ctx context.Context, topicArn string) (bool, error) {
	a, err := parseTopicARN(topicArn, "TopicArn")
	if err != nil {
		return false, nil
	}
	_, err = s.st.SNSTopic(ctx, a.account, a.region, a.name)
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, store.ErrNotFound):
		return false, nil
	}
	return false, fmt.Errorf("sns: topic %s: %w", topicArn, err)
}

// poke wakes Run after rows were committed.
func (s *Service) poke() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// --- ARNs -----------------------------------------------------------------

// arn is a parsed topic or subscription ARN.
type arn struct {
	region, account, name, id string // id: the subscription's uuid
}

func (a arn) topic() string { return "arn:aws:sns:" + a.region + ":" + a.account + ":" + a.name }

// parseTopicARN reads arn:aws:sns:REGION:ACCOUNT:NAME; param names the
// parameter in SNS's error text.
func parseTopicARN(s, param string) (arn, error) {
	parts := strings.Split(s, ":")
	if len(parts) < 6 {
		return arn{}, seserr.SNSInvalidARN(param, len(parts))
	}
	if len(parts) != 6 || parts[0] != "arn" || parts[2] != "sns" || parts[3] == "" || parts[4] == "" || !validTopicName(parts[5]) {
		return arn{}, seserr.SNSInvalidParameter(param)
	}
	return arn{region: parts[3], account: parts[4], name: parts[5]}, nil
}

// parseSubscriptionARN reads TOPICARN:UUID.
func parseSubscriptionARN(s string) (arn, error) {
	if s == "" {
		return arn{}, seserr.SNSInvalidParameter("SubscriptionArn Reason: no value for required parameter")
	}
	parts := strings.Split(s, ":")
	if len(parts) < 6 {
		return arn{}, seserr.SNSInvalidARN("SubscriptionArn", len(parts))
	}
	if len(parts) != 7 || parts[0] != "arn" || parts[2] != "sns" || !validUUID(parts[6]) {
		return arn{}, seserr.SNSInvalidParameter("SubscriptionId")
	}
	return arn{region: parts[3], account: parts[4], name: parts[5], id: parts[6]}, nil
}

// checkOwner applies SNS's rules for a resource named by ARN: another
// region is an invalid parameter, another account is not authorised.
func (c Caller) checkOwner(a arn, param, action, resource string) error {
	if a.region != c.Region {
		return seserr.SNSInvalidParameter(param)
	}
	if a.account != c.AccountID {
		return seserr.SNSAuthorizationError(c.AccountID, action, resource)
	}
	return nil
}

func validTopicName(n string) bool {
	if n == "" || len(n) > 256 {
		return false
	}
	for _, r := range n {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-') {
			return false
		}
	}
	return true
}

func validUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i, r := range s {
		switch i {
		case 8, 13, 18, 23:
			if r != '-' {
				return false
			}
		default:
			if !(r >= '0' && r <= '9' || r >= 'a' && r <= 'f') {
				return false
			}
		}
	}
	return true
}

// isoTime is SNS's timestamp: UTC, milliseconds.
func isoTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

func internal(what string, err error) error {
	return seserr.TemporaryFailure().Wrap(fmt.Errorf("sns: %s: %w", what, err))
}
