package lowprio

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"sesame/internal/waitfor"
)

// The test binary is its own helper: with helperEnv set, TestMain serves
// instead of testing.
const helperEnv = "SESAME_LOWPRIO_TEST_HELPER"

func TestMain(m *testing.M) {
	if os.Getenv(helperEnv) == "1" {
		if err := Serve(os.Stdin, os.Stdout, testHandler); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// testHandler: "echo:X" answers X; "fail:X" fails with X; "exit" ends the
// process; "hold:N" waits N ms before it says started, and again after;
// "policy" answers the scheduling policies of the helper's threads.
func testHandler(init []byte) (Handler, error) {
	if string(init) != "hello" {
		return nil, errors.New("bad init " + string(init))
	}
	return func(req []byte, started func()) ([]byte, error) {
		op, arg, _ := strings.Cut(string(req), ":")
		switch op {
		case "echo":
			started()
			return []byte(arg), nil
		case "fail":
			return nil, errors.New(arg)
		case "exit":
			os.Exit(3)
		case "hold":
			d, _ := time.ParseDuration(arg + "ms")
			time.Sleep(d)
			started()
			time.Sleep(d)
			return []byte("held"), nil
		case "policy":
			return []byte(threadPolicies()), nil
		}
		return nil, errors.New("unknown op " + op)
	}, nil
}

func newClient(t *testing.T) *Client {
	t.Helper()
	t.Setenv(helperEnv, "1")
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	c := New(exe, nil, []byte("hello"), nil)
	t.Cleanup(func() { c.Close() })
	return c
}

func TestCalls(t *testing.T) {
	c := newClient(t)
	ctx := context.Background()
	var wg sync.WaitGroup
	errs := make(chan error, 200)
	for i := range 200 {
		wg.Go(func() {
			want := fmt.Sprintf("message %d %s", i, strings.Repeat("x", i*37))
			got, err := c.Call(ctx, []byte("echo:"+want))
			if err != nil || string(got) != want {
				errs <- fmt.Errorf("call %d = %.20q, %v", i, got, err)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if _, err := c.Call(ctx, []byte("fail:no such thing")); err == nil || !strings.Contains(err.Error(), "no such thing") {
		t.Errorf("a handler's error = %v", err)
	}
	if n := c.Queued(); n != 0 {
		t.Errorf("Queued after every answer = %d", n)
	}
}

// A helper that dies fails the calls it had with ErrGone, and the next call
// starts another.
func TestHelperRestarts(t *testing.T) {
	c := newClient(t)
	ctx := context.Background()
	if _, err := c.Call(ctx, []byte("exit")); !errors.Is(err, ErrGone) {
		t.Fatalf("call to a helper that exits: %v, want ErrGone", err)
	}
	got, err := c.Call(ctx, []byte("echo:again"))
	if err != nil || string(got) != "again" {
		t.Fatalf("after a restart: %q, %v", got, err)
	}
}

// Queued counts the calls that have not said started.
func TestQueued(t *testing.T) {
	c := newClient(t)
	ctx := context.Background()
	if _, err := c.Call(ctx, []byte("echo:start")); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		_, err := c.Call(ctx, []byte("hold:300"))
		done <- err
	}()
	// hold:300 says started after 300 ms and answers 300 ms later.
	waitfor.True(t, "Queued = 1 while the call holds", func() bool { return c.Queued() == 1 })
	waitfor.True(t, "Queued = 0 once it started", func() bool { return c.Queued() == 0 })

	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// A call whose context ends returns at once.
func TestCallContext(t *testing.T) {
	c := newClient(t)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := c.Call(ctx, []byte("hold:1000")); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("call past its deadline: %v", err)
	}
	if n := c.Queued(); n != 0 {
		t.Errorf("Queued after the call gave up = %d", n)
	}
}
