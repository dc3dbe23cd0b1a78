package store

import (
	"context"
	"testing"
	"time"
)

// The evaluator's writes change one setting each and leave what an
// operator set alone, also for an account with no settings row yet.
func TestSetSendingAndEnforcementKeepOtherSettings(t *testing.T) {
	s := openTest(t, t.TempDir())
	ctx := context.Background()
	if err := s.SetAccountSendingEnabled(ctx, "a", "us-east-1", false); err != nil {
		t.Fatal(err)
	}
	got, err := s.AccountSettings(ctx, "a", "us-east-1")
	if err != nil {
		t.Fatal(err)
	}
	want := DefaultSettings("a", "us-east-1")
	want.SendingEnabled = false
	if got != want {
		t.Errorf("fresh account paused: %+v, want %+v", got, want)
	}
	set := AccountSettings{AccountID: "b", Region: "eu-west-1", Production: true, SendingEnabled: true,
		MaxSendRate: 50, Max24HourSend: -1, EnforcementStatus: EnforcementHealthy}
	if err := s.PutAccountSettings(ctx, set); err != nil {
		t.Fatal(err)
	}
	if err := s.SetEnforcementStatus(ctx, "b", "eu-west-1", EnforcementProbation); err != nil {
		t.Fatal(err)
	}
	if err := s.SetAccountSendingEnabled(ctx, "b", "eu-west-1", false); err != nil {
		t.Fatal(err)
	}
	got, err = s.AccountSettings(ctx, "b", "eu-west-1")
	if err != nil {
		t.Fatal(err)
	}
	set.SendingEnabled, set.EnforcementStatus = false, EnforcementProbation
	if got != set {
		t.Errorf("settings %+v, want %+v", got, set)
	}
}

func TestReputationRoundTrip(t *testing.T) {
	s := openTest(t, t.TempDir())
	ctx := context.Background()
	at := time.Date(2026, 11, 2, 10, 0, 0, 0, time.UTC)
	r := Reputation{ReputationKey: ReputationKey{AccountID: "a", Region: "us-east-1", ConfigurationSet: "cs"},
		Sends: 10, HardBounces: 2, Complaints: 1, BounceRate: 0.2, ComplaintRate: 0.1, Status: "PAUSED",
		Paused: true, PausedAt: at, EvaluatedAt: at}
	if err := s.PutReputation(ctx, r); err != nil {
		t.Fatal(err)
	}
	r.Paused, r.CountsFrom = false, at.Add(15*time.Minute)
	if err := s.PutReputation(ctx, r); err != nil {
		t.Fatal(err)
	}
	got, err := s.Reputations(ctx, "a")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0] != r {
		t.Fatalf("reputations %+v, want [%+v]", got, r)
	}
	if other, err := s.Reputations(ctx, "b"); err != nil || len(other) != 0 {
		t.Fatalf("another account's: %+v, %v", other, err)
	}
}
