package delivery

import (
	"context"
	"fmt"
	"testing"
	"time"

	"sesame/internal/spool"
	"sesame/internal/store"
)

// Issue 11, item 8: once Flush returns, every message the spool
// acknowledged before it was called is in the captured mail — also when
// capture is waiting for messages, gathering company, or behind by more
// than one claim.
func TestCaptureFlushIsReadYourWrites(t *testing.T) {
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
	defer sp.Close()
	ctx := context.Background()
	n := 0
	appendOne := func() string {
		t.Helper()
		d, err := sp.NewDraft()
		if err != nil {
			t.Fatal(err)
		}
		id := fmt.Sprintf("id-%04d", n)
		n++
		fmt.Fprintf(d, "Subject: %s\r\n\r\nbody\r\n", id)
		env := &spool.Envelope{ID: id, AccountID: "111122223333", Region: "us-east-1",
			MailFrom: "s@example.com", Recipients: []string{"a@example.com"}, Received: time.Now(), Via: "smtp"}
		if err := sp.Append(ctx, env, nil, d); err != nil {
			t.Fatal(err)
		}
		return id
	}
	captured := func(id string) bool {
		t.Helper()
		msgs, err := st.Captured(ctx, store.CaptureFilter{ID: id})
		if err != nil {
			t.Fatal(err)
		}
		return len(msgs) == 1
	}

	// A flush before capture runs waits for its first round.
	cap := &Capture{Spool: sp, Store: st}
	first := appendOne()
	early := make(chan error, 1)
	go func() {
		fctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		early <- cap.Flush(fctx)
	}()
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- cap.Run(runCtx) }()
	defer func() {
		stop()
		if err := <-done; err != nil {
			t.Error(err)
		}
	}()
	if err := <-early; err != nil {
		t.Fatal(err)
	}
	if !captured(first) {
		t.Fatalf("%s not captured after Flush", first)
	}

	// Send, flush, read: never behind (the gather delay is 20 ms, so
	// without Flush most of these would miss).
	for range 50 {
		id := appendOne()
		fctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		err := cap.Flush(fctx)
		cancel()
		if err != nil {
			t.Fatal(err)
		}
		if !captured(id) {
			t.Fatalf("%s not captured after Flush", id)
		}
	}

	// More than a claim's worth acknowledged before one Flush.
	var last string
	for range claimBatch + 10 {
		last = appendOne()
	}
	fctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := cap.Flush(fctx); err != nil {
		t.Fatal(err)
	}
	if !captured(last) {
		t.Fatalf("%s (of %d) not captured after Flush", last, claimBatch+10)
	}

	// Flush gives up with its context when capture does not run.
	stop()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	done <- nil // for the deferred stop
	appendOne()
	short, cancelShort := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancelShort()
	if err := cap.Flush(short); err == nil {
		t.Fatal("Flush without a running capture returned nil")
	}
}
