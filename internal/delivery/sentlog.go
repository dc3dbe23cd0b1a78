package delivery

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"sesame/internal/store"
)

// sentLog keeps, for each message handed to receivers, what feedback
// arriving later at its bounce address needs (store.SentMessage), written
// in batches off the delivery path: one SQLite transaction for many
// messages costs a few microseconds each. A crash loses at most the last
// batch (a fraction of a second of mail); feedback about those messages is
// refused as unknown, the message itself is not affected.
type sentLog struct {
	st  *store.Store
	log *slog.Logger
	now func() time.Time

	mu      sync.Mutex
	pending []store.SentMessage
	queued  map[string]int // message id → records of it in pending
	kick    chan struct{}
}

const (
	// sentBatch is the most records one transaction writes.
	sentBatch = 1024
	// sentFlushEvery bounds how long a record waits for its batch.
	sentFlushEvery = 100 * time.Millisecond
	// sentRetention is how long a sent message's feedback is accepted:
	// receivers send most asynchronous bounces within hours and complaints
	// (feedback loops) within days.
	sentRetention = 30 * 24 * time.Hour
	// sentMaxPending bounds the records held when the store falls behind;
	// past it new ones are dropped (with a warning), never the delivery.
	sentMaxPending = 200000
)

func newSentLog(st *store.Store, log *slog.Logger, now func() time.Time) *sentLog {
	return &sentLog{st: st, log: log, now: now, queued: map[string]int{}, kick: make(chan struct{}, 1)}
}

// has says whether a record of message id waits for its batch.
func (l *sentLog) has(id string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.queued[id] > 0
}

// add queues m for the next batch.
func (l *sentLog) add(m store.SentMessage) {
	l.mu.Lock()
	if len(l.pending) >= sentMaxPending {
		l.mu.Unlock()
		l.log.Warn("sent-message log full; feedback about this message will be refused", "id", m.MessageID)
		return
	}
	l.pending = append(l.pending, m)
	l.queued[m.MessageID]++
	full := len(l.pending) >= sentBatch
	l.mu.Unlock()
	if full {
		select {
		case l.kick <- struct{}{}:
		default:
		}
	}
}

// run writes batches until ctx ends, then writes what is left; it prunes
// records past sentRetention once an hour.
func (l *sentLog) run(ctx context.Context) {
	tick := time.NewTicker(sentFlushEvery)
	defer tick.Stop()
	lastPrune := time.Time{}
	for {
		select {
		case <-ctx.Done():
			wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
			l.flush(wctx)
			cancel()
			return
		case <-tick.C:
		case <-l.kick:
		}
		l.flush(ctx)
		if now := l.now(); now.Sub(lastPrune) >= time.Hour {
			lastPrune = now
			if n, err := l.st.PruneSentMessages(ctx, now.Add(-sentRetention)); err != nil {
				l.log.Warn("pruning sent messages", "err", err)
			} else if n > 0 {
				l.log.Info("pruned sent messages past retention", "count", n)
			}
		}
	}
}

// flush writes the queued records, sentBatch at a time; a batch that fails
// stays queued for the next flush.
func (l *sentLog) flush(ctx context.Context) {
	for {
		l.mu.Lock()
		n := min(len(l.pending), sentBatch)
		batch := l.pending[:n:n]
		l.mu.Unlock()
		if n == 0 {
			return
		}
		if err := l.st.AddSentMessages(ctx, batch); err != nil {
			l.log.Warn("recording sent messages; trying again", "count", n, "err", err)
			return
		}
		l.mu.Lock()
		for _, m := range batch {
			if l.queued[m.MessageID]--; l.queued[m.MessageID] <= 0 {
				delete(l.queued, m.MessageID)
			}
		}
		l.pending = append(l.pending[:0], l.pending[n:]...)
		l.mu.Unlock()
	}
}
