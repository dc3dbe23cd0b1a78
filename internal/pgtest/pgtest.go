// Package pgtest gives tests a fresh PostgreSQL database of their own on the
// server the machine runs (127.0.0.1:5432, or $SESAME_TEST_POSTGRES), and
// drops it when the test ends. It knows nothing of sesame's schema: the
// store migrates the empty database like any new one.
package pgtest

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" driver
)

// DefaultAdminURL is the machine's PostgreSQL (trust auth), as a superuser
// that may create databases.
const DefaultAdminURL = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"

// AdminURL is the server tests create their databases on.
func AdminURL() string {
	if u := os.Getenv("SESAME_TEST_POSTGRES"); u != "" {
		return u
	}
	return DefaultAdminURL
}

var (
	adminOnce sync.Once
	admin     *sql.DB
	adminErr  error
	seq       atomic.Int64
)

func adminDB() (*sql.DB, error) {
	adminOnce.Do(func() {
		admin, adminErr = sql.Open("pgx", AdminURL())
		if adminErr != nil {
			return
		}
		admin.SetMaxOpenConns(2)
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		adminErr = admin.PingContext(ctx)
	})
	return admin, adminErr
}

// Available reports whether the server answers; nil means it does.
func Available() error {
	_, err := adminDB()
	return err
}

// Require fails the test when no PostgreSQL answers and CI is set, and
// skips it (saying why) otherwise.
func Require(t testing.TB) {
	t.Helper()
	if err := Available(); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("PostgreSQL at %s: %v", AdminURL(), err)
		}
		t.Skipf("PostgreSQL at %s: %v (set SESAME_TEST_POSTGRES)", AdminURL(), err)
	}
}

// NewDatabase creates an empty database for t, dropped (connections and
// all) when t ends, and returns its URL. maxConns, when > 0, caps the
// pool a store opens on it (tests run many stores at once, and the
// server's connections are few).
func NewDatabase(t testing.TB, maxConns int) string {
	t.Helper()
	Require(t)
	db, _ := adminDB()
	name := fmt.Sprintf("sesame_test_%d_%d_%d", os.Getpid(), time.Now().UnixNano()%1e9, seq.Add(1))
	if _, err := db.Exec(`CREATE DATABASE ` + name); err != nil {
		t.Fatalf("create database %s: %v", name, err)
	}
	t.Cleanup(func() {
		if _, err := db.Exec(`DROP DATABASE IF EXISTS ` + name + ` WITH (FORCE)`); err != nil {
			t.Errorf("drop database %s: %v", name, err)
		}
	})
	u, err := url.Parse(AdminURL())
	if err != nil {
		t.Fatal(err)
	}
	u.Path = "/" + name
	if maxConns > 0 {
		q := u.Query()
		q.Set("pool_max_conns", fmt.Sprint(maxConns))
		u.RawQuery = q.Encode()
	}
	return u.String()
}
