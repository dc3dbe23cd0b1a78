package main

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"sesame/internal/awsauth"
	"sesame/internal/config"
	"sesame/internal/store"
)

// The first start's secrets go to a 0600 file; stdout that is not a
// terminal (a log collector) and the log get its path, never the secrets.
func TestFirstStartSecretsInPrivateFile(t *testing.T) {
	cfg := config.Default()
	cfg.DataDir = t.TempDir()
	cfg.Regions = []string{"us-east-1", "eu-west-1"}
	st, err := store.Open(cfg.DataDir)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var stdout, logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	if err := firstStartSecret(context.Background(), st, cfg, configFlags{}, &stdout, log); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(cfg.DataDir, CredentialsFile)
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Fatalf("%s has mode %v, want 0600", path, fi.Mode().Perm())
	}
	file, _ := os.ReadFile(path)
	m := bannerSecret.FindSubmatch(file)
	if m == nil {
		t.Fatalf("no secret in the file:\n%s", file)
	}
	secrets := []string{string(m[1])}
	for _, r := range cfg.Regions {
		secrets = append(secrets, awsauth.SMTPPassword(string(m[1]), r))
	}
	for _, sec := range secrets {
		if !bytes.Contains(file, []byte(sec)) {
			t.Errorf("file lacks %q", sec)
		}
		if strings.Contains(stdout.String(), sec) || strings.Contains(logs.String(), sec) {
			t.Errorf("secret %q printed:\nstdout:\n%s\nlog:\n%s", sec, stdout.String(), logs.String())
		}
	}
	if !strings.Contains(logs.String(), path) || !strings.Contains(stdout.String(), "(see "+path+")") {
		t.Errorf("the path is not given:\nstdout:\n%s\nlog:\n%s", stdout.String(), logs.String())
	}
	if !strings.Contains(stdout.String(), "created account ") || !strings.Contains(stdout.String(), "swaks --server ") {
		t.Errorf("the redacted banner lost its account or example:\n%s", stdout.String())
	}

	// A second start has nothing to say and leaves the file alone.
	stdout.Reset()
	if err := firstStartSecret(context.Background(), st, cfg, configFlags{}, &stdout, log); err != nil || stdout.Len() != 0 {
		t.Fatalf("second start: %v %q", err, stdout.String())
	}
}

func TestWritePrivateTightensMode(t *testing.T) {
	path := filepath.Join(t.TempDir(), "f")
	if err := os.WriteFile(path, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := writePrivate(path, "new"); err != nil {
		t.Fatal(err)
	}
	fi, _ := os.Stat(path)
	b, _ := os.ReadFile(path)
	if fi.Mode().Perm() != 0o600 || string(b) != "new" {
		t.Fatalf("mode %v content %q", fi.Mode().Perm(), b)
	}
}
