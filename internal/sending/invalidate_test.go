package sending

import (
	"context"
	"testing"

	"sesame/internal/store"
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
