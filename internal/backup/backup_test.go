package backup

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"sesame/internal/spool"
	"sesame/internal/store"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

func openSpool(t testing.TB, dir string, opt spool.Options) *spool.Spool {
	t.Helper()
	opt.Logger = quiet
	sp, err := spool.Open(dir, opt)
	if err != nil {
		t.Fatal(err)
	}
	return sp
}

func appendMsg(t testing.TB, sp *spool.Spool, id string, size int) error {
	d, err := sp.NewDraft()
	if err != nil {
		return err
	}
	if _, err := d.Write([]byte(strings.Repeat(id+"|", size/(len(id)+1)+1)[:size])); err != nil {
		return err
	}
	env := &spool.Envelope{ID: id, AccountID: "123456789012", Region: "us-east-1", MailFrom: "s@example.com",
		Recipients: []string{"r@example.net"}, Received: time.Now(), Via: spool.ViaSMTP}
	return sp.Append(context.Background(), env, nil, d)
}

// dataDir makes a data dir as a server leaves it: a database with an
// account, secret.key, tls/, a spool with pending messages (one of them
// big enough for a body file) and a done one.
func dataDir(t *testing.T) (dir string, key store.AccessKey) {
	t.Helper()
	dir = filepath.Join(t.TempDir(), "data")
	st, err := store.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	_, key, err = st.CreateAccount(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	st.Close()
	if err := os.MkdirAll(filepath.Join(dir, "tls"), 0o700); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "tls", "cert.pem"), []byte("cert"), 0o644)
	os.WriteFile(filepath.Join(dir, "tls", "key.pem"), []byte("key"), 0o600)
	os.WriteFile(filepath.Join(dir, "sesame.lock"), nil, 0o600)
	os.WriteFile(filepath.Join(dir, ".tmp-123"), []byte("half"), 0o600)
	sp := openSpool(t, filepath.Join(dir, SpoolDir), spool.Options{MemoryLimit: 1024})
	for i := range 5 {
		if err := appendMsg(t, sp, fmt.Sprintf("m%d", i), 100); err != nil {
			t.Fatal(err)
		}
	}
	if err := appendMsg(t, sp, "big", 5000); err != nil {
		t.Fatal(err)
	}
	if err := sp.Done(context.Background(), "m0"); err != nil {
		t.Fatal(err)
	}
	sp.Close()
	in := openSpool(t, filepath.Join(dir, InboundSpoolDir), spool.Options{})
	for i := range 2 {
		if err := appendMsg(t, in, fmt.Sprintf("r%d", i), 100); err != nil {
			t.Fatal(err)
		}
	}
	in.Close()
	return dir, key
}

func pending(t *testing.T, dir string) map[string]bool {
	t.Helper()
	sp := openSpool(t, dir, spool.Options{})
	defer sp.Close()
	got := map[string]bool{}
	for _, e := range sp.Entries() {
		got[e.ID] = true
	}
	return got
}

