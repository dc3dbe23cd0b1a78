package delivery

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"

	"sesame/internal/clock"
	"sesame/internal/mailmsg"
	"sesame/internal/outcome"
	"sesame/internal/spool"
	"sesame/internal/store"
	"sesame/internal/ttlcache"
)

// MX delivery (delivery.mode = "mx"): each due message's recipients not yet
// done are grouped by domain, routed (route.go) and sent (mx_client.go);
// each recipient ends delivered, bounced (a bounce record, maybe a DSN and a
// suppression, bounce_*.go) or deferred (spool.Defer with the retry
// schedule, mx_retry.go). What a message's recipients reached is kept in
// the spool's DeliveryState, so a restart neither repeats a delivered
// recipient of a finished attempt nor forgets a deferral.

// Signer signs a message (dkim.Signer): the DKIM-Signature field to
// prepend, or nil when the sender has no signing identity.
type Signer interface {
	Sign(ctx context.Context, accountID, region string, r io.Reader) ([]byte, error)
}

// Events keeps what became of a message as SES event records
// (events.Recorder): Record returns once they are durable.
type Events interface {
	Record(ctx context.Context, e *spool.Entry, header []byte, results []outcome.Result) error
}

// MXStore is what MX needs of the store: the suppression list, a
// configuration set's options, an identity's DKIM and MAIL FROM settings,
// the dedicated IP settings (sources.go).
type MXStore interface {
	SourceStore
	SuppressedAmong(ctx context.Context, accountID, region string, addrs []string) (map[string]string, error)
	ConfigurationSet(ctx context.Context, accountID, region, name string) (store.ConfigurationSet, error)
	IdentityDetails(ctx context.Context, accountID, region, name string) (store.IdentityDetails, error)
}

// MX delivers spooled messages to the recipients' mail exchangers.
type MX struct {
	Spool  *spool.Spool
	Store  MXStore
	Router *Router
	Signer Signer // nil: nothing is signed
	Events Events // nil: no event records
	Clock  clock.Clock
	Logger *slog.Logger
	// BounceDomain is the domain of the per-message MAIL FROM address when
	// the sender has no verified custom MAIL FROM domain (default: the
	// client's hostname).
	BounceDomain string
	Client       ClientOptions
	Retry        RetryPolicy
	// TLSAuth authenticates receivers' TLS (DANE, MTA-STS); nil:
	// opportunistic TLS only.
	TLSAuth *TLSAuth
	// Workers bounds the messages in flight (default 64).
	Workers int
	// Sources are the addresses mail may leave from
	// ([[delivery.source_addresses]], sources.go); none: the system's
	// default route.
	Sources []Source
	// WarmupFullDailyVolume is an address's full daily volume in
	// recipients, of which a warm-up percentage allows its share
	// (default DefaultWarmupFullDailyVolume).
	WarmupFullDailyVolume int

	cl      *client
	sources *sourcePicker

	lookupsOnce sync.Once
	identities  *ttlcache.Cache[string, senderIdentity]          // account/region/MAIL FROM
	configSets  *ttlcache.Cache[string, *store.ConfigurationSet] // account/region/name; nil: none

	// sigs keeps the DKIM signature of messages that were deferred, so a
	// retry reuses it instead of paying another RSA signature (a signature
	// carries no expiry; the message bytes do not change between attempts).
	// Lost on restart, which only costs one more signature.
	sigMu sync.Mutex
	sigs  map[string][]byte
}

// maxCachedSignatures bounds the signature cache (about 0.6 KB each for
// RSA-2048); past it an arbitrary entry makes room.
const maxCachedSignatures = 20000

func (m *MX) cachedSignature(id string) ([]byte, bool) {
	m.sigMu.Lock()
	defer m.sigMu.Unlock()
	sig, ok := m.sigs[id]
	return sig, ok
}

