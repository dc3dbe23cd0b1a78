package spool

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
)

// smallTmpfs mounts a tmpfs of the given size at a new directory (root
// only: skipped otherwise, failed under CI=true, where tests run as root).
func smallTmpfs(t *testing.T, size string) string {
	t.Helper()
	if os.Geteuid() != 0 {
		if os.Getenv("CI") == "true" {
			t.Fatal("mounting a tmpfs needs root (CI runs as root)")
		}
		t.Skip("mounting a tmpfs needs root")
	}
	dir := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size="+size, "tmpfs", dir).CombinedOutput(); err != nil {
		t.Fatalf("mount: %v: %s", err, out)
	}
	t.Cleanup(func() { exec.Command("umount", "-l", dir).Run() })
	return dir
}

// fill writes a file in dir until the file system is full.
func fill(t *testing.T, dir string) string {
	t.Helper()
	path := filepath.Join(dir, "filler")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	block := make([]byte, 4096)
	for {
		if _, err := f.Write(block); err != nil {
			if !errors.Is(err, syscall.ENOSPC) {
				t.Fatal(err)
			}
			return path
		}
	}
}

// TestDiskFullIsTemporary: an Append on a full disk fails, the segment is
// cut back to its last synced byte, and once space is back the spool
// accepts again without a restart; after a reopen exactly the acknowledged
// messages are there. (Before, the first failed write stopped the spool for
// good: every later Append failed until the process restarted.)
func TestDiskFullIsTemporary(t *testing.T) {
	dir := smallTmpfs(t, "1m")
	opt := Options{MemoryLimit: 64 << 10}
	s := openT(t, dir, opt)
	appendT(t, s, "before", testBody("before", 20000))
	size := s.fileSize
	filler := fill(t, dir)

	for _, id := range []string{"full1", "full2"} {
		d, err := s.NewDraft()
		if err != nil {
			t.Fatal(err)
		}
		d.Write(testBody(id, 20000))
		err = s.Append(context.Background(), testEnvelope(id), []byte(testPrefix), d)
		if !errors.Is(err, syscall.ENOSPC) {
			t.Fatalf("Append %s on a full disk: %v, want ENOSPC", id, err)
		}
	}
	if fi, err := os.Stat(s.active.path); err != nil || fi.Size() != size {
		t.Fatalf("segment after failed appends: %v, %v bytes; want %d (cut back)", err, fi.Size(), size)
	}

	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	appendT(t, s, "after", testBody("after", 20000))
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = openT(t, dir, opt)
	defer s.Close()
	checkEntries(t, s, map[string]int{"before": 20000, "after": 20000})
}
