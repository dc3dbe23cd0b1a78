package store

import (
	"context"
	"database/sql"
	"slices"
	"sync"
	"testing"
	"time"

	"sesame/internal/waitfor"
)

// changeLog collects what a Watch callback hears.
type changeLog struct {
	mu  sync.Mutex
	got []Change
}

func (l *changeLog) add(c Change) {
	l.mu.Lock()
	l.got = append(l.got, c)
	l.mu.Unlock()
}

func (l *changeLog) has(c Change) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Contains(l.got, c)
}

func (l *changeLog) reset() {
	l.mu.Lock()
	l.got = nil
	l.mu.Unlock()
}

// A change written through one Store handle reaches another handle's
// watcher (another node, or `sesame admin` beside a server) within a
// second, for each write that changes state servers cache.
func TestWatchSeesChangesOfAnotherHandle(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	writer, watcher := openTest(t, dir), openTest(t, dir)
	ctx := t.Context()
	var log changeLog
	watcher.Watch(ctx, log.add)
	waitfor.Within(t, "the watcher's first Change{All}", time.Second, func() bool { return log.has(Change{All: true}) })

	const acct, region = "111122223333", "us-east-1"
	key := AccountKey(acct, region)
	for _, tc := range []struct {
		name  string
		write func() error
		want  Change
	}{
		{"PutAccountSettings", func() error { return writer.PutAccountSettings(ctx, DefaultSettings(acct, region)) },
			Change{Topic: TopicAccount, Key: key}},
		{"SetAccountSendingEnabled", func() error { return writer.SetAccountSendingEnabled(ctx, acct, region, false) },
			Change{Topic: TopicAccount, Key: key}},
		{"SetEnforcementStatus", func() error { return writer.SetEnforcementStatus(ctx, acct, region, EnforcementShutdown) },
			Change{Topic: TopicAccount, Key: key}},
		{"PutSuppressedReasons", func() error { return writer.PutSuppressedReasons(ctx, acct, region, []string{"BOUNCE"}) },
			Change{Topic: TopicSuppression, Key: key}},
		{"CreateConfigurationSet", func() error {
			return writer.CreateConfigurationSet(ctx, ConfigurationSet{AccountID: acct, Region: region, Name: "cs-1"}, 0)
		}, Change{Topic: TopicConfigSet, Key: ConfigSetKey(acct, region, "cs-1")}},
		{"UpdateConfigurationSetOptions", func() error {
			return writer.UpdateConfigurationSetOptions(ctx, acct, region, "cs-1", func(*ConfigurationSetOptions) error { return nil })
		}, Change{Topic: TopicConfigSet, Key: ConfigSetKey(acct, region, "cs-1")}},
		{"DeleteConfigurationSet", func() error { return writer.DeleteConfigurationSet(ctx, acct, region, "cs-1") },
			Change{Topic: TopicConfigSet, Key: ConfigSetKey(acct, region, "cs-1")}},
	} {
		log.reset()
		if err := tc.write(); err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		waitfor.Within(t, tc.name+"'s change at the other handle", time.Second, func() bool { return log.has(tc.want) })
	}
	if a, r, ok := SplitAccountKey(key); !ok || a != acct || r != region {
		t.Errorf("SplitAccountKey(%q) = %q, %q, %v", key, a, r, ok)
	}
	csKey := ConfigSetKey(acct, region, "cs-1")
	if a, r, n, ok := SplitConfigSetKey(csKey); !ok || a != acct || r != region || n != "cs-1" {
		t.Errorf("SplitConfigSetKey(%q) = %q, %q, %q, %v", csKey, a, r, n, ok)
	}
}

// A rolled-back write announces nothing; a callback whose context ended
// hears nothing more; Close stops the watcher.
func TestWatchRollbackAndStop(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	st := openTest(t, dir)
	ctx := t.Context()
	var log, stopped changeLog
	st.Watch(ctx, log.add)
	stopCtx, stop := context.WithCancel(ctx)
	st.Watch(stopCtx, stopped.add)
	waitfor.Within(t, "the first Change{All}", time.Second, func() bool {
		return log.has(Change{All: true}) && stopped.has(Change{All: true})
	})
	stop()

	rolledBack := Change{Topic: TopicAccount, Key: AccountKey("111122223333", "eu-west-1")}
	err := st.inTx(ctx, "rolled back", func(tx *sql.Tx) error {
		if err := st.announce(ctx, tx, rolledBack.Topic, rolledBack.Key); err != nil {
			return err
		}
		return context.Canceled // any error rolls back
	})
	if err == nil {
		t.Fatal("the rolled-back transaction committed")
	}
	committed := Change{Topic: TopicAccount, Key: AccountKey("111122223333", "us-west-2")}
	if err := st.SetAccountSendingEnabled(ctx, "111122223333", "us-west-2", false); err != nil {
		t.Fatal(err)
	}
	// Changes arrive in commit order, so once the later one is here the
	// rolled-back one would have been too.
	waitfor.Within(t, "the committed change", time.Second, func() bool { return log.has(committed) })
	if log.has(rolledBack) {
		t.Error("a rolled-back write was announced")
	}
	if stopped.has(committed) {
		t.Error("a callback heard a change after its context ended")
	}

	done := make(chan struct{})
	go func() { st.Close(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Close did not stop the watcher")
	}
}

// On PostgreSQL the watcher reconnects when its LISTEN connection drops,
// and says that anything may have changed meanwhile; then it hears
// changes again.
func TestWatchReconnects(t *testing.T) {
	if !onPostgres {
		t.Skip("the LISTEN connection is PostgreSQL's")
	}
	t.Parallel()
	dir := t.TempDir()
	writer, watcher := openTest(t, dir), openTest(t, dir)
	ctx := t.Context()
	var log changeLog
	watcher.Watch(ctx, log.add)
	waitfor.Within(t, "the first Change{All}", time.Second, func() bool { return log.has(Change{All: true}) })
	log.reset()

	res, err := writer.writes.ExecContext(ctx, `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
		WHERE datname = current_database() AND query = 'LISTEN `+changeChannel+`'`)
	if err != nil {
		t.Fatal(err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		t.Fatalf("terminated %d LISTEN connections, want 1", n)
	}
	waitfor.Within(t, "Change{All} after reconnecting", 5*time.Second, func() bool { return log.has(Change{All: true}) })
	want := Change{Topic: TopicAccount, Key: AccountKey("111122223333", "us-east-1")}
	if err := writer.SetAccountSendingEnabled(ctx, "111122223333", "us-east-1", false); err != nil {
		t.Fatal(err)
	}
	waitfor.Within(t, "a change after reconnecting", time.Second, func() bool { return log.has(want) })
}
