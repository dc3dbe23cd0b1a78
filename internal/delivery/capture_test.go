package delivery

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"sesame/internal/outcome"
	"sesame/internal/spool"
	"sesame/internal/store"
)

func TestSimulatorOutcome(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		rcpt, want string
		sim        bool
	}{
		{"success@simulator.amazonses.com", outcome.SimDelivered, true},
		{"bounce@simulator.amazonses.com", outcome.SimBounce, true},
		{"bounce+user42@simulator.amazonses.com", outcome.SimBounce, true},
		{"ooto@SIMULATOR.amazonses.com", outcome.SimOutOfOffice, true},
		{"complaint@simulator.amazonses.com", outcome.SimComplaint, true},
		{"suppressionlist@simulator.amazonses.com", outcome.SimSuppressionList, true},
		{"nobody@simulator.amazonses.com", outcome.SimBounce, true},
		{"success@example.com", "", false},
		{"no-at-sign", "", false},
	} {
		got, sim := outcome.Simulated(tc.rcpt)
		if got != tc.want || sim != tc.sim {
			t.Errorf("SimulatorOutcome(%q) = %q, %v; want %q, %v", tc.rcpt, got, sim, tc.want, tc.sim)
		}
	}
}

func TestOutcomeRoundTrip(t *testing.T) {
	t.Parallel()
	rcpts := []string{"a@example.com", "bounce@simulator.amazonses.com", "success@simulator.amazonses.com", "complaint+x@simulator.amazonses.com"}
	o := outcome.Summarize(rcpts)
	got := outcome.ParseSummary(rcpts, o)
	want := map[string]string{
		"a@example.com": outcome.SimDelivered, "bounce@simulator.amazonses.com": outcome.SimBounce,
		"success@simulator.amazonses.com": outcome.SimDelivered, "complaint+x@simulator.amazonses.com": outcome.SimComplaint,
	}
	for r, w := range want {
		if got[r] != w {
			t.Errorf("outcome of %s = %q, want %q (recorded %q)", r, got[r], w, o)
		}
	}
	if outcome.Summarize([]string{"a@example.com"}) != outcome.SimDelivered {
		t.Error("a plain recipient is not delivered")
	}
}

// Capture moves every spooled message into the store exactly once, and a
// replay of the same spool (a crash before Done) adds nothing twice.
func TestCaptureMovesSpoolToStore(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	st, err := store.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	sp, err := spool.Open(dir+"/spool", spool.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	const n = 30
	for i := 0; i < n; i++ {
		d, err := sp.NewDraft()
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(d, "Subject: m%d\r\n\r\nbody %d\r\n", i, i)
		env := &spool.Envelope{ID: fmt.Sprintf("id-%02d", i), AccountID: "111122223333", Region: "us-east-1",
			MailFrom: "s@example.com", Recipients: []string{"bounce@simulator.amazonses.com"}, Received: time.Now(), Via: "smtp"}
		if err := sp.Append(ctx, env, []byte("X-Test: 1\r\n"), d); err != nil {
			t.Fatal(err)
		}
	}
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan error)
	c := &Capture{Spool: sp, Store: st}
	go func() { done <- c.Run(runCtx) }()
	deadline := time.Now().Add(10 * time.Second)
	for sp.Len() > 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	msgs, err := st.Captured(ctx, store.CaptureFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(msgs) != n {
		t.Fatalf("captured %d messages, want %d", len(msgs), n)
	}
	m := msgs[0]
	if !strings.HasPrefix(string(m.Raw), "X-Test: 1\r\nSubject: m") || m.Outcome != "bounce@simulator.amazonses.com=bounce" {
		t.Errorf("captured %q with outcome %q", m.Raw, m.Outcome)
	}
	// A replay after a crash between AddCaptured and Done adds nothing.
	if err := st.AddCaptured(ctx, msgs); err != nil {
		t.Fatal(err)
	}
	again, _ := st.Captured(ctx, store.CaptureFilter{})
	if len(again) != n {
		t.Fatalf("replay changed the count to %d", len(again))
	}
	sp.Close()
}

// The server passes a *store.Store as the CaptureStore.
var _ CaptureStore = (*store.Store)(nil)

// cancellingStore is a store during which the shutdown begins: it takes
// the batch unless the ctx it is given has ended, as a real store would.
type cancellingStore struct {
	cancel func()
	got    int
}

func (s *cancellingStore) AddCaptured(ctx context.Context, msgs []store.Captured) error {
	s.cancel()
	if err := ctx.Err(); err != nil {
		return err
	}
	s.got += len(msgs)
	return nil
}

// TestCaptureFinishesTheBatchAtShutdown: a shutdown that begins while a
// batch is being captured lets it finish (captured, and gone from the
// spool), rather than failing it to be captured again at the next start.
func TestCaptureFinishesTheBatchAtShutdown(t *testing.T) {
	t.Parallel()
	sp, err := spool.Open(t.TempDir(), spool.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer sp.Close()
	ctx := context.Background()
	const n = 5
	for i := range n {
		d, err := sp.NewDraft()
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(d, "Subject: m%d\r\n\r\nbody\r\n", i)
		env := &spool.Envelope{ID: fmt.Sprintf("id-%02d", i), AccountID: "111122223333", Region: "us-east-1",
			MailFrom: "s@example.com", Recipients: []string{"r@example.net"}, Received: time.Now(), Via: "smtp"}
		if err := sp.Append(ctx, env, nil, d); err != nil {
			t.Fatal(err)
		}
	}
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	st := &cancellingStore{cancel: cancel}
	if err := (&Capture{Spool: sp, Store: st}).Run(runCtx); err != nil {
		t.Fatal(err)
	}
	if st.got != n || sp.Len() != 0 {
		t.Errorf("captured %d of %d, %d left in the spool; want the batch finished", st.got, n, sp.Len())
	}
}