func (m *MX) keepSignature(id string, sig []byte) {
	m.sigMu.Lock()
	defer m.sigMu.Unlock()
	if m.sigs == nil {
		m.sigs = map[string][]byte{}
	}
	if len(m.sigs) >= maxCachedSignatures {
		for k := range m.sigs {
			delete(m.sigs, k)
			break
		}
	}
	m.sigs[id] = sig
}

func (m *MX) forgetSignature(id string) {
	m.sigMu.Lock()
	delete(m.sigs, id)
	m.sigMu.Unlock()
}

// senderIdentity is the identity that covers a sender, if any.
type senderIdentity struct {
	id store.IdentityDetails
	ok bool
}

// The store reads delivery makes per message (the sender's identity, its
// configuration set) are kept for lookupTTL: the same second of staleness
// the rest of sesame allows after an API or admin change, and one query
// instead of one per message for a busy sender.
const (
	lookupTTL  = time.Second
	maxLookups = 10000
)

// lookups makes the caches on first use: MX is built as a literal, and
// feedback (feedback.go) may read through them before Run.
func (m *MX) lookups() {
	m.lookupsOnce.Do(func() {
		m.identities = ttlcache.New[string, senderIdentity](m.Clock, lookupTTL, maxLookups)
		m.configSets = ttlcache.New[string, *store.ConfigurationSet](m.Clock, lookupTTL, maxLookups)
		full := m.WarmupFullDailyVolume
		if full <= 0 {
			full = DefaultWarmupFullDailyVolume
		}
		m.sources = &sourcePicker{sources: m.Sources, full: full, store: m.Store, log: m.log(),
			cache: ttlcache.New[string, accountSources](m.Clock, lookupTTL, maxLookups)}
	})
}

// hostname is sesame's name (EHLO, DSNs), whether or not Run has started.
func (m *MX) hostname() string {
	if m.Client.Hostname != "" {
		return m.Client.Hostname
	}
	return "localhost"
}

// bounceDomain is the domain of per-message MAIL FROM addresses without a
// custom MAIL FROM domain.
func (m *MX) bounceDomain() string {
	if m.BounceDomain != "" {
		return m.BounceDomain
	}
	return m.hostname()
}

// port is the receivers' port, for the delivery log's relay.
func (m *MX) port() string {
	if m.Client.Port != "" {
		return m.Client.Port
	}
	return "25"
}

func (m *MX) now() time.Time {
	if m.Clock == nil {
		return time.Now()
	}
	return m.Clock.Now()
}

func (m *MX) log() *slog.Logger {
	if m.Logger == nil {
		return slog.Default()
	}
	return m.Logger
}

// Run delivers until ctx ends, then waits for the messages in flight.
func (m *MX) Run(ctx context.Context) error {
	workers := m.Workers
	if workers <= 0 {
		workers = 64
	}
	m.cl = newClient(m.Client, m.log())
	defer m.cl.Close()
	var wg sync.WaitGroup
	defer wg.Wait()
	// Idle connections are closed once past IdleTimeout, whether or not
	// mail is flowing (receivers drop idle clients too, RFC 5321 §4.5.3.2.7).
	wg.Add(1)
	go func() {
		defer wg.Done()
		reap := time.NewTicker(m.cl.opt.IdleTimeout)
		defer reap.Stop()
		for {
			select {
			case <-reap.C:
				m.cl.reap()
			case <-ctx.Done():
				return
			}
		}
	}()
	sem := make(chan struct{}, workers)
	for {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
			return nil
		}
		n := 1
		for n < min(workers, claimBatch) {
			select {
			case sem <- struct{}{}:
				n++
				continue
			default:
			}
			break
		}
		entries, err := m.Spool.Claim(ctx, n)
		for range n - len(entries) {
			<-sem
		}
		if ctx.Err() != nil {
			for _, e := range entries {
				m.Spool.Release(e.ID)
				<-sem
			}
			return nil
		}
		if err != nil {
			return fmt.Errorf("delivery: claim: %w", err)
		}
		for _, e := range entries {
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer func() { <-sem }()
				m.deliver(ctx, e)
			}()
		}
	}
}

