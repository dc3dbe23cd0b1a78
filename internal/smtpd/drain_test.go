package smtpd

import (
	"context"
	"errors"
	"io"
	"testing"
	"time"

	"sesame/internal/waitfor"
)

type drainResult struct {
	rep DrainReport
	err error
}

// TestDrainFinishesTransactions: at Drain a session in the middle of DATA
// finishes its message and gets its 250, then 421 for the next command; a
// session waiting for a command is told 421 at once; the report counts both.
func TestDrainFinishesTransactions(t *testing.T) {
	t.Parallel()
	ts := startServer(t, nil, nil)
	idleReady, idleDone := make(chan struct{}), make(chan error, 1)
	go func() {
		d := ts.dialogue(false, "localhost")
		d.Calls = map[string]func(io.Writer) error{
			"ready": func(io.Writer) error { close(idleReady); return nil },
		}
		idleDone <- d.Run((scenario{script: `{{open}}{{ehlo}}{{auth}}
		call ready
		c <- 421 Service not available, closing transmission channel
		eof`}).expand(false))
	}()
	drained := make(chan drainResult, 1)
	d := ts.dialogue(true, "localhost")
	d.Calls = map[string]func(io.Writer) error{
		"drain": func(io.Writer) error {
			<-idleReady
			go func() {
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				defer cancel()
				rep, err := ts.srv.Drain(ctx)
				drained <- drainResult{rep, err}
			}()
			waitfor.True(t, "the drain to start", ts.srv.closing.Load)
			return nil
		},
	}
	smtptest := scenario{script: `{{open}}{{auth}}{{envelope}}
		c -> DATA
		c <- 354 End data with <CR><LF>.<CR><LF>
		c -> Subject: in flight at the drain
		c ->
		call drain
		c -> the body, sent after the drain began
		c -> .
		{{sent}}
		c -> NOOP
		c <- 421 Service not available, closing transmission channel
		eof`}
	if err := d.Run(smtptest.expand(true)); err != nil {
		t.Fatal(err)
	}
	if err := <-idleDone; err != nil {
		t.Errorf("idle session: %v", err)
	}
	r := <-drained
	if r.err != nil {
		t.Errorf("Drain: %v", r.err)
	}
	if want := (DrainReport{Sessions: 2, Idle: 1, Messages: 1}); r.rep != want {
		t.Errorf("report %+v, want %+v", r.rep, want)
	}
	if subs := ts.be.submitted(); len(subs) != 1 || subs[0].Body != "Subject: in flight at the drain\r\n\r\nthe body, sent after the drain began\r\n" {
		t.Errorf("submitted %+v, want the message finished during the drain", subs)
	}
}

// TestDrainCutsAtTheBound: a transaction that does not finish within the
// bound is cut, not acknowledged, and the report says so.
func TestDrainCutsAtTheBound(t *testing.T) {
	t.Parallel()
	ts := startServer(t, nil, nil)
	var r drainResult
	d := ts.dialogue(true, "localhost")
	d.Calls = map[string]func(io.Writer) error{
		"drain": func(io.Writer) error {
			ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
			defer cancel()
			r.rep, r.err = ts.srv.Drain(ctx)
			return nil
		},
	}
	if err := d.Run((scenario{script: `{{open}}{{auth}}{{envelope}}
		c -> DATA
		c <- 354 End data with <CR><LF>.<CR><LF>
		c -> Subject: never finished
		call drain
		eof`}).expand(true)); err != nil {
		t.Fatal(err)
	}
	if !errors.Is(r.err, context.DeadlineExceeded) {
		t.Errorf("Drain: %v, want the deadline", r.err)
	}
	if want := (DrainReport{Sessions: 1, Cut: 1}); r.rep != want {
		t.Errorf("report %+v, want %+v", r.rep, want)
	}
	if subs := ts.be.submitted(); len(subs) != 0 {
		t.Errorf("a cut transaction was submitted: %+v", subs)
	}
}
