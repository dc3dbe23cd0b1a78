package store

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"
)

// migrations holds the schema's history, one numbered file per step
// (NNNN_what.sql). A file, once released, never changes: fixes are new files.
//
// A file of the same name in migrations/postgres replaces one on PostgreSQL,
// where a step must be spelled otherwise (a data move using SQLite's JSON
// functions, say); the rest are translated (pgMigration).
//
//go:embed migrations/*.sql migrations/postgres/*.sql
var migrations embed.FS

// migration is one numbered schema step.
type migration struct {
	version int
	name    string
	sql     string
}

// loadMigrations reads the embedded files in version order.
func loadMigrations() ([]migration, error) {
	names, err := fs.Glob(migrations, "migrations/*.sql")
	if err != nil {
		return nil, fmt.Errorf("list migrations: %w", err)
	}
	var ms []migration
	seen := map[int]string{}
	for _, name := range names {
		base := path.Base(name)
		num, _, ok := strings.Cut(base, "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || v <= 0 {
			return nil, fmt.Errorf("migration %s: name must be NNNN_what.sql", base)
		}
		if prev, dup := seen[v]; dup {
			return nil, fmt.Errorf("migrations %s and %s share version %d", prev, base, v)
		}
		seen[v] = base
		body, err := migrations.ReadFile(name)
		if err != nil {
			return nil, fmt.Errorf("read migration %s: %w", base, err)
		}
		ms = append(ms, migration{version: v, name: base, sql: string(body)})
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].version < ms[j].version })
	return ms, nil
}

// migrate applies the migrations the database has not seen, each in its own
// transaction with its schema_migrations row. On SQLite transactions begin
// IMMEDIATE, and on PostgreSQL the steps run under an advisory lock, so two
// processes opening a new database at once apply each step exactly once.
func migrate(ctx context.Context, db *sql.DB, pg bool) error {
	ms, err := loadMigrations()
	if err != nil {
		return err
	}
	if !pg {
		return applyMigrations(ctx, db, ms, false)
	}
	for i := range ms {
		if own, err := migrations.ReadFile("migrations/postgres/" + ms[i].name); err == nil {
			ms[i].sql = string(own)
		}
		ms[i].sql = pgMigration(ms[i].sql)
	}
	conn, err := db.Conn(ctx)
	if err != nil {
		return fmt.Errorf("connect: %w", err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, `SELECT pg_advisory_lock(?)`, migrationLock); err != nil {
		return fmt.Errorf("take the migration lock: %w", err)
	}
	defer conn.ExecContext(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock(?)`, migrationLock)
	return applyMigrations(ctx, conn, ms, true)
}

// migrator is the database or the one connection that holds the lock.
type migrator interface {
	BeginTx(ctx context.Context, opts *sql.TxOptions) (*sql.Tx, error)
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

func applyMigrations(ctx context.Context, db migrator, ms []migration, pg bool) error {
	if _, err := db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version    INTEGER PRIMARY KEY,
		name       TEXT NOT NULL,
		applied_at BIGINT NOT NULL
	)`); err != nil {
		return fmt.Errorf("create schema_migrations: %w", err)
	}
	// A newer sesame's database is refused before anything is applied
	// (downgrades are not supported: restore a backup instead).
	if err := checkSchema(ctx, db, ms, pg); err != nil {
		return err
	}
	for _, m := range ms {
		if err := applyMigration(ctx, db, m); err != nil {
			return err
		}
	}
	return nil
}

func applyMigration(ctx context.Context, db migrator, m migration) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("migration %s: begin: %w", m.name, err)
	}
	defer tx.Rollback()
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM schema_migrations WHERE version = ?`, m.version).Scan(&n); err != nil {
		return fmt.Errorf("migration %s: check: %w", m.name, err)
	}
	if n > 0 {
		return nil
	}
	if _, err := tx.ExecContext(ctx, m.sql); err != nil {
		return fmt.Errorf("migration %s: %w", m.name, err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)`,
		m.version, m.name, toDB(time.Now())); err != nil {
		return fmt.Errorf("migration %s: record: %w", m.name, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("migration %s: commit: %w", m.name, err)
	}
	return nil
}

