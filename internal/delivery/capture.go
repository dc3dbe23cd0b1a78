// Package delivery takes what the spool holds to its destination, in one of
// two modes. Capture (the default, for local development; this file): every
// spooled message is kept in the store for inspection (GET /_aws/ses)
// instead of going out, and the mailbox simulator's addresses get the
// outcome SES describes. MX (mx*.go, route.go, bounce*.go): messages go to
// the recipients' mail exchangers, with retries, bounces, DSNs and
// suppression as SES does.
//
// Delivery never decides whether a message may be sent (sending did that
// before the spool had it); it only carries out, idempotently by message id.
package delivery

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"time"

	"sesame/internal/mailmsg"
	"sesame/internal/outcome"
	"sesame/internal/spool"
	"sesame/internal/store"
)

// CaptureEvents is Events with the batch capture mode hands over: the
// captured messages are stored in the transaction of their records
// (events.Recorder).
type CaptureEvents interface {
	RecordCaptured(ctx context.Context, captured []store.Captured, entries []*spool.Entry, headers [][]byte, results [][]outcome.Result) error
}

// CaptureStore is what Capture needs of the state store, declared here
// rather than taken as *store.Store so the package depends on these methods
// only, whichever backend (SQLite, PostgreSQL) or test fake serves them;
// *store.Store implements it.
type CaptureStore interface {
	AddCaptured(ctx context.Context, msgs []store.Captured) error
}

// Capture moves spooled messages into the store's captured mail.
type Capture struct {
	Spool  *spool.Spool
	Store  CaptureStore
	Events CaptureEvents // nil: captured mail only, no records
	// Hostname names sesame in the Delivery events' smtpResponse.
	Hostname string
	Logger   *slog.Logger

	mu          sync.Mutex
	flushers    []chan struct{}    // Flush calls waiting for a round to cover them
	cancelClaim context.CancelFunc // ends the current round's wait for messages
}

const (
	// claimBatch bounds how many messages one round takes from the spool.
	claimBatch = 256
	// batchBytes bounds the bytes one store transaction carries, so a run of
	// 40 MB messages does not have to sit in memory together.
	batchBytes = 16 << 20
	// gatherDelay is how long a small batch waits for company.
	gatherDelay = 20 * time.Millisecond
	// retryPause is how long to wait after the store refused a batch.
	retryPause = time.Second
	// captureTimeout bounds one batch's store and spool writes.
	captureTimeout = 30 * time.Second
)

// Run captures until ctx ends. A crash between the store's commit and the
// spool's Done replays the batch; the store ignores ids it already has, so
// nothing is captured twice.
//
// Run works in rounds: claim what the spool holds (waiting for it, then a
// moment for company), capture it, again. A round that starts with Flush
// calls waiting does not wait at all, and releases them once it has taken
// everything the spool had ready (the spool hands messages out oldest first
// and capture defers none, so a claim that comes back short has emptied it).
func (c *Capture) Run(ctx context.Context) error {
	for {
		claimCtx, cancel, flushing := c.startRound(ctx)
		entries, err := c.Spool.Claim(claimCtx, claimBatch)
		if ctx.Err() != nil {
			cancel()
			if len(entries) > 0 {
				c.Spool.Release(ids(entries)...)
			}
			return nil
		}
		if err != nil && claimCtx.Err() == nil {
			cancel()
			return fmt.Errorf("delivery: claim: %w", err)
		}
		// A cancelled claim is a Flush: capture what is ready, if anything.
		if len(flushing) == 0 && len(entries) > 0 {
			entries = c.gather(claimCtx, entries)
		}
		cancel()
		drained := len(entries) < claimBatch
		ok := c.captureAll(ctx, entries)
		c.endRound(flushing, ok && drained)
	}
}

// Flush returns once every message the spool had acknowledged when it was
// called is in the captured mail, or when ctx ends: GET /_aws/ses calls it
// so that a message is listed as soon as its send was answered, as in
// LocalStack. Sends do not wait for capture; only a reader that needs what
// they wrote does, and only for the messages before it.
func (c *Capture) Flush(ctx context.Context) error {
	done := make(chan struct{})
	c.mu.Lock()
	c.flushers = append(c.flushers, done)
	cancel := c.cancelClaim
	c.mu.Unlock()
	if cancel != nil {
		cancel() // a round waiting for messages (or company) stops waiting
	}
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("delivery: flush captured mail: %w", ctx.Err())
	}
}

