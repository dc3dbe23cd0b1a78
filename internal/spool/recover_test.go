package spool

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// lastSegment returns the path and size of the newest segment holding
// records.
func lastSegment(t *testing.T, dir string) (string, int64) {
	t.Helper()
	segs, _ := filepath.Glob(filepath.Join(dir, "seg-*.log"))
	for i := len(segs) - 1; i >= 0; i-- {
		fi, err := os.Stat(segs[i])
		if err != nil {
			t.Fatal(err)
		}
		if fi.Size() > int64(len(segMagic)) {
			return segs[i], fi.Size()
		}
	}
	t.Fatal("no segment with records")
	return "", 0
}

func TestTornTail(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name       string
		keepVictim bool // the damage leaves the last record whole
		// damage changes the segment whose last record is the victim,
		// which starts at off and is n bytes long.
		damage func(t *testing.T, path string, off, n int64)
	}{
		{"cut in payload", false, func(t *testing.T, path string, off, n int64) {
			os.Truncate(path, off+n-3)
		}},
		{"cut in header", false, func(t *testing.T, path string, off, n int64) {
			os.Truncate(path, off+5)
		}},
		{"flipped payload byte", false, func(t *testing.T, path string, off, n int64) {
			flip(t, path, off+n-1)
		}},
		{"flipped length", false, func(t *testing.T, path string, off, n int64) {
			flip(t, path, off+1)
		}},
		{"zeros appended", true, func(t *testing.T, path string, off, n int64) {
			f, _ := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
			f.Write(make([]byte, 4096))
			f.Close()
		}},
		{"garbage header", false, func(t *testing.T, path string, off, n int64) {
			f, _ := os.OpenFile(path, os.O_WRONLY, 0)
			f.WriteAt([]byte{0xff, 0xff, 0xff, 0x7f, 1, 2, 3, 4}, off)
			f.Close()
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			s := openT(t, dir, Options{})
			want := map[string]int{}
			for i := 0; i < 5; i++ {
				id := fmt.Sprintf("t-%d", i)
				appendT(t, s, id, testBody(id, 300))
				want[id] = 300
			}
			path, before := lastSegment(t, dir)
			appendT(t, s, "victim", testBody("victim", 300))
			s.Close()
			_, after := lastSegment(t, dir)
			tc.damage(t, path, before, after-before)
			if tc.keepVictim {
				want["victim"] = 300
			}

			s = openT(t, dir, Options{})
			checkEntries(t, s, want)
			// New appends after a repaired tail survive the next restart.
			appendT(t, s, "next", testBody("next", 300))
			want["next"] = 300
			s.Close()
			s = openT(t, dir, Options{})
			defer s.Close()
			checkEntries(t, s, want)
		})
	}
}

func flip(t *testing.T, path string, at int64) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	b := make([]byte, 1)
	f.ReadAt(b, at)
	b[0] ^= 0x40
	if _, err := f.WriteAt(b, at); err != nil {
		t.Fatal(err)
	}
}

func TestMissingBodyFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	s := openT(t, dir, Options{MemoryLimit: 100})
	appendT(t, s, "small", testBody("small", 50))
	appendT(t, s, "big", testBody("big", 5000))
	appendT(t, s, "short", testBody("short", 5000))
	s.Close()
	bodies := bodyFiles(t, dir)
	if len(bodies) != 2 {
		t.Fatalf("body files %v", bodies)
	}
	// Which body is whose is not known from outside: cut one and remove the
	// other, then expect both messages gone and the small one intact.
	os.Truncate(bodies[0], 100)
	os.Remove(bodies[1])
	s = openT(t, dir, Options{})
	defer s.Close()
	checkEntries(t, s, map[string]int{"small": 50})
	if b := bodyFiles(t, dir); len(b) != 0 {
		t.Errorf("short body file kept: %v", b)
	}
}

func TestBadSegmentFiles(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	s := openT(t, dir, Options{})
	appendT(t, s, "a", testBody("a", 10))
	s.Close()
	// A segment whose creation was cut short, and one that is not ours.
	os.WriteFile(filepath.Join(dir, segmentName(100)), []byte("SESP"), 0o600)
	alien := filepath.Join(dir, segmentName(101))
	os.WriteFile(alien, []byte("something else entirely"), 0o600)
	s = openT(t, dir, Options{})
	defer s.Close()
	checkEntries(t, s, map[string]int{"a": 10})
	if b, err := os.ReadFile(alien); err != nil || !bytes.HasPrefix(b, []byte("something")) {
		t.Errorf("foreign file touched: %q, %v", b, err)
	}
	appendT(t, s, "b", testBody("b", 10))
	if err := s.Done(context.Background(), "a"); err != nil {
		t.Fatal(err)
	}
}

