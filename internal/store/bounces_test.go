package store

import (
	"context"
	"testing"
	"time"
)

func TestBounceOncePerMessageAndRecipient(t *testing.T) {
	s := openTest(t, t.TempDir())
	ctx := context.Background()
	b := Bounce{AccountID: "111122223333", Region: "us-east-1", MessageID: "m1", Recipient: "Nobody@Example.com",
		Type: "Permanent", SubType: "NoEmail", Status: "5.1.1", Diagnostic: "smtp; 550 5.1.1 no such user",
		RemoteMTA: "mx.example.com", FeedbackID: "f1", Created: time.Unix(100, 0)}
	for i := range 2 {
		b2 := b
		if i == 1 {
			// The same recipient, another case, other details: the first stands.
			b2.Recipient, b2.SubType = "nobody@example.com", "General"
		}
		if err := s.RecordOutcomes(ctx, Outcomes{Bounces: []Bounce{b2}}); err != nil {
			t.Fatalf("recording bounce #%d: %v", i, err)
		}
	}
	got, err := s.Bounces(ctx, b.AccountID, b.Region, "m1", 0)
	if err != nil || len(got) != 1 {
		t.Fatalf("Bounces = %v, %v", got, err)
	}
	if g := got[0]; g.Recipient != b.Recipient || g.SubType != "NoEmail" || !g.Created.Equal(b.Created) {
		t.Errorf("bounce = %+v", g)
	}
	if other, _ := s.Bounces(ctx, "999988887777", b.Region, "", 0); len(other) != 0 {
		t.Errorf("another account sees %v", other)
	}
}

func TestDeliveryDelayKeepsFirstAndUpdatesLast(t *testing.T) {
	s := openTest(t, t.TempDir())
	ctx := context.Background()
	d := DeliveryDelay{AccountID: "111122223333", Region: "us-east-1", MessageID: "m1", Recipient: "u@example.com",
		DelayType: "RecipientServerError", Status: "4.7.1", Attempts: 3,
		First: time.Unix(100, 0), Last: time.Unix(100, 0), Expires: time.Unix(5000, 0)}
	if err := s.RecordOutcomes(ctx, Outcomes{Delays: []DeliveryDelay{d}}); err != nil {
		t.Fatal(err)
	}
	d.First, d.Last, d.Attempts, d.DelayType = time.Unix(200, 0), time.Unix(200, 0), 4, "TransientCommunicationFailure"
	if err := s.RecordOutcomes(ctx, Outcomes{Delays: []DeliveryDelay{d}}); err != nil {
		t.Fatal(err)
	}
	got, err := s.DeliveryDelays(ctx, d.AccountID, d.Region, "", 0)
	if err != nil || len(got) != 1 {
		t.Fatalf("DeliveryDelays = %v, %v", got, err)
	}
	if g := got[0]; !g.First.Equal(time.Unix(100, 0)) || !g.Last.Equal(time.Unix(200, 0)) || g.Attempts != 4 || g.DelayType != "TransientCommunicationFailure" {
		t.Errorf("delay = %+v", g)
	}
}

// A bounce's follow-ups are pending from AddBounce until BouncesFollowedUp:
// a replayed AddBounce neither adds a second record nor settles the first.
func TestPendingBounces(t *testing.T) {
	s := openTest(t, t.TempDir())
	ctx := context.Background()
	add := func(msg, rcpt string) {
		t.Helper()
		if err := s.RecordOutcomes(ctx, Outcomes{Bounces: []Bounce{{AccountID: "111122223333", Region: "us-east-1", MessageID: msg, Recipient: rcpt,
			Type: "Permanent", SubType: "General", Status: "5.0.0", Reply: "550 go away", FeedbackID: "f-" + rcpt,
			Created: time.Unix(100, 0)}}}); err != nil {
			t.Fatal(err)
		}
	}
	add("m1", "B@x.test")
	add("m1", "a@x.test")
	add("m2", "a@x.test")
	pending := func(msg string) []string {
		t.Helper()
		bs, err := s.PendingBounces(ctx, msg)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, b := range bs {
			if !b.DSNPending || b.Reply != "550 go away" || b.AccountID != "111122223333" || b.FeedbackID != "f-"+b.Recipient {
				t.Errorf("pending bounce = %+v", b)
			}
			out = append(out, b.Recipient)
		}
		return out
	}
	if got := pending("m1"); len(got) != 2 || got[0] != "a@x.test" || got[1] != "B@x.test" {
		t.Fatalf("pending m1 = %v", got)
	}
	if err := s.BouncesFollowedUp(ctx, "m1", []string{"b@X.test"}); err != nil {
		t.Fatal(err)
	}
	add("m1", "b@x.test") // a replay of the settled one
	if got := pending("m1"); len(got) != 1 || got[0] != "a@x.test" {
		t.Fatalf("pending m1 after B was followed up = %v", got)
	}
	if got := pending("m2"); len(got) != 1 {
		t.Fatalf("another message's bounce was settled: %v", got)
	}
	if err := s.BouncesFollowedUp(ctx, "m1", nil); err != nil {
		t.Fatal(err)
	}
	all, _ := s.Bounces(ctx, "111122223333", "us-east-1", "m1", 0)
	if len(all) != 2 || all[0].DSNPending == all[1].DSNPending {
		t.Errorf("bounces of m1 = %+v", all)
	}
}
