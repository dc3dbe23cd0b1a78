package spool

import (
	"context"
	"testing"
	"time"
)

func TestOldest(t *testing.T) {
	t.Parallel()
	s := openT(t, t.TempDir(), Options{})
	defer s.Close()
	if got := s.Oldest(); !got.IsZero() {
		t.Errorf("Oldest of an empty spool = %v, want zero", got)
	}
	base := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	for i, id := range []string{"late", "early", "middle"} {
		env := testEnvelope(id)
		env.Received = base.Add(time.Duration([]int{30, 10, 20}[i]) * time.Second)
		d, err := s.NewDraft()
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Append(context.Background(), env, nil, d); err != nil {
			t.Fatal(err)
		}
	}
	if got, want := s.Oldest(), base.Add(10*time.Second); !got.Equal(want) {
		t.Errorf("Oldest = %v, want %v", got, want)
	}
	if err := s.Done(context.Background(), "early"); err != nil {
		t.Fatal(err)
	}
	if got, want := s.Oldest(), base.Add(20*time.Second); !got.Equal(want) {
		t.Errorf("Oldest after the oldest is done = %v, want %v", got, want)
	}
}