func FuzzRecover(f *testing.F) {
	good := append(encodeMessage([]byte(`{"id":"x"}`), "", 0, []byte("hello")), encodeDone([]string{"x", "y"})...)
	good = append(good, encodeMessage([]byte(`{"id":"y"}`), "body-00", 3)...)
	f.Add(good)
	sched := append(encodeMessage([]byte(`{"id":"x"}`), "", 0, []byte("hello")),
		encodeState([]stateUpdate{{"x", []byte(`{"attempts":2,"next":"2000-01-01T00:00:00Z"}`)}, {"z", []byte(`{}`)}})...)
	sched = append(sched, encodeMove([]byte(`{"id":"x"}`), []byte(`{"attempts":3}`), "", 0, []byte("hello"))...)
	sched = append(sched, encodeMove([]byte(`{"id":"w"}`), []byte(`{"next":"2999-01-01T00:00:00Z"}`), "", 0, []byte("hi"))...)
	sched = append(sched, sealFrame(append(make([]byte, frameHeader), 99, 1, 2))...)
	f.Add(sched)
	f.Add(sched[:len(sched)-5])
	f.Add(good[:len(good)-2])
	f.Add([]byte{})
	f.Add(make([]byte, 64))
	f.Fuzz(func(t *testing.T, data []byte) {
		dir := t.TempDir()
		os.WriteFile(filepath.Join(dir, segmentName(1)), append([]byte(segMagic), data...), 0o600)
		s, err := Open(dir, quietOptions())
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		for _, e := range claimAll(t, s) {
			r, err := e.Open()
			if err != nil {
				t.Fatal(err)
			}
			r.Close()
		}
	})
}

func FuzzDecode(f *testing.F) {
	f.Add(encodeMessage([]byte(`{"id":"x"}`), "body-1", 9, []byte("hi"))[frameHeader:])
	f.Add(encodeDone([]string{"a", "bc"})[frameHeader:])
	f.Add(encodeState([]stateUpdate{{"a", []byte(`{"attempts":1}`)}, {"bc", []byte(`{}`)}})[frameHeader:])
	f.Add(encodeMove([]byte(`{"id":"x"}`), []byte(`{"attempts":1}`), "body-1", 9, []byte("hi"))[frameHeader:])
	f.Fuzz(func(t *testing.T, p []byte) {
		if us, err := decodeState(p); err == nil {
			again, err := decodeState(encodeState(us)[frameHeader:])
			if err != nil || !slices.EqualFunc(again, us, func(a, b stateUpdate) bool {
				return a.id == b.id && bytes.Equal(a.state, b.state)
			}) {
				t.Fatalf("re-encoded state record decodes as %q, %v; want %q", again, err, us)
			}
		}
		if m, err := decodeMove(p); err == nil {
			again := encodeMove(m.envelope, m.state, m.body, m.bodySize, m.inline)[frameHeader:]
			if m2, err := decodeMove(again); err != nil || !bytes.Equal(m2.inline, m.inline) ||
				!bytes.Equal(m2.state, m.state) || m2.body != m.body || m2.bodySize != m.bodySize {
				t.Fatalf("re-encoded move record does not decode the same: %v", err)
			}
		}
		if m, err := decodeMessage(p); err == nil {
			again := encodeMessage(m.envelope, m.body, m.bodySize, m.inline)[frameHeader:]
			if m2, err := decodeMessage(again); err != nil || !bytes.Equal(m2.inline, m.inline) || m2.body != m.body {
				t.Fatalf("re-encoded message does not decode the same: %v", err)
			}
		}
		if ids, err := decodeDone(p); err == nil {
			again, err := decodeDone(encodeDone(ids)[frameHeader:])
			if err != nil || !slices.Equal(again, ids) {
				t.Fatalf("re-encoded done record decodes as %q, %v; want %q", again, err, ids)
			}
		}
	})
}
