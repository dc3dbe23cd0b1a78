package store

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"testing"
)

func openTest(t *testing.T, dir string) *Store {
	t.Helper()
	s, err := OpenWith(context.Background(), testOptions(t, dir))
	if err != nil {
		t.Fatalf("Open(%s): %v", dir, err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestOpenSetsDurablePragmas(t *testing.T) {
	sqliteOnly(t)
	t.Parallel()
	s := openTest(t, t.TempDir())
	ctx := context.Background()
	var mode string
	var sync, busy int
	if err := s.writes.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil {
		t.Fatal(err)
	}
	if err := s.writes.QueryRowContext(ctx, "PRAGMA synchronous").Scan(&sync); err != nil {
		t.Fatal(err)
	}
	if err := s.reads.QueryRowContext(ctx, "PRAGMA busy_timeout").Scan(&busy); err != nil {
		t.Fatal(err)
	}
	if mode != "wal" || sync != 2 || busy != int(busyTimeout.Milliseconds()) {
		t.Errorf("journal_mode=%s synchronous=%d busy_timeout=%d; want wal, 2 (FULL), %d", mode, sync, busy, busyTimeout.Milliseconds())
	}
}

func TestMigrationsRecordedOnceAcrossReopen(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	s := openTest(t, dir)
	s.Close()
	s = openTest(t, dir)
	ms, err := loadMigrations()
	if err != nil {
		t.Fatal(err)
	}
	var n, maxV int
	if err := s.reads.QueryRow("SELECT COUNT(*), MAX(version) FROM schema_migrations").Scan(&n, &maxV); err != nil {
		t.Fatal(err)
	}
	if n != len(ms) || maxV != ms[len(ms)-1].version {
		t.Errorf("schema_migrations has %d rows up to %d; want %d up to %d", n, maxV, len(ms), ms[len(ms)-1].version)
	}
}

func TestAccountsAndKeysPersist(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	ctx := context.Background()
	s := openTest(t, dir)
	acct, key, err := s.CreateAccount(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`^[0-9]{12}$`).MatchString(acct.ID) {
		t.Errorf("account id %q is not 12 digits", acct.ID)
	}
	if !regexp.MustCompile(`^AKIA[A-Z2-7]{16}$`).MatchString(key.ID) {
		t.Errorf("access key id %q is not AKIA + 16 [A-Z2-7]", key.ID)
	}
	if !regexp.MustCompile(`^[A-Za-z0-9/+]{40}$`).MatchString(key.Secret) {
		t.Errorf("secret %q is not 40 chars of [A-Za-z0-9/+]", key.Secret)
	}
	if key.AccountID != acct.ID || !key.Active {
		t.Errorf("key = %+v; want active, of account %s", key, acct.ID)
	}
	key2, err := s.CreateAccessKey(ctx, acct.ID)
	if err != nil {
		t.Fatal(err)
	}
	if key2.ID == key.ID || key2.Secret == key.Secret {
		t.Error("second key repeats the first")
	}
	if _, err := s.CreateAccessKey(ctx, "000000000000"); !errors.Is(err, ErrNotFound) {
		t.Errorf("CreateAccessKey(unknown) err = %v; want ErrNotFound", err)
	}
	if err := s.SetAccessKeyActive(ctx, key2.ID, false); err != nil {
		t.Fatal(err)
	}
	if err := s.SetAccessKeyActive(ctx, "AKIAAAAAAAAAAAAAAAAA", false); !errors.Is(err, ErrNotFound) {
		t.Errorf("SetAccessKeyActive(unknown) err = %v; want ErrNotFound", err)
	}
	s.Close()

	s = openTest(t, dir)
	got, err := s.AccessKey(ctx, key.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Secret != key.Secret || got.AccountID != acct.ID || !got.Active || !got.Created.Equal(key.Created) {
		t.Errorf("after reopen AccessKey = %+v; want %+v", got, key)
	}
	got2, err := s.AccessKey(ctx, key2.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got2.Active {
		t.Error("deactivated key is active after reopen")
	}
	if _, err := s.AccessKey(ctx, "AKIAZZZZZZZZZZZZZZZZ"); !errors.Is(err, ErrNotFound) {
		t.Errorf("AccessKey(unknown) err = %v; want ErrNotFound", err)
	}
	keys, err := s.AccessKeys(ctx, acct.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != 2 || keys[0].Secret != key.Secret {
		t.Errorf("AccessKeys = %+v; want 2, first with the first secret", keys)
	}
	accts, err := s.Accounts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(accts) != 1 || accts[0].ID != acct.ID || !accts[0].Created.Equal(acct.Created) {
		t.Errorf("Accounts = %+v; want [%+v]", accts, acct)
	}
	if _, err := s.Account(ctx, acct.ID); err != nil {
		t.Errorf("Account(%s): %v", acct.ID, err)
	}
	if _, err := s.Account(ctx, "999999999999"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Account(unknown) err = %v; want ErrNotFound", err)
	}
}

func TestSecretsEncryptedAtRest(t *testing.T) {
	sqliteOnly(t)
	t.Parallel()
	dir := t.TempDir()
	ctx := context.Background()
	s := openTest(t, dir)
	_, key, err := s.CreateAccount(ctx)
	if err != nil {
		t.Fatal(err)
	}
	s.Close() // checkpoints the WAL into the main file

	info, err := os.Stat(filepath.Join(dir, sealKeyFile))
	if err != nil {
		t.Fatal(err)
	}
	if info.Mode().Perm() != 0o600 || info.Size() != 32 {
		t.Errorf("%s: mode %v size %d; want 0600, 32 bytes", sealKeyFile, info.Mode().Perm(), info.Size())
	}
	for _, name := range []string{dbFile, dbFile + "-wal"} {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		if name == dbFile && !bytes.Contains(b, []byte(key.ID)) {
			t.Fatalf("%s does not contain the key id; the test would prove nothing", name)
		}
		if bytes.Contains(b, []byte(key.Secret)) {
			t.Errorf("%s contains the secret in clear", name)
		}
	}
}

// A secret key other than the one the database's secrets were sealed with
// is refused at open, on both engines (on PostgreSQL: a node given another
// node's database without the cluster's key file).
func TestOtherSecretKeyRefused(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	ctx := context.Background()
	s := openTest(t, dir)
	if _, _, err := s.CreateAccount(ctx); err != nil {
		t.Fatal(err)
	}
	s.Close()

	other := filepath.Join(t.TempDir(), "other.key")
	if err := os.WriteFile(other, bytes.Repeat([]byte{7}, 32), 0o600); err != nil {
		t.Fatal(err)
	}
	o := testOptions(t, dir)
	o.SecretKeyFile = other
	_, err := OpenWith(ctx, o)
	var keyErr *SecretKeyError
	if !errors.As(err, &keyErr) || keyErr.Missing || keyErr.Path != other {
		t.Fatalf("Open with another key = %v; want a SecretKeyError naming %s", err, other)
	}
	if onPostgres {
		// A node with no key file at all does not make itself a new one.
		o.SecretKeyFile = filepath.Join(t.TempDir(), "secret.key")
		_, err := OpenWith(ctx, o)
		if !errors.As(err, &keyErr) || !keyErr.Missing {
			t.Fatalf("Open without a key file = %v; want a SecretKeyError (missing)", err)
		}
		if _, serr := os.Stat(o.SecretKeyFile); serr == nil {
			t.Error("a key file was created for a database sealed with another key")
		}
	}
}

func TestSealKeyIsKeptAcrossOpens(t *testing.T) {
	sqliteOnly(t)
	t.Parallel()
	dir := t.TempDir()
	s := openTest(t, dir)
	s.Close()
	first, err := os.ReadFile(filepath.Join(dir, sealKeyFile))
	if err != nil {
		t.Fatal(err)
	}
	s = openTest(t, dir)
	s.Close()
	second, err := os.ReadFile(filepath.Join(dir, sealKeyFile))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(first, second) {
		t.Error("secret.key changed on reopen")
	}
}

func TestOpenRejectsShortSealKey(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, sealKeyFile), []byte("short"), 0o600); err != nil {
		t.Fatal(err)
	}
	if s, err := OpenWith(context.Background(), testOptions(t, dir)); err == nil {
		s.Close()
		t.Fatal("Open with a 5-byte secret.key succeeded")
	}
}

func TestDatabaseFileIsPrivate(t *testing.T) {
	sqliteOnly(t)
	t.Parallel()
	dir := t.TempDir()
	openTest(t, dir)
	info, err := os.Stat(filepath.Join(dir, dbFile))
	if err != nil {
		t.Fatal(err)
	}
	if info.Mode().Perm() != 0o600 {
		t.Errorf("%s mode %v; want 0600", dbFile, info.Mode().Perm())
	}
}

// TestDeleteAccessKey: a deleted key is gone, its account and the other
// keys stay, and deleting it again is ErrNotFound.
func TestDeleteAccessKey(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := openTest(t, t.TempDir())
	acct, key, err := s.CreateAccount(ctx)
	if err != nil {
		t.Fatal(err)
	}
	key2, err := s.CreateAccessKey(ctx, acct.ID)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteAccessKey(ctx, key.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.AccessKey(ctx, key.ID); !errors.Is(err, ErrNotFound) {
		t.Errorf("AccessKey(deleted) err = %v; want ErrNotFound", err)
	}
	if keys, err := s.AccessKeys(ctx, acct.ID); err != nil || len(keys) != 1 || keys[0].ID != key2.ID {
		t.Errorf("AccessKeys after delete = %+v, %v; want only %s", keys, err, key2.ID)
	}
	if _, err := s.Account(ctx, acct.ID); err != nil {
		t.Errorf("account after deleting a key: %v", err)
	}
	if err := s.DeleteAccessKey(ctx, key.ID); !errors.Is(err, ErrNotFound) {
		t.Errorf("DeleteAccessKey twice err = %v; want ErrNotFound", err)
	}
}
