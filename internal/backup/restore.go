package backup

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"sesame/internal/queuectl"
	"sesame/internal/safefile"
	"sesame/internal/store"
)

// ErrNotEmpty says the data dir to restore into has files and no --force.
var ErrNotEmpty = errors.New("not empty")

// RestoreOptions adjust Restore.
type RestoreOptions struct {
	// SecretKeyFile is [store] secret_key_file ("" for the data dir's
	// secret.key): where the backup's secret.key goes. Outside the data
	// dir it is written when missing, kept when it holds the same key,
	// and refused when it holds another.
	SecretKeyFile string
	// Force restores into a data dir that is not empty: it is first moved
	// aside, never deleted.
	Force bool
	Now   func() time.Time // nil: time.Now

	// rename, for tests, stands in for os.Rename (nil): a rename that
	// fails as it does on a mount point.
	rename func(from, to string) error
}

// Restored says what Restore did.
type Restored struct {
	Manifest *Manifest
	// MovedAside is where the data dir that was there went ("" when it
	// was missing or empty).
	MovedAside string
}

// Verify checks a backup: its manifest, every file's size and SHA-256, and
// that its schema is not newer than this binary knows.
func Verify(dir string) (*Manifest, error) {
	m, err := ReadManifest(dir)
	if err != nil {
		return nil, err
	}
	if m.Format != ManifestFormat {
		return nil, fmt.Errorf("backup %s: manifest format %d; this sesame reads format %d", dir, m.Format, ManifestFormat)
	}
	if know := store.KnownSchema(); m.SchemaVersion > know {
		return nil, fmt.Errorf("backup %s was made by a newer sesame (%s, schema %d; this sesame knows up to %d): restore it with that version or newer",
			dir, m.SesameVersion, m.SchemaVersion, know)
	}
	have := map[string]bool{}
	for _, f := range m.Files {
		if !validPath(f.Path) || f.Path == ManifestFile {
			return nil, fmt.Errorf("backup %s: manifest names a bad path %q", dir, f.Path)
		}
		if have[f.Path] {
			return nil, fmt.Errorf("backup %s: manifest names %s twice", dir, f.Path)
		}
		have[f.Path] = true
		if _, err := parseMode(f.Mode); err != nil {
			return nil, fmt.Errorf("backup %s: %s: %w", dir, f.Path, err)
		}
		size, sum, err := hashFile(filepath.Join(dir, filepath.FromSlash(f.Path)))
		if err != nil {
			return nil, fmt.Errorf("backup %s: %w", dir, err)
		}
		if size != f.Size || sum != f.SHA256 {
			return nil, fmt.Errorf("backup %s: %s does not match the manifest (size %d, sha256 %s; manifest: size %d, sha256 %s): the backup is damaged",
				dir, f.Path, size, sum, f.Size, f.SHA256)
		}
	}
	for _, need := range []string{store.DatabaseFile, SecretKeyFile} {
		if !have[need] {
			return nil, fmt.Errorf("backup %s: the manifest has no %s", dir, need)
		}
	}
	return m, nil
}

// validPath accepts a relative, clean, slash-separated path that stays
// inside the directory it is relative to.
func validPath(p string) bool {
	return p != "" && p != "." && p != ".." && path.Clean(p) == p && !path.IsAbs(p) && !strings.HasPrefix(p, "../")
}

func parseMode(s string) (fs.FileMode, error) {
	v, err := strconv.ParseUint(s, 8, 32)
	if err != nil || v&^0o777 != 0 {
		return 0, fmt.Errorf("bad mode %q", s)
	}
	return fs.FileMode(v), nil
}

// Restore puts the backup in dir into the data dir dataDir. It refuses
// while a server runs on dataDir, and a data dir with files in it unless
// opt.Force, which moves that one aside to <dataDir>.before-restore-<time>
// first.
func Restore(ctx context.Context, dir, dataDir string, opt RestoreOptions) (*Restored, error) {
	if opt.Now == nil {
		opt.Now = time.Now
	}
	dataDir, dir, err := absPair(dataDir, dir)
	if err != nil {
		return nil, err
	}
	m, err := Verify(dir)
	if err != nil {
		return nil, err
	}
	keyFile, keyThere, err := keyDestination(dir, dataDir, opt.SecretKeyFile)
	if err != nil {
		return nil, err
	}
	res := &Restored{Manifest: m}
	lock, err := claimDataDir(ctx, dataDir, opt, res)
	if err != nil {
		return nil, err
	}
	defer lock.Close()
	for _, f := range m.Files {
		dst := filepath.Join(dataDir, filepath.FromSlash(f.Path))
		if f.Path == SecretKeyFile {
			if keyThere {
				continue
			}
			dst = keyFile
		}
		if err := restoreFile(filepath.Join(dir, filepath.FromSlash(f.Path)), dst, f); err != nil {
			return nil, fmt.Errorf("restore: %w (the data dir %s is incomplete: run the restore again with --force)", err, dataDir)
		}
	}
	if err := syncTree(dataDir); err != nil {
		return nil, fmt.Errorf("restore: %w", err)
	}
	if !within(keyFile, dataDir) && !keyThere {
		if err := safefile.SyncDir(filepath.Dir(keyFile)); err != nil {
			return nil, fmt.Errorf("restore: %w", err)
		}
	}
	return res, nil
}

