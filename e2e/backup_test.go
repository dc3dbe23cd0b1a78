package e2e

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	"github.com/aws/aws-sdk-go-v2/service/sesv2/types"
	_ "modernc.org/sqlite"

	"sesame/internal/awsauth"
	"sesame/internal/store"
	"sesame/internal/testenv"
)

// adminExit runs `sesame admin -c CONFIG args...` and returns its exit
// status and combined output.
func adminExit(t *testing.T, s *testenv.Server, args ...string) (int, string) {
	t.Helper()
	out, err := s.AdminRaw(args...)
	var exit *exec.ExitError
	switch {
	case err == nil:
		return 0, string(out)
	case errors.As(err, &exit):
		return exit.ExitCode(), string(out)
	}
	t.Fatalf("sesame admin %v: %v", args, err)
	return 0, ""
}

// TestBackupUnderLoadRestores: SMTP and API clients send while `sesame
// admin backup` runs; the backup is restored into a fresh data dir and a
// server started there has every message acknowledged before the backup
// began (captured, or still spooled and captured then), and the same
// credentials work. Restore is refused while the server runs, into a
// non-empty data dir without --force, and from a damaged backup.
func TestBackupUnderLoadRestores(t *testing.T) {
	s := testenv.Start(t, testenv.Options{SMTPExtra: "max_messages_per_connection = 100000"})
	if testenv.OnPostgres() {
		// The state is PostgreSQL's to back up: admin backup says so
		// rather than copying a data dir without it.
		out, err := s.AdminRaw("backup", filepath.Join(t.TempDir(), "bk"))
		if err == nil || !strings.Contains(string(out), "back it up with pg_dump") {
			t.Fatalf("admin backup on PostgreSQL: %v\n%s", err, out)
		}
		return
	}
	s.Verify("example.com")
	s.Production()
	ctx := context.Background()
	v2 := s.SESv2Client(t)
	send := func(subject string) (string, error) {
		out, err := v2.SendEmail(ctx, &sesv2.SendEmailInput{
			FromEmailAddress: aws.String("sender@example.com"),
			Destination:      &types.Destination{ToAddresses: []string{"rcpt@example.net"}},
			Content:          simple(subject, "body", ""),
		})
		if err != nil {
			return "", err
		}
		return aws.ToString(out.MessageId), nil
	}
	// The admin changes reach the running server within a second.
	waitFor(t, "the account out of the sandbox", func() bool {
		_, err := send("warm-up")
		return err == nil
	})
	pw := awsauth.SMTPPassword(s.Secret, s.Regions[0])

	var mu sync.Mutex
	acked := map[string]bool{}
	var total atomic.Int64
	record := func(id string) {
		mu.Lock()
		acked[id] = true
		mu.Unlock()
		total.Add(1)
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := smtpLoad(s.SMTP, s.KeyID, pw, "rcpt@example.net", stop, record); err != nil {
				t.Errorf("smtp load: %v", err)
			}
		}()
	}
	for w := range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := 0; ; n++ {
				select {
				case <-stop:
					return
				default:
				}
				id, err := send(fmt.Sprintf("api %d-%d", w, n))
				if err != nil {
					t.Errorf("api load: %v", err)
					return
				}
				record(id)
			}
		}()
	}
	waitForWithin(t, "300 acknowledged messages", 60*time.Second, func() bool { return total.Load() >= 300 })
	mu.Lock()
	before := make(map[string]bool, len(acked))
	for id := range acked {
		before[id] = true
	}
	mu.Unlock()
	bk := filepath.Join(t.TempDir(), "backup")
	out, err := s.AdminRaw("backup", bk)
	if err != nil {
		t.Fatalf("backup under load: %v\n%s", err, out)
	}
	var made struct {
		SchemaVersion int `json:"schema_version"`
		SpoolPending  int `json:"spool_pending"`
		Files         int `json:"files"`
	}
	if err := json.Unmarshal(out, &made); err != nil || made.SchemaVersion != store.KnownSchema() || made.Files < 3 {
		t.Fatalf("backup output %s (%v)", out, err)
	}
	atBackupEnd := total.Load()
	waitForWithin(t, "more load after the backup", 60*time.Second, func() bool { return total.Load() >= atBackupEnd+100 })
	close(stop)
	wg.Wait()
	t.Logf("%d acknowledged before the backup (%d spooled in it), %d in all", len(before), made.SpoolPending, total.Load())

	// Refused while the server runs, even with --force.
	code, msg := adminExit(t, s, "restore", "--force", bk)
	if code == 0 || !strings.Contains(msg, "a server is running on data dir "+s.Dir) {
		t.Errorf("restore under a running server: exit %d, %s", code, msg)
	}
	s.Stop()
	// Refused into a non-empty data dir without --force.
	code, msg = adminExit(t, s, "restore", bk)
	if code == 0 || !strings.Contains(msg, "is not empty; --force moves it aside") {
		t.Errorf("restore into a non-empty data dir: exit %d, %s", code, msg)
	}
	// Refused from a damaged backup.
	bad := filepath.Join(t.TempDir(), "damaged")
	if out, err := exec.Command("cp", "-a", bk, bad).CombinedOutput(); err != nil {
		t.Fatalf("cp: %v %s", err, out)
	}
	f, err := os.OpenFile(filepath.Join(bad, "sesame.db"), os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteAt([]byte("\xff"), 200)
	f.Close()
	code, msg = adminExit(t, s, "restore", "--force", bad)
	if code == 0 || !strings.Contains(msg, "sesame.db does not match the manifest") {
		t.Errorf("restore of a damaged backup: exit %d, %s", code, msg)
	}

	// A fresh data dir (a new machine): the old one goes out of the way.
	if err := os.Rename(s.Dir, s.Dir+".lost"); err != nil {
		t.Fatal(err)
	}
	if out, err := s.AdminRaw("restore", bk); err != nil {
		t.Fatalf("restore: %v\n%s", err, out)
	}
	s.Restart()
	if strings.Contains(s.Stdout.String(), "first start") {
		t.Errorf("the restored server started afresh:\n%s", s.Stdout)
	}
	var missing []string
	waitForWithin(t, "every message acknowledged before the backup captured", 60*time.Second, func() bool {
		seen := map[string]bool{}
		for _, m := range s.Captured("") {
			seen[m.ID] = true
		}
		missing = missing[:0]
		for id := range before {
			if !seen[id] {
				missing = append(missing, id)
			}
		}
		return len(missing) == 0
	})
	// The same credentials: SMTP AUTH and a signed API call.
	var after string
	if err := smtpLoadOne(s.SMTP, s.KeyID, pw, func(id string) { after = id }); err != nil || after == "" {
		t.Errorf("SMTP with the old credentials after the restore: %v", err)
	}
	if _, err := send("after restore"); err != nil {
		t.Errorf("API with the old key after the restore: %v", err)
	}
	var ids []map[string]any
	s.Admin(&ids, "identity", "list", "--account", s.Account)
	if len(ids) == 0 {
		t.Errorf("no identities after the restore")
	}
}

