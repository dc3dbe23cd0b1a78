package spool

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"testing"
	"time"

	"sesame/internal/clock"
)

// t0 is when the test messages were received (testEnvelope).
var t0 = time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)

// claimNow claims what is due without waiting and returns the ids, sorted.
func claimNow(t *testing.T, s *Spool) []string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	var ids []string
	for {
		es, err := s.Claim(ctx, 100)
		if errors.Is(err, context.DeadlineExceeded) {
			slices.Sort(ids)
			return ids
		}
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range es {
			ids = append(ids, e.ID)
		}
	}
}

func deferT(t *testing.T, s *Spool, id string, st DeliveryState) {
	t.Helper()
	if err := s.Defer(context.Background(), id, st); err != nil {
		t.Fatal(err)
	}
}

func TestDeferSchedule(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	clk := clock.NewFake(t0.Add(time.Minute))
	s := openT(t, dir, Options{Clock: clk})
	for _, id := range []string{"a", "b", "c", "d"} {
		appendT(t, s, id, testBody(id, 100))
	}
	if got := claimNow(t, s); !slices.Equal(got, []string{"a", "b", "c", "d"}) {
		t.Fatalf("claimed %v", got)
	}
	now := clk.Now()
	stA := DeliveryState{Attempts: 1, Done: []string{"a@example.net"}, NextAttempt: now.Add(time.Hour),
		LastError: "451 4.7.1 greylisted", FirstAttempt: now}
	stB := DeliveryState{Attempts: 2, NextAttempt: now.Add(2 * time.Hour), FirstAttempt: now}
	deferT(t, s, "a", stA)
	deferT(t, s, "b", stB)
	deferT(t, s, "c", DeliveryState{Attempts: 1}) // due now
	if err := s.Defer(context.Background(), "nope", stA); err != nil {
		t.Errorf("Defer of an unknown id: %v", err)
	}
	if got := claimNow(t, s); !slices.Equal(got, []string{"c"}) {
		t.Fatalf("claimed %v, want only the message due now", got)
	}
	if st := s.Stats(); st.Deferred != 2 || st.Claimed != 2 || st.Pending != 4 {
		t.Fatalf("stats %+v", st)
	}
	if e, ok := s.Entry("a"); !ok || !reflect.DeepEqual(e.State, stA) || e.Claimed {
		t.Fatalf("Entry(a) = %+v, %v; want state %+v", e.State, ok, stA)
	}
	if e, _ := s.Entry("d"); !e.Claimed {
		t.Error("Entry(d) is not marked claimed")
	}
	clk.Advance(time.Hour)
	if got := claimNow(t, s); !slices.Equal(got, []string{"a"}) {
		t.Fatalf("after an hour claimed %v", got)
	}
	deferT(t, s, "a", stA) // due again an hour ago: at once
	s.Close()

	// The schedule survives a restart: claims are gone, states are not.
	s = openT(t, dir, Options{Clock: clk})
	defer s.Close()
	if got := claimNow(t, s); !slices.Equal(got, []string{"a", "c", "d"}) {
		t.Fatalf("after restart claimed %v", got)
	}
	es := s.Entries()
	if len(es) != 4 || es[0].ID != "a" || es[3].ID != "d" {
		t.Fatalf("Entries = %d, oldest first wanted", len(es))
	}
	for _, e := range es {
		want := map[string]DeliveryState{"a": stA, "b": stB, "c": {Attempts: 1}}[e.ID]
		if !reflect.DeepEqual(e.State, want) {
			t.Errorf("%s: state %+v after restart, want %+v", e.ID, e.State, want)
		}
	}
	clk.Advance(time.Hour)
	if got := claimNow(t, s); !slices.Equal(got, []string{"b"}) {
		t.Fatalf("at b's time claimed %v", got)
	}
}

func TestClaimWakesWhenDue(t *testing.T) {
	t.Parallel()
	s := openT(t, t.TempDir(), Options{})
	defer s.Close()
	appendT(t, s, "a", testBody("a", 10))
	claimNow(t, s)
	due := time.Now().Add(30 * time.Millisecond)
	got := make(chan []*Entry, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		es, err := s.Claim(ctx, 10)
		if err != nil {
			t.Error(err)
		}
		got <- es
	}()
	deferT(t, s, "a", DeliveryState{Attempts: 1, NextAttempt: due})
	es := <-got
	if len(es) != 1 || es[0].ID != "a" || time.Now().Before(due) {
		t.Fatalf("Claim returned %d entries at %v, due %v", len(es), time.Now(), due)
	}
}

