package store

import (
	"context"
	"reflect"
	"testing"
	"time"
)

func TestSentMessagesKeptOncePrunedByAge(t *testing.T) {
	s := openTest(t, t.TempDir())
	ctx := context.Background()
	old := SentMessage{MessageID: "m-old", AccountID: "111122223333", Region: "us-east-1", Source: "a@example.com",
		BounceDomain: "Bounce.Example.NET", Created: time.Unix(1000, 0)}
	young := SentMessage{MessageID: "m-young", AccountID: "111122223333", Region: "eu-west-1", Source: "b@example.com",
		Recipients: []string{"x@example.net", "y@example.org"}, FeedbackTo: "fb@example.com", ConfigurationSet: "cs", BounceDomain: "mail.example.com", Created: time.Unix(5000, 0),
		IdentityAccountID: "444455556666"}
	if err := s.RecordOutcomes(ctx, Outcomes{Sent: []SentMessage{old, young}}); err != nil {
		t.Fatal(err)
	}
	// A replay records the same message again: the first record stays.
	again := young
	again.Source = "changed@example.com"
	if err := s.RecordOutcomes(ctx, Outcomes{Sent: []SentMessage{again}}); err != nil {
		t.Fatal(err)
	}
	got, ok, err := s.GetSentMessage(ctx, "m-young")
	young.Created = young.Created.UTC()
	if err != nil || !ok || !reflect.DeepEqual(got, young) {
		t.Fatalf("GetSentMessage = %+v, %v, %v; want %+v", got, ok, err, young)
	}
	if got, _, _ := s.GetSentMessage(ctx, "m-old"); got.BounceDomain != "bounce.example.net" || got.Recipients != nil {
		t.Errorf("bounce domain kept as %q (want it lower-cased), recipients %q", got.BounceDomain, got.Recipients)
	}
	// Several chunks: two more old records, one statement per record.
	for _, id := range []string{"m-old2", "m-old3"} {
		o := old
		o.MessageID = id
		if err := s.RecordOutcomes(ctx, Outcomes{Sent: []SentMessage{o}}); err != nil {
			t.Fatal(err)
		}
	}
	defer func(n int64) { pruneChunk = n }(pruneChunk)
	pruneChunk = 1
	if n, err := s.PruneSentMessages(ctx, time.Unix(2000, 0)); err != nil || n != 3 {
		t.Fatalf("PruneSentMessages = %d, %v; want 3", n, err)
	}
	if _, ok, err := s.GetSentMessage(ctx, "m-old"); ok || err != nil {
		t.Errorf("pruned message still found (%v, %v)", ok, err)
	}
	if _, ok, _ := s.GetSentMessage(ctx, "m-young"); !ok {
		t.Error("young message pruned")
	}
}

func TestAddComplaintOncePerMessageAndRecipient(t *testing.T) {
	s := openTest(t, t.TempDir())
	ctx := context.Background()
	c := Complaint{AccountID: "111122223333", Region: "us-east-1", MessageID: "m1", Recipient: "Someone@Example.com",
		FeedbackType: "abuse", UserAgent: "SomeISP/1.0", FeedbackID: "f1", Created: time.Unix(100, 0)}
	for i, want := range []bool{true, false} {
		c2 := c
		if i == 1 {
			c2.Recipient = "someone@example.com"
			c2.FeedbackType = "other"
		}
		added, err := s.AddComplaint(ctx, c2)
		if err != nil || added != want {
			t.Fatalf("AddComplaint #%d = %v, %v; want %v", i, added, err, want)
		}
	}
	got, err := s.Complaints(ctx, c.AccountID, c.Region, "", 0)
	if err != nil || len(got) != 1 {
		t.Fatalf("Complaints = %v, %v", got, err)
	}
	if g := got[0]; g.Recipient != c.Recipient || g.FeedbackType != "abuse" || !g.Arrival.IsZero() {
		t.Errorf("complaint = %+v", g)
	}
}
