package store

import (
	"context"
	"testing"
	"time"
)

func TestAddBounceOncePerMessageAndRecipient(t *testing.T) {
	s := openTest(t, t.TempDir())
	ctx := context.Background()
	b := Bounce{AccountID: "111122223333", Region: "us-east-1", MessageID: "m1", Recipient: "Nobody@Example.com",
		Type: "Permanent", SubType: "NoEmail", Status: "5.1.1", Diagnostic: "smtp; 550 5.1.1 no such user",
		RemoteMTA: "mx.example.com", FeedbackID: "f1", Created: time.Unix(100, 0)}
	for i, want := range []bool{true, false} {
		b2 := b
		if i == 1 {
			b2.Recipient = "nobody@example.com" // the same recipient, another case
		}
		added, err := s.AddBounce(ctx, b2)
		if err != nil || added != want {
			t.Fatalf("AddBounce #%d = %v, %v; want %v", i, added, err, want)
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
	if err := s.PutDeliveryDelay(ctx, d); err != nil {
		t.Fatal(err)
	}
	d.First, d.Last, d.Attempts, d.DelayType = time.Unix(200, 0), time.Unix(200, 0), 4, "TransientCommunicationFailure"
	if err := s.PutDeliveryDelay(ctx, d); err != nil {
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
