package store

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"time"
)

func TestIdentityPolicies(t *testing.T) {
	t.Parallel()
	s := openTest(t, t.TempDir())
	ctx := context.Background()
	if err := s.PutIdentity(ctx, Identity{AccountID: "a", Region: "r", Name: "Example.COM"}); err != nil {
		t.Fatal(err)
	}
	put := func(name, doc string, how PolicyWrite) error {
		return s.PutIdentityPolicy(ctx, "a", "r", "example.com", IdentityPolicy{name, doc}, how, 2)
	}
	if err := put("p1", "{1}", PolicyUpdate); !errors.Is(err, ErrNotFound) || errors.Is(err, ErrNoIdentity) {
		t.Fatalf("update of a missing policy: %v; want ErrNotFound, not ErrNoIdentity", err)
	}
	if err := put("p1", "{1}", PolicyCreate); err != nil {
		t.Fatal(err)
	}
	if err := put("p1", "{again}", PolicyCreate); !errors.Is(err, ErrExists) {
		t.Fatalf("create of an existing policy: %v; want ErrExists", err)
	}
	if err := put("p1", "{1b}", PolicyUpdate); err != nil {
		t.Fatal(err)
	}
	if err := put("p0", "{0}", PolicyUpsert); err != nil {
		t.Fatal(err)
	}
	if err := put("p2", "{2}", PolicyUpsert); !errors.Is(err, ErrLimit) {
		t.Fatalf("a third policy with max 2: %v; want ErrLimit", err)
	}
	if err := put("p0", "{0b}", PolicyUpsert); err != nil {
		t.Fatalf("replacing a policy at the limit: %v", err)
	}
	want := []IdentityPolicy{{"p0", "{0b}"}, {"p1", "{1b}"}}
	// A domain identity is one name whatever its case.
	if got, err := s.IdentityPolicies(ctx, "a", "r", "EXAMPLE.com"); err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("policies = %v, %v; want %v", got, err, want)
	}
	if _, err := s.IdentityPolicies(ctx, "b", "r", "example.com"); !errors.Is(err, ErrNoIdentity) {
		t.Errorf("another account's identity: %v; want ErrNoIdentity", err)
	}
	if err := s.DeleteIdentityPolicy(ctx, "a", "r", "example.com", "p0"); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteIdentityPolicy(ctx, "a", "r", "example.com", "p0"); !errors.Is(err, ErrNotFound) || errors.Is(err, ErrNoIdentity) {
		t.Errorf("deleting a deleted policy: %v; want ErrNotFound", err)
	}
	// Deleting the identity deletes its policies: made again, it has none.
	if err := s.DeleteIdentity(ctx, "a", "r", "example.com"); err != nil {
		t.Fatal(err)
	}
	if err := s.PutIdentity(ctx, Identity{AccountID: "a", Region: "r", Name: "example.com"}); err != nil {
		t.Fatal(err)
	}
	if got, err := s.IdentityPolicies(ctx, "a", "r", "example.com"); err != nil || len(got) != 0 {
		t.Errorf("policies of an identity made again = %v, %v; want none", got, err)
	}
}

// A delegate's message keeps whose identity it was sent as in its events
// and its sent-message record (sending authorization).
func TestIdentityAccountKept(t *testing.T) {
	t.Parallel()
	s := openTest(t, t.TempDir())
	ctx := context.Background()
	ev := OutboxEvent{Key: "k", AccountID: "111122223333", IdentityAccountID: "444455556666", Region: "r",
		MessageID: "m", EventType: "Send", Record: []byte("{}"), Created: time.Unix(1, 0)}
	if err := s.AppendEvents(ctx, []OutboxEvent{ev, {Key: "k2", AccountID: "1", Region: "r", MessageID: "m2",
		EventType: "Send", Record: []byte("{}"), Created: time.Unix(1, 0)}}); err != nil {
		t.Fatal(err)
	}
	got, err := s.EventsAfter(ctx, 0, 10)
	if err != nil || len(got) != 2 || got[0].IdentityAccountID != "444455556666" || got[1].IdentityAccountID != "" {
		t.Fatalf("EventsAfter = %+v, %v", got, err)
	}
	if sent, err := s.SendEvent(ctx, "m"); err != nil || sent.IdentityAccountID != "444455556666" {
		t.Errorf("SendEvent = %+v, %v", sent, err)
	}
	if evs, err := s.MessageEvents(ctx, "111122223333", "r", "m"); err != nil || len(evs) != 1 || evs[0].IdentityAccountID != "444455556666" {
		t.Errorf("MessageEvents = %+v, %v", evs, err)
	}
}