// smtpLoadOne sends one message over smtpLoad's session and stops.
func smtpLoadOne(addr, user, pw string, acked func(string)) error {
	stop := make(chan struct{})
	var once sync.Once
	return smtpLoad(addr, user, pw, "rcpt@example.net", stop, func(id string) {
		acked(id)
		once.Do(func() { close(stop) })
	})
}

// A data dir whose database a newer sesame migrated is refused by serve
// and by admin (backup included), naming both schema versions.
func TestNewerSchemaRefused(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	cfg := filepath.Join(dir, "sesame.toml")
	os.WriteFile(cfg, []byte(fmt.Sprintf("data_dir = %q\n[smtp]\nstarttls_listen = [%q]\ntls_listen = [%q]\n[api]\nlisten = %q\n[console]\nlisten = %q\n",
		data, testenv.FreeAddr(t), testenv.FreeAddr(t), testenv.FreeAddr(t), testenv.FreeAddr(t))), 0o644)
	bin := testenv.Binary(t)
	if out, err := exec.Command(bin, "admin", "-c", cfg, "account", "create").CombinedOutput(); err != nil {
		t.Fatalf("account create: %v\n%s", err, out)
	}
	know := store.KnownSchema()
	db, err := sql.Open("sqlite", "file:"+filepath.Join(data, "sesame.db"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, 'from_a_newer_sesame.sql', 0)`, know+2); err != nil {
		t.Fatal(err)
	}
	db.Close()
	want := fmt.Sprintf("data dir %s was written by a newer sesame (schema %d; this sesame knows up to %d): upgrade sesame or restore a backup made by this version", data, know+2, know)
	for _, args := range [][]string{
		{"serve", "-c", cfg},
		{"admin", "-c", cfg, "account", "list"},
		{"admin", "-c", cfg, "backup", filepath.Join(dir, "bk")},
		// The queue commands open the spool, not the store.
		{"admin", "-c", cfg, "queue", "list"},
		{"admin", "-c", cfg, "queue", "retry", "--all"},
		{"admin", "-c", cfg, "spool", "adopt", filepath.Join(data, "spool")},
	} {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		out, err := exec.CommandContext(ctx, bin, args...).CombinedOutput()
		cancel()
		var exit *exec.ExitError
		if !errors.As(err, &exit) || exit.ExitCode() == 0 || !strings.Contains(string(out), want) {
			t.Errorf("sesame %s: %v\n%s\nwant a non-zero exit and %q", strings.Join(args, " "), err, out, want)
		}
	}
}

// Two servers on one data dir: the second is refused at once.
func TestSecondServerOnDataDirRefused(t *testing.T) {
	s := testenv.Start(t, testenv.Options{})
	cfg := filepath.Join(t.TempDir(), "second.toml")
	os.WriteFile(cfg, []byte(fmt.Sprintf("data_dir = %q\n[smtp]\nstarttls_listen = [%q]\ntls_listen = [%q]\n[api]\nlisten = %q\n[console]\nlisten = %q\n",
		s.Dir, testenv.FreeAddr(t), testenv.FreeAddr(t), testenv.FreeAddr(t), testenv.FreeAddr(t))), 0o644)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, testenv.Binary(t), "serve", "-c", cfg).CombinedOutput()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() == 0 || !strings.Contains(string(out), "another sesame process holds its lock (sesame.lock)") {
		t.Errorf("second server: %v\n%s", err, out)
	}
}

// An installation keeping its key outside the data dir ([store]
// secret_key_file) backs up and restores with the CLI: the key travels in
// the backup and goes back to that file on the new machine, where the
// restored access key works.
func TestBackupSecretKeyFileElsewhere(t *testing.T) {
	if testenv.OnPostgres() {
		t.Skip("backup copies the embedded database")
	}
	write := func(dir string) string {
		cfg := filepath.Join(dir, "sesame.toml")
		os.WriteFile(cfg, []byte(fmt.Sprintf("data_dir = %q\n[store]\nsecret_key_file = %q\n", filepath.Join(dir, "data"), filepath.Join(dir, "etc", "secret.key"))), 0o644)
		os.Mkdir(filepath.Join(dir, "etc"), 0o700)
		return cfg
	}
	bin := testenv.Binary(t)
	sesame := func(args ...string) []byte {
		t.Helper()
		out, err := exec.Command(bin, args...).CombinedOutput()
		if err != nil {
			t.Fatalf("sesame %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return out
	}
	old, fresh := t.TempDir(), t.TempDir()
	var acct struct {
		AccessKeyID     string `json:"access_key_id"`
		SecretAccessKey string `json:"secret_access_key"`
	}
	if err := json.Unmarshal(sesame("admin", "-c", write(old), "account", "create"), &acct); err != nil || acct.AccessKeyID == "" {
		t.Fatalf("account create: %v", err)
	}
	bk := filepath.Join(t.TempDir(), "bk")
	sesame("admin", "-c", write(old), "backup", bk)
	sesame("admin", "-c", write(fresh), "restore", bk)
	if _, err := os.Stat(filepath.Join(fresh, "etc", "secret.key")); err != nil {
		t.Fatalf("the key file on the new machine: %v", err)
	}
	out := sesame("admin", "-c", write(fresh), "key", "list")
	if !strings.Contains(string(out), acct.AccessKeyID) {
		t.Errorf("key list after the restore:\n%s", out)
	}
}
