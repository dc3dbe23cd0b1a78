//go:build !unix

package backup

import (
	"fmt"
	"os"
	"path/filepath"
)

// LockDataDir only creates the lock file here: flock is a unix call (the
// control socket check in Restore still sees a running server).
func LockDataDir(dataDir string) (*os.File, error) {
	f, err := os.OpenFile(filepath.Join(dataDir, LockFile), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("lock data dir %s: %w", dataDir, err)
	}
	return f, nil
}
