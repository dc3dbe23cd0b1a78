// Package store keeps sesame's state that is not a message: accounts, access
// keys (secrets encrypted at rest), identities, per-region account settings,
// captured mail and send counters. Everything is keyed by account and region,
// as in SES. SQLite (modernc.org/sqlite, pure Go) in the data dir is the
// embedded default; SQL stays portable for PostgreSQL later.
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
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

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

// Open opens (creating and migrating if needed) the store in dataDir:
// the database file and the key that encrypts secrets at rest.
func Open(dataDir string) (*Store, error) {
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return nil, fmt.Errorf("store: create data dir %s: %w", dataDir, err)
	}
	aead, err := loadSealKey(dataDir)
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
	if err := migrate(context.Background(), writes); err != nil {
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
	return &Store{writes: writes, reads: reads, seal: aead}, nil
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
	var errs []error
	s.stmtMu.Lock()
	for _, st := range s.stmts {
		errs = append(errs, st.Close())
	}
	s.stmts = nil
	s.stmtMu.Unlock()
	return errors.Join(append(errs, s.reads.Close(), s.writes.Close())...)
}

// inTx runs fn in a write transaction and commits it.
func (s *Store) inTx(ctx context.Context, what string, fn func(*sql.Tx) error) error {
	tx, err := s.writes.BeginTx(ctx, nil)
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
