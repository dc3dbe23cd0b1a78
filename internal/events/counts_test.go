package events

import (
	"testing"

	"sesame/internal/outcome"
	"sesame/internal/spool"
	"sesame/internal/store"
)

// TestCounts: what each result adds to the send statistics, as SES counts.
func TestCounts(t *testing.T) {
	client := &spool.Envelope{Via: spool.ViaAPI, Recipients: []string{"a@x.test", "B@x.test", "success+1@simulator.amazonses.com"}}
	system := &spool.Envelope{Via: spool.ViaSystem, Recipients: []string{"a@x.test"}}
	for _, tc := range []struct {
		name string
		env  *spool.Envelope
		res  outcome.Result
		want store.SendCounts
	}{
		{"a send counts its real recipients", client, outcome.Result{Kind: outcome.Sent}, store.SendCounts{DeliveryAttempts: 2}},
		{"a hard bounce", client, outcome.Result{Kind: outcome.Bounced, Recipients: []string{"a@x.test"},
			BounceType: outcome.BouncePermanent, BounceSubType: outcome.SubNoEmail}, store.SendCounts{Bounces: 1, HardBounces: 1}},
		{"a soft bounce is a bounce, not a hard one", client, outcome.Result{Kind: outcome.Bounced, Recipients: []string{"a@x.test"},
			BounceType: outcome.BounceTransient, BounceSubType: outcome.SubMailboxFull}, store.SendCounts{Bounces: 1}},
		{"the account's suppression list is not a bounce SES counts", client, outcome.Result{Kind: outcome.Bounced,
			Recipients: []string{"a@x.test"}, BounceType: outcome.BouncePermanent, BounceSubType: outcome.SubOnAccountSuppressionList},
			store.SendCounts{}},
		{"the simulator's bounce", client, outcome.Result{Kind: outcome.Bounced, Recipients: []string{"bounce@simulator.amazonses.com"},
			BounceType: outcome.BouncePermanent, BounceSubType: outcome.SubGeneral}, store.SendCounts{}},
		{"a complaint", client, outcome.Result{Kind: outcome.Complained, Recipients: []string{"b@x.test"}}, store.SendCounts{Complaints: 1}},
		{"a delivery counts nothing", client, outcome.Result{Kind: outcome.Delivered, Recipients: []string{"a@x.test"}}, store.SendCounts{}},
		{"sesame's own mail counts nothing", system, outcome.Result{Kind: outcome.Sent}, store.SendCounts{}},
	} {
		if got := counts(tc.env, tc.res); got != tc.want {
			t.Errorf("%s: %+v, want %+v", tc.name, got, tc.want)
		}
	}
}
