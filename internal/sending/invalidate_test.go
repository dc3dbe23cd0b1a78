package sending

import (
	"context"
	"errors"
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
	watchStore(t, h)
	if _, err := h.submit(t, "a@verified.com", rcpt, msg); err != nil {
		t.Fatalf("before the pause: %v", err) // the settings are cached now
	}

	admin := h.otherHandle(t)
	if err := admin.SetAccountSendingEnabled(ctx, h.account, region, false); err != nil {
		t.Fatal(err)
	}
	waitfor.Within(t, "the pause to reach the sender", time.Second, func() bool {
		_, err := h.submit(t, "a@verified.com", rcpt, msg)
		return err != nil && seserr.As(err).APICode == seserr.SendingPaused().APICode
	})
}

// An identity deleted and an access key deleted or deactivated through
// another store handle (another node, `sesame admin`) are refused within a
// second once the Sender watches the store, though the fake clock never
// lets the cached identities and keys go stale.
func TestChangedDropsCachedIdentitiesAndKeys(t *testing.T) {
	t.Parallel()
	h := newHarness(t, func(s *store.AccountSettings) { s.Production = true }, 0)
	ctx := t.Context()
	msg := "From: a@verified.com\r\nSubject: x\r\n\r\nbody\r\n"
	rcpt := []string{"someone@example.net"}
	watchStore(t, h)
	second, err := h.st.CreateAccessKey(ctx, h.account)
	if err != nil {
		t.Fatal(err)
	}
	// Cache the identities and both keys.
	if _, err := h.submit(t, "a@verified.com", rcpt, msg); err != nil {
		t.Fatalf("before the deletion: %v", err)
	}
	for _, id := range []string{h.key.ID, second.ID} {
		if k, err := h.s.AccessKey(ctx, id); err != nil || !k.Active {
			t.Fatalf("key %s before the change: %+v, %v", id, k, err)
		}
	}

	admin := h.otherHandle(t)
	if err := admin.DeleteIdentity(ctx, h.account, region, "verified.com"); err != nil {
		t.Fatal(err)
	}
	waitfor.Within(t, "the deleted identity to reach the sender", time.Second, func() bool {
		_, err := h.submit(t, "a@verified.com", rcpt, msg)
		return err != nil && seserr.As(err).APICode == seserr.NotVerified(region, nil).APICode
	})

	if err := admin.DeleteAccessKey(ctx, h.key.ID); err != nil {
		t.Fatal(err)
	}
	waitfor.Within(t, "the deleted key to reach the sender", time.Second, func() bool {
		_, err := h.s.AccessKey(ctx, h.key.ID)
		return errors.Is(err, store.ErrNotFound)
	})
	if err := admin.SetAccessKeyActive(ctx, second.ID, false); err != nil {
		t.Fatal(err)
	}
	waitfor.Within(t, "the deactivated key to reach the sender", time.Second, func() bool {
		k, err := h.s.AccessKey(ctx, second.ID)
		return err == nil && !k.Active
	})
}

// watchStore makes h's Sender hear the store's change notices, as serve
// wires it, and waits until the watcher runs.
func watchStore(t *testing.T, h *harness) {
	t.Helper()
	var all atomic.Bool
	h.st.Watch(t.Context(), func(c store.Change) {
		h.s.Changed(c)
		if c.All {
			all.Store(true)
		}
	})
	waitfor.Within(t, "the watcher's start", time.Second, all.Load)
}

// otherHandle is a second handle on the harness's store, as `sesame admin`
// or another node opens one.
func (h *harness) otherHandle(t *testing.T) *store.Store {
	t.Helper()
	st, err := store.Open(filepath.Join(h.dir, "state"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}
