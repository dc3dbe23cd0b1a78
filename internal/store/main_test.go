package store

import (
	"fmt"
	"os"
	"sync"
	"testing"

	"sesame/internal/pgtest"
)

// The package's tests run twice: on the embedded SQLite database, then on
// PostgreSQL (a fresh database per data dir), so both engines answer to
// one suite.
var onPostgres bool

func TestMain(m *testing.M) {
	code := m.Run()
	if code != 0 {
		os.Exit(code)
	}
	if err := pgtest.Available(); err != nil {
		if os.Getenv("CI") != "" {
			fmt.Fprintf(os.Stderr, "store: PostgreSQL at %s: %v\n", pgtest.AdminURL(), err)
			os.Exit(1)
		}
		fmt.Fprintf(os.Stderr, "store: PostgreSQL run skipped: %v\n", err)
		os.Exit(0)
	}
	fmt.Fprintln(os.Stderr, "store: the same tests on PostgreSQL")
	onPostgres = true
	os.Exit(m.Run())
}

// pgURLs keeps one database per data dir, so a test that reopens its dir
// reopens its database.
var pgURLs sync.Map // dir → URL

// testOptions are the store options of a test's data dir on the engine of
// this run.
func testOptions(t testing.TB, dir string) Options {
	t.Helper()
	o := Options{DataDir: dir}
	if onPostgres {
		if u, ok := pgURLs.Load(dir); ok {
			o.URL = u.(string)
		} else {
			o.URL = pgtest.NewDatabase(t, 4)
			pgURLs.Store(dir, o.URL)
		}
	}
	return o
}

// sqliteOnly skips a test of the embedded engine's own files and pragmas.
func sqliteOnly(t testing.TB) {
	t.Helper()
	if onPostgres {
		t.Skip("checks the embedded SQLite database")
	}
}
