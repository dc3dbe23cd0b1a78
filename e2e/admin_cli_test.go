package e2e

import (
	"bytes"
	"encoding/json"
	"errors"
	"os/exec"
	"strings"
	"testing"

	"sesame/internal/awsauth"
	"sesame/internal/testenv"
)

// sesameCLI runs the real binary and returns its stdout, stderr and exit status.
func sesameCLI(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	cmd := exec.Command(testenv.Binary(t), args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var exit *exec.ExitError
	switch {
	case err == nil:
		return stdout.String(), stderr.String(), 0
	case errors.As(err, &exit):
		return stdout.String(), stderr.String(), exit.ExitCode()
	}
	t.Fatal(err)
	return "", "", 0
}

// authReply opens a STARTTLS session, tries AUTH PLAIN and returns the reply.
func authReply(t *testing.T, s *testenv.Server, user, password string) string {
	t.Helper()
	c := dial(t, s.SMTP, false)
	defer c.conn.Close()
	c.expect(greeting)
	c.ehlo(false)
	c.startTLS("localhost")
	c.ehlo(true)
	c.send("AUTH PLAIN " + base64Plain(user, password))
	return c.expect("~.*")
}

const (
	authOK      = "235 Authentication successful."
	authInvalid = "535 Authentication Credentials Invalid"
	authLocked  = "454 Temporary authentication failure"
)

// TestAdminCLI drives `sesame admin` against a running server: -c and
// --data after the command, exit statuses and help, and key delete, after
// which SMTP AUTH with that key gets SES's 535.
func TestAdminCLI(t *testing.T) {
	s := testenv.Start(t, testenv.Options{})

	t.Run("config flags anywhere", func(t *testing.T) {
		out, errOut, status := sesameCLI(t, "admin", "account", "create", "-c", s.Config)
		var acct struct {
			AccountID string `json:"account_id"`
		}
		if status != 0 || json.Unmarshal([]byte(out), &acct) != nil || acct.AccountID == "" {
			t.Fatalf("account create -c: exit %d\n%s%s", status, out, errOut)
		}
		// --data alone names the embedded store; a server on PostgreSQL
		// keeps its state where its config says, so -c comes along there.
		withStore := func(args ...string) []string {
			if s.StoreURL != "" {
				return append(args, "-c", s.Config)
			}
			return args
		}
		out, errOut, status = sesameCLI(t, withStore("admin", "account", "list", "--data="+s.Dir)...)
		if status != 0 || strings.Count(out, `"account_id"`) != 2 || !strings.Contains(out, acct.AccountID) {
			t.Errorf("account list --data=: exit %d\n%s%s", status, out, errOut)
		}
		out, errOut, status = sesameCLI(t, withStore("admin", "key", "list", "--account", acct.AccountID, "--data", s.Dir)...)
		if status != 0 || strings.Count(out, `"access_key_id"`) != 1 {
			t.Errorf("key list --data DIR: exit %d\n%s%s", status, out, errOut)
		}
	})

	t.Run("exit statuses and help", func(t *testing.T) {
		for _, tc := range []struct {
			args           []string
			status         int
			stdout, stderr string
		}{
			{nil, 2, "", "Usage:"},
			{[]string{"nosuch"}, 2, "", `unknown command "nosuch"`},
			{[]string{"admin"}, 2, "", "no command given"},
			{[]string{"admin", "-c", s.Config}, 2, "", "account create"},
			{[]string{"admin", "key", "-c", s.Config}, 2, "", `"key" needs a subcommand`},
			{[]string{"admin", "nosuch", "-c", s.Config}, 2, "", `unknown command "nosuch"`},
			{[]string{"admin", "key", "nosuch", "-c", s.Config}, 2, "", `unknown command "key nosuch"`},
			{[]string{"admin", "--help"}, 0, "auth unlock IP", ""},
			{[]string{"admin", "key", "--help"}, 0, "key delete --key ID", ""},
			{[]string{"admin", "key", "create", "--help", "-c", s.Config}, 0, "Usage: sesame admin key create [--account ID]", ""},
		} {
			out, errOut, status := sesameCLI(t, tc.args...)
			if status != tc.status || !strings.Contains(out, tc.stdout) || !strings.Contains(errOut, tc.stderr) ||
				tc.stdout == "" && out != "" || tc.stderr == "" && errOut != "" {
				t.Errorf("sesame %q: exit %d (want %d)\nstdout: %s\nstderr: %s", tc.args, status, tc.status, out, errOut)
			}
		}
	})

	t.Run("key delete", func(t *testing.T) {
		var nk struct {
			AccessKeyID   string            `json:"access_key_id"`
			SMTPPasswords map[string]string `json:"smtp_passwords"`
		}
		s.Admin(&nk, "key", "create", "--account", s.Account)
		pw := nk.SMTPPasswords[s.Regions[0]]
		if got := authReply(t, s, nk.AccessKeyID, pw); got != authOK {
			t.Fatalf("AUTH with a new key: %q", got)
		}
		var del map[string]any
		s.Admin(&del, "key", "delete", "--key", nk.AccessKeyID)
		if del["deleted"] != true || del["note"] != nil { // the first key is still active
			t.Errorf("key delete: %v", del)
		}
		// The server's key cache is at most a second stale.
		waitFor(t, "AUTH with the deleted key refused", func() bool {
			return authReply(t, s, nk.AccessKeyID, pw) == authInvalid
		})
		if _, errOut, status := sesameCLI(t, "admin", "key", "delete", "--key", nk.AccessKeyID, "-c", s.Config); status != 2 ||
			!strings.Contains(errOut, "no access key "+nk.AccessKeyID) {
			t.Errorf("deleting it again: exit %d, %s", status, errOut)
		}
		if got := authReply(t, s, s.KeyID, awsauth.SMTPPassword(s.Secret, s.Regions[0])); got != authOK {
			t.Errorf("AUTH with the other key: %q", got)
		}
	})
}

// TestAdminAuthUnlock locks the loopback address out with bad AUTHs, then
// `sesame admin auth unlock 127.0.0.1` lets a correct AUTH through at once.
func TestAdminAuthUnlock(t *testing.T) {
	s := testenv.Start(t, testenv.Options{SMTPExtra: "auth_failures_per_ip = 2"})
	pw := awsauth.SMTPPassword(s.Secret, s.Regions[0])
	for range 2 {
		if got := authReply(t, s, s.KeyID, "wrong"); got != authInvalid {
			t.Fatalf("bad AUTH: %q", got)
		}
	}
	if got := authReply(t, s, s.KeyID, pw); got != authLocked {
		t.Fatalf("correct AUTH after 2 failures: %q, want the lockout's %q", got, authLocked)
	}
	var locks []map[string]any
	s.Admin(&locks, "auth", "list")
	if len(locks) != 1 || locks[0]["client"] != "127.0.0.1" || locks[0]["credentials"] != 1.0 {
		t.Errorf("auth list: %v", locks)
	}
	var unlocked map[string]any
	s.Admin(&unlocked, "auth", "unlock", "127.0.0.1")
	if unlocked["ip"] != "127.0.0.1" || unlocked["cleared"] != 1.0 {
		t.Errorf("auth unlock: %v", unlocked)
	}
	if got := authReply(t, s, s.KeyID, pw); got != authOK {
		t.Errorf("correct AUTH after the unlock: %q", got)
	}
	s.Stop()
	_, errOut, status := sesameCLI(t, "admin", "auth", "unlock", "127.0.0.1", "-c", s.Config)
	if status != 2 || !strings.Contains(errOut, "no server running on data dir "+s.Dir+
		" (nothing to unlock: the lockout lives in the server's memory)") {
		t.Errorf("auth unlock without a server: exit %d, %s", status, errOut)
	}
}

// TestAuthLockoutOff: with [smtp] auth_failures_per_ip = 0 many failures
// (more than the default 10) lock nothing out.
func TestAuthLockoutOff(t *testing.T) {
	s := testenv.Start(t, testenv.Options{SMTPExtra: "auth_failures_per_ip = 0"})
	for i := range 12 {
		if got := authReply(t, s, s.KeyID, "wrong"); got != authInvalid {
			t.Fatalf("bad AUTH %d: %q", i+1, got)
		}
	}
	if got := authReply(t, s, s.KeyID, awsauth.SMTPPassword(s.Secret, s.Regions[0])); got != authOK {
		t.Errorf("correct AUTH after 12 failures: %q", got)
	}
	var locks []any
	s.Admin(&locks, "auth", "list")
	if len(locks) != 0 {
		t.Errorf("auth list: %v", locks)
	}
}
