package spool

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"reflect"
	"runtime"
	"sort"
	"sync"
	"testing"
	"time"
)

func quietOptions() Options {
	return Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
}

func openT(t testing.TB, dir string, opt Options) *Spool {
	t.Helper()
	if opt.Logger == nil {
		opt.Logger = quietOptions().Logger
	}
	s, err := Open(dir, opt)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func testEnvelope(id string) *Envelope {
	return &Envelope{
		ID:         id,
		AccountID:  "123456789012",
		Region:     "us-east-1",
		MailFrom:   "sender@example.com",
		Recipients: []string{"a@example.net", "b@example.org"},
		Received:   time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC),
		Via:        "smtp",
		Meta: Meta{ConfigurationSet: "cs-" + id, Tags: []Tag{{Name: "campaign", Value: "v1.2@x"}},
			Operation: "SendSmtpEmail", SourceIP: "127.0.0.1"},
	}
}

// testBody is deterministic per id, so any reader can check the bytes.
func testBody(id string, n int) []byte {
	b := bytes.Repeat([]byte(id+"|"), n/(len(id)+1)+1)
	return b[:n]
}

const testPrefix = "Received: from test\r\n"

func appendT(t testing.TB, s *Spool, id string, body []byte) {
	t.Helper()
	d, err := s.NewDraft()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.Write(body); err != nil {
		t.Fatal(err)
	}
	if err := s.Append(context.Background(), testEnvelope(id), []byte(testPrefix), d); err != nil {
		t.Fatal(err)
	}
}

// claimAll claims every pending, due message without blocking.
func claimAll(t testing.TB, s *Spool) map[string]*Entry {
	t.Helper()
	out := map[string]*Entry{}
	for st := s.Stats(); st.Claimed+st.Deferred < st.Pending; st = s.Stats() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		es, err := s.Claim(ctx, 100)
		cancel()
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range es {
			if out[e.ID] != nil {
				t.Fatalf("%s claimed twice", e.ID)
			}
			out[e.ID] = e
		}
	}
	return out
}

