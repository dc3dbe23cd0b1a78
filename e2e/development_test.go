package e2e

import (
	"bytes"
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"sesame/internal/store"
	"sesame/internal/testenv"
)

// TestDevelopmentMode runs sesame with [accounts] development = true, as a
// LocalStack user would, with real clients: boto3 sends through the API
// from an address of a domain that is no identity to an outside recipient
// with the first-start account; nodemailer sends over SMTP the same way
// with a second account made by `sesame admin account create`; both land in
// /_aws/ses, GetAccount reports production, and the log warns. Then the
// same server restarts on the same data without the setting, and the same
// sends fail with SES's sandbox errors: the mode was applied, never stored.
func TestDevelopmentMode(t *testing.T) {
	pythonModule(t, "boto3")
	nodeModules(t)
	s := testenv.Start(t, testenv.Options{Extra: "[accounts]\ndevelopment = true\n"})

	// The log warns at start, and the banner shows no sandbox steps.
	if !hasLine(s.Stderr.String(), "level=WARN", "development mode: every account is in production without limits",
		"do not use on the internet") {
		t.Errorf("no development-mode warning in the log:\n%s", s.Stderr)
	}
	if out := s.Stdout.String(); !strings.Contains(out, "WARNING: development mode") ||
		strings.Contains(out, "identity verify") || strings.Contains(out, "Leave the sandbox") {
		t.Errorf("the first-start banner does not fit development mode:\n%s", out)
	}

	var second struct {
		AccountID     string            `json:"account_id"`
		AccessKeyID   string            `json:"access_key_id"`
		SMTPPasswords map[string]string `json:"smtp_passwords"`
	}
	s.Admin(&second, "account", "create")
	if second.AccessKeyID == "" || second.SMTPPasswords[s.Regions[0]] == "" || second.AccountID == s.Account {
		t.Fatalf("account create: %+v", second)
	}
	smtpUser, smtpPass := second.AccessKeyID, second.SMTPPasswords[s.Regions[0]]

	const (
		apiSender  = "app@unverified-api.example"
		smtpSender = "app@unverified-smtp.example"
		rcpt       = "someone@elsewhere.example"
	)
	ids := runDevelopmentBoto3(t, s, "development", apiSender, rcpt, "dev-boto3")
	if len(ids) != 3 {
		t.Errorf("boto3 printed %d MessageIds, want 3: %q", len(ids), ids)
	}
	for _, subject := range []string{"dev-boto3 v2 1", "dev-boto3 v2 2", "dev-boto3 v1"} {
		m := waitSubject(t, s, subject)
		if !strings.Contains(m.Source, apiSender) || len(m.Recipients) != 1 || m.Recipients[0] != rcpt {
			t.Errorf("%q captured from %q to %v, want %s to %s", subject, m.Source, m.Recipients, apiSender, rcpt)
		}
	}
	runDevelopmentNodemailer(t, s, "development", smtpUser, smtpPass, smtpSender, rcpt, "dev-node")
	m := waitSubject(t, s, "dev-node nodemailer smtp")
	if !strings.Contains(m.Source, smtpSender) || len(m.Recipients) != 1 || m.Recipients[0] != rcpt {
		t.Errorf("nodemailer's message captured from %q to %v, want %s to %s", m.Source, m.Recipients, smtpSender, rcpt)
	}

	// Nothing was stored: both accounts are still in the sandbox.
	for _, acct := range []string{s.Account, second.AccountID} {
		var shown struct{ Settings []store.AccountSettings }
		s.Admin(&shown, "account", "show", "--account", acct)
		if len(shown.Settings) != 1 || shown.Settings[0].Production || shown.Settings[0].Max24HourSend != 200 {
			t.Errorf("account %s's stored settings changed: %+v", acct, shown.Settings)
		}
	}

	// The same sends without the setting: SES's sandbox refusals.
	cfg, err := os.ReadFile(s.Config)
	if err != nil {
		t.Fatal(err)
	}
	off := bytes.Replace(cfg, []byte("development = true"), []byte("development = false"), 1)
	if bytes.Equal(off, cfg) {
		t.Fatalf("no development setting in the config:\n%s", cfg)
	}
	if err := os.WriteFile(s.Config, off, 0o644); err != nil {
		t.Fatal(err)
	}
	s.Restart()
	if strings.Contains(s.Stderr.String(), "development mode") {
		t.Errorf("development mode logged without the setting:\n%s", s.Stderr)
	}
	runDevelopmentBoto3(t, s, "sandbox", apiSender, rcpt, "sandbox-boto3")
	runDevelopmentNodemailer(t, s, "sandbox", smtpUser, smtpPass, smtpSender, rcpt, "sandbox-node")
}

// hasLine reports whether one line of log holds every part.
func hasLine(log string, parts ...string) bool {
	for _, line := range strings.Split(log, "\n") {
		all := true
		for _, p := range parts {
			all = all && strings.Contains(line, p)
		}
		if all {
			return true
		}
	}
	return false
}

// runDevelopmentBoto3 runs scripts/development_boto3.py with the first
// account's credentials in mode ("development" or "sandbox") and returns
// the MessageIds it printed.
func runDevelopmentBoto3(t *testing.T, s *testenv.Server, mode, sender, rcpt, tag string) []string {
	t.Helper()
	script, err := filepath.Abs(filepath.Join("scripts", "development_boto3.py"))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "/usr/bin/python3", script)
	cmd.Env = append(s.Env(t), "SENDER="+sender, "RCPT="+rcpt, "TAG="+tag, "MODE="+mode)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("development_boto3.py (MODE=%s): %v\n%s%s", mode, err, stdout.String(), stderr.String())
	}
	t.Logf("development_boto3.py (MODE=%s):\n%s", mode, stderr.String())
	return strings.Fields(stdout.String())
}

// runDevelopmentNodemailer runs scripts/development_nodemailer.mjs against
// the STARTTLS listener with the given SMTP credentials, trusting the
// server's self-signed certificate.
func runDevelopmentNodemailer(t *testing.T, s *testenv.Server, mode, user, pass, sender, rcpt, tag string) {
	t.Helper()
	script, err := filepath.Abs(filepath.Join("scripts", "development_nodemailer.mjs"))
	if err != nil {
		t.Fatal(err)
	}
	host, port, err := net.SplitHostPort(s.SMTP)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "node", script)
	cmd.Dir = "node"
	cmd.Env = append(s.Env(t), "SMTP_HOST="+host, "SMTP_PORT="+port, "SMTP_USER="+user, "SMTP_PASS="+pass,
		"CA_FILE="+filepath.Join(s.Dir, "tls", "cert.pem"), "SENDER="+sender, "RCPT="+rcpt, "TAG="+tag, "MODE="+mode)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("development_nodemailer.mjs (MODE=%s): %v\n%s", mode, err, out)
	} else {
		t.Logf("nodemailer (MODE=%s): %s", mode, out)
	}
}
