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

// watchedPair opens two handles on one new store: writes go through the
// first, and the second's watcher logs what it hears, from its first
// Change{All} on.
func watchedPair(t *testing.T) (*Store, *changeLog) {
	t.Helper()
	dir := t.TempDir()
	writer, watcher := openTest(t, dir), openTest(t, dir)
	log := &changeLog{}
	watcher.Watch(t.Context(), log.add)
	waitfor.Within(t, "the watcher's first Change{All}", time.Second, func() bool { return log.has(Change{All: true}) })
	return writer, log
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
	writer, log := watchedPair(t)
	ctx := t.Context()

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

// Writes of identities (their details, notifications, policies) and of
// access keys (their state and policies) reach another handle's watcher
// too: the servers cache them per message.
func TestWatchSeesIdentityAndKeyChanges(t *testing.T) {
	t.Parallel()
	writer, log := watchedPair(t)
	ctx := t.Context()

	acct, first, err := writer.CreateAccount(ctx)
	if err != nil {
		t.Fatal(err)
	}
	waitfor.Within(t, "the first key's creation", time.Second, func() bool {
		return log.has(Change{Topic: TopicAccessKey, Key: first.ID})
	})
	const region = "us-east-1"
	// Domains are announced lower-case, as the store keys them.
	domain := Change{Topic: TopicIdentity, Key: IdentityChangeKey(acct.ID, region, "example.com")}
	addr := Change{Topic: TopicIdentity, Key: IdentityChangeKey(acct.ID, region, "Me@example.org")}
	var second AccessKey
	secondKey := func() Change { return Change{Topic: TopicAccessKey, Key: second.ID} }
	for _, tc := range []struct {
		name  string
		write func() error
		want  func() Change
	}{
		{"CreateIdentity", func() error {
			return writer.CreateIdentity(ctx, IdentityDetails{Identity: Identity{AccountID: acct.ID, Region: region, Name: "Example.COM"}}, 10)
		}, func() Change { return domain }},
		{"UpdateIdentity", func() error {
			_, err := writer.UpdateIdentity(ctx, acct.ID, region, "example.com", func(d *IdentityDetails) error {
				d.Status = StatusSuccess
				return nil
			})
			return err
		}, func() Change { return domain }},
		{"UpdateIdentityNotifications", func() error {
			_, err := writer.UpdateIdentityNotifications(ctx, acct.ID, region, "example.com", func(*IdentityNotifications) error { return nil })
			return err
		}, func() Change { return domain }},
		{"PutIdentityPolicy", func() error {
			return writer.PutIdentityPolicy(ctx, acct.ID, region, "example.com", IdentityPolicy{Name: "p", Policy: "{}"}, PolicyUpsert, 20)
		}, func() Change { return domain }},
		{"PutIdentityPolicy again", func() error {
			return writer.PutIdentityPolicy(ctx, acct.ID, region, "example.com", IdentityPolicy{Name: "p", Policy: "{ }"}, PolicyUpsert, 20)
		}, func() Change { return domain }},
		{"DeleteIdentityPolicy", func() error { return writer.DeleteIdentityPolicy(ctx, acct.ID, region, "example.com", "p") },
			func() Change { return domain }},
		{"DeleteIdentity", func() error { return writer.DeleteIdentity(ctx, acct.ID, region, "EXAMPLE.com") },
			func() Change { return domain }},
		{"PutIdentity", func() error {
			return writer.PutIdentity(ctx, Identity{AccountID: acct.ID, Region: region, Name: "Me@example.org"})
		}, func() Change { return addr }},
		{"CreateScopedAccessKey", func() error {
			second, err = writer.CreateScopedAccessKey(ctx, acct.ID, "scoped", "")
			return err
		}, secondKey},
		{"SetAccessKeyPolicy", func() error { return writer.SetAccessKeyPolicy(ctx, second.ID, "{}") }, secondKey},
		{"SetAccessKeyActive", func() error { return writer.SetAccessKeyActive(ctx, second.ID, false) }, secondKey},
		{"DeleteAccessKey", func() error { return writer.DeleteAccessKey(ctx, second.ID) }, secondKey},
	} {
		log.reset()
		if err := tc.write(); err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		want := tc.want()
		waitfor.Within(t, tc.name+"'s change at the other handle", time.Second, func() bool { return log.has(want) })
	}
	// A write that fails (an unknown key) announces nothing.
	log.reset()
	if err := writer.DeleteAccessKey(ctx, second.ID); err == nil {
		t.Fatal("deleted a key twice")
	}
	if err := writer.SetAccessKeyActive(ctx, first.ID, false); err != nil {
		t.Fatal(err)
	}
	waitfor.Within(t, "the later change", time.Second, func() bool {
		return log.has(Change{Topic: TopicAccessKey, Key: first.ID})
	})
	if log.has(secondKey()) {
		t.Error("a failed write was announced")
	}
	if a, r, n, ok := SplitIdentityChangeKey(addr.Key); !ok || a != acct.ID || r != region || n != "Me@example.org" {
		t.Errorf("SplitIdentityChangeKey(%q) = %q, %q, %q, %v", addr.Key, a, r, n, ok)
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
	writer, log := watchedPair(t)
	ctx := t.Context()
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
