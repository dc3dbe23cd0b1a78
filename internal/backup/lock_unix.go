//go:build unix

package backup

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"time"
)

// LockDataDir takes the data dir's lock (an exclusive flock on
// <dataDir>/sesame.lock) and holds it until the file is closed. `sesame
// serve` holds it for its life and `sesame admin restore` while it
// writes, so a second server, or a restore under a running one, is
// refused instead of sharing the files. The lock goes with the process:
// a crash leaves no stale lock behind.
func LockDataDir(dataDir string) (*os.File, error) {
	f, err := os.OpenFile(filepath.Join(dataDir, LockFile), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("lock data dir %s: %w", dataDir, err)
	}
	if err := flock(f); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, inUse(fmt.Sprintf("data dir %s is in use: another sesame process holds its lock (%s)", dataDir, LockFile))
		}
		return nil, fmt.Errorf("lock data dir %s: %w", dataDir, err)
	}
	return f, nil
}

// flock takes the lock without waiting for a holder, but tries again for a
// moment: a process that forks (os/exec) shares its open files with the
// child until the child's exec closes them, so a lock just released may
// still be held briefly.
func flock(f *os.File) error {
	var err error
	for try := 0; try < 20; try++ {
		err = syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == syscall.EINTR {
			try--
			continue
		}
		if err != syscall.EWOULDBLOCK {
			return err
		}
		time.Sleep(10 * time.Millisecond)
	}
	return err
}
