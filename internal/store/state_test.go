package store

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"
)

func TestAccountSettingsDefaultThenPut(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	s := openTest(t, dir)
	got, err := s.AccountSettings(ctx, "111111111111", "eu-west-1")
	if err != nil {
		t.Fatal(err)
	}
	if want := DefaultSettings("111111111111", "eu-west-1"); got != want {
		t.Errorf("unset settings = %+v; want defaults %+v", got, want)
	}
	put := AccountSettings{AccountID: "111111111111", Region: "eu-west-1", Production: true,
		SendingEnabled: false, MaxSendRate: 14, Max24HourSend: -1}
	if err := s.PutAccountSettings(ctx, put); err != nil {
		t.Fatal(err)
	}
	// An unset enforcement status is stored as SES's HEALTHY.
	if got, _ := s.AccountSettings(ctx, "111111111111", "eu-west-1"); got.EnforcementStatus != EnforcementHealthy {
		t.Errorf("enforcement status = %q, want HEALTHY", got.EnforcementStatus)
	}
	put.EnforcementStatus = EnforcementShutdown
	if err := s.PutAccountSettings(ctx, put); err != nil {
		t.Fatal(err)
	}
	put.MaxSendRate = 50 // a second put replaces the first
	if err := s.PutAccountSettings(ctx, put); err != nil {
		t.Fatal(err)
	}
	s.Close()
	s = openTest(t, dir)
	if got, _ := s.AccountSettings(ctx, "111111111111", "eu-west-1"); got != put {
		t.Errorf("after reopen settings = %+v; want %+v", got, put)
	}
	// Regions are separate namespaces.
	if got, _ := s.AccountSettings(ctx, "111111111111", "us-east-1"); got.Production {
		t.Error("production in eu-west-1 leaked into us-east-1")
	}
}

