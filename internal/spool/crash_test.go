package spool

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

const (
	crashChildEnv = "SESAME_SPOOL_CRASH_DIR"
	crashRoundEnv = "SESAME_SPOOL_CRASH_ROUND"
)

// crashBodySize varies sizes so that some messages spill to body files.
func crashBodySize(w, i int) int {
	if i%16 == 5 {
		return 20000
	}
	return 500 + (w*131+i*17)%2500
}

// TestCrashChild is the process TestCrash kills: it appends from many
// goroutines, marks some messages done, and prints each acknowledgement
// as soon as the call returns.
func TestCrashChild(t *testing.T) {
	dir := os.Getenv(crashChildEnv)
	if dir == "" {
		t.Skip("run by TestCrash only")
	}
	s, err := Open(dir, Options{MemoryLimit: 8 << 10, SegmentSize: 512 << 10, Logger: quietOptions().Logger})
	if err != nil {
		fmt.Println("open failed:", err)
		os.Exit(1)
	}
	s.mu.Lock()
	s.sparseness = 1 // every Defer of a message outside the active segment moves it
	s.mu.Unlock()
	var outMu sync.Mutex
	say := func(format string, args ...any) {
		outMu.Lock()
		defer outMu.Unlock()
		fmt.Fprintf(os.Stdout, format, args...)
	}
	round := os.Getenv(crashRoundEnv)
	ctx := context.Background()
	go func() { // a delivery stand-in: finishes every third claimed message
		for {
			es, err := s.Claim(ctx, 16)
			if err != nil {
				return
			}
			var done []string
			for i, e := range es {
				switch i % 3 {
				case 0:
					done = append(done, e.ID)
				case 1:
					// Deferred, due at once: many state and move records
					// (testEnvelope's Received is long past, so a message
					// outside the active segment is copied forward).
					st := e.State
					st.Attempts++
					st.LastError = fmt.Sprintf("attempt %d", st.Attempts)
					if err := s.Defer(ctx, e.ID, st); err != nil {
						return
					}
					say("deferred %s %d .\n", e.ID, st.Attempts)
				}
			}
			for _, id := range done {
				say("doing %s .\n", id) // from here on, it may be gone
			}
			if err := s.Done(ctx, done...); err != nil {
				return
			}
			for _, id := range done {
				say("done %s .\n", id)
			}
		}
	}()
	var wg sync.WaitGroup
	for w := 0; w < 32; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				id := fmt.Sprintf("c%s-%d-%d", round, w, i)
				d, err := s.NewDraft()
				if err != nil {
					return
				}
				d.Write(testBody(id, crashBodySize(w, i)))
				if err := s.Append(ctx, testEnvelope(id), []byte(testPrefix), d); err != nil {
					say("error %v\n", err)
					return
				}
				say("ack %s .\n", id)
			}
		}()
	}
	wg.Wait()
}

// TestCrash kills a process with SIGKILL in the middle of appends and
// checks that everything it acknowledged is there, whole and once, that
// nothing it marked done comes back, and that no acknowledged delivery
// state is lost.
func TestCrash(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns a child process")
	}
	t.Parallel()
	dir := t.TempDir()
	acked := map[string]bool{}
	done := map[string]bool{}
	doing := map[string]bool{}
	attempts := map[string]int{}         // acknowledged Defers
	for round := 0; round < 2; round++ { // the second round crashes a recovered spool
		cmd := exec.Command(os.Args[0], "-test.run=^TestCrashChild$", "-test.count=1")
		cmd.Env = append(os.Environ(), crashChildEnv+"="+dir, fmt.Sprintf("%s=%d", crashRoundEnv, round))
		cmd.Stderr = os.Stderr
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		// Kill after a bounded load, or after enough acknowledgements.
		timer := time.AfterFunc(1500*time.Millisecond, func() { cmd.Process.Signal(syscall.SIGKILL) })
		sc := bufio.NewScanner(out)
		n := 0
		for sc.Scan() {
			f := strings.Fields(sc.Text())
			if len(f) == 4 && f[0] == "deferred" && f[3] == "." {
				n, _ := strconv.Atoi(f[2])
				attempts[f[1]] = max(attempts[f[1]], n)
				continue
			}
			if len(f) == 3 && f[2] == "." {
				switch f[0] {
				case "ack":
					acked[f[1]] = true
					if n++; n == 3000 {
						cmd.Process.Signal(syscall.SIGKILL)
					}
				case "done":
					done[f[1]] = true
				case "doing":
					doing[f[1]] = true
				}
			} else if len(f) > 0 && f[0] != "ack" && f[0] != "done" && f[0] != "doing" && f[0] != "deferred" &&
				!strings.HasPrefix(f[0], "c") {
				t.Logf("child: %s", sc.Text())
			}
		}
		timer.Stop()
		err = cmd.Wait()
		if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() {
			t.Fatalf("child was not killed: %v", err)
		}
		t.Logf("round %d: %d acknowledged, %d done, %d deferred so far", round, len(acked), len(done), len(attempts))
		if len(acked) == 0 {
			t.Fatal("child acknowledged nothing")
		}
	}

	s := openT(t, dir, Options{})
	defer s.Close()
	got := claimAll(t, s)
	for id := range acked {
		if done[id] {
			if got[id] != nil {
				t.Errorf("%s was done, yet it is pending again", id)
			}
			continue
		}
		if got[id] == nil && !doing[id] {
			t.Errorf("acknowledged %s is lost", id)
		}
		// A Defer in flight at the kill may have landed: at least the
		// acknowledged attempts, at most one more.
		if e := got[id]; e != nil && (e.State.Attempts < attempts[id] || e.State.Attempts > attempts[id]+1) {
			t.Errorf("%s: %d attempts after recovery, %d acknowledged", id, e.State.Attempts, attempts[id])
		}
	}
	// Everything present, acknowledged or not, is whole.
	for id, e := range got {
		var round, w, i int
		if _, err := fmt.Sscanf(id, "c%d-%d-%d", &round, &w, &i); err != nil {
			t.Fatalf("unexpected id %q", id)
		}
		want := append([]byte(testPrefix), testBody(id, crashBodySize(w, i))...)
		if b := readEntry(t, e); !bytes.Equal(b, want) {
			t.Errorf("%s: %d bytes, want %d", id, len(b), len(want))
		}
	}
}
