package store

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"
)

func TestSuppressionListRoundTrip(t *testing.T) {
	t.Parallel()
	s := openTest(t, t.TempDir())
	ctx := context.Background()
	when := time.Date(2026, 11, 23, 10, 0, 0, 123456789, time.UTC)
	d := SuppressedDestination{AccountID: "111122223333", Region: "eu-west-1", Address: "Bob@Example.com",
		Reason: ReasonBounce, Updated: when, MessageID: "m", FeedbackID: "f"}
	if err := s.PutSuppressedDestination(ctx, d); err != nil {
		t.Fatal(err)
	}
	got, err := s.SuppressedDestination(ctx, "111122223333", "eu-west-1", "bob@EXAMPLE.com")
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, d) {
		t.Errorf("got %+v, want %+v", got, d)
	}
	for _, other := range [][2]string{{"111122223333", "us-east-1"}, {"999999999999", "eu-west-1"}} {
		if _, err := s.SuppressedDestination(ctx, other[0], other[1], "bob@example.com"); !errors.Is(err, ErrNotFound) {
			t.Errorf("%v sees the entry: %v", other, err)
		}
	}
	among, err := s.SuppressedAmong(ctx, "111122223333", "eu-west-1", []string{"BOB@example.com", "alice@example.com"})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(among, map[string]string{"bob@example.com": ReasonBounce}) {
		t.Errorf("SuppressedAmong = %v", among)
	}
	// Past suppressedOneByOne addresses, one query for them all: the same answer.
	many := []string{"a@x.test", "BOB@example.com", "c@x.test", "d@x.test", "e@x.test", "f@x.test"}
	if among, err := s.SuppressedAmong(ctx, "111122223333", "eu-west-1", many); err != nil ||
		!reflect.DeepEqual(among, map[string]string{"bob@example.com": ReasonBounce}) {
		t.Errorf("SuppressedAmong(%d addresses) = %v, %v", len(many), among, err)
	}
	if err := s.DeleteSuppressedDestination(ctx, "111122223333", "eu-west-1", "BOB@EXAMPLE.COM"); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteSuppressedDestination(ctx, "111122223333", "eu-west-1", "bob@example.com"); !errors.Is(err, ErrNotFound) {
		t.Errorf("second delete: %v", err)
	}
	if _, err := s.SuppressedDestination(ctx, "111122223333", "eu-west-1", "bob@example.com"); !errors.Is(err, ErrNotFound) {
		t.Errorf("after delete: %v", err)
	}
}

func TestSuppressedDestinationsPages(t *testing.T) {
	t.Parallel()
	s := openTest(t, t.TempDir())
	ctx := context.Background()
	t0 := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	for i := range 10 {
		reason := ReasonBounce
		if i >= 6 {
			reason = ReasonComplaint
		}
		if err := s.PutSuppressedDestination(ctx, SuppressedDestination{AccountID: "a", Region: "r",
			Address: fmt.Sprintf("U%d@x.example", i), Reason: reason, Updated: t0.Add(time.Duration(i) * time.Hour)}); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name string
		q    SuppressionQuery
		want int
	}{
		{"all", SuppressionQuery{Limit: 3}, 10},
		{"complaints", SuppressionQuery{Reasons: []string{ReasonComplaint}, Limit: 3}, 4},
		{"from hour 2 to 4", SuppressionQuery{Start: t0.Add(2 * time.Hour), End: t0.Add(4 * time.Hour), Limit: 1}, 3},
		{"nothing", SuppressionQuery{Start: t0.Add(100 * time.Hour), Limit: 5}, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			q := tc.q
			var got []string
			for range 20 {
				page, last, err := s.SuppressedDestinations(ctx, "a", "r", q)
				if err != nil {
					t.Fatal(err)
				}
				if len(page) > q.Limit {
					t.Fatalf("page of %d, limit %d", len(page), q.Limit)
				}
				for _, d := range page {
					got = append(got, d.Address)
				}
				if last == "" {
					break
				}
				q.After = last
			}
			if len(got) != tc.want {
				t.Fatalf("got %v, want %d addresses", got, tc.want)
			}
			for i := 1; i < len(got); i++ {
				if got[i-1] >= got[i] {
					t.Fatalf("out of order or repeated: %v", got)
				}
			}
		})
	}
}

func TestSuppressedReasons(t *testing.T) {
	t.Parallel()
	s := openTest(t, t.TempDir())
	ctx := context.Background()
	got, err := s.SuppressedReasons(ctx, "a", "r")
	if err != nil || !reflect.DeepEqual(got, []string{ReasonBounce, ReasonComplaint}) {
		t.Fatalf("default = %v, %v", got, err)
	}
	for _, want := range [][]string{{ReasonComplaint}, {}, {ReasonBounce, ReasonComplaint}} {
		if err := s.PutSuppressedReasons(ctx, "a", "r", want); err != nil {
			t.Fatal(err)
		}
		got, err := s.SuppressedReasons(ctx, "a", "r")
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("after putting %v: %v, %v", want, got, err)
		}
	}
	if err := s.PutSuppressedReasons(ctx, "a", "r", []string{}); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.SuppressedReasons(ctx, "a", "other"); len(got) != 2 {
		t.Errorf("another region lost its default: %v", got)
	}
}