func TestRetryDelete(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	clk := clock.NewFake(t0)
	s := openT(t, dir, Options{Clock: clk})
	ctx := context.Background()
	for _, id := range []string{"a", "b", "c", "d"} {
		appendT(t, s, id, testBody(id, 100))
	}
	claimNow(t, s)
	for _, id := range []string{"a", "b", "c", "d"} {
		deferT(t, s, id, DeliveryState{Attempts: 3, NextAttempt: t0.Add(time.Hour), LastError: "421"})
	}
	if err := s.Retry(ctx, "a"); err != nil {
		t.Fatal(err)
	}
	if err := s.Retry(ctx, "zz"); !errors.Is(err, ErrNotPending) {
		t.Errorf("Retry of an unknown id: %v", err)
	}
	if err := s.Delete(ctx, "b", "zz"); !errors.Is(err, ErrNotPending) {
		t.Errorf("Delete of an unknown id: %v", err)
	}
	if _, ok := s.Entry("b"); ok {
		t.Error("b still pending after Delete")
	}
	s.Close()

	s = openT(t, dir, Options{Clock: clk})
	defer s.Close()
	if got := claimNow(t, s); !slices.Equal(got, []string{"a"}) {
		t.Fatalf("after restart claimed %v, want the retried one", got)
	}
	if e, _ := s.Entry("a"); e.State.Attempts != 3 || e.State.LastError != "421" || !e.State.NextAttempt.IsZero() {
		t.Errorf("retried state %+v: attempts and error kept, next cleared wanted", e.State)
	}
	n, err := s.RetryAll(ctx)
	if err != nil || n != 2 {
		t.Fatalf("RetryAll = %d, %v; want 2", n, err)
	}
	if got := claimNow(t, s); !slices.Equal(got, []string{"c", "d"}) {
		t.Fatalf("after RetryAll claimed %v", got)
	}
	if s.Len() != 3 {
		t.Fatalf("Len %d, want 3", s.Len())
	}
}

func TestStateTornOnRecovery(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	clk := clock.NewFake(t0)
	s := openT(t, dir, Options{Clock: clk})
	appendT(t, s, "a", testBody("a", 100))
	claimNow(t, s)
	deferT(t, s, "a", DeliveryState{Attempts: 1, NextAttempt: t0.Add(time.Hour)})
	path, size1 := lastSegment(t, dir)
	deferT(t, s, "a", DeliveryState{Attempts: 2, NextAttempt: t0.Add(2 * time.Hour)})
	s.Close()
	_, size2 := lastSegment(t, dir)
	// The second state record is torn: the first one holds.
	if err := os.Truncate(path, size1+(size2-size1)/2); err != nil {
		t.Fatal(err)
	}
	s = openT(t, dir, Options{Clock: clk})
	e, ok := s.Entry("a")
	if !ok || e.State.Attempts != 1 || !e.State.NextAttempt.Equal(t0.Add(time.Hour)) {
		t.Fatalf("after a torn state record: %+v, %v", e.State, ok)
	}
	s.Close()

	// A record kind this code does not know, whole and CRC-valid, in a
	// SESPOOL2 segment is skipped; what follows it still counts.
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.Write(sealFrame(append(make([]byte, frameHeader), 200, 1, 2, 3)))
	f.Write(encodeState([]stateUpdate{{"a", []byte(`{"attempts":7}`)}}))
	f.Close()
	s = openT(t, dir, Options{Clock: clk})
	defer s.Close()
	if e, _ := s.Entry("a"); e.State.Attempts != 7 {
		t.Fatalf("state after an unknown record: %+v", e.State)
	}
}

// waitSegmentGone waits until the segment file path is deleted and, when
// maxSegs >= 0, the spool counts at most maxSegs segments. The commit loop
// deletes finished segments after it has released the waiters, so the
// call that finished one may return a moment before the file is gone.
func waitSegmentGone(t *testing.T, s *Spool, path string, maxSegs int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		_, err := os.Stat(path)
		if errors.Is(err, os.ErrNotExist) && (maxSegs < 0 || s.Stats().Segments <= maxSegs) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("segment %s still there 5 s after its messages went: %v (%d segments)",
				path, err, s.Stats().Segments)
		}
		time.Sleep(time.Millisecond)
	}
}