// attempt is one message's delivery attempt.
type attempt struct {
	e        *spool.Entry
	st       spool.DeliveryState
	done     map[string]bool
	deferred map[string]*outcome.Failure // this attempt's temporary failures
	// results are what this attempt learnt, for the event records; header
	// is the message's header section once read.
	results  []outcome.Result
	header   []byte
	mailFrom string // the bounce address this attempt used
}

// deliver makes one attempt at e and records its outcome in the spool.
func (m *MX) deliver(ctx context.Context, e *spool.Entry) {
	log := m.log().With("id", e.ID)
	a := &attempt{e: e, st: e.State, done: map[string]bool{}, deferred: map[string]*outcome.Failure{}}
	now := m.now()
	dlog := &attemptLog{log: m.log(), e: e, attempt: e.State.Attempts + 1, port: m.port(), delivered: statusSent}
	if a.st.FirstAttempt.IsZero() {
		a.st.FirstAttempt = now
	}
	// SES's Send event: the message was accepted and goes on to delivery.
	// Reported on every attempt (events keeps it once), so an attempt whose
	// records failed does not lose it.
	a.results = append(a.results, outcome.Result{Kind: outcome.Sent, Time: e.Received})
	if e.RenderingFailure != "" || e.Rejected != "" {
		// Never mail: SES sends nothing when the template fails to render
		// or the message holds a virus.
		a.results = append(a.results, neverSent(&e.Envelope, now))
		if dlog.enabled(ctx) {
			dlog.now = now
			dlog.results(ctx, a.results)
		}
		wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		if err := m.record(wctx, a); err != nil {
			m.retryLater(wctx, a, err, log)
			return
		}
		if err := m.Spool.Done(wctx, e.ID); err != nil {
			log.Error("marking a message that failed to render done", "err", err)
		}
		return
	}
	for _, r := range a.st.Done {
		a.done[strings.ToLower(r)] = true
	}
	var pending []string
	for _, r := range e.Recipients {
		if !a.done[strings.ToLower(r)] {
			pending = append(pending, r)
		}
	}
	pending = m.unsubscribed(a, pending)
	pending = m.simulate(a, pending)
	pending, last := m.suppressed(ctx, a, pending, log)
	if len(pending) > 0 {
		last = m.send(ctx, a, pending, log)
	}
	// What an interrupted attempt learnt is kept all the same.
	wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	remaining := a.remaining()
	scheduled := false
	if len(remaining) > 0 && ctx.Err() == nil {
		scheduled = true
		a.st.Attempts++
		next, expired := m.Retry.Next(a.st.Attempts, e.Received, m.now(), rand.Float64(), m.maxAge(wctx, e))
		if expired {
			exp := &outcome.Failure{Code: 451, Enhanced: "4.4.7", Text: "delivery time expired"}
			if last != nil {
				exp = &outcome.Failure{Code: last.Code, Enhanced: last.Enhanced, Text: last.Text + " (delivery time expired)", MTA: last.MTA, Remote: last.Remote}
			}
			for _, r := range remaining {
				m.bounce(a, r, exp)
			}
			scheduled = false
		} else {
			a.st.NextAttempt = next
			if last != nil {
				a.st.LastError = last.Error()
			}
			if m.Retry.Delayed(e.Received, m.now()) {
				m.delayed(wctx, a, remaining, last, log)
			}
		}
	}
	// Every recipient's outcome of this attempt is known: the delivery log.
	if dlog.enabled(ctx) {
		dlog.now = m.now()
		dlog.results(ctx, a.results)
		for _, r := range a.remaining() {
			dlog.deferred(ctx, r, a.failureOf(r, last))
		}
	}
	// The message is done only when what the attempt learnt is recorded
	// and followed up (events): what is left undone keeps it for another try.
	recorded := m.record(wctx, a)
	remaining = a.remaining()
	if len(remaining) == 0 && recorded == nil {
		m.forgetSignature(e.ID)
		if err := m.Spool.Done(wctx, e.ID); err != nil {
			log.Error("marking a delivered message done", "err", err)
		}
		return
	}
	if recorded != nil && !scheduled {
		m.retryLater(wctx, a, recorded, log)
		return
	}
	m.deferAttempt(ctx, wctx, a, log)
}

