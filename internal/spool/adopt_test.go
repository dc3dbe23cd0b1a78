package spool

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"testing"
	"time"
)

func adoptT(t *testing.T, s *Spool, dir string) AdoptResult {
	t.Helper()
	res, err := s.Adopt(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// TestAdopt: every pending message of another spool comes over with its
// bytes (inline or in a body file), envelope and delivery state, due now,
// durably; the other spool is left empty, and a second run finds nothing.
func TestAdopt(t *testing.T) {
	t.Parallel()
	srcDir, liveDir := t.TempDir(), t.TempDir()
	opt := quietOptions()
	opt.MemoryLimit = 1 << 10 // "big" spills to a body file
	src := openT(t, srcDir, opt)
	want := map[string]int{"small": 100, "big": 5000, "deferred": 300, "done": 10}
	for id, n := range want {
		appendT(t, src, id, testBody(id, n))
	}
	st := DeliveryState{Attempts: 2, Done: []string{"a@example.net"}, LastError: "451 4.7.1 later",
		NextAttempt: time.Now().Add(time.Hour).UTC().Truncate(time.Second), FirstAttempt: time.Now().UTC().Truncate(time.Second)}
	claimAll(t, src)
	deferT(t, src, "deferred", st)
	if err := src.Done(context.Background(), "done"); err != nil {
		t.Fatal(err)
	}
	delete(want, "done")
	src.Close()

	live := openT(t, liveDir, opt)
	appendT(t, live, "own", testBody("own", 50))
	if res := adoptT(t, live, srcDir); res != (AdoptResult{Adopted: 3}) {
		t.Fatalf("adopt = %+v", res)
	}
	want["own"] = 50
	check := func(when string) {
		t.Helper()
		e, ok := live.Entry("deferred")
		wantSt := st
		wantSt.NextAttempt = time.Time{} // adopted mail is tried at once
		if !ok || !reflect.DeepEqual(e.State, wantSt) {
			t.Fatalf("%s: deferred's state = %+v, want %+v", when, e.State, wantSt)
		}
		checkEntries(t, live, want) // bytes, envelopes, and all of them due
	}
	check("after adopt")
	live.Close()
	live = openT(t, liveDir, opt)
	defer live.Close()
	check("after a restart")

	src = openT(t, srcDir, opt)
	if n := src.Len(); n != 0 {
		t.Errorf("source still holds %d messages", n)
	}
	src.Close()
	if res := adoptT(t, live, srcDir); res != (AdoptResult{}) {
		t.Errorf("second adopt = %+v", res)
	}
	if n := live.Len(); n != 4 {
		t.Errorf("live spool holds %d after a second adopt, want 4", n)
	}
}

// TestAdoptInterrupted: a run that stopped after copying (before the
// source's done record) or after the done record (before the release)
// leaves the copies held, so the live node cannot deliver them meanwhile;
// the next run skips what was copied and releases it: each message once.
func TestAdoptInterrupted(t *testing.T) {
	t.Parallel()
	srcDir, liveDir := t.TempDir(), t.TempDir()
	src := openT(t, srcDir, Options{})
	for _, id := range []string{"copied", "released-later", "not-yet"} {
		appendT(t, src, id, testBody(id, 200))
	}
	live := openT(t, liveDir, Options{})
	// A first run, by hand: copies two, "crashes" after the done record
	// of one of them.
	for _, id := range []string{"copied", "released-later"} {
		e, _ := src.Entry(id)
		if err := live.adoptOne(context.Background(), &e, srcDir); err != nil {
			t.Fatal(err)
		}
	}
	if err := src.Done(context.Background(), "released-later"); err != nil {
		t.Fatal(err)
	}
	src.Close()
	live.Close()

	live = openT(t, liveDir, Options{})
	defer live.Close()
	if n, err := live.RetryAll(context.Background()); n != 0 || err != nil {
		t.Fatalf("retry all released %d held copies (%v)", n, err)
	}
	if got := claimNow(t, live); len(got) != 0 {
		t.Fatalf("held copies were handed out for delivery: %v", got)
	}
	if e, ok := live.Entry("copied"); !ok || e.State.Adopting != srcDir {
		t.Fatalf("copy after the crash: %+v, %v", e.State, ok)
	}
	if res := adoptT(t, live, srcDir); res != (AdoptResult{Adopted: 1, Skipped: 1}) {
		t.Fatalf("re-run = %+v", res)
	}
	if got, want := claimNow(t, live), []string{"copied", "not-yet", "released-later"}; !slices.Equal(got, want) {
		t.Fatalf("due after the re-run: %v, want %v", got, want)
	}
	for _, e := range live.Entries() {
		if e.State.Adopting != "" || e.State.Attempts != 0 {
			t.Errorf("%s: state %+v", e.ID, e.State)
		}
	}
	src = openT(t, srcDir, Options{})
	defer src.Close()
	if n := src.Len(); n != 0 {
		t.Errorf("source still holds %d", n)
	}
}

// TestAdoptRefuses: a directory another process (or this one) has open, one
// that is not a spool, and the adopting spool itself.
func TestAdoptRefuses(t *testing.T) {
	t.Parallel()
	base := t.TempDir()
	liveDir := filepath.Join(base, "live")
	live := openT(t, liveDir, Options{})
	defer live.Close()

	busy := filepath.Join(base, "busy")
	held := openT(t, busy, Options{})
	defer held.Close()
	appendT(t, held, "m", testBody("m", 10))

	empty := filepath.Join(base, "empty")
	other := filepath.Join(base, "other")
	for _, d := range []string{empty, other} {
		if err := os.Mkdir(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(other, "notes.txt"), []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(base, "link")
	if err := os.Symlink(liveDir, link); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		dir  string
		want error
	}{
		{busy, ErrInUse},
		{empty, ErrNotSpool},
		{other, ErrNotSpool},
		{filepath.Join(base, "missing"), ErrNotSpool},
		{filepath.Join(other, "notes.txt"), ErrNotSpool},
		{liveDir, ErrOwnSpool},
		{link, ErrOwnSpool},
	} {
		if _, err := live.Adopt(context.Background(), tc.dir); !errors.Is(err, tc.want) {
			t.Errorf("adopt %s: %v, want %v", tc.dir, err, tc.want)
		}
	}
	if held.Len() != 1 || live.Len() != 0 {
		t.Errorf("after refusals: source %d, live %d", held.Len(), live.Len())
	}
	if _, err := os.Stat(filepath.Join(empty, "lock")); err == nil {
		t.Error("a refused directory was made a spool")
	}
}
