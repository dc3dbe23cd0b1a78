package store

import (
	"context"
	"database/sql"
	"path/filepath"
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
	if err := applyMigrations(ctx, db, steps); err == nil {
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
	if err := applyMigrations(ctx, db, steps); err != nil {
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
