// Package store keeps sesame's state that is not a message: accounts, access
// keys (secrets encrypted at rest), identities, per-region account settings,
// captured mail and send counters. Everything is keyed by account and region,
// as in SES. SQLite (modernc.org/sqlite, pure Go) in the data dir is the
// embedded default; PostgreSQL (pgx, pooled), shared by the nodes of a
// cluster, runs the same SQL (postgres.go says how).
//
// The store never decides policy; it answers and records. Several processes
// (the server and `sesame admin`) may hold it open at once: every write is a
// short transaction that waits for the database lock instead of failing.
package store

import (
	"context"
	"crypto/cipher"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

// ErrNotFound is returned (wrapped) when a looked-up row does not exist.
var ErrNotFound = errors.New("store: not found")

// ErrExists is returned (wrapped) when a row to create already exists.
var ErrExists = errors.New("store: already exists")

// File names in the data dir.
const (
	dbFile = "sesame.db"
)

// busyTimeout is how long a write waits for another connection or process
// holding the write lock. Transactions are short (a capture batch is the
// longest), so this only runs out when something is badly stuck.
const busyTimeout = 10 * time.Second

// maxReaders bounds the read pool; WAL lets readers run beside the writer.
const maxReaders = 4

// Store is the state database.
type Store struct {
	// writes has a single connection: writers of this process queue in Go
	// rather than spinning in SQLite's busy handler, and every transaction
	// on it begins IMMEDIATE, so a read-then-write never fails on lock
	// upgrade (SQLITE_BUSY_SNAPSHOT is not retried by busy_timeout).
	writes *sql.DB
	reads  *sql.DB
	seal   cipher.AEAD
	// pg is set on PostgreSQL, where writes and reads are one pool and
	// write transactions are SERIALIZABLE, retried when they collide.
	pg bool
	// pgCfg is the connection config of the PostgreSQL URL: the change
	// watcher (changes.go) LISTENs on a connection of its own.
	pgCfg *pgx.ConnConfig

	// watch fans announced changes out to Watch's callbacks (changes.go).
	watch watcher
	// changesPrunedAt is when (Unix seconds) announce last pruned
	// store_changes on SQLite.
	changesPrunedAt atomic.Int64

	// prunedBefore is the send_counts horizon (Unix seconds) of the last
	// prune, so AddSendCounts prunes about once an hour of counter time.
	prunedBefore atomic.Int64
	// receivedPrunedAt is the received-message time (Unix seconds) of the
	// last prune of received_messages, so PutReceivedMessage prunes about
	// once a minute.
	receivedPrunedAt atomic.Int64

	// stmts are hot queries prepared once on the readers (readStmt):
	// SQLite's parser costs more than running them.
	stmtMu sync.Mutex
	stmts  map[string]*sql.Stmt
}

// readStmt returns query prepared on the readers, preparing it the first
// time (database/sql then prepares it on each connection once).
func (s *Store) readStmt(ctx context.Context, query string) (*sql.Stmt, error) {
	s.stmtMu.Lock()
	defer s.stmtMu.Unlock()
	if st, ok := s.stmts[query]; ok {
		return st, nil
	}
	st, err := s.reads.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	if s.stmts == nil {
		s.stmts = map[string]*sql.Stmt{}
	}
	s.stmts[query] = st
	return st, nil
}

// Options say where the store is.
type Options struct {
	// DataDir holds the secret key (unless SecretKeyFile names another)
	// and, on the embedded default, the database.
	DataDir string
	// URL is "" for the embedded SQLite database in DataDir, or a
	// postgres:// URL of a database the nodes of a cluster share.
	URL string
	// SecretKeyFile is the key that seals secrets at rest; "" means
	// DataDir/secret.key. Every node of a cluster needs the same key.
	SecretKeyFile string
}

// Postgres reports whether url names a PostgreSQL database.
func Postgres(url string) bool {
	return strings.HasPrefix(url, "postgres://") || strings.HasPrefix(url, "postgresql://")
}

// Open opens (creating and migrating if needed) the embedded store in
// dataDir: the database file and the key that encrypts secrets at rest.
func Open(dataDir string) (*Store, error) {
	return OpenWith(context.Background(), Options{DataDir: dataDir})
}

// OpenWith opens (creating and migrating if needed) the store o names.
func OpenWith(ctx context.Context, o Options) (*Store, error) {
	if err := os.MkdirAll(o.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("store: create data dir %s: %w", o.DataDir, err)
	}
	keyFile := o.SecretKeyFile
	if keyFile == "" {
		keyFile = filepath.Join(o.DataDir, sealKeyFile)
	}
	switch {
	case o.URL == "":
		return openSQLite(ctx, o.DataDir, keyFile)
	case Postgres(o.URL):
		return openPG(ctx, o.URL, keyFile)
	default:
		return nil, fmt.Errorf("store: url %q: want postgres://… or empty (embedded SQLite)", RedactURL(o.URL))
	}
}

func openSQLite(ctx context.Context, dataDir, keyFile string) (*Store, error) {
	aead, err := loadSealKey(keyFile, true)
	if err != nil {
		return nil, err
	}
	path := filepath.Join(dataDir, dbFile)
	// SQLite would create the file 0644; captured mail is nobody else's
	// business, and its -wal and -shm files take the database's mode.
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	f.Close()
	writes, err := sql.Open("sqlite", dsn(path, false))
	if err != nil {
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	writes.SetMaxOpenConns(1)
	if err := migrate(ctx, writes, false); err != nil {
		writes.Close()
		if newer := (*NewerSchemaError)(nil); errors.As(err, &newer) {
			newer.DataDir = dataDir
			return nil, newer // the operator's message, without a prefix
		}
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	reads, err := sql.Open("sqlite", dsn(path, true))
	if err != nil {
		writes.Close()
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	reads.SetMaxOpenConns(maxReaders)
	reads.SetMaxIdleConns(maxReaders)
	st := &Store{writes: writes, reads: reads, seal: aead}
	if err := st.checkSecretKey(ctx, keyFile); err != nil {
		st.Close()
		return nil, err
	}
	return st, nil
}

func openPG(ctx context.Context, url, keyFile string) (*Store, error) {
	where := RedactURL(url)
	db, pgCfg, err := openPostgres(url)
	if err != nil {
		return nil, fmt.Errorf("store: %s: %w", where, err)
	}
	if err := migrate(ctx, db, true); err != nil {
		db.Close()
		if newer := (*NewerSchemaError)(nil); errors.As(err, &newer) {
			newer.DataDir, newer.Postgres = where, true
			return nil, newer
		}
		return nil, fmt.Errorf("store: %s: %w", where, err)
	}
	// A node without the key file only creates one for a database that
	// has never sealed anything: a second key would make the first
	// node's secrets unreadable here.
	aead, err := loadSealKey(keyFile, false)
	if errors.Is(err, fs.ErrNotExist) {
		var n int
		if qerr := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM store_meta WHERE name = 'secret_key_check'`).Scan(&n); qerr != nil {
			db.Close()
			return nil, fmt.Errorf("store: %s: %w", where, qerr)
		}
		if n == 0 {
			aead, err = loadSealKey(keyFile, true)
		} else if aead, err = loadSealKey(keyFile, false); errors.Is(err, fs.ErrNotExist) {
			// Read again: a process opening the same path at once (a server
			// and an admin command, both first) writes its key before it
			// records the key's check, so a recorded check means its file
			// is there by now — unless the key belongs to another node.
			db.Close()
			return nil, &SecretKeyError{Path: keyFile, Missing: true}
		}
	}
	if err != nil {
		db.Close()
		return nil, err
	}
	st := &Store{writes: db, reads: db, seal: aead, pg: true, pgCfg: pgCfg}
	if err := st.checkSecretKey(ctx, keyFile); err != nil {
		st.Close()
		return nil, err
	}
	return st, nil
}

// RedactURL is url without its password, for logs and errors.
func RedactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparsable url)"
	}
	return u.Redacted()
}

// dsn builds the modernc.org/sqlite data source name. synchronous=FULL:
// a committed row (an account, a capture) must survive a power cut; NORMAL
// in WAL mode may lose the last transactions.
func dsn(path string, readOnly bool) string {
	q := url.Values{}
	q.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", busyTimeout.Milliseconds()))
	q.Add("_pragma", "foreign_keys(1)")
	if readOnly {
		q.Add("_pragma", "query_only(1)")
	} else {
		q.Add("_pragma", "journal_mode(WAL)")
		q.Add("_pragma", "synchronous(FULL)")
		q.Set("_txlock", "immediate")
	}
	return "file:" + (&url.URL{Path: path}).EscapedPath() + "?" + q.Encode()
}

// Close closes the database.
func (s *Store) Close() error {
	s.watch.stop()
	var errs []error
	s.stmtMu.Lock()
	for _, st := range s.stmts {
		errs = append(errs, st.Close())
	}
	s.stmts = nil
	s.stmtMu.Unlock()
	if s.pg {
		return errors.Join(append(errs, s.writes.Close())...)
	}
	return errors.Join(append(errs, s.reads.Close(), s.writes.Close())...)
}

// inTx runs fn in a write transaction and commits it. On PostgreSQL the
// transaction is SERIALIZABLE, as every write is on SQLite's single writer:
// a read-then-write never acts on a row another node changed meanwhile.
// PostgreSQL refuses the loser of such a race, and fn runs again.
func (s *Store) inTx(ctx context.Context, what string, fn func(*sql.Tx) error) error {
	var opts *sql.TxOptions
	if s.pg {
		opts = &sql.TxOptions{Isolation: sql.LevelSerializable}
	}
	for attempt := 1; ; attempt++ {
		err := s.tryTx(ctx, what, opts, fn)
		if err == nil || !s.pg || !pgRetryable(err) || attempt == txAttempts {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(time.Duration(rand.IntN(min(1<<attempt, 50))+1) * time.Millisecond):
		}
	}
}

// txAttempts bounds the runs of one write transaction on PostgreSQL. A
// transaction that keeps losing to a busy peer backs off at random, up to
// 50 ms a time, so that it lands between the peer's transactions.
const txAttempts = 50

func (s *Store) tryTx(ctx context.Context, what string, opts *sql.TxOptions, fn func(*sql.Tx) error) error {
	tx, err := s.writes.BeginTx(ctx, opts)
	if err != nil {
		return fmt.Errorf("store: %s: begin: %w", what, err)
	}
	if err := fn(tx); err != nil {
		tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("store: %s: commit: %w", what, err)
	}
	return nil
}

// Times are stored as Unix nanoseconds, read back in UTC.
func toDB(t time.Time) int64    { return t.UnixNano() }
func fromDB(ns int64) time.Time { return time.Unix(0, ns).UTC() }
func boolDB(b bool) int {
	if b {
		return 1
	}
	return 0
}

// execer is a connection pool or a transaction: writers that run alone or
// as part of a larger transaction take one.
type execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}