// retryLater keeps a message whose outcomes could not be recorded or
// followed up, for another attempt after a backoff.
func (m *MX) retryLater(ctx context.Context, a *attempt, err error, log *slog.Logger) {
	log.Error("recording the outcome failed; trying again later", "err", err)
	a.st.Attempts++
	a.st.NextAttempt = m.now().Add(m.Retry.Backoff(a.st.Attempts, rand.Float64()))
	a.st.LastError = "recording the outcome: " + err.Error()
	m.deferAttempt(ctx, ctx, a, log)
}

// deferAttempt records the attempt's progress in the spool for the next.
func (m *MX) deferAttempt(ctx, wctx context.Context, a *attempt, log *slog.Logger) {
	a.st.Done = a.st.Done[:0]
	for _, r := range a.e.Recipients {
		if a.done[strings.ToLower(r)] {
			a.st.Done = append(a.st.Done, r)
		}
	}
	if ctx.Err() != nil {
		a.st.NextAttempt = time.Time{} // interrupted, not failed: due at once after a restart
	}
	if err := m.Spool.Defer(wctx, a.e.ID, a.st); err != nil {
		log.Error("deferring a message", "err", err)
	}
}

// remaining lists the recipients of the message not settled yet.
func (a *attempt) remaining() []string {
	var out []string
	for _, r := range a.e.Recipients {
		if !a.done[strings.ToLower(r)] {
			out = append(out, r)
		}
	}
	return out
}

// delayed reports the remaining recipients' delivery delay (SES's
// DeliveryDelay): the message is older than the policy's DelayAfter.
func (m *MX) delayed(ctx context.Context, a *attempt, remaining []string, last *outcome.Failure, log *slog.Logger) {
	e := a.e
	now := m.now()
	maxAge := m.maxAge(ctx, e)
	if maxAge <= 0 {
		maxAge = m.Retry.withDefaults().MaxAge
	}
	log.Warn("delivery delayed", "recipients", len(remaining), "attempts", a.st.Attempts, "next", a.st.NextAttempt, "err", a.st.LastError)
	for _, r := range remaining {
		f := a.failureOf(r, last)
		a.results = append(a.results, outcome.Result{Kind: outcome.Delayed, Recipients: []string{r}, Time: now,
			Failure: f, DelayType: outcome.DelayType(f), Attempts: a.st.Attempts, Expires: e.Received.Add(maxAge), MTA: f.MTA})
	}
}

// failureOf is why rcpt is left for another attempt: its own failure in
// this attempt, else the attempt's last (a failure before any transaction).
func (a *attempt) failureOf(rcpt string, last *outcome.Failure) *outcome.Failure {
	if f := a.deferred[strings.ToLower(rcpt)]; f != nil {
		return f
	}
	if last != nil {
		return last
	}
	return &outcome.Failure{Code: 451, Enhanced: "4.0.0", Text: "delivery deferred"}
}

// simulate settles the mailbox simulator's recipients: they never go to the
// internet (spec §7), in mx mode as in capture mode.
func (m *MX) simulate(a *attempt, rcpts []string) []string {
	out := rcpts[:0:0]
	for _, r := range rcpts {
		o, ok := outcome.Simulated(r)
		if !ok {
			out = append(out, r)
			continue
		}
		a.results = append(a.results, simulatorResults(r, o, m.now())...)
		a.done[strings.ToLower(r)] = true
	}
	return out
}

