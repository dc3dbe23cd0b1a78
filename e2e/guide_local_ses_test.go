package e2e

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"sesame/internal/awsauth"
	"sesame/internal/testenv"
	"sesame/internal/waitfor"
)

// TestGuideLocalSESSnippets runs docs/guide-local-ses.md's client code as
// a reader copies it, against a server in development mode (the guide's
// examples assume it): the Python block (boto3 and smtplib) and the
// Node.js block (nodemailer over SMTP and over the SES API), with only the
// placeholders (key, secret, SMTP password, ports) and the certificate's
// path filled in; and the Java row of the certificate table — its keytool
// command and -D flags, run as written on a copy of the certificate file
// the guide names, trusted by a JSSE STARTTLS client that checks the host
// name. A guide that drifts from sesame or from its clients fails here.
func TestGuideLocalSESSnippets(t *testing.T) {
	pythonModule(t, "boto3")
	nodeModules(t)
	keytool, javac, java := testenv.Tool(t, "keytool"), testenv.Tool(t, "javac"), testenv.Tool(t, "java")
	guide, err := os.ReadFile(filepath.Join("..", "docs", "guide-local-ses.md"))
	if err != nil {
		t.Fatal(err)
	}
	doc := string(guide)
	s := testenv.Start(t, testenv.Options{Extra: "[accounts]\ndevelopment = true\n"})

	// The certificate is where the guide says, under its name.
	if !strings.Contains(doc, "**`<data dir>/tls/cert.pem`**") {
		t.Fatal("the guide no longer names <data dir>/tls/cert.pem")
	}
	cert := filepath.Join(s.Dir, "tls", "cert.pem")
	pem, err := os.ReadFile(cert)
	if err != nil {
		t.Fatalf("the self-signed certificate is not where the guide says: %v", err)
	}
	_, smtpPort, err := net.SplitHostPort(s.SMTP)
	if err != nil {
		t.Fatal(err)
	}
	_, tlsPort, err := net.SplitHostPort(s.SMTPS)
	if err != nil {
		t.Fatal(err)
	}
	password := awsauth.SMTPPassword(s.Secret, s.Regions[0])
	fill := func(block string, pairs ...string) string {
		t.Helper()
		for i := 0; i < len(pairs); i += 2 {
			if !strings.Contains(block, pairs[i]) {
				t.Fatalf("the guide's snippet no longer has %q:\n%s", pairs[i], block)
			}
			block = strings.ReplaceAll(block, pairs[i], pairs[i+1])
		}
		return block
	}
	credentials := []string{`"AKIA..."`, `"` + s.KeyID + `"`, `"..."`, `"` + s.Secret + `"`,
		`"SMTP-PASSWORD"`, `"` + password + `"`, "http://localhost:8787", s.APIURL(),
		"sesame-data/tls/cert.pem", cert}

	t.Run("python", func(t *testing.T) {
		block := fill(fencedBlock(t, doc, "python", "boto3.client(\"sesv2\""), append(credentials,
			`smtplib.SMTP("localhost", 2587)`, `smtplib.SMTP("localhost", `+smtpPort+`)`)...)
		// The comment's alternative, the TLS-wrapper port, as well.
		block += "\nwith smtplib.SMTP_SSL(\"localhost\", " + tlsPort + ", context=ctx) as s:\n" +
			"    s.login(\"" + s.KeyID + "\", \"" + password + "\")\n    del msg[\"Subject\"]\n" +
			"    msg[\"Subject\"] = \"guide smtps\"\n    s.send_message(msg)\n"
		script := filepath.Join(t.TempDir(), "guide.py")
		if err := os.WriteFile(script, []byte(block), 0o600); err != nil {
			t.Fatal(err)
		}
		runGuide(t, exec.Command("/usr/bin/python3", script), s.Env(t))
		waitCaptured(t, s, "Hi", 2) // boto3 and smtplib's STARTTLS
		waitSubject(t, s, "guide smtps")
	})

	t.Run("nodemailer", func(t *testing.T) {
		block := fill(fencedBlock(t, doc, "js", "nodemailer.createTransport"), append(credentials,
			"port: 2587", "port: "+smtpPort, `subject: "Hi"`, `subject: "guide nodemailer smtp"`)...)
		block += "\nawait viaApi.sendMail({ from: \"sender@example.com\", to: \"someone@example.org\", " +
			"subject: \"guide nodemailer api\", text: \"Hello\" });\n"
		// In e2e/node, where the pinned packages resolve.
		script := filepath.Join("node", "guide-snippet.tmp.mjs")
		if err := os.WriteFile(script, []byte(block), 0o600); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { os.Remove(script) })
		cmd := exec.Command("node", filepath.Base(script))
		cmd.Dir = "node"
		runGuide(t, cmd, s.Env(t))
		waitSubject(t, s, "guide nodemailer smtp")
		waitSubject(t, s, "guide nodemailer api")
	})

	t.Run("java", func(t *testing.T) {
		// The table's row: `keytool …`, then `-Djavax.net.ssl.…` flags.
		row := regexp.MustCompile("(?m)^\\| Java[^|]*\\| `(keytool [^`]+)`[^`]*`(-Djavax[^`]+)`").FindStringSubmatch(doc)
		if row == nil {
			t.Fatal("the guide's certificate table has no Java row with a keytool command and -D flags")
		}
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "sesame-cert.pem"), pem, 0o644); err != nil {
			t.Fatal(err)
		}
		args := strings.Fields(row[1])
		kt := exec.Command(keytool, args[1:]...)
		kt.Dir = dir
		runGuide(t, kt, nil)
		classes := filepath.Join(dir, "classes")
		src, err := filepath.Abs(filepath.Join("scripts", "GuideTrust.java"))
		if err != nil {
			t.Fatal(err)
		}
		runGuide(t, exec.Command(javac, "-d", classes, src), nil)
		jv := exec.Command(java, append(strings.Fields(row[2]), "-cp", classes, "GuideTrust", "localhost", smtpPort,
			s.KeyID, password, "java@unverified.example", "someone@example.org", "guide java")...)
		jv.Dir = dir
		runGuide(t, jv, nil)
		waitSubject(t, s, "guide java")

		// The same client without the trust store refuses the certificate:
		// the flags are what made it pass.
		bare := exec.Command(java, "-cp", classes, "GuideTrust", "localhost", smtpPort,
			s.KeyID, password, "java@unverified.example", "someone@example.org", "guide java bare")
		if out, err := bare.CombinedOutput(); err == nil || !strings.Contains(string(out), "PKIX") {
			t.Errorf("java without the trust store: err %v, want a PKIX failure:\n%s", err, out)
		}
	})
}

