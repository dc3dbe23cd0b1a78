package store

import (
	"context"
	"testing"
	"time"
)

// TestDedicatedIPSendsCap: reservations are granted while the count is
// below the limit (the one that reaches it goes whole) and not after; what
// is given back makes room again; a new day starts at zero and drops the
// rows of days past.
func TestDedicatedIPSendsCap(t *testing.T) {
	t.Parallel()
	s := openTest(t, t.TempDir())
	ctx := context.Background()
	reserve := func(day string, n int) bool {
		t.Helper()
		ok, err := s.ReserveDedicatedIPSends(ctx, "111122223333", "us-east-1", "192.0.2.1", day, n, 5)
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}
	if !reserve("2026-01-01", 3) || !reserve("2026-01-01", 4) {
		t.Fatal("reservations while below the limit refused")
	}
	if reserve("2026-01-01", 1) {
		t.Fatal("a reservation at the limit (7 of 5) granted")
	}
	if err := s.ReturnDedicatedIPSends(ctx, "111122223333", "us-east-1", "192.0.2.1", "2026-01-01", 3); err != nil {
		t.Fatal(err)
	}
	if !reserve("2026-01-01", 1) || reserve("2026-01-01", 1) {
		t.Fatal("what was given back (4 of 5 left) is not exactly the room made")
	}
	if !reserve("2026-01-02", 50) {
		t.Fatal("a new day does not start at zero")
	}
	if n, err := s.DedicatedIPSends(ctx, "111122223333", "us-east-1", "192.0.2.1", "2026-01-01"); err != nil || n != 0 {
		t.Fatalf("the past day still counts %d (%v); want its row dropped", n, err)
	}
}

// TestDedicatedIPPercentage: automatic warm-up advances a percentage by
// 100/45 a day from when it was set; off, it stays as set.
func TestDedicatedIPPercentage(t *testing.T) {
	t.Parallel()
	set := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	d := DedicatedIPSetting{WarmupPercentage: 10, WarmupSet: set}
	for _, c := range []struct {
		auto bool
		at   time.Time
		want int
	}{
		{false, set.Add(30 * 24 * time.Hour), 10},
		{true, set.Add(23 * time.Hour), 10},
		{true, set.Add(9 * 24 * time.Hour), 30},
		{true, set.Add(45 * 24 * time.Hour), 100},
		{true, set.Add(-time.Hour), 10},
	} {
		if got := d.Percentage(c.auto, c.at); got != c.want {
			t.Errorf("Percentage(auto=%v, +%s) = %d; want %d", c.auto, c.at.Sub(set), got, c.want)
		}
	}
	if got := (DedicatedIPSetting{WarmupPercentage: 40}).Percentage(true, set); got != 40 {
		t.Errorf("never set: %d; want 40 as stored", got)
	}
}