// suppressed settles the recipients on the account's suppression list: not
// attempted, bounced with subtype OnAccountSuppressionList, as SES does.
// Mail sesame sends itself (DSNs, verification) is not subject to the list.
// This is the only place the list is enforced, so when it cannot be read
// nobody is sent to: the recipients wait for the next attempt (the
// failure returned).
func (m *MX) suppressed(ctx context.Context, a *attempt, rcpts []string, log *slog.Logger) ([]string, *outcome.Failure) {
	if len(rcpts) == 0 || a.e.Via == spool.ViaSystem {
		return rcpts, nil
	}
	listed, err := m.Store.SuppressedAmong(ctx, a.e.AccountID, a.e.Region, rcpts)
	if err != nil {
		log.Warn("checking the suppression list; the message waits", "err", err)
		return nil, &outcome.Failure{Code: 451, Enhanced: "4.3.0", Text: "local error checking the suppression list"}
	}
	out := rcpts[:0:0]
	for _, r := range rcpts {
		if _, ok := listed[strings.ToLower(r)]; !ok {
			out = append(out, r)
			continue
		}
		a.bounceAs(r, &outcome.Failure{Code: 550, Enhanced: "5.1.1", Text: "recipient is on the account-level suppression list", Permanent: true},
			outcome.BouncePermanent, outcome.SubOnAccountSuppressionList, m.now())
	}
	return out, nil
}

// send signs the message once and runs one transaction per domain. It
// returns the last temporary failure, for the deferral's LastError.
func (m *MX) send(ctx context.Context, a *attempt, rcpts []string, log *slog.Logger) *outcome.Failure {
	e := a.e
	body, err := readEntry(e)
	if err != nil {
		log.Error("reading a spooled message", "err", err)
		return &outcome.Failure{Code: 451, Enhanced: "4.3.0", Text: "local error reading the message"}
	}
	// SES's control headers never leave (the spool keeps the message as
	// received); the signature is computed over what is actually sent.
	body = mailmsg.StripForDelivery(body)
	a.header = mailmsg.HeaderSection(body)
	header := []byte("Feedback-ID: " + feedbackID(e) + "\r\n")
	if m.Signer != nil {
		sig, ok := m.cachedSignature(e.ID)
		if !ok {
			// Under sending authorization the From identity's owner signs.
			sig, err = m.Signer.Sign(ctx, e.SigningAccount(), e.Region, io.MultiReader(bytes.NewReader(header), bytes.NewReader(body)))
			if err != nil {
				log.Warn("DKIM signing failed; retrying later", "err", err)
				return &outcome.Failure{Code: 451, Enhanced: "4.3.0", Text: "local error signing the message"}
			}
			m.keepSignature(e.ID, sig)
		}
		header = append(sig, header...)
	}
	mailFrom, requireTLS := m.envelope(ctx, e, log)
	a.mailFrom = mailFrom
	byDomain := map[string][]string{}
	var domains []string
	for _, r := range rcpts {
		d := strings.ToLower(r[strings.LastIndexByte(r, '@')+1:])
		if _, ok := byDomain[d]; !ok {
			domains = append(domains, d)
		}
		byDomain[d] = append(byDomain[d], r)
	}
	// One transaction per domain and per maxRcptsPerTx recipients (RFC 5321
	// §4.5.3.1.8: a server need not take more than 100 at once); the
	// transactions of a message run side by side, a few at a time.
	var txs []*Transaction
	for _, d := range domains {
		for list := byDomain[d]; len(list) > 0; {
			n := min(len(list), maxRcptsPerTx)
			chunk := list[:n:n]
			list = list[n:]
			txs = append(txs, &Transaction{Domain: d, MailFrom: mailFrom, Recipients: chunk, Header: header, Body: body,
				RequireTLS: requireTLS, UTF8: !isASCII(mailFrom) || slices.ContainsFunc(chunk, func(s string) bool { return !isASCII(s) })})
		}
	}
	var (
		mu   sync.Mutex
		last *outcome.Failure
		wg   sync.WaitGroup
		sem  = make(chan struct{}, parallelTx)
	)
	for _, tx := range txs {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			res := m.transaction(ctx, e, tx)
			mu.Lock()
			defer mu.Unlock()
			var delivered []string
			for _, r := range tx.Recipients {
				f := res[r]
				switch {
				case f == nil:
					a.done[strings.ToLower(r)] = true
					delivered = append(delivered, r)
					log.Debug("delivered", "rcpt", r, "mx", tx.MTA, "tls", tx.TLS, "tls_verified", tx.TLSVerified)
				case f.Permanent:
					m.bounce(a, r, f)
				default:
					last = f
					a.deferred[strings.ToLower(r)] = f
				}
			}
			if len(delivered) > 0 {
				a.results = append(a.results, outcome.Result{Kind: outcome.Delivered, Recipients: delivered, Time: m.now(),
					Reply: tx.Reply, MTA: tx.MTA, RemoteIP: tx.RemoteIP, LocalIP: tx.LocalIP, MailFrom: tx.MailFrom})
			}
		}()
	}
	wg.Wait()
	return last
}

