package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	adminpkg "sesame/internal/admin"
)

// TestConfigFlagsAnywhere: -c and --data are taken from any position, in
// every spelling, up to a lone "--".
func TestConfigFlagsAnywhere(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		args       []string
		file, data string
		rest       []string
		err        string
	}{
		{args: []string{"-c", "f", "account", "create"}, file: "f", rest: []string{"account", "create"}},
		{args: []string{"account", "create", "-c", "f"}, file: "f", rest: []string{"account", "create"}},
		{args: []string{"account", "-c", "f", "create"}, file: "f", rest: []string{"account", "create"}},
		{args: []string{"identity", "verify", "a@b.c", "--data", "d"}, data: "d", rest: []string{"identity", "verify", "a@b.c"}},
		{args: []string{"identity", "verify", "--data=d", "a@b.c", "-c=f"}, file: "f", data: "d", rest: []string{"identity", "verify", "a@b.c"}},
		{args: []string{"--c", "f", "-data", "d", "key", "list", "--account", "1"}, file: "f", data: "d",
			rest: []string{"key", "list", "--account", "1"}},
		{args: []string{"-c", "f1", "key", "list", "-c", "f2"}, file: "f2", rest: []string{"key", "list"}}, // the last wins
		{args: []string{"queue", "delete", "--", "-c", "x"}, rest: []string{"queue", "delete", "--", "-c", "x"}},
		{args: []string{"-cx", "--database", "key", "list"}, rest: []string{"-cx", "--database", "key", "list"}}, // not ours
		{args: []string{"key", "list", "-c"}, err: "flag needs an argument: -c"},
		{args: []string{"key", "list", "--data"}, err: "flag needs an argument: --data"},
	} {
		cf, rest, err := configFlagsAnywhere(tc.args)
		if tc.err != "" {
			if err == nil || err.Error() != tc.err {
				t.Errorf("%q: err %v, want %q", tc.args, err, tc.err)
			}
			continue
		}
		if err != nil || cf.file != tc.file || cf.data != tc.data || !slices.Equal(rest, tc.rest) {
			t.Errorf("%q: file %q, data %q, rest %q, err %v; want %q, %q, %q", tc.args, cf.file, cf.data, rest, err,
				tc.file, tc.data, tc.rest)
		}
	}
}