// fencedBlock returns the first ```lang code block of md that contains
// marker.
func fencedBlock(t *testing.T, md, lang, marker string) string {
	t.Helper()
	var block []string
	in := false
	for _, line := range strings.Split(md, "\n") {
		switch trimmed := strings.TrimSpace(line); {
		case !in && trimmed == "```"+lang:
			in, block = true, nil
		case in && trimmed == "```":
			in = false
			if b := strings.Join(block, "\n") + "\n"; strings.Contains(b, marker) {
				return b
			}
		case in:
			block = append(block, line)
		}
	}
	t.Fatalf("no ```%s block with %q in the guide", lang, marker)
	return ""
}

// runGuide runs cmd (with env when not nil) within a minute and fails the test
// with its output when it fails.
func runGuide(t *testing.T, cmd *exec.Cmd, env []string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c := exec.CommandContext(ctx, cmd.Path, cmd.Args[1:]...)
	c.Dir = cmd.Dir
	if env != nil {
		c.Env = env
	}
	var out bytes.Buffer
	c.Stdout, c.Stderr = &out, &out
	if err := c.Run(); err != nil {
		t.Fatalf("%s: %v\n%s", strings.Join(cmd.Args, " "), err, out.String())
	}
}

// waitCaptured waits until n messages with subject are captured.
func waitCaptured(t *testing.T, s *testenv.Server, subject string, n int) {
	t.Helper()
	waitfor.True(t, fmt.Sprintf("%d captured messages with subject %q", n, subject), func() bool {
		got := 0
		for _, m := range s.Captured("") {
			if m.Subject == subject {
				got++
			}
		}
		return got >= n
	})
}