// DatabaseFile is the name of the SQLite database in the data dir (backups
// copy it by name).
const DatabaseFile = dbFile

// KnownSchema is the newest schema version this binary knows: the highest
// embedded migration.
func KnownSchema() int {
	ms, err := loadMigrations()
	if err != nil || len(ms) == 0 {
		return 0 // the embedded files are checked by a test; never in a release
	}
	return ms[len(ms)-1].version
}

// NewerSchemaError refuses a database that a newer sesame has migrated past
// what this binary knows: running on it could misread or damage tables this
// binary has never heard of. Its text is for the operator (a log line, the
// CLI), never a client.
type NewerSchemaError struct {
	DataDir string // "" when not known where the refusal happens
	Have    int    // the database's newest applied migration
	Know    int    // this binary's newest migration
	// Postgres says DataDir is a PostgreSQL URL (redacted): the state is
	// there, and its backups are PostgreSQL's, not `sesame admin backup`.
	Postgres bool
}

func (e *NewerSchemaError) Error() string {
	if e.Postgres {
		return fmt.Sprintf("database %s was written by a newer sesame (schema %d; this sesame knows up to %d): "+
			"upgrade sesame or restore a dump of the database (pg_dump) taken before the upgrade", e.DataDir, e.Have, e.Know)
	}
	where := "data dir"
	if e.DataDir != "" {
		where = "data dir " + e.DataDir
	}
	return fmt.Sprintf("%s was written by a newer sesame (schema %d; this sesame knows up to %d): "+
		"upgrade sesame or restore a backup made by this version", where, e.Have, e.Know)
}

// schemaVersion is the newest migration the database has applied (0 for a
// database without schema_migrations: a new one).
func schemaVersion(ctx context.Context, q interface {
	QueryRowContext(context.Context, string, ...any) *sql.Row
}, pg bool) (int, error) {
	exists := `SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'`
	if pg {
		exists = `SELECT COUNT(*) FROM information_schema.tables
			WHERE table_schema = current_schema() AND table_name = 'schema_migrations'`
	}
	var n int
	if err := q.QueryRowContext(ctx, exists).Scan(&n); err != nil {
		return 0, fmt.Errorf("read schema version: %w", err)
	}
	if n == 0 {
		return 0, nil
	}
	var v sql.NullInt64
	if err := q.QueryRowContext(ctx, `SELECT MAX(version) FROM schema_migrations`).Scan(&v); err != nil {
		return 0, fmt.Errorf("read schema version: %w", err)
	}
	return int(v.Int64), nil
}

// checkSchema refuses a database migrated past the newest of ms.
func checkSchema(ctx context.Context, db migrator, ms []migration, pg bool) error {
	have, err := schemaVersion(ctx, db, pg)
	if err != nil {
		return err
	}
	know := 0
	if len(ms) > 0 {
		know = ms[len(ms)-1].version
	}
	if have > know {
		return &NewerSchemaError{Have: have, Know: know}
	}
	return nil
}

// SchemaVersion reads, without changing anything, the schema version of the
// database in dataDir (0 when it has none yet). It fails when the database
// file does not exist.
func SchemaVersion(dataDir string) (int, error) {
	path := filepath.Join(dataDir, dbFile)
	if _, err := os.Stat(path); err != nil {
		return 0, fmt.Errorf("store: %w", err)
	}
	db, err := sql.Open("sqlite", dsn(path, true))
	if err != nil {
		return 0, fmt.Errorf("store: open %s: %w", path, err)
	}
	defer db.Close()
	v, err := schemaVersion(context.Background(), db, false)
	if err != nil {
		return 0, fmt.Errorf("store: %s: %w", path, err)
	}
	return v, nil
}

// CheckSchema refuses (with a *NewerSchemaError) a data dir whose database
// a newer sesame has migrated; a data dir without a database passes.
func CheckSchema(dataDir string) error {
	v, err := SchemaVersion(dataDir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if know := KnownSchema(); v > know {
		return &NewerSchemaError{DataDir: dataDir, Have: v, Know: know}
	}
	return nil
}
