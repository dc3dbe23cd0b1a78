package store

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestIdentityDetailsRoundTrip(t *testing.T) {
	dir := t.TempDir()
	s := openTest(t, dir)
	ctx := context.Background()
	now := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	key := bytes.Repeat([]byte{0x42}, 600)
	want := IdentityDetails{
		Identity:      Identity{AccountID: "111122223333", Region: "us-east-1", Name: "Example.COM", Created: now},
		VerifyStarted: now,
		DomainToken:   "dGhpcyBpcyBhIHRva2Vu",
		DKIM: DKIM{Tokens: []string{"aaa", "bbb", "ccc"}, Origin: DKIMOriginAWS, SigningEnabled: true,
			Status: StatusPending, KeyLength: "RSA_2048_BIT", NextKeyLength: "RSA_2048_BIT", PrivateKey: key, KeyGenerated: now},
		MailFrom:           MailFrom{Domain: "bounce.example.com", Behavior: MailFromReject, Status: StatusPending, Started: now},
		FeedbackForwarding: true,
	}
	if err := s.CreateIdentity(ctx, want, MaxIdentities); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateIdentity(ctx, want, MaxIdentities); !errors.Is(err, ErrExists) {
		t.Fatalf("second create: %v, want ErrExists", err)
	}
	want.Name = "example.com"
	want.Type = Domain
	want.Status = StatusPending
	want.Identity.MailFromDomain, want.Identity.MailFromRejects = "bounce.example.com", true
	got, err := s.IdentityDetails(ctx, "111122223333", "us-east-1", "EXAMPLE.com")
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got  %+v\nwant %+v", got, want)
	}
	// The old API still sees it.
	id, err := s.Identity(ctx, "111122223333", "us-east-1", "example.com")
	if err != nil || id.Status != StatusPending || id.Type != Domain || id.MailFromDomain != "bounce.example.com" || !id.MailFromRejects {
		t.Fatalf("Identity = %+v, %v", id, err)
	}

	if !onPostgres { // (PostgreSQL keeps no file of its own here)
		// The DKIM key is sealed at rest: the database file never holds it.
		raw, err := os.ReadFile(filepath.Join(dir, dbFile))
		if err != nil {
			t.Fatal(err)
		}
		wal, _ := os.ReadFile(filepath.Join(dir, dbFile+"-wal"))
		if bytes.Contains(raw, key[:64]) || bytes.Contains(wal, key[:64]) {
			t.Fatal("DKIM private key stored in the clear")
		}
	}

	got, err = s.UpdateIdentity(ctx, "111122223333", "us-east-1", "example.com", func(d *IdentityDetails) error {
		d.Status = StatusSuccess
		d.DKIM.Status = StatusSuccess
		d.DKIM.Tokens = nil
		d.FeedbackForwarding = false
		d.MailFrom.Status = StatusSuccess
		return nil
	})
	if err != nil || got.Status != StatusSuccess {
		t.Fatalf("update: %+v %v", got, err)
	}
	got, _ = s.IdentityDetails(ctx, "111122223333", "us-east-1", "example.com")
	if ids, _ := s.Identities(ctx, "111122223333", "us-east-1"); len(ids) != 1 || ids[0].MailFromRejects || ids[0].MailFromDomain != "bounce.example.com" {
		t.Fatalf("Identities after MAIL FROM verified: %+v", ids)
	}
	if got.DKIM.Status != StatusSuccess || got.DKIM.Tokens != nil || got.FeedbackForwarding || !bytes.Equal(got.DKIM.PrivateKey, key) {
		t.Fatalf("after update: %+v", got)
	}
	if _, err := s.UpdateIdentity(ctx, "111122223333", "us-east-1", "nope.com", func(*IdentityDetails) error { return nil }); !errors.Is(err, ErrNotFound) {
		t.Fatalf("update absent: %v", err)
	}
}

func TestIdentityDetailsDefaultsForPutIdentity(t *testing.T) {
	s := openTest(t, t.TempDir())
	ctx := context.Background()
	if err := s.PutIdentity(ctx, Identity{AccountID: "1", Region: "r-1", Name: "A@x.com", Status: StatusSuccess}); err != nil {
		t.Fatal(err)
	}
	d, err := s.IdentityDetails(ctx, "1", "r-1", "A@x.com")
	if err != nil {
		t.Fatal(err)
	}
	if d.DKIM.Status != StatusNotStarted || !d.FeedbackForwarding || d.MailFrom.Behavior != MailFromUseDefault || d.MailFrom.Status != "" {
		t.Fatalf("defaults: %+v", d)
	}
}

func TestIdentityLimitAndTokenLookup(t *testing.T) {
	s := openTest(t, t.TempDir())
	ctx := context.Background()
	for i, name := range []string{"a@x.com", "b@x.com"} {
		d := IdentityDetails{Identity: Identity{AccountID: "1", Region: "r-1", Name: name}, VerifyTokenHash: "h" + name}
		if err := s.CreateIdentity(ctx, d, 2); err != nil {
			t.Fatalf("create %d: %v", i, err)
		}
	}
	err := s.CreateIdentity(ctx, IdentityDetails{Identity: Identity{AccountID: "1", Region: "r-1", Name: "c@x.com"}}, 2)
	if !errors.Is(err, ErrLimitExceeded) {
		t.Fatalf("third: %v, want ErrLimitExceeded", err)
	}
	// Another region has its own limit.
	if err := s.CreateIdentity(ctx, IdentityDetails{Identity: Identity{AccountID: "1", Region: "r-2", Name: "c@x.com"}}, 2); err != nil {
		t.Fatal(err)
	}
	d, err := s.IdentityByVerifyToken(ctx, "hb@x.com")
	if err != nil || d.Name != "b@x.com" {
		t.Fatalf("by token: %+v %v", d, err)
	}
	if _, err := s.IdentityByVerifyToken(ctx, ""); !errors.Is(err, ErrNotFound) {
		t.Fatalf("empty token: %v", err)
	}
	list, err := s.IdentitiesInProgress(ctx)
	if err != nil || len(list) != 3 {
		t.Fatalf("in progress: %d %v", len(list), err)
	}
	if err := s.DeleteIdentity(ctx, "1", "r-1", "b@x.com"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.IdentityByVerifyToken(ctx, "hb@x.com"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("deleted: %v", err)
	}
}

func TestIdentityNames(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ addr, want string }{
		{"Me@Mail.Example.COM", "Me@Mail.Example.COM Me@mail.example.com mail.example.com example.com"},
		{"me+news@example.com", "me+news@example.com me@example.com example.com"},
		{"a@localhost", "a@localhost"},
	} {
		if got := strings.Join(IdentityNames(tc.addr), " "); got != tc.want {
			t.Errorf("IdentityNames(%q) = %q, want %q", tc.addr, got, tc.want)
		}
	}
	for _, bad := range []string{"", "@x.com", "x@", "nodomain"} {
		if c := IdentityNames(bad); c != nil {
			t.Errorf("IdentityNames(%q) = %q", bad, c)
		}
	}
}