func readEntry(t testing.TB, e *Entry) []byte {
	t.Helper()
	r, err := e.Open()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// checkEntries asserts that the spool holds exactly want (id → body size),
// with exact bytes and envelopes.
func checkEntries(t testing.TB, s *Spool, want map[string]int) {
	t.Helper()
	got := claimAll(t, s)
	if len(got) != len(want) || s.Len() != len(want) {
		t.Fatalf("spool has %d messages (Len %d), want %d", len(got), s.Len(), len(want))
	}
	for id, n := range want {
		e := got[id]
		if e == nil {
			t.Fatalf("%s missing", id)
		}
		wantBytes := append([]byte(testPrefix), testBody(id, n)...)
		if b := readEntry(t, e); !bytes.Equal(b, wantBytes) {
			t.Fatalf("%s: %d bytes read, want %d (equal prefix %v)", id, len(b), len(wantBytes),
				bytes.HasPrefix(b, []byte(testPrefix)))
		}
		if e.Size != int64(len(wantBytes)) {
			t.Errorf("%s: Size %d, want %d", id, e.Size, len(wantBytes))
		}
		if !reflect.DeepEqual(e.Envelope, *testEnvelope(id)) {
			t.Errorf("%s: envelope %+v", id, e.Envelope)
		}
	}
	ids := make([]string, 0, len(got))
	for id := range got {
		ids = append(ids, id)
	}
	s.Release(ids...)
}

func TestRoundTripConcurrent(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	s := openT(t, dir, Options{MemoryLimit: 4 << 10, SegmentSize: 256 << 10})
	const writers, each = 50, 40
	want := map[string]int{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < each; i++ {
				id := fmt.Sprintf("m-%02d-%02d", w, i)
				n := 100 + (w*each+i)*37%3000 // some spill past 4 KiB with the prefix? no: up to ~3 KiB
				if i%10 == 0 {
					n = 9000 // spilled to a body file
				}
				appendT(t, s, id, testBody(id, n))
				mu.Lock()
				want[id] = n
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	st := s.Stats()
	if st.Appends != writers*each || st.Segments < 2 {
		t.Errorf("stats %+v: want %d appends over several segments", st, writers*each)
	}
	checkEntries(t, s, want)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s = openT(t, dir, Options{})
	checkEntries(t, s, want)

	// Done a third, from many goroutines at once.
	var doneIDs []string
	for id := range want {
		if len(doneIDs) < len(want)/3 {
			doneIDs = append(doneIDs, id)
		}
	}
	for i := 0; i < len(doneIDs); i += 10 {
		wg.Add(1)
		go func(ids []string) {
			defer wg.Done()
			if err := s.Done(context.Background(), ids...); err != nil {
				t.Error(err)
			}
		}(doneIDs[i:min(i+10, len(doneIDs))])
	}
	wg.Wait()
	for _, id := range doneIDs {
		delete(want, id)
	}
	checkEntries(t, s, want)
	s.Close()

	s = openT(t, dir, Options{})
	defer s.Close()
	checkEntries(t, s, want)
	bodies, _ := filepath.Glob(filepath.Join(dir, bodyPrefix+"*"))
	spilled := 0
	for _, n := range want {
		if n == 9000 {
			spilled++
		}
	}
	if len(bodies) != spilled {
		t.Errorf("%d body files on disk, %d spilled messages pending", len(bodies), spilled)
	}
}

func TestDoneReclaimsSegments(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	s := openT(t, dir, Options{SegmentSize: 8 << 10, MemoryLimit: 1024})
	var ids []string
	for i := 0; i < 60; i++ {
		id := fmt.Sprintf("r-%02d", i)
		n := 500
		if i%7 == 0 {
			n = 3000 // body file
		}
		appendT(t, s, id, testBody(id, n))
		ids = append(ids, id)
	}
	if st := s.Stats(); st.Segments < 4 {
		t.Fatalf("only %d segments; the test needs several", st.Segments)
	}
	// Keep r-00 (in the first segment) pending; finish the rest out of order.
	sort.Sort(sort.Reverse(sort.StringSlice(ids)))
	for _, id := range ids[:len(ids)-1] {
		if err := s.Done(context.Background(), id); err != nil {
			t.Fatal(err)
		}
	}
	for i := 0; i < 40; i++ { // push the done records out of the active segment
		id := fmt.Sprintf("z-%02d", i)
		appendT(t, s, id, testBody(id, 500))
		if err := s.Done(context.Background(), id); err != nil {
			t.Fatal(err)
		}
	}
	s.Close()
	s = openT(t, dir, Options{})
	checkEntries(t, s, map[string]int{"r-00": 3000})
	if err := s.Done(context.Background(), "r-00"); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 20; i++ { // rotate once more so the old segments go
		id := fmt.Sprintf("y-%02d", i)
		appendT(t, s, id, testBody(id, 500))
		s.Done(context.Background(), id)
	}
	s.Close()
	s = openT(t, dir, Options{})
	defer s.Close()
	if s.Len() != 0 {
		t.Fatalf("Len %d after all done", s.Len())
	}
	segs, _ := filepath.Glob(filepath.Join(dir, "seg-*"))
	bodies, _ := filepath.Glob(filepath.Join(dir, bodyPrefix+"*"))
	if len(segs) > 2 || len(bodies) != 0 {
		t.Errorf("left on disk: %v %v", segs, bodies)
	}
}

func TestClaimRelease(t *testing.T) {
	t.Parallel()
	s := openT(t, t.TempDir(), Options{})
	defer s.Close()
	ctx := context.Background()

	// Claim blocks until an append arrives.
	got := make(chan []*Entry)
	go func() {
		es, err := s.Claim(ctx, 10)
		if err != nil {
			t.Error(err)
		}
		got <- es
	}()
	appendT(t, s, "a", []byte("one"))
	if es := <-got; len(es) != 1 || es[0].ID != "a" {
		t.Fatalf("blocked Claim got %v", es)
	}
	appendT(t, s, "b", []byte("two"))
	appendT(t, s, "c", []byte("three"))

	claim := func(max int) []string {
		t.Helper()
		c, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
		defer cancel()
		es, err := s.Claim(c, max)
		if err != nil && !errors.Is(err, context.DeadlineExceeded) {
			t.Fatal(err)
		}
		var ids []string
		for _, e := range es {
			ids = append(ids, e.ID)
		}
		return ids
	}
	if ids := claim(1); !reflect.DeepEqual(ids, []string{"b"}) {
		t.Fatalf("Claim(1) = %v, want oldest [b]", ids)
	}
	s.Release("a")
	if ids := claim(10); !reflect.DeepEqual(ids, []string{"a", "c"}) {
		t.Fatalf("after Release(a): %v, want [a c] (oldest first)", ids)
	}
	if ids := claim(10); ids != nil {
		t.Fatalf("everything claimed, yet Claim returned %v", ids)
	}
	if err := s.Done(ctx, "a", "nope"); err != nil {
		t.Fatal(err)
	}
	s.Release("a", "b") // a is done: not handed out again
	if ids := claim(10); !reflect.DeepEqual(ids, []string{"b"}) {
		t.Fatalf("after Done(a), Release(a,b): %v, want [b]", ids)
	}
	if s.Len() != 2 {
		t.Errorf("Len %d, want 2", s.Len())
	}

	// Close wakes a blocked Claim and fails later calls.
	errc := make(chan error)
	go func() {
		_, err := s.Claim(ctx, 1)
		errc <- err
	}()
	s.Close()
	if err := <-errc; !errors.Is(err, ErrClosed) {
		t.Errorf("Claim across Close: %v", err)
	}
	d, err := s.NewDraft()
	if err == nil {
		err = s.Append(ctx, testEnvelope("late"), nil, d)
	}
	if !errors.Is(err, ErrClosed) {
		t.Errorf("append after Close: %v", err)
	}
}

func TestAppendTakesDraft(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	s := openT(t, dir, Options{MemoryLimit: 16})
	defer s.Close()
	d, _ := s.NewDraft()
	d.Write(testBody("big", 100))
	dirSyncs := s.Stats().DirSyncs
	if err := s.Append(context.Background(), testEnvelope("big"), []byte(testPrefix), d); err != nil {
		t.Fatal(err)
	}
	if s.Stats().DirSyncs == dirSyncs {
		t.Error("a body file was committed without syncing the directory")
	}
	if err := d.Discard(); err != nil {
		t.Errorf("Discard after Append: %v", err)
	}
	if err := s.Append(context.Background(), testEnvelope("again"), nil, d); err == nil {
		t.Error("second Append of one draft succeeded")
	}
	d2, _ := s.NewDraft()
	if err := s.Append(context.Background(), testEnvelope("big"), nil, d2); err == nil {
		t.Error("Append of a pending id succeeded")
	}
	checkEntries(t, s, map[string]int{"big": 100})
	if b := bodyFiles(t, dir); len(b) != 1 {
		t.Errorf("body files %v, want the appended one", b)
	}
}

func TestGroupCommit(t *testing.T) {
	t.Parallel()
	s := openT(t, t.TempDir(), Options{})
	defer s.Close()
	const writers, each = 32, 50
	var wg sync.WaitGroup
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < each; i++ {
				id := fmt.Sprintf("g-%d-%d", w, i)
				appendT(t, s, id, testBody(id, 2000))
			}
		}()
	}
	wg.Wait()
	st := s.Stats()
	t.Logf("%d appends in %d syncs", st.Appends, st.Syncs)
	if st.Appends != writers*each || st.Syncs*4 > st.Appends {
		t.Errorf("%d appends took %d syncs: group commit should share them", st.Appends, st.Syncs)
	}
}

func TestOrphansRemoved(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	s := openT(t, dir, Options{MemoryLimit: 8})
	d, _ := s.NewDraft()
	d.Write([]byte("a draft that spilled and whose process died"))
	s.Close() // the draft is never appended nor discarded
	if len(bodyFiles(t, dir)) != 1 {
		t.Fatal("no spilled draft to test with")
	}
	s = openT(t, dir, Options{})
	defer s.Close()
	if b := bodyFiles(t, dir); len(b) != 0 {
		t.Errorf("orphan body files left: %v", b)
	}
}

func TestOpenLocksDir(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	s := openT(t, dir, Options{})
	defer s.Close()
	s2, err := Open(dir, quietOptions())
	if err == nil {
		s2.Close()
		t.Error("a second Open of one directory succeeded")
	} else if runtime.GOOS == "linux" && !errors.Is(err, ErrInUse) {
		t.Errorf("second Open: %v, want ErrInUse", err)
	}
}

// TestIndexHoldsNoBodies checks that pending messages cost metadata, not
// their bytes. Not parallel: it measures the heap.
func TestIndexHoldsNoBodies(t *testing.T) {
	dir := t.TempDir()
	s := openT(t, dir, Options{})
	const count, size = 400, 32 << 10 // 12.5 MiB of message bytes
	var wg sync.WaitGroup
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < count; i += 8 {
				id := fmt.Sprintf("h-%d", i)
				appendT(t, s, id, testBody(id, size))
			}
		}()
	}
	wg.Wait()
	s.Close()
	s = nil

	before := heapInUse()
	recovered := openT(t, dir, Options{})
	defer recovered.Close()
	grown := heapInUse() - before
	if recovered.Len() != count {
		t.Fatalf("Len %d", recovered.Len())
	}
	t.Logf("recovered index of %d messages: %d bytes of heap", count, grown)
	if grown > count*2048 {
		t.Errorf("index of %d messages takes %d bytes: bodies are being kept", count, grown)
	}
}

