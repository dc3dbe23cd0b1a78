package spool

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestDraft(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		chunks []string
		spills bool
	}{
		{"empty", nil, false},
		{"small", []string{"Subject: hi\r\n", "\r\nbody\r\n"}, false},
		{"exactly limit", []string{strings.Repeat("a", 64)}, false},
		{"past limit", []string{strings.Repeat("a", 60), strings.Repeat("b", 10)}, true},
		{"many chunks", strings.Split(strings.Repeat("line\r\n", 100), "\n"), true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			s, err := Open(dir, Options{MemoryLimit: 64})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			d, err := s.NewDraft()
			if err != nil {
				t.Fatal(err)
			}
			var want bytes.Buffer
			for _, c := range tc.chunks {
				n, err := d.Write([]byte(c))
				if err != nil || n != len(c) {
					t.Fatalf("Write = %d, %v", n, err)
				}
				want.WriteString(c)
			}
			if d.Size() != int64(want.Len()) {
				t.Errorf("Size = %d, want %d", d.Size(), want.Len())
			}
			for i := 0; i < 2; i++ { // Reader may be called several times
				got, err := io.ReadAll(d.Reader())
				if err != nil || !bytes.Equal(got, want.Bytes()) {
					t.Fatalf("Reader #%d = %q, %v; want %q", i, got, err, want.Bytes())
				}
			}
			if got := bodyFiles(t, dir); (len(got) == 1) != tc.spills {
				t.Errorf("body files %v, spilled should be %v", got, tc.spills)
			}
			if err := d.Discard(); err != nil {
				t.Fatal(err)
			}
			if got := bodyFiles(t, dir); len(got) != 0 {
				t.Errorf("after Discard: body files %v", got)
			}
			if err := d.Discard(); err != nil {
				t.Errorf("second Discard: %v", err)
			}
			if _, err := d.Write([]byte("x")); err == nil {
				t.Error("Write after Discard succeeded")
			}
		})
	}
}

func bodyFiles(t *testing.T, dir string) []string {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(dir, bodyPrefix+"*"))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestDraftBigStaysOnDisk(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	s, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	d, err := s.NewDraft()
	if err != nil {
		t.Fatal(err)
	}
	defer d.Discard()
	chunk := bytes.Repeat([]byte("x"), 64<<10)
	for i := 0; i < 160; i++ { // 10 MiB
		if _, err := d.Write(chunk); err != nil {
			t.Fatal(err)
		}
	}
	if len(d.mem) != 0 || cap(d.mem) > 2*defaultMemoryLimit {
		t.Errorf("draft keeps %d bytes (cap %d) in memory", len(d.mem), cap(d.mem))
	}
	fi, err := os.Stat(bodyFiles(t, dir)[0])
	if err != nil || fi.Size() != 160*64<<10 {
		t.Fatalf("body file: %v, %v", fi, err)
	}
}