// TestCompaction: a message deferred long after it arrived moves out of its
// old segment, which is then deleted; bytes, body file and state survive.
func TestCompaction(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	clk := clock.NewFake(t0)
	opt := Options{Clock: clk, MemoryLimit: 4 << 10, SegmentSize: 32 << 10, CompactAfter: time.Hour}
	s := openT(t, dir, opt)
	ctx := context.Background()
	want := map[string]int{"small": 300, "big": 9000} // big spills to a body file
	for id, n := range want {
		appendT(t, s, id, testBody(id, n))
	}
	first, _ := filepath.Glob(filepath.Join(dir, "seg-*.log"))
	var filler []string
	for i := range 40 {
		id := fmt.Sprintf("f%02d", i)
		appendT(t, s, id, testBody(id, 2000))
		filler = append(filler, id)
	}
	if err := s.Delete(ctx, filler...); err != nil {
		t.Fatal(err)
	}
	claimNow(t, s)
	st := DeliveryState{Attempts: 1, NextAttempt: t0.Add(3 * time.Hour)}
	// Young: a state record, the old segment stays.
	deferT(t, s, "small", st)
	deferT(t, s, "big", st)
	if _, err := os.Stat(first[0]); err != nil {
		t.Fatalf("first segment gone before compaction: %v", err)
	}
	clk.Advance(2 * time.Hour)
	s.RetryAll(ctx)
	claimNow(t, s)
	deferT(t, s, "small", st)
	deferT(t, s, "big", st)
	waitSegmentGone(t, s, first[0], 3)
	if st := s.Stats(); st.Segments > 3 || st.Moves != 2 {
		t.Errorf("%d segments left, %d moves, want 2", st.Segments, st.Moves)
	}
	s.Close()

	s = openT(t, dir, opt)
	defer s.Close()
	for _, e := range s.Entries() {
		if !reflect.DeepEqual(e.State, st) {
			t.Errorf("%s: state %+v after compaction and restart", e.ID, e.State)
		}
	}
	clk.Advance(time.Hour)
	checkEntries(t, s, want)
}

// TestScheduleCost: with 100,000 messages deferred, appending and claiming
// cost heap operations, not scans of the queue.
func TestScheduleCost(t *testing.T) {
	t.Parallel()
	clk := clock.NewFake(t0)
	s := openT(t, t.TempDir(), Options{Clock: clk})
	defer s.Close()
	// The index is filled directly: 100,000 fsync'd appends would measure
	// the disk, not the schedule.
	fillDeferred(s, 100_000, t0.Add(time.Second))
	start := time.Now()
	for i := range 200 {
		id := fmt.Sprintf("new%03d", i)
		appendT(t, s, id, testBody(id, 100))
		es, err := s.Claim(context.Background(), 1)
		if err != nil || len(es) != 1 || es[0].ID != id {
			t.Fatalf("Claim after Append: %v, %v", es, err)
		}
		deferT(t, s, id, DeliveryState{NextAttempt: t0.Add(2 * time.Hour)})
	}
	clk.Advance(time.Hour + time.Second) // everything but the 200 falls due
	n := 0
	for n < 100_000 {
		es, err := s.Claim(context.Background(), 1000)
		if err != nil {
			t.Fatal(err)
		}
		n += len(es)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("200 append/claim/defer rounds and 100k claims with 100k queued took %v", d)
	}
	if st := s.Stats(); st.Deferred != 200 || st.Claimed != 100_000 {
		t.Errorf("stats %+v", st)
	}
}

// TestReadsV1Segments: a spool written by the first format (SESPOOL1,
// body-* files) opens with its messages, and what is written next is the
// new format.
func TestReadsV1Segments(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	body := []byte("spilled body")
	if err := os.WriteFile(filepath.Join(dir, "body-00aa"), body, 0o600); err != nil {
		t.Fatal(err)
	}
	seg := []byte(segMagicV1)
	seg = append(seg, encodeMessage([]byte(`{"id":"x","rcpt":["a@b.c"]}`), "", 0, []byte("inline x"))...)
	seg = append(seg, encodeMessage([]byte(`{"id":"y"}`), "body-00aa", int64(len(body)), []byte("head "))...)
	seg = append(seg, encodeMessage([]byte(`{"id":"z"}`), "", 0, []byte("gone"))...)
	seg = append(seg, encodeDone([]string{"z"})...)
	if err := os.WriteFile(filepath.Join(dir, segmentName(7)), seg, 0o600); err != nil {
		t.Fatal(err)
	}
	s := openT(t, dir, Options{})
	defer s.Close()
	got := claimAll(t, s)
	if len(got) != 2 || string(readEntry(t, got["x"])) != "inline x" || string(readEntry(t, got["y"])) != "head spilled body" {
		t.Fatalf("v1 spool read as %v", got)
	}
	deferT(t, s, "x", DeliveryState{Attempts: 1})
	newest, _ := lastSegment(t, dir)
	b, _ := os.ReadFile(newest)
	if newest == filepath.Join(dir, segmentName(7)) || string(b[:len(segMagic)]) != segMagic {
		t.Fatalf("state written to %s starting %q", newest, b[:len(segMagic)])
	}
}

