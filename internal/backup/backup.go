// Package backup copies a sesame data dir while the server runs, and puts
// such a copy back (`sesame admin backup DIR`, `sesame admin restore DIR`).
//
// A backup holds, beside a manifest (backup.json: versions, time, every
// file's size and SHA-256), a transactionally consistent copy of the
// database (SQLite's VACUUM INTO), the spool and the spool of received
// mail, secret.key (without it the stored access key secrets cannot be
// decrypted; copied from wherever [store] secret_key_file keeps it, and
// put back there) and every other regular file of the data dir (tls/, the
// MTA-STS cache, the first-start credentials). It leaves out what belongs to a running process: the
// database's -wal/-shm files (the copy is whole without them), lock files,
// the queue control socket and temporary files.
//
// Order, so that a restore delivers every message acknowledged before the
// backup began at least once: the spool is copied FIRST, the database
// AFTER. A message leaves the spool only after its outcome is committed to
// the database (capture mode stores the message, then marks it done; mx
// mode records the delivery, then marks it done). So a done record in the
// copied spool was written before the database copy began, and its outcome
// is in the copied database; a message still pending in the copied spool is
// delivered again after a restore (at least once, never lost). The reverse
// order could copy a done record whose captured message the older database
// copy lacks: a lost message.
//
// The package does the job and nothing else: no CLI parsing, no config.
package backup

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	_ "modernc.org/sqlite" // the "sqlite" driver, for VACUUM INTO

	"sesame/internal/queuectl"
	"sesame/internal/safefile"
	"sesame/internal/store"
)

// Names in the data dir and in a backup.
const (
	// ManifestFile describes a backup; it is written last, so a backup
	// without it is incomplete.
	ManifestFile = "backup.json"
	// LockFile in the data dir is held (flock) by a running server.
	LockFile = "sesame.lock"
	// SpoolDir is the spool's directory in the data dir.
	SpoolDir = "spool"
	// InboundSpoolDir is the spool of received mail (internal/receiving),
	// copied the same way.
	InboundSpoolDir = "inbound"
	// SecretKeyFile is the name of the key that seals the database's
	// secrets, in the data dir by default and always in a backup, wherever
	// [store] secret_key_file keeps it.
	SecretKeyFile = "secret.key"
)

// ManifestFormat is the version of backup.json's layout.
const ManifestFormat = 1

// ErrDataDirInUse says a server (or a restore) holds the data dir (errors.Is).
var ErrDataDirInUse = errors.New("data dir in use")

// refusal is an ErrDataDirInUse or ErrNotEmpty (kind, for errors.Is) that tells
// the whole story in its own words.
type refusal struct {
	kind error
	msg  string
}

func (e refusal) Error() string        { return e.msg }
func (e refusal) Is(target error) bool { return target == e.kind }

func inUse(msg string) error { return refusal{ErrDataDirInUse, msg} }

// Manifest is backup.json.
type Manifest struct {
	Format        int       `json:"format"`
	SesameVersion string    `json:"sesame_version"`
	SchemaVersion int       `json:"schema_version"`
	Created       time.Time `json:"created"`
	DataDir       string    `json:"data_dir"` // where it was taken from, for the operator
	// SpoolPending is how many messages the copied spool holds;
	// InboundPending how many received messages await their actions.
	SpoolPending   int    `json:"spool_pending"`
	InboundPending int    `json:"inbound_pending"`
	Files          []File `json:"files"`
}

// File is one file of a backup.
type File struct {
	Path   string `json:"path"` // relative, with "/" separators
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
	Mode   string `json:"mode"` // permission bits, octal ("0600")
}

// Options are what Create needs beside the two directories.
type Options struct {
	// SecretKeyFile is [store] secret_key_file: where the key is when it
	// is not the data dir's secret.key ("" when it is). A backup without
	// the key is useless, so it is copied from wherever it is.
	SecretKeyFile string
	Version       string           // this sesame's version, for the manifest
	Now           func() time.Time // nil: time.Now
	Logger        *slog.Logger     // nil: slog.Default()

	// afterSpool, for tests, runs between the spool copy and the
	// database copy: where delivery finishing a message hurts most.
	afterSpool func()
}

