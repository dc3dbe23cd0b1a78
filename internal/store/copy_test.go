package store

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"sesame/internal/pgtest"
	"sesame/internal/seserr"
)

// TestCopyInto fills an embedded database through the store's methods,
// copies it into a new PostgreSQL database and reads it back there: every
// table's rows, the sealed secrets (the target has the same key), and the
// outbox's sequence going on after the copied events.
func TestCopyInto(t *testing.T) {
	if !onPostgres {
		// One SQLite → PostgreSQL copy is the whole test: it runs in the
		// PostgreSQL pass, where a server is known to be there.
		t.Skip("copies SQLite into PostgreSQL: runs in the PostgreSQL pass")
	}
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	src, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()

	acct, key, err := src.CreateAccount(ctx)
	if err != nil {
		t.Fatal(err)
	}
	other, _, err := src.CreateAccount(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := src.CreateAccessKey(ctx, other.ID); err != nil {
		t.Fatal(err)
	}
	const region = "us-east-1"
	if err := src.CreateIdentity(ctx, IdentityDetails{Identity: Identity{AccountID: acct.ID, Region: region, Name: "b.example"},
		DKIM: DKIM{Origin: DKIMOriginAWS, Tokens: []string{"t1", "t2", "t3"}, PrivateKey: []byte("dkim-private-key")}}, MaxIdentities); err != nil {
		t.Fatal(err)
	}
	subject := "Hello {{name}}"
	if err := src.CreateTemplate(ctx, Template{AccountID: acct.ID, Region: region, Name: "Welcome", Subject: &subject}, 10); err != nil {
		t.Fatal(err)
	}
	if err := src.PutSuppressedDestination(ctx, SuppressedDestination{AccountID: acct.ID, Region: region,
		Address: "gone@example.net", Reason: ReasonBounce}); err != nil {
		t.Fatal(err)
	}
	if err := src.CreateConfigurationSet(ctx, ConfigurationSet{AccountID: acct.ID, Region: region, Name: "marketing"}, 0); err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC().Truncate(time.Minute)
	var evs []OutboxEvent
	for i := range 3 {
		evs = append(evs, OutboxEvent{Key: fmt.Sprintf("k%d", i), AccountID: acct.ID, Region: region, MessageID: "m",
			EventType: "Send", Record: []byte(`{"eventType":"Send"}`), Created: now})
	}
	if err := src.AppendEvents(ctx, evs); err != nil {
		t.Fatal(err)
	}
	if err := src.MoveEventCursor(ctx, CursorMove{Name: "sns", From: 0, To: 2}); err != nil {
		t.Fatal(err)
	}
	// More rows than one INSERT takes: full batches and a remainder.
	var sends []SendCount
	for i := range copyBatch*2 + 17 {
		sends = append(sends, SendCount{AccountID: acct.ID, Region: region, Minute: now.Add(-time.Duration(i) * time.Minute), N: 7})
	}
	if err := src.AddSendCounts(ctx, sends); err != nil {
		t.Fatal(err)
	}

	// The target shares the data dir, hence secret.key, as the command
	// opens it.
	dst, err := OpenWith(ctx, Options{DataDir: dir, URL: pgtest.NewDatabase(t, 4)})
	if err != nil {
		t.Fatal(err)
	}
	defer dst.Close()
	counts, err := CopyInto(ctx, src, dst)
	if err != nil {
		t.Fatal(err)
	}

	for _, table := range []string{"accounts", "access_keys", "identities", "templates", "suppressed_destinations",
		"configuration_sets", "event_outbox", "send_counts", "sns_delivery_seq"} {
		if counts[table] == 0 {
			t.Errorf("%s: no rows copied", table)
		}
	}
	for _, table := range notCopied {
		if _, ok := counts[table]; ok {
			t.Errorf("%s copied; the target keeps its own", table)
		}
	}
	for table, n := range counts {
		var inSrc, inDst int64
		q := `SELECT COUNT(*) FROM ` + quoteIdent(table)
		if err := src.reads.QueryRowContext(ctx, q).Scan(&inSrc); err != nil {
			t.Fatal(err)
		}
		if err := dst.reads.QueryRowContext(ctx, q).Scan(&inDst); err != nil {
			t.Fatal(err)
		}
		if n != inSrc || inDst != inSrc {
			t.Errorf("%s: copied %d, source has %d, target %d", table, n, inSrc, inDst)
		}
	}

	got, err := dst.AccessKey(ctx, key.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Secret != key.Secret || got.AccountID != acct.ID || !got.Active {
		t.Errorf("access key in the target: %+v, want secret %q of %s", got, key.Secret, acct.ID)
	}
	id, err := dst.IdentityDetails(ctx, acct.ID, region, "b.example")
	if err != nil {
		t.Fatal(err)
	}
	if string(id.DKIM.PrivateKey) != "dkim-private-key" || len(id.DKIM.Tokens) != 3 {
		t.Errorf("identity's DKIM in the target: %+v", id.DKIM)
	}
	tmpl, err := dst.Template(ctx, acct.ID, region, "Welcome")
	if err != nil {
		t.Fatal(err)
	}
	if tmpl.Subject == nil || *tmpl.Subject != subject {
		t.Errorf("template subject in the target: %v", tmpl.Subject)
	}
	if n := counts["send_counts"]; n != copyBatch*2+17 {
		t.Errorf("send_counts: copied %d rows, want %d", n, copyBatch*2+17)
	}
	if got, err := dst.SendCountsSince(ctx, acct.ID, region, now.Add(-time.Hour)); err != nil || len(got) != 61 || got[0].N != 7 {
		t.Errorf("send counts of the last hour in the target: %d rows, %v", len(got), err)
	}
	if cur, err := dst.EventCursor(ctx, "sns"); err != nil || cur != 2 {
		t.Errorf("event cursor in the target: %d, %v", cur, err)
	}
	// The outbox's identity sequence goes on after the copied rows.
	if err := dst.AppendEvents(ctx, []OutboxEvent{{Key: "after", AccountID: acct.ID, Region: region, MessageID: "m2",
		EventType: "Send", Record: []byte(`{}`), Created: now}}); err != nil {
		t.Fatal(err)
	}
	if last, err := dst.LastEventSeq(ctx); err != nil || last != 4 {
		t.Errorf("last event seq after one more append: %d, %v; want 4", last, err)
	}

	if _, err := CopyInto(ctx, src, dst); !errors.Is(err, seserr.MigrateTargetNotEmpty) {
		t.Errorf("second copy: %v, want %v", err, seserr.MigrateTargetNotEmpty)
	}
	if _, err := CopyInto(ctx, dst, src); !errors.Is(err, seserr.MigrateSourceNotEmbedded) {
		t.Errorf("copy from PostgreSQL: %v, want %v", err, seserr.MigrateSourceNotEmbedded)
	}
}