// keyDestination is where the backup's secret.key goes, and whether that
// file holds the same key already (a [store] secret_key_file outside the
// data dir, which a restore neither moves aside nor overwrites: one
// holding another key is refused, before anything changes).
func keyDestination(dir, dataDir, configured string) (string, bool, error) {
	keyFile, err := secretKeyPath(dataDir, configured)
	if err != nil {
		return "", false, fmt.Errorf("restore: %w", err)
	}
	if within(keyFile, dataDir) {
		return keyFile, false, nil // the data dir is new or moved aside
	}
	have, err := os.ReadFile(keyFile)
	if errors.Is(err, fs.ErrNotExist) {
		return keyFile, false, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("restore: the secret key ([store] secret_key_file): %w", err)
	}
	want, err := os.ReadFile(filepath.Join(dir, SecretKeyFile))
	if err != nil {
		return "", false, fmt.Errorf("restore: %w", err)
	}
	if !bytes.Equal(have, want) {
		return "", false, fmt.Errorf("restore: %s ([store] secret_key_file) holds another key than the backup's secret.key, "+
			"which sealed the secrets in the backup's database: move that file aside and restore again (it is written from the backup)", keyFile)
	}
	return keyFile, true, nil
}

// claimDataDir makes sure no server runs on dataDir and that it is there,
// empty and locked (by us, until the restore is done).
func claimDataDir(ctx context.Context, dataDir string, opt RestoreOptions, res *Restored) (*os.File, error) {
	if _, err := os.Stat(dataDir); errors.Is(err, fs.ErrNotExist) {
		if err := os.MkdirAll(dataDir, 0o700); err != nil {
			return nil, fmt.Errorf("restore: %w", err)
		}
		if err := safefile.SyncDir(filepath.Dir(dataDir)); err != nil {
			return nil, fmt.Errorf("restore: %w", err)
		}
	} else if err != nil {
		return nil, fmt.Errorf("restore: %w", err)
	}
	if serverAnswers(ctx, dataDir) {
		return nil, inUse(fmt.Sprintf("restore: a server is running on data dir %s (its control socket answers): stop it first", dataDir))
	}
	lock, err := LockDataDir(dataDir)
	if errors.Is(err, ErrDataDirInUse) {
		return nil, inUse(fmt.Sprintf("restore: a server is running on data dir %s (it holds %s): stop it first", dataDir, LockFile))
	}
	if err != nil {
		return nil, fmt.Errorf("restore: %w", err)
	}
	empty, err := onlyLock(dataDir)
	if err != nil {
		lock.Close()
		return nil, fmt.Errorf("restore: %w", err)
	}
	if empty {
		return lock, nil
	}
	aside := dataDir + ".before-restore-" + opt.Now().UTC().Format("20060102T150405Z")
	if !opt.Force {
		lock.Close()
		return nil, refusal{ErrNotEmpty, fmt.Sprintf("restore: data dir %s is not empty; --force moves it aside (to %s) and restores into a new one",
			dataDir, filepath.Base(aside))}
	}
	if _, err := os.Lstat(aside); err == nil {
		lock.Close()
		return nil, fmt.Errorf("restore: %s exists already: try again in a second", aside)
	}
	// The old dir moves with its lock still held: no server can start on
	// it meanwhile.
	rename := os.Rename
	if opt.rename != nil {
		rename = opt.rename
	}
	if err := rename(dataDir, aside); err != nil {
		lock.Close()
		return nil, fmt.Errorf("restore: --force cannot move the data dir %s aside (%w); if it is a mount point "+
			"(a container's volume, a file system of its own), restore into a new, empty directory or volume "+
			"and point data_dir at it, or empty it yourself", dataDir, err)
	}
	lock.Close()
	res.MovedAside = aside
	if err := os.Mkdir(dataDir, 0o700); err != nil {
		return nil, fmt.Errorf("restore: %w (the previous data dir is %s)", err, aside)
	}
	if err := safefile.SyncDir(filepath.Dir(dataDir)); err != nil {
		return nil, fmt.Errorf("restore: %w", err)
	}
	lock, err = LockDataDir(dataDir)
	if err != nil {
		return nil, fmt.Errorf("restore: %w (the previous data dir is %s)", err, aside)
	}
	return lock, nil
}

// serverAnswers says whether a server listens on the data dir's queue
// control socket: a second sign of a running server beside the lock (a
// server older than the lock has only this one).
func serverAnswers(ctx context.Context, dataDir string) bool {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	var d net.Dialer
	c, err := d.DialContext(ctx, "unix", filepath.Join(dataDir, queuectl.SocketName))
	if err != nil {
		return false
	}
	c.Close()
	return true
}

// onlyLock says whether dir holds nothing but the lock file.
func onlyLock(dir string) (bool, error) {
	des, err := os.ReadDir(dir)
	if err != nil {
		return false, err
	}
	for _, de := range des {
		if de.Name() != LockFile {
			return false, nil
		}
	}
	return true, nil
}

// restoreFile copies one file of the backup (src) to dst, checking its
// checksum again on the way (the backup may have changed since Verify).
func restoreFile(src, dst string, f File) error {
	mode, err := parseMode(f.Mode)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o700); err != nil {
		return err
	}
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	h := sha256.New()
	n, err := copyFrom(io.TeeReader(in, h), dst, mode)
	if err != nil {
		return err
	}
	if n != f.Size || hex.EncodeToString(h.Sum(nil)) != f.SHA256 {
		os.Remove(dst)
		return fmt.Errorf("%s changed in the backup while it was restored", f.Path)
	}
	// The umask may have narrowed the mode on creation.
	return os.Chmod(dst, mode)
}
