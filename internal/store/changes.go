package store

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
)

// Servers keep some state in memory (ttlcache) so the per-message paths do
// not query the store per message. A write that changes such state announces
// it in its own transaction, and every process holding the store — the other
// nodes of a cluster, `sesame admin` beside a server — hears of it within
// a fraction of a second and drops what it cached:
//
//   - PostgreSQL: pg_notify in the write transaction (delivered at commit,
//     not at all on rollback); each Store LISTENs on a connection of its own,
//     reconnecting when it drops, after which anything may have been missed.
//   - SQLite: a row in store_changes in the write transaction; each Store
//     polls the rows past the last it saw every changePoll.

// Change names cached state that changed. All means anything may have
// changed (the watcher started, or reconnected and may have missed
// announcements): drop everything.
type Change struct {
	Topic string // one of the Topic constants
	Key   string // which; AccountKey for the account topics
	All   bool
}

// Topics of announced changes.
const (
	// TopicAccount: an account's settings in a region (sending enabled,
	// enforcement status, production access, limits). Key: AccountKey.
	TopicAccount = "account"
	// TopicSuppression: an account's suppression settings in a region.
	// Key: AccountKey.
	TopicSuppression = "suppression"
	// TopicConfigSet: a configuration set created, changed (its sending
	// paused or resumed, its options) or deleted. Key: ConfigSetKey.
	TopicConfigSet = "configset"
	// TopicIdentity: an identity created, deleted or changed (verification
	// status, DKIM, MAIL FROM, default configuration set, notifications) or
	// its sending authorization policies changed. Key: IdentityChangeKey.
	TopicIdentity = "identity"
	// TopicAccessKey: an access key created, deleted, activated or
	// deactivated, or its policy changed. Key: the key's id.
	TopicAccessKey = "accesskey"
)

// AccountKey is the Key of a change to account's state in region.
func AccountKey(account, region string) string { return account + "/" + region }

// ConfigSetKey is the Key of a change to configuration set name of account
// in region.
func ConfigSetKey(account, region, name string) string {
	return AccountKey(account, region) + "/" + name
}

// IdentityChangeKey is the Key of a change to identity name of account in
// region (the name as the store keys it: domains lower-case).
func IdentityChangeKey(account, region, name string) string {
	return AccountKey(account, region) + "/" + IdentityKey(name)
}

// SplitIdentityChangeKey is IdentityChangeKey's inverse.
func SplitIdentityChangeKey(key string) (account, region, name string, ok bool) {
	return SplitConfigSetKey(key) // the same shape: account/region/name
}

// SplitConfigSetKey is ConfigSetKey's inverse.
func SplitConfigSetKey(key string) (account, region, name string, ok bool) {
	ar, name, ok := strings.Cut(key, "/")
	if !ok {
		return "", "", "", false
	}
	region, name, ok = strings.Cut(name, "/")
	return ar, region, name, ok
}

// SplitAccountKey is AccountKey's inverse.
func SplitAccountKey(key string) (account, region string, ok bool) {
	return strings.Cut(key, "/")
}

// changeChannel is the PostgreSQL NOTIFY channel.
const changeChannel = "sesame_changes"

// changePoll is how often a Store on SQLite looks for announced changes.
const changePoll = 200 * time.Millisecond

// changesKept is how long store_changes rows are kept: far longer than a
// poll, so a busy poller does not miss any.
const changesKept = time.Minute

// announce records, in ex's transaction, that topic/key changed.
func (s *Store) announce(ctx context.Context, ex execer, topic, key string) error {
	if s.pg {
		if _, err := ex.ExecContext(ctx, `SELECT pg_notify('`+changeChannel+`', CAST(? AS TEXT))`, topic+"\n"+key); err != nil {
			return fmt.Errorf("store: announce %s %s: %w", topic, key, err)
		}
		return nil
	}
	now := time.Now()
	if _, err := ex.ExecContext(ctx, `INSERT INTO store_changes (topic, key, at) VALUES (?, ?, ?)`,
		topic, key, toDB(now)); err != nil {
		return fmt.Errorf("store: announce %s %s: %w", topic, key, err)
	}
	// Prune about once a minute. The row just added always stays, so seq
	// (max+1 on insert) never goes back below what a poller has seen.
	if last := s.changesPrunedAt.Load(); now.Unix()-last >= int64(changesKept/time.Second) &&
		s.changesPrunedAt.CompareAndSwap(last, now.Unix()) {
		if _, err := ex.ExecContext(ctx, `DELETE FROM store_changes WHERE at < ?`, toDB(now.Add(-changesKept))); err != nil {
			return fmt.Errorf("store: prune changes: %w", err)
		}
	}
	return nil
}

// announceTx runs the single statement of a write together with its
// announcement in one transaction.
func (s *Store) announceTx(ctx context.Context, what, topic, key string, fn func(*sql.Tx) error) error {
	return s.inTx(ctx, what, func(tx *sql.Tx) error {
		if err := fn(tx); err != nil {
			return err
		}
		return s.announce(ctx, tx, topic, key)
	})
}