func heapInUse() int64 {
	var m runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&m)
	return int64(m.HeapAlloc)
}

// TestCloseDuringAppends: appends racing Close either complete (and are
// there after a restart) or fail; none hangs.
func TestCloseDuringAppends(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	s := openT(t, dir, Options{MemoryLimit: 2048})
	var mu sync.Mutex
	ok := map[string]int{}
	var wg sync.WaitGroup
	started := make(chan struct{})
	var once sync.Once
	for w := 0; w < 20; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				id := fmt.Sprintf("cl-%d-%d", w, i)
				n := 1000 + i%2*3000
				d, err := s.NewDraft()
				if err != nil {
					return
				}
				d.Write(testBody(id, n))
				if err := s.Append(context.Background(), testEnvelope(id), []byte(testPrefix), d); err != nil {
					if !errors.Is(err, ErrClosed) {
						t.Errorf("append across Close: %v", err)
					}
					return
				}
				mu.Lock()
				ok[id] = n
				mu.Unlock()
				once.Do(func() { close(started) })
			}
		}()
	}
	<-started
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	spilled := 0
	for _, n := range ok {
		if n > 2048 {
			spilled++
		}
	}
	if b := bodyFiles(t, dir); len(b) != spilled {
		t.Errorf("%d body files for %d spilled messages: failed appends left theirs", len(b), spilled)
	}
	s = openT(t, dir, Options{})
	defer s.Close()
	checkEntries(t, s, ok)
}
