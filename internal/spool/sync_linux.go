package spool

import (
	"fmt"
	"os"
	"path/filepath"
	"syscall"
)

// datasync flushes a segment's data and size, not its timestamps: the
// cheaper sync is enough for an append-only file.
func datasync(f *os.File) error {
	for {
		err := syscall.Fdatasync(int(f.Fd()))
		if err != syscall.EINTR {
			return err
		}
	}
}

// lockDir takes an exclusive lock so that two processes never share a spool.
func lockDir(dir string) (*os.File, error) {
	f, err := os.OpenFile(filepath.Join(dir, "lock"), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("spool: lock %s: %w", dir, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		return nil, fmt.Errorf("spool: lock %s (in use by another process?): %w", dir, err)
	}
	return f, nil
}