// Watch calls fn with every change announced through any Store on this
// database (this process's included) from now until ctx is done or the
// Store is closed, and first with Change{All: true}. fn runs on the
// watcher's goroutine, one change at a time: it must be quick (drop cache
// entries), not query the store.
func (s *Store) Watch(ctx context.Context, fn func(Change)) {
	id := s.watch.add(fn, s.runWatch)
	if id < 0 {
		return // closed
	}
	context.AfterFunc(ctx, func() { s.watch.remove(id) })
}

// watcher fans changes out to Watch's callbacks; its goroutine starts with
// the first Watch and stops with the Store.
type watcher struct {
	mu     sync.Mutex
	subs   map[int]func(Change)
	next   int
	cancel context.CancelFunc // nil: not started
	done   chan struct{}
	closed bool
}

func (w *watcher) add(fn func(Change), run func(context.Context)) int {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return -1
	}
	if w.subs == nil {
		w.subs = map[int]func(Change){}
	}
	id := w.next
	w.next++
	w.subs[id] = fn
	if w.cancel == nil {
		ctx, cancel := context.WithCancel(context.Background())
		w.cancel, w.done = cancel, make(chan struct{})
		go func() {
			defer close(w.done)
			run(ctx)
		}()
	} else {
		// The goroutine already runs: the newcomer drops whatever it
		// cached before subscribing, as the first subscriber did.
		go fn(Change{All: true})
	}
	return id
}

func (w *watcher) remove(id int) {
	w.mu.Lock()
	delete(w.subs, id)
	w.mu.Unlock()
}

func (w *watcher) deliver(c Change) {
	w.mu.Lock()
	fns := make([]func(Change), 0, len(w.subs))
	for _, fn := range w.subs {
		fns = append(fns, fn)
	}
	w.mu.Unlock()
	for _, fn := range fns {
		fn(c)
	}
}

func (w *watcher) stop() {
	w.mu.Lock()
	w.closed = true
	cancel, done := w.cancel, w.done
	w.mu.Unlock()
	if cancel != nil {
		cancel()
		<-done
	}
}

func (s *Store) runWatch(ctx context.Context) {
	if s.pg {
		s.listenChanges(ctx)
	} else {
		s.pollChanges(ctx)
	}
}

// pollChanges delivers store_changes rows past the last seen, every
// changePoll. When a poll fails, the next that works delivers All.
func (s *Store) pollChanges(ctx context.Context) {
	t := time.NewTicker(changePoll)
	defer t.Stop()
	last := int64(-1) // unknown: read the newest, deliver All
	for {
		if last < 0 {
			if err := s.reads.QueryRowContext(ctx, `SELECT COALESCE(MAX(seq), 0) FROM store_changes`).Scan(&last); err != nil {
				last = -1
				if ctx.Err() == nil {
					slog.Warn("store: polling changes", "err", err)
				}
			} else {
				s.watch.deliver(Change{All: true})
			}
		} else if err := s.pollOnce(ctx, &last); err != nil {
			last = -1
			if ctx.Err() == nil {
				slog.Warn("store: polling changes", "err", err)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (s *Store) pollOnce(ctx context.Context, last *int64) error {
	rows, err := s.reads.QueryContext(ctx, `SELECT seq, topic, key FROM store_changes WHERE seq > ? ORDER BY seq`, *last)
	if err != nil {
		return err
	}
	defer rows.Close()
	var changes []Change
	for rows.Next() {
		var c Change
		if err := rows.Scan(last, &c.Topic, &c.Key); err != nil {
			return err
		}
		changes = append(changes, c)
	}
	if err := rows.Err(); err != nil {
		return err
	}
	for _, c := range changes {
		s.watch.deliver(c)
	}
	return nil
}

// listenChanges LISTENs on a connection of its own, reconnecting (with a
// growing pause) when it fails; each (re)connection delivers All, since
// notifications sent while it was away are lost.
func (s *Store) listenChanges(ctx context.Context) {
	const minPause, maxPause = 100 * time.Millisecond, 5 * time.Second
	pause := minPause
	for {
		listened, err := s.listenOnce(ctx)
		if ctx.Err() != nil {
			return
		}
		if listened {
			pause = minPause
		}
		slog.Warn("store: listening for changes; reconnecting", "err", err, "pause", pause)
		select {
		case <-ctx.Done():
			return
		case <-time.After(pause):
		}
		pause = min(2*pause, maxPause)
	}
}

func (s *Store) listenOnce(ctx context.Context) (listened bool, err error) {
	conn, err := pgx.ConnectConfig(ctx, s.pgCfg.Copy())
	if err != nil {
		return false, fmt.Errorf("connect: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, "LISTEN "+changeChannel); err != nil {
		return false, fmt.Errorf("listen: %w", err)
	}
	s.watch.deliver(Change{All: true})
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			return true, fmt.Errorf("wait: %w", err)
		}
		topic, key, _ := strings.Cut(n.Payload, "\n")
		s.watch.deliver(Change{Topic: topic, Key: key})
	}
}