func TestIdentitiesCase(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := openTest(t, t.TempDir())
	const acct, region = "111111111111", "us-east-1"
	for _, id := range []Identity{
		{AccountID: acct, Region: region, Name: "Example.COM", Status: StatusSuccess},
		{AccountID: acct, Region: region, Name: "Alice@Example.com", Status: StatusSuccess},
		{AccountID: acct, Region: "eu-west-1", Name: "other.org", Type: Domain},
	} {
		if err := s.PutIdentity(ctx, id); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name     string
		region   string
		wantName string
		wantType IdentityType
		found    bool
	}{
		{"example.com", region, "example.com", Domain, true},
		{"EXAMPLE.com", region, "example.com", Domain, true},
		{"Alice@Example.com", region, "Alice@Example.com", EmailAddress, true},
		{"alice@example.com", region, "", "", false}, // addresses are case-sensitive
		{"other.org", region, "", "", false},         // another region
		{"other.org", "eu-west-1", "other.org", Domain, true},
	}
	for _, tt := range tests {
		got, err := s.Identity(ctx, acct, tt.region, tt.name)
		if !tt.found {
			if !errors.Is(err, ErrNotFound) {
				t.Errorf("Identity(%s, %s) err = %v; want ErrNotFound", tt.region, tt.name, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("Identity(%s, %s): %v", tt.region, tt.name, err)
			continue
		}
		if got.Name != tt.wantName || got.Type != tt.wantType || got.Created.IsZero() {
			t.Errorf("Identity(%s, %s) = %+v; want name %s type %s", tt.region, tt.name, got, tt.wantName, tt.wantType)
		}
	}
	if got, _ := s.Identity(ctx, acct, "eu-west-1", "other.org"); got.Status != StatusPending {
		t.Errorf("status without one = %q; want Pending", got.Status)
	}

	list, err := s.Identities(ctx, acct, region)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, id := range list {
		names = append(names, id.Name)
	}
	if want := []string{"Alice@Example.com", "example.com"}; !reflect.DeepEqual(names, want) {
		t.Errorf("Identities = %v; want %v", names, want)
	}

	if err := s.DeleteIdentity(ctx, acct, region, "EXAMPLE.COM"); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteIdentity(ctx, acct, region, "never.was"); err != nil {
		t.Errorf("DeleteIdentity(absent): %v", err)
	}
	if _, err := s.Identity(ctx, acct, region, "example.com"); !errors.Is(err, ErrNotFound) {
		t.Errorf("after delete err = %v; want ErrNotFound", err)
	}
}

func TestCaptureIdempotentAndFiltered(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	s := openTest(t, dir)
	t0 := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	msgs := []Captured{
		{ID: "m2", AccountID: "a", Region: "us-east-1", MailFrom: "Sender@Example.com",
			Recipients: []string{"Bob@Example.org", "carol@example.org"}, Raw: []byte("Subject: 2\r\n\r\nx"),
			Received: t0.Add(time.Second), Outcome: "delivered"},
		{ID: "m1", AccountID: "a", Region: "us-east-1", MailFrom: "sender@example.com",
			Recipients: []string{"bounce@simulator.amazonses.com"}, Raw: []byte("Subject: 1\r\n\r\ny"),
			Received: t0, Outcome: "bounce"},
	}
	if err := s.AddCaptured(ctx, msgs); err != nil {
		t.Fatal(err)
	}
	// A replay, with changed content, changes nothing.
	replay := msgs[0]
	replay.Raw = []byte("different")
	replay.Recipients = []string{"mallory@example.net"}
	if err := s.AddCaptured(ctx, []Captured{replay}); err != nil {
		t.Fatal(err)
	}
	s.Close()
	s = openTest(t, dir)

	all, err := s.Captured(ctx, CaptureFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 2 || all[0].ID != "m1" || all[1].ID != "m2" {
		t.Fatalf("Captured(all) = %+v; want m1, m2 (oldest first)", all)
	}
	if !reflect.DeepEqual(all[1], msgs[0]) {
		t.Errorf("m2 = %+v; want %+v", all[1], msgs[0])
	}

	tests := []struct {
		f    CaptureFilter
		want []string
	}{
		{CaptureFilter{ID: "m2"}, []string{"m2"}},
		{CaptureFilter{Email: "SENDER@example.com"}, []string{"m1", "m2"}},
		{CaptureFilter{Email: "bob@example.org"}, []string{"m2"}},
		{CaptureFilter{Email: "mallory@example.net"}, nil},
		{CaptureFilter{Email: "bob@example.org", ID: "m1"}, nil},
		{CaptureFilter{ID: "nope"}, nil},
	}
	for _, tt := range tests {
		got, err := s.Captured(ctx, tt.f)
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, m := range got {
			ids = append(ids, m.ID)
		}
		if !reflect.DeepEqual(ids, tt.want) {
			t.Errorf("Captured(%+v) = %v; want %v", tt.f, ids, tt.want)
		}
	}

	n, err := s.DeleteCaptured(ctx, CaptureFilter{Email: "bob@EXAMPLE.org"})
	if err != nil || n != 1 {
		t.Fatalf("DeleteCaptured(bob) = %d, %v; want 1", n, err)
	}
	var orphans int
	if err := s.reads.QueryRow(`SELECT COUNT(*) FROM capture_recipients WHERE message_id = 'm2'`).Scan(&orphans); err != nil || orphans != 0 {
		t.Errorf("recipients of a deleted message: %d (%v); want 0", orphans, err)
	}
	// Deleted, a message id may be captured again.
	if err := s.AddCaptured(ctx, msgs[:1]); err != nil {
		t.Fatal(err)
	}
	n, err = s.DeleteCaptured(ctx, CaptureFilter{})
	if err != nil || n != 2 {
		t.Errorf("DeleteCaptured(all) = %d, %v; want 2", n, err)
	}
}

func TestSendCounts(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := openTest(t, t.TempDir())
	t0 := time.Date(2026, 11, 22, 10, 0, 30, 0, time.UTC)
	add := func(at time.Time, n int64) {
		t.Helper()
		if err := s.AddSendCounts(ctx, []SendCount{
			{AccountID: "a", Region: "us-east-1", Minute: at, N: n},
			{AccountID: "a", Region: "eu-west-1", Minute: at, N: 1000},
		}); err != nil {
			t.Fatal(err)
		}
	}
	add(t0, 3)
	add(t0.Add(10*time.Second), 4) // same minute: summed
	add(t0.Add(2*time.Minute), 5)
	got, err := s.SendCountsSince(ctx, "a", "us-east-1", t0.Add(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	want := []SendCount{{AccountID: "a", Region: "us-east-1", Minute: time.Date(2026, 11, 22, 10, 2, 0, 0, time.UTC), N: 5}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("since +1m = %+v; want %+v", got, want)
	}
	got, _ = s.SendCountsSince(ctx, "a", "us-east-1", t0)
	if len(got) != 2 || got[0].N != 7 || !got[0].Minute.Equal(t0.Truncate(time.Minute)) {
		t.Errorf("since t0 = %+v; want 7 at 10:00, 5 at 10:02", got)
	}

	// Two days on, an add prunes what is older than 25 hours.
	add(t0.Add(48*time.Hour), 1)
	got, _ = s.SendCountsSince(ctx, "a", "us-east-1", time.Time{})
	if len(got) != 1 || got[0].N != 1 {
		t.Errorf("after a later add = %+v; want only the new counter", got)
	}
}

// TestCapturedByAccount: the console's mailbox sees one account's mail of
// one region, and Limit keeps the newest.
func TestCapturedByAccount(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := openTest(t, t.TempDir())
	t0 := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	var msgs []Captured
	for i, ar := range [][2]string{{"a", "r1"}, {"a", "r1"}, {"a", "r1"}, {"b", "r1"}, {"a", "r2"}} {
		msgs = append(msgs, Captured{ID: fmt.Sprint("m", i), AccountID: ar[0], Region: ar[1], MailFrom: "s@example.com",
			Recipients: []string{"x@example.org"}, Raw: []byte("Subject: s\r\n\r\nx"), Received: t0.Add(time.Duration(i) * time.Second),
			Outcome: "delivered"})
	}
	if err := s.AddCaptured(ctx, msgs); err != nil {
		t.Fatal(err)
	}
	ids := func(f CaptureFilter) []string {
		t.Helper()
		got, err := s.Captured(ctx, f)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, m := range got {
			out = append(out, m.ID)
			if len(m.Recipients) != 1 {
				t.Errorf("%s recipients = %v", m.ID, m.Recipients)
			}
		}
		return out
	}
	if got := ids(CaptureFilter{AccountID: "a", Region: "r1"}); !reflect.DeepEqual(got, []string{"m0", "m1", "m2"}) {
		t.Errorf("account a, r1 = %v", got)
	}
	if got := ids(CaptureFilter{AccountID: "a", Region: "r1", Limit: 2}); !reflect.DeepEqual(got, []string{"m1", "m2"}) {
		t.Errorf("account a, r1, newest 2 = %v", got)
	}
	if got := ids(CaptureFilter{AccountID: "b", Region: "r1", ID: "m0"}); got != nil {
		t.Errorf("account b sees a's m0: %v", got)
	}
	if got := ids(CaptureFilter{AccountID: "a", Region: "r1", Email: "X@example.org", Limit: 10}); len(got) != 3 {
		t.Errorf("account a by email = %v", got)
	}
	n, err := s.DeleteCaptured(ctx, CaptureFilter{AccountID: "a", Region: "r1"})
	if err != nil || n != 3 {
		t.Fatalf("DeleteCaptured(a, r1) = %d, %v; want 3", n, err)
	}
	if got := ids(CaptureFilter{}); !reflect.DeepEqual(got, []string{"m3", "m4"}) {
		t.Errorf("after deleting a's r1 mail: %v", got)
	}
}
