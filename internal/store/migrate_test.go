package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A failing step leaves no trace and stops the steps after it; fixed, it
// applies on the next open, and earlier steps are not run again.
func TestMigrationFailureRollsBack(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, err := sql.Open("sqlite", dsn(filepath.Join(t.TempDir(), "m.db"), false))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	steps := []migration{
		{version: 1, name: "0001_a.sql", sql: "CREATE TABLE a (x INTEGER);"},
		{version: 2, name: "0002_b.sql", sql: "CREATE TABLE b (x INTEGER); INSERT INTO nowhere VALUES (1);"},
		{version: 3, name: "0003_c.sql", sql: "CREATE TABLE c (x INTEGER);"},
	}
	if err := applyMigrations(ctx, db, steps, false); err == nil {
		t.Fatal("a broken migration applied without error")
	}
	tables := func() map[string]bool {
		rows, err := db.QueryContext(ctx, "SELECT name FROM sqlite_master WHERE type = 'table'")
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		got := map[string]bool{}
		for rows.Next() {
			var n string
			rows.Scan(&n)
			got[n] = true
		}
		return got
	}
	if got := tables(); !got["a"] || got["b"] || got["c"] {
		t.Errorf("after a failed step 2 tables = %v; want a only", got)
	}
	steps[1].sql = "CREATE TABLE b (x INTEGER);"
	if err := applyMigrations(ctx, db, steps, false); err != nil {
		t.Fatalf("fixed migrations: %v", err) // would fail if step 1 ran again
	}
	if got := tables(); !got["a"] || !got["b"] || !got["c"] {
		t.Errorf("after the fix tables = %v; want a, b, c", got)
	}
	var n int
	db.QueryRowContext(ctx, "SELECT COUNT(*) FROM schema_migrations").Scan(&n)
	if n != 3 {
		t.Errorf("schema_migrations rows = %d; want 3", n)
	}
}

func TestEmbeddedMigrationsNumbered(t *testing.T) {
	t.Parallel()
	ms, err := loadMigrations()
	if err != nil {
		t.Fatal(err)
	}
	for i, m := range ms {
		if m.version != i+1 {
			t.Errorf("migration %s has version %d; want %d (no gaps)", m.name, m.version, i+1)
		}
	}
}

// A database a newer sesame migrated (one more schema_migrations row than
// this binary knows) is refused by Open, naming the data dir and both
// versions, and nothing is written to it.
func TestNewerSchemaRefused(t *testing.T) {
	sqliteOnly(t)
	t.Parallel()
	dir := t.TempDir()
	st, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	if err := CheckSchema(dir); err != nil {
		t.Fatalf("CheckSchema of a current data dir: %v", err)
	}
	know := KnownSchema()
	if know < 15 {
		t.Fatalf("KnownSchema = %d; want at least 15", know)
	}
	db, err := sql.Open("sqlite", dsn(filepath.Join(dir, dbFile), false))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, 'from_the_future.sql', 0)`, know+2); err != nil {
		t.Fatal(err)
	}
	db.Close()

	want := fmt.Sprintf("data dir %s was written by a newer sesame (schema %d; this sesame knows up to %d): upgrade sesame or restore a backup made by this version", dir, know+2, know)
	_, err = Open(dir)
	var newer *NewerSchemaError
	if !errors.As(err, &newer) || err.Error() != want {
		t.Fatalf("Open = %v;\nwant %s", err, want)
	}
	if err := CheckSchema(dir); err == nil || err.Error() != want {
		t.Fatalf("CheckSchema = %v;\nwant %s", err, want)
	}
	if v, err := SchemaVersion(dir); err != nil || v != know+2 {
		t.Errorf("SchemaVersion = %d, %v; want %d", v, err, know+2)
	}
}

// On PostgreSQL the refusal names the database (its URL without the
// password) and PostgreSQL's own backups, not a data dir.
func TestNewerSchemaRefusedPostgres(t *testing.T) {
	if !onPostgres {
		t.Skip("the PostgreSQL run's")
	}
	t.Parallel()
	ctx := context.Background()
	o := testOptions(t, t.TempDir())
	st, err := OpenWith(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	know := KnownSchema()
	_, err = st.writes.ExecContext(ctx, `INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, 'from_the_future.sql', 0)`, know+2)
	st.Close()
	if err != nil {
		t.Fatal(err)
	}
	want := fmt.Sprintf("database %s was written by a newer sesame (schema %d; this sesame knows up to %d): "+
		"upgrade sesame or restore a dump of the database (pg_dump) taken before the upgrade", RedactURL(o.URL), know+2, know)
	_, err = OpenWith(ctx, o)
	var newer *NewerSchemaError
	if !errors.As(err, &newer) || err.Error() != want {
		t.Fatalf("OpenWith = %v;\nwant %s", err, want)
	}
}

// A data dir without a database has schema 0 and passes the check.
func TestCheckSchemaEmptyDataDir(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if err := CheckSchema(dir); err != nil {
		t.Fatalf("CheckSchema of an empty dir: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, dbFile)); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("CheckSchema created the database (stat: %v)", err)
	}
}

// docs/upgrading.md's schema table names every migration, so an operator
// can tell what a schema version holds.
func TestUpgradingDocListsEveryMigration(t *testing.T) {
	t.Parallel()
	doc, err := os.ReadFile("../../docs/upgrading.md")
	if err != nil {
		t.Fatal(err)
	}
	ms, err := loadMigrations()
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range ms {
		if row := fmt.Sprintf("| %d | %s |", m.version, m.name); !strings.Contains(string(doc), row) {
			t.Errorf("docs/upgrading.md has no row %q", row)
		}
	}
}
