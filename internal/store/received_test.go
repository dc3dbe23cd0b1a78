package store

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"time"
)

func TestReceivedMessageRoundTrip(t *testing.T) {
	t.Parallel()
	s := openTest(t, t.TempDir())
	ctx := context.Background()
	when := time.Date(2026, 12, 6, 10, 0, 0, 123456789, time.UTC)
	m := ReceivedMessage{ID: "r1", AccountID: "111122223333", Region: "eu-west-1", Received: when,
		MailFrom: "bob@sender.example", Recipients: []string{"a@in.example", "b@in.example"},
		From: "Bob <bob@sender.example>", Subject: "Hi", MessageID: "<x@sender.example>",
		Header: []byte("From: Bob <bob@sender.example>\r\nSubject: Hi\r\n"),
		SPF:    "PASS", DKIM: "GRAY", DMARC: "FAIL", Spam: "PASS", Virus: "DISABLED",
		Actions: []string{"S3 bucket/key", "Lambda failed: line one\nline two"}}
	if err := s.PutReceivedMessage(ctx, m); err != nil {
		t.Fatal(err)
	}
	got, err := s.ReceivedMessage(ctx, m.AccountID, m.Region, m.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, m) {
		t.Errorf("got  %+v\nwant %+v", got, m)
	}
	for _, other := range [][2]string{{"111122223333", "us-east-1"}, {"999999999999", "eu-west-1"}} {
		if _, err := s.ReceivedMessage(ctx, other[0], other[1], m.ID); !errors.Is(err, ErrNotFound) {
			t.Errorf("%v sees the message: %v", other, err)
		}
	}
	// An upsert: the actions of a later rule replace the record.
	m.Actions = append(m.Actions, "Bounce 550 5.1.1")
	if err := s.PutReceivedMessage(ctx, m); err != nil {
		t.Fatal(err)
	}
	if got, err := s.ReceivedMessage(ctx, m.AccountID, m.Region, m.ID); err != nil || !reflect.DeepEqual(got.Actions, m.Actions) {
		t.Errorf("after the upsert: %v, %v", got.Actions, err)
	}
	// A record without lists or header reads back with empty ones.
	bare := ReceivedMessage{ID: "r0", AccountID: "111122223333", Region: "eu-west-1", Received: when.Add(-time.Second)}
	if err := s.PutReceivedMessage(ctx, bare); err != nil {
		t.Fatal(err)
	}
	if got, err := s.ReceivedMessage(ctx, bare.AccountID, bare.Region, bare.ID); err != nil ||
		len(got.Recipients) != 0 || len(got.Actions) != 0 || len(got.Header) != 0 {
		t.Errorf("bare record: %+v, %v", got, err)
	}
}

func TestRecentReceivedMessages(t *testing.T) {
	t.Parallel()
	s := openTest(t, t.TempDir())
	ctx := context.Background()
	base := time.Date(2026, 12, 6, 10, 0, 0, 0, time.UTC)
	put := func(acct, region, id string, at time.Time) {
		t.Helper()
		if err := s.PutReceivedMessage(ctx, ReceivedMessage{ID: id, AccountID: acct, Region: region, Received: at}); err != nil {
			t.Fatal(err)
		}
	}
	put("A", "us-east-1", "a1", base)
	put("B", "us-east-1", "b1", base.Add(time.Second))
	put("A", "us-east-1", "a2", base.Add(2*time.Second))
	put("A", "eu-west-1", "a3", base.Add(3*time.Second))
	ids := func(acct, region string, limit int) []string {
		t.Helper()
		ms, err := s.RecentReceivedMessages(ctx, acct, region, limit)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, m := range ms {
			out = append(out, m.ID)
		}
		return out
	}
	for _, tc := range []struct {
		acct, region string
		limit        int
		want         []string
	}{
		{"A", "us-east-1", 10, []string{"a2", "a1"}},
		{"A", "us-east-1", 1, []string{"a2"}},
		{"", "us-east-1", 10, []string{"a2", "b1", "a1"}},
		{"A", "eu-west-1", 10, []string{"a3"}},
		{"C", "us-east-1", 10, nil},
		{"A", "us-east-1", 0, nil},
	} {
		if got := ids(tc.acct, tc.region, tc.limit); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%q %s limit %d: %v, want %v", tc.acct, tc.region, tc.limit, got, tc.want)
		}
	}
}

// A put prunes the records older than the retention, about once a minute
// of message time, not on every put.
func TestReceivedMessagesPruned(t *testing.T) {
	t.Parallel()
	s := openTest(t, t.TempDir())
	ctx := context.Background()
	base := time.Date(2026, 12, 6, 10, 0, 0, 0, time.UTC)
	put := func(id string, at time.Time) {
		t.Helper()
		if err := s.PutReceivedMessage(ctx, ReceivedMessage{ID: id, AccountID: "A", Region: "us-east-1", Received: at}); err != nil {
			t.Fatal(err)
		}
	}
	exists := func(id string) bool {
		t.Helper()
		_, err := s.ReceivedMessage(ctx, "A", "us-east-1", id)
		if err != nil && !errors.Is(err, ErrNotFound) {
			t.Fatal(err)
		}
		return err == nil
	}
	put("old", base)
	put("young", base.Add(ReceivedMessageRetention-10*time.Second))
	// Past the retention of "old", but within a minute of the last prune
	// (the put of "young"): no prune yet.
	put("m1", base.Add(ReceivedMessageRetention+time.Second))
	if !exists("old") {
		t.Error(`"old" pruned by a put within a minute of the last prune`)
	}
	put("m2", base.Add(ReceivedMessageRetention+time.Minute))
	for id, want := range map[string]bool{"old": false, "young": true, "m1": true, "m2": true} {
		if got := exists(id); got != want {
			t.Errorf("%s kept = %v, want %v", id, got, want)
		}
	}
}
