package admin

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"sesame/internal/store"
)

// account show says why an account is paused: its last evaluated rates.
func TestAccountShowReputation(t *testing.T) {
	t.Parallel()
	f := newFixture(t, 1)
	rep := store.Reputation{ReputationKey: store.ReputationKey{AccountID: f.ids[0], Region: "eu-west-1"},
		Sends: 200, HardBounces: 30, BounceRate: 0.15, Status: "PAUSED", Paused: true,
		PausedAt: time.Date(2026, 11, 2, 10, 0, 0, 0, time.UTC), EvaluatedAt: time.Date(2026, 11, 2, 10, 0, 0, 0, time.UTC)}
	if err := f.st.PutReputation(context.Background(), rep); err != nil {
		t.Fatal(err)
	}
	out, err := f.run("account", "show")
	if err != nil {
		t.Fatal(err)
	}
	var show struct {
		Reputation []map[string]any `json:"reputation"`
	}
	if err := json.Unmarshal([]byte(out), &show); err != nil {
		t.Fatal(err)
	}
	if len(show.Reputation) != 1 {
		t.Fatalf("reputation = %v", show.Reputation)
	}
	r := show.Reputation[0]
	if r["region"] != "eu-west-1" || r["configuration_set"] != "" || r["bounce_rate"] != 0.15 ||
		r["status"] != "PAUSED" || r["paused"] != true || r["sends"] != float64(200) {
		t.Errorf("reputation = %v", r)
	}
}
