package spool

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"time"
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
	// A lock just released may still be held for a moment: a process that
	// forks (os/exec) shares the open lock file with the child until the
	// child's exec closes it. So a busy lock is tried again for a short
	// while before the spool is declared in use.
	var err2 error
	for try := 0; try < 50; try++ {
		if err2 = syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err2 != syscall.EWOULDBLOCK {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err2 != nil {
		f.Close()
		if err2 == syscall.EWOULDBLOCK {
			return nil, fmt.Errorf("spool: lock %s: %w", dir, ErrInUse)
		}
		return nil, fmt.Errorf("spool: lock %s: %w", dir, err2)
	}
	return f, nil
}

// isNoSpace says whether err is a full file system or an exhausted quota.
func isNoSpace(err error) bool {
	return errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT)
}
