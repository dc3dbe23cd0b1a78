package store

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"
)

func TestEventDestinations(t *testing.T) {
	t.Parallel()
	s := openTest(t, t.TempDir())
	ctx := context.Background()
	for _, name := range []string{"cs", "other"} {
		if err := s.CreateConfigurationSet(ctx, ConfigurationSet{AccountID: "a", Region: "r", Name: name}, 0); err != nil {
			t.Fatal(err)
		}
	}
	created := time.Date(2026, 11, 23, 9, 0, 0, 1, time.UTC)
	sns := EventDestination{AccountID: "a", Region: "r", ConfigurationSet: "cs", Name: "sns", Enabled: true,
		MatchingEventTypes: []string{"SEND", "BOUNCE"}, SNSTopicARN: "arn:aws:sns:r:a:t", Created: created}
	cw := EventDestination{AccountID: "a", Region: "r", ConfigurationSet: "cs", Name: "cw", MatchingEventTypes: []string{"OPEN"},
		Other:   OtherDestinations{CloudWatch: &CloudWatchDestination{DimensionConfigurations: []CloudWatchDimension{{"d", "MESSAGE_TAG", "x"}}}},
		Created: created}
	for _, d := range []EventDestination{sns, cw} {
		if err := s.CreateEventDestination(ctx, d, 3); err != nil {
			t.Fatal(err)
		}
	}
	got, err := s.EventDestinations(ctx, "a", "r", "cs")
	if err != nil || !reflect.DeepEqual(got, []EventDestination{cw, sns}) {
		t.Fatalf("got %+v %v", got, err)
	}
	if !sns.Matches("BOUNCE") || sns.Matches("OPEN") || cw.Matches("OPEN") {
		t.Error("Matches")
	}

	for _, tc := range []struct {
		name string
		d    EventDestination
		want error
	}{
		{"duplicate", sns, ErrExists},
		{"missing set", EventDestination{AccountID: "a", Region: "r", ConfigurationSet: "nope", Name: "x"}, ErrNotFound},
		{"other region", EventDestination{AccountID: "a", Region: "r2", ConfigurationSet: "cs", Name: "x"}, ErrNotFound},
	} {
		if err := s.CreateEventDestination(ctx, tc.d, 3); !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.want)
		}
	}
	if err := s.CreateEventDestination(ctx, EventDestination{AccountID: "a", Region: "r", ConfigurationSet: "cs", Name: "third"}, 3); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateEventDestination(ctx, EventDestination{AccountID: "a", Region: "r", ConfigurationSet: "cs", Name: "fourth"}, 3); !errors.Is(err, ErrLimit) {
		t.Errorf("over the limit: %v", err)
	}
	// The limit is per set.
	for i := range 3 {
		if err := s.CreateEventDestination(ctx, EventDestination{AccountID: "a", Region: "r", ConfigurationSet: "other", Name: fmt.Sprint(i)}, 3); err != nil {
			t.Fatal(err)
		}
	}

	sns.Enabled, sns.MatchingEventTypes, sns.SNSTopicARN = false, []string{"COMPLAINT"}, "arn:aws:sns:r:a:u"
	if err := s.UpdateEventDestination(ctx, sns); err != nil {
		t.Fatal(err)
	}
	if err := s.UpdateEventDestination(ctx, EventDestination{AccountID: "a", Region: "r", ConfigurationSet: "cs", Name: "gone"}); !errors.Is(err, ErrNotFound) {
		t.Errorf("update of a missing one: %v", err)
	}
	got, _ = s.EventDestinations(ctx, "a", "r", "cs")
	if !reflect.DeepEqual(got[1], sns) {
		t.Errorf("after update %+v, want %+v", got[1], sns)
	}
	if err := s.DeleteEventDestination(ctx, "a", "r", "cs", "cw"); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteEventDestination(ctx, "a", "r", "cs", "cw"); !errors.Is(err, ErrNotFound) {
		t.Errorf("second delete: %v", err)
	}
	if err := s.DeleteConfigurationSet(ctx, "a", "r", "cs"); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.EventDestinations(ctx, "a", "r", "cs"); len(got) != 0 {
		t.Errorf("the set's destinations outlived it: %+v", got)
	}
	if got, _ := s.EventDestinations(ctx, "a", "r", "other"); len(got) != 3 {
		t.Errorf("another set's destinations went too: %+v", got)
	}
}

func TestIdentityNotifications(t *testing.T) {
	t.Parallel()
	s := openTest(t, t.TempDir())
	ctx := context.Background()
	if err := s.PutIdentity(ctx, Identity{AccountID: "a", Region: "r", Name: "Example.COM"}); err != nil {
		t.Fatal(err)
	}
	n, err := s.IdentityNotifications(ctx, "a", "r", "example.com")
	if err != nil || n != (IdentityNotifications{ForwardingEnabled: true}) {
		t.Fatalf("defaults: %+v %v", n, err)
	}
	want := IdentityNotifications{BounceTopic: "b", ComplaintTopic: "c", DeliveryTopic: "d", HeadersInDelivery: true, ConfigurationSet: "cs"}
	if _, err := s.UpdateIdentityNotifications(ctx, "a", "r", "EXAMPLE.com", func(n *IdentityNotifications) error { *n = want; return nil }); err != nil {
		t.Fatal(err)
	}
	if n, _ := s.IdentityNotifications(ctx, "a", "r", "example.com"); n != want {
		t.Errorf("got %+v, want %+v", n, want)
	}
	if d, _ := s.IdentityDetails(ctx, "a", "r", "example.com"); d.FeedbackForwarding {
		t.Error("IdentityDetails.FeedbackForwarding is not the same setting")
	}
	if id, _ := s.Identity(ctx, "a", "r", "example.com"); id.ConfigurationSet != "cs" {
		t.Errorf("Identity.ConfigurationSet = %q", id.ConfigurationSet)
	}
	stop := errors.New("stop")
	if _, err := s.UpdateIdentityNotifications(ctx, "a", "r", "example.com", func(n *IdentityNotifications) error { n.BounceTopic = ""; return stop }); !errors.Is(err, stop) {
		t.Errorf("fn's error: %v", err)
	}
	if n, _ := s.IdentityNotifications(ctx, "a", "r", "example.com"); n.BounceTopic != "b" {
		t.Error("an aborted update was written")
	}
	if _, err := s.IdentityNotifications(ctx, "a", "r", "missing.com"); !errors.Is(err, ErrNotFound) {
		t.Errorf("missing: %v", err)
	}
	if _, err := s.UpdateIdentityNotifications(ctx, "a", "r", "missing.com", func(*IdentityNotifications) error { return nil }); !errors.Is(err, ErrNotFound) {
		t.Errorf("update missing: %v", err)
	}
}
