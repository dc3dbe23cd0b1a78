package sending

import (
	"context"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"sesame/internal/seserr"
	"sesame/internal/store"
	"sesame/internal/waitfor"
)

// A change announced with IdentitiesChanged applies to the next message,
// though the cache would otherwise keep the old identities for cacheTTL.
func TestIdentitiesChangedAppliesAtOnce(t *testing.T) {
	t.Parallel()
	h := newHarness(t, func(s *store.AccountSettings) { s.Production = true }, 0)
	ctx := context.Background()
	msg := "From: a@pending.com\r\nSubject: x\r\n\r\nbody\r\n"
	rcpt := []string{"someone@example.net"}
	if _, err := h.submit(t, "a@pending.com", rcpt, msg); err == nil {
		t.Fatal("accepted from a pending domain")
	}
	if err := h.st.PutIdentity(ctx, store.Identity{AccountID: h.account, Region: region, Name: "pending.com", Status: store.StatusSuccess}); err != nil {
		t.Fatal(err)
	}
	// The fake clock does not move: without the call the cache stays.
	if _, err := h.submit(t, "a@pending.com", rcpt, msg); err == nil {
		t.Fatal("cache did not hold the old identities; the test proves nothing")
	}
	h.s.IdentitiesChanged(h.account, region)
	if _, err := h.submit(t, "a@pending.com", rcpt, msg); err != nil {
		t.Fatalf("after IdentitiesChanged: %v", err)
	}
}

// An account paused through another store handle (another node, `sesame
// admin`) is refused within a second once the Sender watches the store,
// though the fake clock never lets its cached settings go stale.
func TestChangedDropsCachedSettings(t *testing.T) {
	t.Parallel()
	h := newHarness(t, func(s *store.AccountSettings) { s.Production = true }, 0)
	ctx := t.Context()
	msg := "From: a@verified.com\r\nSubject: x\r\n\r\nbody\r\n"
	rcpt := []string{"someone@example.net"}
	var all atomic.Bool
	h.st.Watch(ctx, func(c store.Change) {
		h.s.Changed(c)
		if c.All {
			all.Store(true)
		}
	})
	waitfor.Within(t, "the watcher's start", time.Second, all.Load)
	if _, err := h.submit(t, "a@verified.com", rcpt, msg); err != nil {
		t.Fatalf("before the pause: %v", err) // the settings are cached now
	}

	admin, err := store.Open(filepath.Join(h.dir, "state"))
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	if err := admin.SetAccountSendingEnabled(ctx, h.account, region, false); err != nil {
		t.Fatal(err)
	}
	waitfor.Within(t, "the pause to reach the sender", time.Second, func() bool {
		_, err := h.submit(t, "a@verified.com", rcpt, msg)
		return err != nil && seserr.As(err).APICode == seserr.SendingPaused().APICode
	})

}