// Create copies the data dir dataDir, which a server may be using, into
// dir, which must not exist or be empty.
func Create(ctx context.Context, dataDir, dir string, opt Options) (*Manifest, error) {
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.Logger == nil {
		opt.Logger = slog.Default()
	}
	dataDir, dir, err := absPair(dataDir, dir)
	if err != nil {
		return nil, err
	}
	if _, err := os.Stat(filepath.Join(dataDir, store.DatabaseFile)); err != nil {
		return nil, fmt.Errorf("backup: data dir %s has no database (%s): nothing to back up: %w", dataDir, store.DatabaseFile, err)
	}
	if err := store.CheckSchema(dataDir); err != nil {
		return nil, err
	}
	if err := prepareDir(dir); err != nil {
		return nil, err
	}
	m := &Manifest{Format: ManifestFormat, SesameVersion: opt.Version, Created: opt.Now().UTC(), DataDir: dataDir}

	// The spool first, then the database: see the package comment.
	if m.SpoolPending, err = copySpool(filepath.Join(dataDir, SpoolDir), filepath.Join(dir, SpoolDir)); err != nil {
		return nil, fmt.Errorf("backup: %w", err)
	}
	// Received mail leaves its spool once its actions ran: nothing in the
	// database decides it, so its order against the database copy does
	// not matter (at worst a message's actions run again after a restore).
	if m.InboundPending, err = copySpool(filepath.Join(dataDir, InboundSpoolDir), filepath.Join(dir, InboundSpoolDir)); err != nil {
		return nil, fmt.Errorf("backup: %w", err)
	}
	if opt.afterSpool != nil {
		opt.afterSpool()
	}
	if err := copyDatabase(ctx, dataDir, dir); err != nil {
		return nil, fmt.Errorf("backup: %w", err)
	}
	keyFile, err := secretKeyPath(dataDir, opt.SecretKeyFile)
	if err != nil {
		return nil, fmt.Errorf("backup: %w", err)
	}
	if _, err := copyFile(keyFile, filepath.Join(dir, SecretKeyFile), 0o600); err != nil {
		return nil, fmt.Errorf("backup: the secret key ([store] secret_key_file): %w", err)
	}
	if err := copyOthers(dataDir, dir, keyFile, opt.Logger); err != nil {
		return nil, fmt.Errorf("backup: %w", err)
	}
	if m.SchemaVersion, err = schemaOfCopy(ctx, filepath.Join(dir, store.DatabaseFile)); err != nil {
		return nil, fmt.Errorf("backup: %w", err)
	}
	if m.Files, err = listFiles(dir); err != nil {
		return nil, fmt.Errorf("backup: %w", err)
	}
	if err := syncTree(dir); err != nil {
		return nil, fmt.Errorf("backup: %w", err)
	}
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("backup: manifest: %w", err)
	}
	if err := safefile.Write(filepath.Join(dir, ManifestFile), append(b, '\n'), 0o600); err != nil {
		return nil, fmt.Errorf("backup: manifest: %w", err)
	}
	return m, nil
}

// absPair makes the data dir and the backup dir absolute and refuses one
// inside the other: a backup inside the data dir would copy itself, a data
// dir inside the backup would be overwritten by a restore.
func absPair(dataDir, dir string) (string, string, error) {
	a, err := filepath.Abs(dataDir)
	if err != nil {
		return "", "", err
	}
	b, err := filepath.Abs(dir)
	if err != nil {
		return "", "", err
	}
	if within(b, a) || within(a, b) {
		return "", "", fmt.Errorf("backup: %s and the data dir %s must not contain one another", b, a)
	}
	return a, b, nil
}

// prepareDir makes dir (0700: it holds secret.key) or accepts an empty one.
func prepareDir(dir string) error {
	empty, err := isEmptyDir(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return fmt.Errorf("backup: %w", err)
		}
		return safefile.SyncDir(filepath.Dir(dir))
	case err != nil:
		return fmt.Errorf("backup: %s: %w", dir, err)
	case !empty:
		return fmt.Errorf("backup: %s is not empty: give a new or an empty directory", dir)
	}
	return os.Chmod(dir, 0o700)
}

// copyDatabase writes a transactionally consistent copy of the database
// with VACUUM INTO. Why not SQLite's online backup API: a backup done in
// steps starts over whenever another process (the server) writes to the
// source between steps, so under steady load it may never finish; done in
// one step it holds a read transaction exactly as VACUUM INTO does. VACUUM
// INTO reads one snapshot in one read transaction, which in WAL mode never
// blocks the server's writers, and it is plain SQL: no driver-specific API.
// Its output is also compacted (no free pages). It does not sync what it
// wrote; we do.
func copyDatabase(ctx context.Context, dataDir, dir string) error {
	src := filepath.Join(dataDir, store.DatabaseFile)
	dst := filepath.Join(dir, store.DatabaseFile)
	db, err := sql.Open("sqlite", sqliteURI(src, "_pragma=busy_timeout(10000)"))
	if err != nil {
		return fmt.Errorf("database: %w", err)
	}
	defer db.Close()
	if _, err := db.ExecContext(ctx, `VACUUM INTO ?`, dst); err != nil {
		return fmt.Errorf("database: VACUUM INTO %s: %w", dst, err)
	}
	if err := os.Chmod(dst, 0o600); err != nil {
		return fmt.Errorf("database: %w", err)
	}
	f, err := os.Open(dst)
	if err != nil {
		return fmt.Errorf("database: %w", err)
	}
	defer f.Close()
	if err := f.Sync(); err != nil {
		return fmt.Errorf("database: sync %s: %w", dst, err)
	}
	return nil
}

