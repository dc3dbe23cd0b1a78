package spool

import (
	"encoding/json"
	"reflect"
	"testing"
)

// A spool written before Meta had typed fields keeps its configuration
// set, tags and feedback address after an upgrade.
func TestEnvelopeReadsOldAttrs(t *testing.T) {
	old := `{"id":"m1","account":"123456789012","region":"us-east-1","mail_from":"a@x.com","rcpt":["b@y.com"],` +
		`"received":"2026-11-22T10:00:00Z","via":"api","attrs":{"configuration_set":"cs","template":"T",` +
		`"feedback_to":"bounces@x.com","tags":"[{\"Name\":\"k\",\"Value\":\"v\"}]"}}`
	var env Envelope
	if err := json.Unmarshal([]byte(old), &env); err != nil {
		t.Fatal(err)
	}
	want := Meta{ConfigurationSet: "cs", Template: "T", FeedbackTo: "bounces@x.com", Tags: []Tag{{"k", "v"}}}
	if !reflect.DeepEqual(env.Meta, want) || env.ID != "m1" || env.Via != ViaAPI || len(env.Recipients) != 1 {
		t.Fatalf("decoded %+v", env)
	}
	// And the new form round-trips.
	b, err := json.Marshal(&env)
	if err != nil {
		t.Fatal(err)
	}
	var back Envelope
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, env) {
		t.Fatalf("round trip: %+v != %+v", back, env)
	}
}