const (
	// maxRcptsPerTx is the most recipients one transaction carries.
	maxRcptsPerTx = 100
	// parallelTx is how many of one message's transactions run at once.
	parallelTx = 4
)

// transaction routes tx's domain, picks the address it leaves from
// (sources.go) and runs tx.
func (m *MX) transaction(ctx context.Context, e *spool.Entry, tx *Transaction) Results {
	hops, err := m.Router.Route(ctx, tx.Domain)
	if err != nil {
		var f *outcome.Failure
		if !errors.As(err, &f) {
			f = &outcome.Failure{Code: 451, Enhanced: "4.4.3", Text: err.Error()}
		}
		return allFailed(tx.Recipients, f)
	}
	hops, f := m.TLSAuth.plan(ctx, tx, hops)
	if f != nil {
		return allFailed(tx.Recipients, f)
	}
	m.lookups()
	src, held, f := m.sources.pick(ctx, e, m.sendingPool(ctx, e), len(tx.Recipients), m.now())
	if f != nil {
		return allFailed(tx.Recipients, f)
	}
	tx.Source = src
	res := m.cl.Send(ctx, hops, tx)
	if held != nil {
		sent := 0
		for _, r := range tx.Recipients {
			if res[r] == nil {
				sent++
			}
		}
		m.sources.release(context.WithoutCancel(ctx), held, sent)
	}
	return res
}

// sendingPool is the dedicated IP pool e's configuration set sends
// through ("" = none).
func (m *MX) sendingPool(ctx context.Context, e *spool.Entry) string {
	if cs := m.configSet(ctx, e); cs != nil && cs.Options.Delivery != nil {
		return cs.Options.Delivery.SendingPoolName
	}
	return ""
}

// bounce settles rcpt as undeliverable.
func (m *MX) bounce(a *attempt, rcpt string, f *outcome.Failure) {
	typ, sub := outcome.Classify(f)
	a.bounceAs(rcpt, f, typ, sub, m.now())
}

// bounceAs settles rcpt as undeliverable with SES's classification.
func (a *attempt) bounceAs(rcpt string, f *outcome.Failure, typ, sub string, now time.Time) {
	a.results = append(a.results, outcome.Result{Kind: outcome.Bounced, Recipients: []string{rcpt}, Time: now,
		Failure: f, BounceType: typ, BounceSubType: sub, FeedbackID: uuid.NewString(), MTA: f.MTA, MailFrom: a.mailFrom})
	a.done[strings.ToLower(rcpt)] = true
}

// maxAge is the message's configuration set's MaxDeliverySeconds (0 = the
// policy's).
func (m *MX) maxAge(ctx context.Context, e *spool.Entry) time.Duration {
	cs := m.configSet(ctx, e)
	if cs == nil || cs.Options.Delivery == nil {
		return 0
	}
	return time.Duration(cs.Options.Delivery.MaxDeliverySeconds) * time.Second
}