// TestExitStatus: what `sesame` and `sesame admin` exit with, and where
// they print: help on stdout with 0, a missing or unknown command on
// stderr with 2.
func TestExitStatus(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cfg := filepath.Join(dir, "sesame.toml")
	if err := os.WriteFile(cfg, []byte("data_dir = \""+filepath.Join(dir, "data")+"\"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args           []string
		status         int
		stdout, stderr string // what each must contain ("" : must be empty)
	}{
		{nil, 2, "", "Usage:"},
		{[]string{"nosuch"}, 2, "", `unknown command "nosuch"`},
		{[]string{"--help"}, 0, "Usage:", ""},
		{[]string{"admin"}, 2, "", "no command given"},
		{[]string{"admin", "-c", cfg}, 2, "", "account create"},
		{[]string{"admin", "--help"}, 0, "key delete --key ID", ""},
		{[]string{"admin", "help"}, 0, "auth unlock IP", ""},
		{[]string{"admin", "-c", "/nonexistent.toml", "--help"}, 0, "Commands", ""},
		{[]string{"admin", "key"}, 2, "", `"key" needs a subcommand`},
		{[]string{"admin", "key", "--help"}, 0, "key deactivate", ""},
		{[]string{"admin", "key", "create", "--help", "-c", cfg}, 0, "Usage: sesame admin key create [--account ID]", ""},
		{[]string{"admin", "nosuch", "-c", cfg}, 2, "", `unknown command "nosuch"`},
		{[]string{"admin", "key", "nosuch", "-c", cfg}, 2, "", `unknown command "key nosuch"`},
		{[]string{"serve", "--help"}, 0, "Usage: sesame serve", ""},
		{[]string{"serve", "--bogus"}, 2, "", "Usage: sesame serve"},
		{[]string{"smtp-password", "--help"}, 0, "Usage: sesame smtp-password --secret SECRET", ""},
		{[]string{"smtp-password"}, 2, "", "--secret is required\n\nUsage: sesame smtp-password"},
		{[]string{"admin", "backup", "-c", cfg}, 2, "", "backup needs one directory (the backup)\n\nUsage: sesame admin backup DIR"},
		{[]string{"admin", "restore", "--nosuch", "x", "-c", cfg}, 2, "", "Usage: sesame admin restore [--force] DIR"},
		{[]string{"admin", "key", "list", "-c"}, 2, "", "flag needs an argument: -c"},
		{[]string{"admin", "account", "list", "-c", "/nonexistent.toml"}, 2, "", "nonexistent.toml"},
		{[]string{"admin", "auth", "unlock", "127.0.0.1", "-c", cfg}, 2, "",
			"no server running on data dir " + filepath.Join(dir, "data") + " (nothing to unlock: the lockout lives in the server's memory)"},
	} {
		var stdout, stderr bytes.Buffer
		status := run(tc.args, &stdout, &stderr)
		if status != tc.status {
			t.Errorf("%q: exit %d, want %d\nstdout: %s\nstderr: %s", tc.args, status, tc.status, &stdout, &stderr)
		}
		for _, o := range []struct {
			name, got, want string
		}{{"stdout", stdout.String(), tc.stdout}, {"stderr", stderr.String(), tc.stderr}} {
			if o.want == "" && o.got != "" || !strings.Contains(o.got, o.want) {
				t.Errorf("%q: %s %q, want it to contain %q", tc.args, o.name, o.got, o.want)
			}
		}
	}
	// None of these needed the store: the data dir was not even created.
	if _, err := os.Stat(filepath.Join(dir, "data")); !os.IsNotExist(err) {
		t.Errorf("data dir: %v; want none made", err)
	}
}

// TestAdminConfigAfterCommand: `sesame admin account create -c FILE` uses
// FILE's data dir, and --data DIR after the command overrides it.
func TestAdminConfigAfterCommand(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cfg := filepath.Join(dir, "sesame.toml")
	if err := os.WriteFile(cfg, []byte("data_dir = \""+filepath.Join(dir, "data")+"\"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	admin := func(args ...string) []map[string]any {
		t.Helper()
		var stdout, stderr bytes.Buffer
		if status := run(append([]string{"admin"}, args...), &stdout, &stderr); status != 0 {
			t.Fatalf("%q: exit %d: %s", args, status, &stderr)
		}
		var v []map[string]any
		if strings.HasPrefix(stdout.String(), "[") {
			if err := json.Unmarshal(stdout.Bytes(), &v); err != nil {
				t.Fatal(err)
			}
		}
		return v
	}
	admin("account", "create", "-c", cfg)
	admin("account", "create", "--data="+filepath.Join(dir, "other"), "-c="+cfg)
	if n := len(admin("account", "list", "-c", cfg)); n != 1 {
		t.Errorf("%d accounts in the config's data dir, want 1", n)
	}
	if n := len(admin("account", "list", "--data", filepath.Join(dir, "other"))); n != 1 {
		t.Errorf("%d accounts in --data's, want 1", n)
	}
}

// TestEveryAdminCommandHelp: each command of the admin table, those
// cmd/sesame runs itself (backup, restore, migrate) included, answers
// --help with its own usage on stdout and exit 0, opening nothing — also
// when the config file named does not exist.
func TestEveryAdminCommandHelp(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cfg := filepath.Join(dir, "sesame.toml")
	if err := os.WriteFile(cfg, []byte("data_dir = \""+filepath.Join(dir, "data")+"\"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, name := range adminpkg.CommandNames() {
		for _, conf := range []string{cfg, filepath.Join(dir, "nonexistent.toml")} {
			args := append(append([]string{"admin"}, strings.Fields(name)...), "--help", "-c", conf)
			var stdout, stderr bytes.Buffer
			status := run(args, &stdout, &stderr)
			if status != 0 || !strings.HasPrefix(stdout.String(), "Usage: sesame admin "+name) || stderr.Len() > 0 {
				t.Errorf("%q: exit %d\nstdout: %s\nstderr: %s", args, status, &stdout, &stderr)
			}
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "data")); !os.IsNotExist(err) {
		t.Errorf("data dir: %v; want none made", err)
	}
}