// sqliteURI is the driver's file: URI for path (escaped: a data dir may
// have a "?" or "#" in its name) with query.
func sqliteURI(path, query string) string {
	return "file:" + (&url.URL{Path: path}).EscapedPath() + "?" + query
}

// schemaOfCopy reads the copied database's schema version.
func schemaOfCopy(ctx context.Context, path string) (int, error) {
	db, err := sql.Open("sqlite", sqliteURI(path, "mode=ro"))
	if err != nil {
		return 0, err
	}
	defer db.Close()
	var v sql.NullInt64
	if err := db.QueryRowContext(ctx, `SELECT MAX(version) FROM schema_migrations`).Scan(&v); err != nil {
		return 0, fmt.Errorf("schema version of the copy: %w", err)
	}
	return int(v.Int64), nil
}

// skipped says whether a data dir entry (path relative to the data dir)
// is left out of a backup: the database and the spool are copied their own
// way; the rest belongs to a running process or is a temporary file.
func skipped(rel string, d fs.DirEntry) bool {
	name := d.Name()
	switch {
	case (rel == SpoolDir || rel == InboundSpoolDir) && d.IsDir():
		return true
	case rel == store.DatabaseFile, strings.HasPrefix(rel, store.DatabaseFile+"-"): // -wal, -shm, -journal
		return true
	case rel == LockFile, name == "lock", name == queuectl.SocketName:
		return true
	case strings.HasPrefix(name, ".tmp-"), strings.HasPrefix(name, "secret.key.tmp"):
		return true // safefile's and secret.key's temporary files
	}
	return false
}

// secretKeyPath is the absolute path of the key file: configured, or the
// data dir's secret.key.
func secretKeyPath(dataDir, configured string) (string, error) {
	if configured == "" {
		return filepath.Join(dataDir, SecretKeyFile), nil
	}
	return filepath.Abs(configured)
}

// copyOthers copies every other regular file of the data dir but the key
// file (copied as secret.key already) and a secret.key that is not the
// configured key (a stale one: restoring it would only mislead).
func copyOthers(dataDir, dir, keyFile string, log *slog.Logger) error {
	return filepath.WalkDir(dataDir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) && p != dataDir {
				return nil // removed while we walked (a temporary file)
			}
			return err
		}
		rel, err := filepath.Rel(dataDir, p)
		if err != nil || rel == "." {
			return err
		}
		if skipped(rel, d) {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if p == keyFile || rel == SecretKeyFile {
			if p != keyFile {
				log.Info("backup: leaving out the data dir's secret.key: [store] secret_key_file names the key in use", "file", p, "secret_key_file", keyFile)
			}
			return nil
		}
		dst := filepath.Join(dir, rel)
		if d.IsDir() {
			return os.Mkdir(dst, 0o700)
		}
		if !d.Type().IsRegular() {
			log.Info("backup: leaving out a file that is not a regular file", "file", p, "type", d.Type().String())
			return nil
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		if _, err := copyFile(p, dst, fi.Mode()); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
		return nil
	})
}

// listFiles lists every file of a backup dir but the manifest, sorted.
func listFiles(dir string) ([]File, error) {
	var files []File
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		if rel == ManifestFile {
			return nil
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		size, sum, err := hashFile(p)
		if err != nil {
			return err
		}
		files = append(files, File{Path: filepath.ToSlash(rel), Size: size, SHA256: sum, Mode: fmt.Sprintf("%04o", fi.Mode().Perm())})
		return nil
	})
	sort.Slice(files, func(i, j int) bool { return files[i].Path < files[j].Path })
	return files, err
}

// ReadManifest reads a backup's manifest.
func ReadManifest(dir string) (*Manifest, error) {
	b, err := os.ReadFile(filepath.Join(dir, ManifestFile))
	if err != nil {
		return nil, fmt.Errorf("backup %s: no manifest (an incomplete backup?): %w", dir, err)
	}
	var m Manifest
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("backup %s: manifest: %w", dir, err)
	}
	return &m, nil
}