func (m *MX) configSet(ctx context.Context, e *spool.Entry) *store.ConfigurationSet {
	name := e.ConfigurationSet
	if name == "" {
		return nil
	}
	m.lookups()
	cs, err := m.configSets.Get(ctx, e.AccountID+"/"+e.Region+"/"+name, func(ctx context.Context) (*store.ConfigurationSet, error) {
		cs, err := m.Store.ConfigurationSet(ctx, e.AccountID, e.Region, name)
		if errors.Is(err, store.ErrNotFound) {
			return nil, nil // deleted since the message was accepted
		}
		if err != nil {
			return nil, err
		}
		return &cs, nil
	})
	if err != nil {
		m.log().Warn("reading a configuration set; its options do not apply to this attempt", "set", name, "err", err)
		return nil
	}
	return cs
}

// envelope gives the transaction's MAIL FROM and whether TLS is required.
// MAIL FROM is a per-message address (<id>@<domain>), so that a bounce
// arriving later names its message; the domain is the sender identity's
// custom MAIL FROM domain when it is verified, else sesame's bounce domain
// (spec §6: USE_DEFAULT_VALUE; REJECT_MESSAGE was refused at submission).
// A DSN goes with the null reverse-path (RFC 5321 §4.5.5).
func (m *MX) envelope(ctx context.Context, e *spool.Entry, log *slog.Logger) (string, bool) {
	requireTLS := false
	if cs := m.configSet(ctx, e); cs != nil && cs.Options.Delivery != nil {
		requireTLS = strings.EqualFold(cs.Options.Delivery.TlsPolicy, "REQUIRE")
	}
	if e.MailFrom == "" {
		return "", requireTLS
	}
	domain := m.bounceDomain()
	if id, ok := m.identity(ctx, e); ok && id.MailFrom.Domain != "" && id.MailFrom.Status == store.StatusSuccess {
		domain = id.MailFrom.Domain
	}
	return e.ID + "@" + domain, requireTLS
}

// identity finds the sender's identity: the most specific verified one
// of the address, its domain and parent domains (as in sending).
func (m *MX) identity(ctx context.Context, e *spool.Entry) (store.IdentityDetails, bool) {
	m.lookups()
	account := e.IdentityAccount() // the owner's, under sending authorization
	si, err := m.identities.Get(ctx, account+"/"+e.Region+"/"+e.MailFrom, func(ctx context.Context) (senderIdentity, error) {
		for _, n := range store.IdentityNames(e.MailFrom) {
			id, err := m.Store.IdentityDetails(ctx, account, e.Region, n)
			if errors.Is(err, store.ErrNotFound) {
				continue
			}
			if err != nil {
				return senderIdentity{}, err
			}
			if id.Status == store.StatusSuccess {
				return senderIdentity{id, true}, nil
			}
		}
		return senderIdentity{}, nil
	})
	if err != nil {
		m.log().Warn("reading the sender's identity; its settings do not apply to this attempt", "from", e.MailFrom, "err", err)
	}
	return si.id, si.ok
}

// feedbackID is the Feedback-ID field SES adds (…:AmazonSES): a stable
// per-account value receivers' feedback loops can aggregate on.
func feedbackID(e *spool.Entry) string {
	sum := sha256.Sum256([]byte(e.AccountID + "/" + e.Region))
	return "1." + e.Region + "." + base64.StdEncoding.EncodeToString(sum[:]) + ":AmazonSES"
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// record hands what the attempt learnt to events before the spool hears
// of the attempt's end. The recipients events could not settle (an error
// naming them) are taken off the done list, so they are settled, and
// reported, again; the records are idempotent.
func (m *MX) record(ctx context.Context, a *attempt) error {
	if m.Events == nil {
		return nil
	}
	err := m.Events.Record(ctx, a.e, a.header, a.results)
	var pending interface{ PendingRecipients() []string }
	if errors.As(err, &pending) {
		for _, r := range pending.PendingRecipients() {
			delete(a.done, strings.ToLower(r))
		}
	}
	return err
}
