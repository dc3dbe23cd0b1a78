package store

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"
)

func TestConfigurationSetRoundTrip(t *testing.T) {
	t.Parallel()
	s := openTest(t, t.TempDir())
	ctx := context.Background()
	fresh := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	cs := ConfigurationSet{AccountID: "a", Region: "r", Name: "Set_1", Created: time.Date(2026, 11, 23, 9, 0, 0, 1, time.UTC),
		Options: ConfigurationSetOptions{
			Delivery:    &DeliveryOptions{TlsPolicy: "REQUIRE", SendingPoolName: "p", MaxDeliverySeconds: 300},
			Sending:     &SendingOptions{SendingEnabled: false},
			Reputation:  &ReputationOptions{ReputationMetricsEnabled: true, LastFreshStart: &fresh},
			Suppression: &SuppressionOptions{SuppressedReasons: []string{}},
			Tracking:    &TrackingOptions{CustomRedirectDomain: "t.example", HttpsPolicy: "OPTIONAL"},
		},
		Tags: []Tag{{"k", "v"}}}
	if err := s.CreateConfigurationSet(ctx, cs, 0); err != nil {
		t.Fatal(err)
	}
	got, err := s.ConfigurationSet(ctx, "a", "r", "Set_1")
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, cs) {
		t.Errorf("got %+v\nwant %+v", got, cs)
	}
	if got.SendingEnabled() {
		t.Error("SendingEnabled with SendingOptions{false}")
	}
	if err := s.CreateConfigurationSet(ctx, ConfigurationSet{AccountID: "a", Region: "r", Name: "Set_1"}, 0); !errors.Is(err, ErrExists) {
		t.Errorf("duplicate: %v", err)
	}
	if _, err := s.ConfigurationSet(ctx, "a", "r", "set_1"); !errors.Is(err, ErrNotFound) {
		t.Errorf("names are case-sensitive: %v", err)
	}

	// A bare set: no groups, no tags, sending on.
	if err := s.CreateConfigurationSet(ctx, ConfigurationSet{AccountID: "a", Region: "r", Name: "bare"}, 0); err != nil {
		t.Fatal(err)
	}
	bare, err := s.ConfigurationSet(ctx, "a", "r", "bare")
	if err != nil || !bare.SendingEnabled() || bare.Options != (ConfigurationSetOptions{}) || len(bare.Tags) != 0 || bare.Created.IsZero() {
		t.Errorf("bare = %+v, %v", bare, err)
	}

	err = s.UpdateConfigurationSetOptions(ctx, "a", "r", "bare", func(o *ConfigurationSetOptions) error {
		o.Delivery = &DeliveryOptions{TlsPolicy: "REQUIRE"}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	refused := errors.New("refused")
	err = s.UpdateConfigurationSetOptions(ctx, "a", "r", "bare", func(o *ConfigurationSetOptions) error {
		o.Delivery = nil
		return refused
	})
	if !errors.Is(err, refused) {
		t.Errorf("refusing edit: %v", err)
	}
	if got, _ := s.ConfigurationSet(ctx, "a", "r", "bare"); got.Options.Delivery == nil || got.Options.Delivery.TlsPolicy != "REQUIRE" {
		t.Errorf("after update = %+v", got.Options.Delivery)
	}
	err = s.UpdateConfigurationSetOptions(ctx, "a", "r", "missing", func(*ConfigurationSetOptions) error { return nil })
	if !errors.Is(err, ErrNotFound) {
		t.Errorf("update missing: %v", err)
	}

	if err := s.DeleteConfigurationSet(ctx, "a", "r", "bare"); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteConfigurationSet(ctx, "a", "r", "bare"); !errors.Is(err, ErrNotFound) {
		t.Errorf("second delete: %v", err)
	}
}

func TestConfigurationSetNames(t *testing.T) {
	t.Parallel()
	s := openTest(t, t.TempDir())
	ctx := context.Background()
	for i := range 7 {
		name := fmt.Sprintf("s%d", i)
		if i%2 == 0 {
			name = fmt.Sprintf("even-%d", i)
		}
		if err := s.CreateConfigurationSet(ctx, ConfigurationSet{AccountID: "a", Region: "r", Name: name}, 0); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.CreateConfigurationSet(ctx, ConfigurationSet{AccountID: "a", Region: "other", Name: "even-x"}, 0); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		contains string
		limit    int
		want     []string
	}{
		{"", 3, []string{"even-0", "even-2", "even-4", "even-6", "s1", "s3", "s5"}},
		{"", 7, []string{"even-0", "even-2", "even-4", "even-6", "s1", "s3", "s5"}},
		{"even", 3, []string{"even-0", "even-2", "even-4", "even-6"}},
		{"EVEN", 3, nil}, // exact substring, as SES
		{"5", 1, []string{"s5"}},
	}
	for _, tc := range tests {
		var got []string
		after := ""
		for range 10 {
			page, more, err := s.ConfigurationSetNames(ctx, "a", "r", after, tc.contains, tc.limit)
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, page...)
			if !more {
				break
			}
			if len(page) != tc.limit {
				t.Fatalf("%q: a short page (%d) with more to come", tc.contains, len(page))
			}
			after = page[len(page)-1]
		}
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("contains %q, limit %d: %v, want %v", tc.contains, tc.limit, got, tc.want)
		}
	}
}

func TestConfigurationSetLimit(t *testing.T) {
	t.Parallel()
	s := openTest(t, t.TempDir())
	ctx := context.Background()
	for i, want := range []error{nil, nil, ErrLimit} {
		err := s.CreateConfigurationSet(ctx, ConfigurationSet{AccountID: "a", Region: "r", Name: fmt.Sprintf("s%d", i)}, 2)
		if !errors.Is(err, want) && !(want == nil && err == nil) {
			t.Errorf("set %d: %v, want %v", i, err, want)
		}
	}
	// The limit is per account and region; a taken name is ErrExists first.
	if err := s.CreateConfigurationSet(ctx, ConfigurationSet{AccountID: "a", Region: "r2", Name: "s2"}, 2); err != nil {
		t.Error(err)
	}
	if err := s.CreateConfigurationSet(ctx, ConfigurationSet{AccountID: "a", Region: "r", Name: "s0"}, 2); !errors.Is(err, ErrExists) {
		t.Errorf("taken name at the limit: %v", err)
	}
}