// startRound takes the Flush calls made so far; the round's claim does not
// wait when there are any (its context is already cancelled), and a later
// Flush cancels it.
func (c *Capture) startRound(ctx context.Context) (context.Context, context.CancelFunc, []chan struct{}) {
	c.mu.Lock()
	defer c.mu.Unlock()
	flushing := c.flushers
	c.flushers = nil
	claimCtx, cancel := context.WithCancel(ctx)
	if len(flushing) > 0 {
		cancel()
	}
	c.cancelClaim = cancel
	return claimCtx, cancel, flushing
}

// endRound releases the round's Flush calls when it captured everything the
// spool had ready for them; otherwise they wait for the next round.
func (c *Capture) endRound(flushing []chan struct{}, covered bool) {
	if covered {
		for _, done := range flushing {
			close(done)
		}
		return
	}
	if len(flushing) > 0 {
		c.mu.Lock()
		c.flushers = append(flushing, c.flushers...)
		c.mu.Unlock()
	}
}

// captureAll captures entries in store transactions of at most batchBytes.
// When the store refuses one, what is left goes back to the spool for the
// next round (after a pause) and captureAll reports false.
func (c *Capture) captureAll(ctx context.Context, entries []*spool.Entry) bool {
	for len(entries) > 0 {
		n := 0
		var size int64
		for n < len(entries) && (n == 0 || size+entries[n].Size <= batchBytes) {
			size += entries[n].Size
			n++
		}
		// A batch claimed is finished even when a shutdown begins
		// meanwhile (briefly): the drain flushes it, rather than cutting it
		// short to capture it again at the next start.
		wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), captureTimeout)
		err := c.captureBatch(wctx, entries[:n])
		cancel()
		if err != nil {
			c.log().Error("capture failed; will retry", "messages", len(entries), "err", err)
			c.Spool.Release(ids(entries)...)
			select {
			case <-ctx.Done():
			case <-time.After(retryPause):
			}
			return false
		}
		entries = entries[n:]
	}
	return true
}

// gather waits a moment for more messages when a claim came back small. The
// acknowledgement does not wait for capture, so this costs clients nothing,
// and it spares the disk: each batch is a store commit and a spool Done, two
// fsyncs that would otherwise compete, message by message, with the fsyncs
// clients are waiting for.
func (c *Capture) gather(ctx context.Context, entries []*spool.Entry) []*spool.Entry {
	if len(entries) >= claimBatch/4 {
		return entries
	}
	wait, cancel := context.WithTimeout(ctx, gatherDelay)
	defer cancel()
	for len(entries) < claimBatch {
		more, err := c.Spool.Claim(wait, claimBatch-len(entries))
		entries = append(entries, more...)
		if err != nil || wait.Err() != nil {
			break
		}
	}
	return entries
}

func (c *Capture) captureBatch(ctx context.Context, batch []*spool.Entry) error {
	msgs := make([]store.Captured, 0, len(batch))
	raws := make(map[string][]byte, len(batch))
	for _, e := range batch {
		if e.RenderingFailure != "" || e.Rejected != "" {
			continue // never mail: its event is all there is
		}
		raw, err := readEntry(e)
		if err != nil {
			return err
		}
		raw = mailmsg.StripForDelivery(raw) // what MX mode would deliver: no control headers
		raws[e.ID] = raw
		rcpts := subscribed(&e.Envelope)
		if len(rcpts) == 0 {
			continue // every recipient unsubscribed: nobody gets it
		}
		msgs = append(msgs, store.Captured{
			ID:         e.ID,
			AccountID:  e.AccountID,
			Region:     e.Region,
			MailFrom:   e.MailFrom,
			Recipients: rcpts,
			Raw:        raw,
			Received:   e.Received,
			Outcome:    outcome.Summarize(rcpts),
		})
	}
	now := time.Now()
	logged := c.log().Enabled(ctx, slog.LevelInfo)
	var results [][]outcome.Result
	if c.Events != nil || logged {
		results = c.results(batch, now)
	}
	if c.Events == nil {
		if err := c.Store.AddCaptured(ctx, msgs); err != nil {
			return fmt.Errorf("delivery: capture %d messages: %w", len(msgs), err)
		}
	} else if err := c.record(ctx, batch, msgs, raws, results); err != nil {
		return fmt.Errorf("delivery: capture %d messages: %w", len(batch), err)
	}
	// The batch is kept: the delivery log, one line per recipient.
	if logged {
		for i, e := range batch {
			l := attemptLog{log: c.log(), e: e, now: now, attempt: e.State.Attempts + 1, delivered: statusCaptured}
			l.results(ctx, results[i])
		}
	}
	if err := c.Spool.Done(ctx, ids(batch)...); err != nil {
		return fmt.Errorf("delivery: mark %d captured messages done: %w", len(batch), err)
	}
	return nil
}