// TestWakeWithFakeClock: a Claim blocked on a fake clock returns once the
// clock has moved and Wake is called.
func TestWakeWithFakeClock(t *testing.T) {
	t.Parallel()
	clk := clock.NewFake(t0)
	s := openT(t, t.TempDir(), Options{Clock: clk})
	defer s.Close()
	appendT(t, s, "a", testBody("a", 10))
	claimNow(t, s)
	deferT(t, s, "a", DeliveryState{NextAttempt: t0.Add(time.Hour)})
	got := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_, err := s.Claim(ctx, 1)
		got <- err
	}()
	clk.Advance(time.Hour)
	s.Wake()
	if err := <-got; err != nil {
		t.Fatal(err)
	}
}

// TestCompact: Compact frees a sparse old segment of its deferred messages;
// an Entry taken before still opens; claimed messages stay where they are.
func TestCompact(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	clk := clock.NewFake(t0)
	opt := Options{Clock: clk, MemoryLimit: 4 << 10, SegmentSize: 32 << 10, CompactAfter: time.Hour}
	s := openT(t, dir, opt)
	ctx := context.Background()
	want := map[string]int{"k1": 300, "k2": 9000, "busy": 100}
	for _, id := range []string{"k1", "k2", "busy"} {
		appendT(t, s, id, testBody(id, want[id]))
	}
	first, _ := filepath.Glob(filepath.Join(dir, "seg-*.log"))
	var filler []string
	for i := range 40 {
		id := fmt.Sprintf("f%02d", i)
		appendT(t, s, id, testBody(id, 2000))
		filler = append(filler, id)
	}
	s.Delete(ctx, filler...)
	claimNow(t, s)
	st := DeliveryState{Attempts: 1, NextAttempt: t0.Add(3 * time.Hour), LastError: "421"}
	deferT(t, s, "k1", st) // young: state records, no move
	deferT(t, s, "k2", st)
	before, _ := s.Entry("k1")
	if n, err := s.Compact(ctx); err != nil || n != 2 {
		t.Fatalf("Compact = %d, %v; want the 2 deferred messages moved", n, err)
	}
	if _, err := os.Stat(first[0]); err != nil {
		t.Fatalf("first segment gone while a claimed message is in it: %v", err)
	}
	if n, _ := s.Compact(ctx); n != 0 {
		t.Errorf("second Compact moved %d", n)
	}
	if b := readEntry(t, &before); string(b) != testPrefix+string(testBody("k1", 300)) {
		t.Errorf("an Entry taken before compaction reads %q", b)
	}
	s.Delete(ctx, "busy")
	delete(want, "busy")
	waitSegmentGone(t, s, first[0], -1)
	if b := readEntry(t, &before); string(b) != testPrefix+string(testBody("k1", 300)) {
		t.Errorf("an Entry taken before compaction reads %q after its segment went", b)
	}
	s.Close()
	s = openT(t, dir, opt)
	defer s.Close()
	for _, e := range s.Entries() {
		if !reflect.DeepEqual(e.State, st) {
			t.Errorf("%s: state %+v after compaction and restart", e.ID, e.State)
		}
	}
	clk.Advance(3 * time.Hour)
	checkEntries(t, s, want)
}

// TestStaleMoves: the committer drops a move that would resurrect a done
// message or write an outdated state.
func TestStaleMoves(t *testing.T) {
	t.Parallel()
	s := openT(t, t.TempDir(), Options{})
	defer s.Close()
	appendT(t, s, "x", testBody("x", 10))
	s.mu.Lock()
	v := s.items["x"].version
	s.mu.Unlock()
	move := func(compact bool, version uint64) *commitReq {
		return &commitReq{move: &moveApply{newState: newState{id: "x"}, compact: compact, version: version}}
	}
	for _, tc := range []struct {
		name  string
		batch []*commitReq
		skip  int // index of the dropped move, -1 for none
	}{
		{"defer move", []*commitReq{move(false, 0)}, -1},
		{"compaction move", []*commitReq{move(true, v)}, -1},
		{"done first", []*commitReq{{done: []string{"x"}}, move(false, 0)}, 1},
		{"done after", []*commitReq{move(false, 0), {done: []string{"x"}}}, -1},
		{"state first", []*commitReq{{states: []newState{{id: "x"}}}, move(true, v)}, 1},
		{"defer move first", []*commitReq{move(false, 0), move(true, v)}, 1},
		{"older version", []*commitReq{move(true, v-1)}, 0},
		{"unknown id", []*commitReq{{move: &moveApply{newState: newState{id: "y"}}}}, 0},
	} {
		skip := s.staleMoves(tc.batch)
		for i := range tc.batch {
			if got := skip != nil && skip[i]; got != (i == tc.skip) {
				t.Errorf("%s: record %d dropped = %v", tc.name, i, got)
			}
		}
	}
}
