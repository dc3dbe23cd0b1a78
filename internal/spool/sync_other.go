//go:build !linux

package spool

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
)

func datasync(f *os.File) error { return f.Sync() }

// lockDir only creates the lock file here: exclusive locking is Linux-only.
func lockDir(dir string) (*os.File, error) {
	f, err := os.OpenFile(filepath.Join(dir, "lock"), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("spool: lock %s: %w", dir, err)
	}
	return f, nil
}

// isNoSpace says whether err is a full file system.
func isNoSpace(err error) bool { return errors.Is(err, syscall.ENOSPC) }