func TestBackupRestoreRoundTrip(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	data, key := dataDir(t)
	bk := filepath.Join(t.TempDir(), "bk")
	m, err := Create(ctx, data, bk, Options{Version: "test 1.0", Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	if m.SchemaVersion != store.KnownSchema() || m.SesameVersion != "test 1.0" || m.SpoolPending != 5 || m.InboundPending != 2 {
		t.Errorf("manifest schema %d, version %q, pending %d, inbound %d; want %d, test 1.0, 5, 2", m.SchemaVersion,
			m.SesameVersion, m.SpoolPending, m.InboundPending, store.KnownSchema())
	}
	if fi, err := os.Stat(bk); err != nil || fi.Mode().Perm() != 0o700 {
		t.Errorf("backup dir mode: %v %v; want 0700", fi.Mode(), err)
	}
	paths := map[string]File{}
	for _, f := range m.Files {
		paths[f.Path] = f
	}
	for _, want := range []string{"sesame.db", "secret.key", "tls/cert.pem", "tls/key.pem"} {
		if _, ok := paths[want]; !ok {
			t.Errorf("backup lacks %s: %v", want, m.Files)
		}
	}
	if paths["tls/cert.pem"].Mode != "0644" || paths["secret.key"].Mode != "0600" {
		t.Errorf("modes: cert %s, secret.key %s", paths["tls/cert.pem"].Mode, paths["secret.key"].Mode)
	}
	for p := range paths {
		if strings.HasSuffix(p, "-wal") || strings.HasSuffix(p, "-shm") || strings.HasSuffix(p, "lock") || strings.Contains(p, ".tmp") {
			t.Errorf("backup holds %s", p)
		}
	}
	if _, err := os.Stat(filepath.Join(bk, ManifestFile)); err != nil {
		t.Fatal(err)
	}

	target := filepath.Join(t.TempDir(), "restored")
	res, err := Restore(ctx, bk, target, RestoreOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if res.MovedAside != "" {
		t.Errorf("moved aside %q from a missing data dir", res.MovedAside)
	}
	st, err := store.Open(target)
	if err != nil {
		t.Fatal(err)
	}
	got, err := st.AccessKey(ctx, key.ID)
	st.Close()
	if err != nil || got.Secret != key.Secret {
		t.Fatalf("restored access key: %v; secret matches: %v", err, got.Secret == key.Secret)
	}
	p := pending(t, filepath.Join(target, SpoolDir))
	if len(p) != 5 || p["m0"] || !p["big"] || !p["m4"] {
		t.Errorf("restored spool pending %v; want m1..m4 and big", p)
	}
	if p := pending(t, filepath.Join(target, InboundSpoolDir)); len(p) != 2 || !p["r0"] || !p["r1"] {
		t.Errorf("restored inbound spool pending %v; want r0, r1", p)
	}
	if b, _ := os.ReadFile(filepath.Join(target, "tls", "cert.pem")); string(b) != "cert" {
		t.Errorf("tls/cert.pem = %q", b)
	}
}

// A backup taken while the spool appends, completes and rolls segments
// holds every message appended before it began that was not marked done
// by the time it ended; and the copy's database is whole.
func TestBackupWhileSpoolWrites(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	data := filepath.Join(t.TempDir(), "data")
	st, err := store.Open(data)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	sp := openSpool(t, filepath.Join(data, SpoolDir), spool.Options{SegmentSize: 8 << 10, MemoryLimit: 2048})
	defer sp.Close()

	var mu sync.Mutex
	acked := map[string]time.Time{}
	doneStarted := map[string]bool{}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := 0; ; n++ {
				select {
				case <-stop:
					return
				default:
				}
				id := fmt.Sprintf("w%d-%d", w, n)
				size := 300
				if n%7 == 0 {
					size = 3000 // a body file
				}
				if err := appendMsg(t, sp, id, size); err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				acked[id] = time.Now()
				mu.Unlock()
				if n%2 == 0 { // half are delivered, so segments die and go
					mu.Lock()
					doneStarted[id] = true
					mu.Unlock()
					if err := sp.Done(ctx, id); err != nil {
						t.Error(err)
						return
					}
				}
				// Writers also change the database, as a server does.
				if n%20 == 0 {
					if _, _, err := st.CreateAccount(ctx); err != nil {
						t.Error(err)
						return
					}
				}
			}
		}()
	}
	for {
		mu.Lock()
		n := len(acked)
		mu.Unlock()
		if n >= 500 {
			break
		}
		time.Sleep(time.Millisecond)
	}
	mu.Lock()
	before := map[string]bool{}
	for id := range acked {
		before[id] = true
	}
	mu.Unlock()
	bk := filepath.Join(t.TempDir(), "bk")
	m, err := Create(ctx, data, bk, Options{Logger: quiet})
	mu.Lock()
	doneByEnd := map[string]bool{}
	for id := range doneStarted {
		doneByEnd[id] = true
	}
	mu.Unlock()
	close(stop)
	wg.Wait()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Verify(bk); err != nil {
		t.Fatal(err)
	}
	got := pending(t, filepath.Join(bk, SpoolDir)) // changes the copy: last
	if len(got) != m.SpoolPending {
		t.Errorf("manifest says %d pending, the copy has %d", m.SpoolPending, len(got))
	}
	missing := 0
	for id := range before {
		if !doneByEnd[id] && !got[id] {
			missing++
			if missing < 5 {
				t.Errorf("message %s acknowledged before the backup and never done is not in it", id)
			}
		}
	}
	if missing > 0 {
		t.Fatalf("%d of %d messages lost", missing, len(before))
	}
	db, err := sql.Open("sqlite", "file:"+filepath.Join(bk, store.DatabaseFile)+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var check string
	if err := db.QueryRow("PRAGMA integrity_check").Scan(&check); err != nil || check != "ok" {
		t.Errorf("integrity_check of the copy: %q %v", check, err)
	}
	t.Logf("%d acknowledged before, %d pending in the copy", len(before), len(got))
}

// A frame cut off at the end of the copied segment (a write in flight as
// the backup read it) is discarded by the copy's recovery, and every whole
// message before it stays.
func TestBackupTornTail(t *testing.T) {
	t.Parallel()
	data, _ := dataDir(t)
	segs, _ := filepath.Glob(filepath.Join(data, SpoolDir, "seg-*.log"))
	if len(segs) == 0 {
		t.Fatal("no segment")
	}
	last := segs[len(segs)-1]
	b, err := os.ReadFile(segs[0])
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(last, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	// The first frame of the first segment, cut in half: a torn append.
	f.Write(b[8 : 8+60])
	f.Close()
	before, _ := os.Stat(last)
	bk := filepath.Join(t.TempDir(), "bk")
	m, err := Create(context.Background(), data, bk, Options{Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	if m.SpoolPending != 5 {
		t.Errorf("pending after a torn tail = %d; want 5", m.SpoolPending)
	}
	after, err := os.Stat(filepath.Join(bk, SpoolDir, filepath.Base(last)))
	if err == nil && after.Size() >= before.Size() {
		t.Errorf("the copy's torn segment was not cut (%d bytes, source %d)", after.Size(), before.Size())
	}
	got := pending(t, filepath.Join(bk, SpoolDir))
	if len(got) != 5 {
		t.Errorf("copy pending %v", got)
	}
}

func TestRestoreRefusals(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	data, _ := dataDir(t)
	bk := filepath.Join(t.TempDir(), "bk")
	if _, err := Create(ctx, data, bk, Options{Logger: quiet}); err != nil {
		t.Fatal(err)
	}

	t.Run("backup into a non-empty dir", func(t *testing.T) {
		if _, err := Create(ctx, data, bk, Options{Logger: quiet}); err == nil || !strings.Contains(err.Error(), "not empty") {
			t.Errorf("backup into a used dir: %v", err)
		}
		if _, err := Create(ctx, data, filepath.Join(data, "inside"), Options{Logger: quiet}); err == nil {
			t.Error("backup into the data dir itself accepted")
		}
	})

	t.Run("running server", func(t *testing.T) {
		target := filepath.Join(t.TempDir(), "d")
		os.Mkdir(target, 0o700)
		lock, err := LockDataDir(target)
		if err != nil {
			t.Fatal(err)
		}
		defer lock.Close()
		_, err = Restore(ctx, bk, target, RestoreOptions{Force: true})
		if !errors.Is(err, ErrDataDirInUse) || !strings.Contains(err.Error(), "a server is running on data dir "+target) {
			t.Errorf("restore under a lock: %v", err)
		}
		if _, err := LockDataDir(target); !errors.Is(err, ErrDataDirInUse) {
			t.Errorf("second lock: %v", err)
		}
	})

	t.Run("non-empty, then --force", func(t *testing.T) {
		target := filepath.Join(t.TempDir(), "d")
		os.Mkdir(target, 0o700)
		os.WriteFile(filepath.Join(target, "precious"), []byte("x"), 0o600)
		_, err := Restore(ctx, bk, target, RestoreOptions{})
		if !errors.Is(err, ErrNotEmpty) || !strings.Contains(err.Error(), "--force") {
			t.Errorf("restore into a used dir: %v", err)
		}
		now := time.Date(2026, 11, 23, 8, 0, 0, 0, time.UTC)
		res, err := Restore(ctx, bk, target, RestoreOptions{Force: true, Now: func() time.Time { return now }})
		if err != nil {
			t.Fatal(err)
		}
		if want := target + ".before-restore-20261123T080000Z"; res.MovedAside != want {
			t.Errorf("moved aside to %q; want %q", res.MovedAside, want)
		}
		if b, err := os.ReadFile(filepath.Join(res.MovedAside, "precious")); err != nil || string(b) != "x" {
			t.Errorf("the old data dir's file: %q %v", b, err)
		}
		if _, err := os.Stat(filepath.Join(target, "precious")); err == nil {
			t.Error("the old file is in the restored dir")
		}
		if _, err := os.Stat(filepath.Join(target, "secret.key")); err != nil {
			t.Error(err)
		}
	})

	t.Run("--force on a mount point", func(t *testing.T) {
		// A container's volume, or a file system of its own, cannot be
		// renamed: the refusal says what to do instead.
		busy := func(from, to string) error {
			return &os.LinkError{Op: "rename", Old: from, New: to, Err: syscall.EBUSY}
		}
		target := filepath.Join(t.TempDir(), "d")
		os.Mkdir(target, 0o700)
		os.WriteFile(filepath.Join(target, "precious"), []byte("x"), 0o600)
		_, err := Restore(ctx, bk, target, RestoreOptions{Force: true, rename: busy})
		if err == nil || !strings.Contains(err.Error(), "--force cannot move the data dir "+target+" aside") ||
			!strings.Contains(err.Error(), "restore into a new, empty directory or volume") {
			t.Errorf("restore --force over a mount point: %v", err)
		}
		if b, err := os.ReadFile(filepath.Join(target, "precious")); err != nil || string(b) != "x" {
			t.Errorf("the data dir's file after a refused restore: %q %v", b, err)
		}
	})
	t.Run("empty dir", func(t *testing.T) {
		target := t.TempDir()
		if _, err := Restore(ctx, bk, target, RestoreOptions{}); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("tampered", func(t *testing.T) {
		bad := filepath.Join(t.TempDir(), "bad")
		if _, err := Create(ctx, data, bad, Options{Logger: quiet}); err != nil {
			t.Fatal(err)
		}
		f, _ := os.OpenFile(filepath.Join(bad, "secret.key"), os.O_WRONLY, 0)
		f.WriteAt([]byte{'!'}, 3)
		f.Close()
		target := filepath.Join(t.TempDir(), "d")
		_, err := Restore(ctx, bad, target, RestoreOptions{})
		if err == nil || !strings.Contains(err.Error(), "secret.key does not match the manifest") {
			t.Errorf("tampered backup: %v", err)
		}
		if _, err := os.Stat(target); err == nil {
			t.Error("a refused restore created the data dir")
		}
	})

	t.Run("newer schema", func(t *testing.T) {
		newer := filepath.Join(t.TempDir(), "newer")
		if _, err := Create(ctx, data, newer, Options{Logger: quiet}); err != nil {
			t.Fatal(err)
		}
		m, _ := ReadManifest(newer)
		b, _ := os.ReadFile(filepath.Join(newer, ManifestFile))
		b = []byte(strings.Replace(string(b), fmt.Sprintf(`"schema_version": %d`, m.SchemaVersion), fmt.Sprintf(`"schema_version": %d`, m.SchemaVersion+1), 1))
		os.WriteFile(filepath.Join(newer, ManifestFile), b, 0o600)
		_, err := Restore(ctx, newer, filepath.Join(t.TempDir(), "d"), RestoreOptions{})
		want := fmt.Sprintf("schema %d; this sesame knows up to %d", m.SchemaVersion+1, store.KnownSchema())
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("newer backup: %v; want %q", err, want)
		}
	})

	t.Run("newer data dir", func(t *testing.T) {
		d, _ := dataDir(t)
		db, err := sql.Open("sqlite", "file:"+filepath.Join(d, store.DatabaseFile))
		if err != nil {
			t.Fatal(err)
		}
		db.Exec(`INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, 'x.sql', 0)`, store.KnownSchema()+1)
		db.Close()
		_, err = Create(ctx, d, filepath.Join(t.TempDir(), "b"), Options{Logger: quiet})
		var newer *store.NewerSchemaError
		if !errors.As(err, &newer) {
			t.Errorf("backup of a newer data dir: %v", err)
		}
	})
}

// Messages delivered while the backup runs — their outcome committed to
// the database, then marked done in the spool, as capture and mx mode do —
// are each in the backup: pending in the copied spool or recorded in the
// copied database. (Copying the database before the spool would lose them:
// the older database without their outcome, the newer spool without them.)
func TestBackupOrderKeepsMessagesDeliveredMeanwhile(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	data, _ := dataDir(t)
	db, err := sql.Open("sqlite", "file:"+filepath.Join(data, store.DatabaseFile)+"?_pragma=busy_timeout(10000)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(`CREATE TABLE delivered_test (id TEXT PRIMARY KEY)`); err != nil {
		t.Fatal(err)
	}
	sp := openSpool(t, filepath.Join(data, SpoolDir), spool.Options{})
	defer sp.Close()
	ids := []string{"m1", "m2", "m3", "m4", "big"}
	bk := filepath.Join(t.TempDir(), "bk")
	_, err = Create(ctx, data, bk, Options{Logger: quiet, afterSpool: func() {
		for _, id := range ids { // delivery: the outcome first, then done
			if _, err := db.Exec(`INSERT INTO delivered_test (id) VALUES (?)`, id); err != nil {
				t.Error(err)
			}
		}
		if err := sp.Done(ctx, ids...); err != nil {
			t.Error(err)
		}
	}})
	if err != nil {
		t.Fatal(err)
	}
	got := pending(t, filepath.Join(bk, SpoolDir))
	cp, err := sql.Open("sqlite", "file:"+filepath.Join(bk, store.DatabaseFile)+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer cp.Close()
	for _, id := range ids {
		var n int
		if err := cp.QueryRow(`SELECT COUNT(*) FROM delivered_test WHERE id = ?`, id).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n == 0 && !got[id] {
			t.Errorf("message %s is neither spooled nor delivered in the backup", id)
		}
	}
}

// A key kept outside the data dir ([store] secret_key_file) is in the
// backup as secret.key and goes back to that file: a backup without it
// would be refused at restore, found out only when it is needed.
func TestBackupSecretKeyFileElsewhere(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	base := t.TempDir()
	data, keyFile := filepath.Join(base, "data"), filepath.Join(base, "etc", "secret.key")
	os.Mkdir(filepath.Join(base, "etc"), 0o700)
	st, err := store.OpenWith(ctx, store.Options{DataDir: data, SecretKeyFile: keyFile})
	if err != nil {
		t.Fatal(err)
	}
	_, key, err := st.CreateAccount(ctx)
	st.Close()
	if err != nil {
		t.Fatal(err)
	}
	// A stale secret.key in the data dir is not the key in use.
	os.WriteFile(filepath.Join(data, SecretKeyFile), []byte("stale"), 0o600)
	want, err := os.ReadFile(keyFile)
	if err != nil {
		t.Fatal(err)
	}
	bk := filepath.Join(base, "bk")
	if _, err := Create(ctx, data, bk, Options{SecretKeyFile: keyFile, Logger: quiet}); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(filepath.Join(bk, SecretKeyFile)); !bytes.Equal(got, want) {
		t.Fatalf("the backup's secret.key is not the configured key file's (%d bytes)", len(got))
	}

	opened := func(t *testing.T, data, keyFile string) {
		t.Helper()
		st, err := store.OpenWith(ctx, store.Options{DataDir: data, SecretKeyFile: keyFile})
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		got, err := st.AccessKey(ctx, key.ID)
		if err != nil || got.Secret != key.Secret {
			t.Fatalf("restored access key: %v; secret matches: %v", err, err == nil && got.Secret == key.Secret)
		}
	}
	t.Run("to a new machine: the key file is written", func(t *testing.T) {
		other := t.TempDir()
		target, kf := filepath.Join(other, "data"), filepath.Join(other, "etc", "secret.key")
		if _, err := Restore(ctx, bk, target, RestoreOptions{SecretKeyFile: kf}); err != nil {
			t.Fatal(err)
		}
		if fi, err := os.Stat(kf); err != nil || fi.Mode().Perm() != 0o600 {
			t.Fatalf("key file: %v %v", fi, err)
		}
		if _, err := os.Stat(filepath.Join(target, SecretKeyFile)); err == nil {
			t.Error("the key went into the data dir too")
		}
		opened(t, target, kf)
	})
	t.Run("the same key in place: kept", func(t *testing.T) {
		target := filepath.Join(t.TempDir(), "data")
		if _, err := Restore(ctx, bk, target, RestoreOptions{SecretKeyFile: keyFile}); err != nil {
			t.Fatal(err)
		}
		opened(t, target, keyFile)
	})
	t.Run("another key in place: refused, nothing changed", func(t *testing.T) {
		other := t.TempDir()
		target, kf := filepath.Join(other, "data"), filepath.Join(other, "secret.key")
		os.WriteFile(kf, bytes.Repeat([]byte{7}, 32), 0o600)
		_, err := Restore(ctx, bk, target, RestoreOptions{SecretKeyFile: kf})
		if err == nil || !strings.Contains(err.Error(), kf+" ([store] secret_key_file) holds another key") {
			t.Errorf("restore over another key: %v", err)
		}
		if _, err := os.Stat(target); err == nil {
			t.Error("a refused restore created the data dir")
		}
	})
	t.Run("into the data dir when not configured", func(t *testing.T) {
		target := filepath.Join(t.TempDir(), "data")
		if _, err := Restore(ctx, bk, target, RestoreOptions{}); err != nil {
			t.Fatal(err)
		}
		opened(t, target, "")
	})
}