func readEntry(e *spool.Entry) ([]byte, error) {
	r, err := e.Open()
	if err != nil {
		return nil, fmt.Errorf("delivery: open %s: %w", e.ID, err)
	}
	defer r.Close()
	buf := make([]byte, 0, e.Size)
	b, err := io.ReadAll(io.MultiReader(bytesReader(buf), r))
	if err != nil {
		return nil, fmt.Errorf("delivery: read %s: %w", e.ID, err)
	}
	return b, nil
}

// bytesReader lets io.ReadAll start from a buffer of the right capacity.
func bytesReader(b []byte) io.Reader { return &prealloc{b} }

type prealloc struct{ b []byte }

func (p *prealloc) Read([]byte) (int, error) { return 0, io.EOF }

func ids(entries []*spool.Entry) []string {
	out := make([]string, len(entries))
	for i, e := range entries {
		out[i] = e.ID
	}
	return out
}

func (c *Capture) log() *slog.Logger {
	if c.Logger == nil {
		return slog.Default()
	}
	return c.Logger
}

// results is what capture mode makes of each message of the batch: it was
// sent, and each recipient got what SES's mailbox simulator gives it or was
// delivered (into the capture).
func (c *Capture) results(batch []*spool.Entry, now time.Time) [][]outcome.Result {
	results := make([][]outcome.Result, len(batch))
	for i, e := range batch {
		results[i] = []outcome.Result{{Kind: outcome.Sent, Time: e.Received}}
		if e.RenderingFailure != "" || e.Rejected != "" {
			results[i] = append(results[i], neverSent(&e.Envelope, now))
			continue
		}
		results[i] = append(results[i], c.captureResults(e, now)...)
	}
	return results
}

// record hands the batch and its results to events: the captured mail is
// stored with them in one transaction.
func (c *Capture) record(ctx context.Context, batch []*spool.Entry, msgs []store.Captured, raw map[string][]byte, results [][]outcome.Result) error {
	headers := make([][]byte, len(batch))
	for i, e := range batch {
		if e.RenderingFailure == "" && e.Rejected == "" {
			headers[i] = mailmsg.HeaderSection(raw[e.ID])
		}
	}
	return c.Events.RecordCaptured(ctx, msgs, batch, headers, results)
}

// captureResults are the per-recipient results of a captured message.
func (c *Capture) captureResults(e *spool.Entry, now time.Time) []outcome.Result {
	var out []outcome.Result
	var delivered []string
	out = append(out, unsubscribedResults(&e.Envelope, now)...)
	for _, r := range subscribed(&e.Envelope) {
		if o, simulated := outcome.Simulated(r); simulated {
			out = append(out, simulatorResults(r, o, now)...)
			continue
		}
		delivered = append(delivered, r)
	}
	if len(delivered) > 0 {
		host := c.Hostname
		if host == "" {
			host = "localhost"
		}
		out = append(out, outcome.Result{Kind: outcome.Delivered, Recipients: delivered, Time: now,
			Reply: "250 2.0.0 Ok: captured by " + host, MTA: host})
	}
	return out
}

// neverSent is the result of a message that is never delivered: its
// template did not render, or it holds a virus.
func neverSent(env *spool.Envelope, now time.Time) outcome.Result {
	if env.RenderingFailure != "" {
		return outcome.Result{Kind: outcome.RenderingFailed, Time: now, Error: env.RenderingFailure}
	}
	return outcome.Result{Kind: outcome.Rejected, Time: now, Error: env.Rejected}
}
