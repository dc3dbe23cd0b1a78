package e2e

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"sesame/internal/testenv"
)

// TestAPIScripts runs the client scripts in e2e/scripts against one server:
// Debian's AWS CLI v2, boto3, and the AWS SDK for JavaScript with nodemailer's
// SES transport. Each creates and verifies its own address identity, sends
// through the API and reads its mail back from /_aws/ses; the test then checks
// the same mail from Go.
func TestAPIScripts(t *testing.T) {
	s := startProduction(t, testenv.Options{})
	scripts, err := filepath.Abs("scripts")
	if err != nil {
		t.Fatal(err)
	}
	const rcpt = "success@simulator.amazonses.com"
	cases := []struct {
		tag      string
		prepare  func(t *testing.T) // finds the tools; skips (or fails with CI=true) when missing
		cmd      func() *exec.Cmd
		subjects []string
	}{
		{tag: "awscli",
			prepare:  func(t *testing.T) { testenv.Tool(t, "/usr/bin/aws"); testenv.Tool(t, "curl") },
			cmd:      func() *exec.Cmd { return exec.Command("bash", filepath.Join(scripts, "aws-cli.sh")) },
			subjects: []string{"awscli simple", "awscli raw", "awscli template Ann", "awscli v1"}},
		{tag: "boto3",
			prepare: func(t *testing.T) { pythonModule(t, "boto3") },
			cmd: func() *exec.Cmd {
				return exec.Command("/usr/bin/python3", filepath.Join(scripts, "boto3_client.py"))
			},
			subjects: []string{"boto3 simple ünïcode", "boto3 raw", "boto3 template Bo", "boto3 v1 simple",
				"boto3 v1 raw", "boto3 template Vee"}},
		{tag: "node",
			prepare: func(t *testing.T) { nodeModules(t) },
			cmd: func() *exec.Cmd {
				c := exec.Command("node", filepath.Join(scripts, "node-client.mjs"))
				c.Dir = filepath.Join(scripts, "..", "node")
				return c
			},
			subjects: []string{"node simple", "node raw", "node template Nod", "node nodemailer"}},
	}
	for _, tc := range cases {
		t.Run(tc.tag, func(t *testing.T) {
			t.Parallel()
			tc.prepare(t)
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			cmd := tc.cmd()
			cmd = exec.CommandContext(ctx, cmd.Path, cmd.Args[1:]...)
			cmd.Dir = tc.cmd().Dir
			sender := tc.tag + "-sender@example.com"
			cmd.Env = append(s.Env(t), "SENDER="+sender, "RCPT="+rcpt, "TAG="+tc.tag)
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("%s: %v\n%s", strings.Join(cmd.Args, " "), err, out)
			}
			t.Logf("%s", out)
			for _, subject := range tc.subjects {
				m := waitSubject(t, s, subject)
				if m.Source != sender && !strings.Contains(m.Source, sender) {
					t.Errorf("%q: source %q, want %s", subject, m.Source, sender)
				}
				if len(m.Recipients) != 1 || m.Recipients[0] != rcpt {
					t.Errorf("%q: recipients %v, want %s", subject, m.Recipients, rcpt)
				}
			}
		})
	}
}

// pythonModule makes sure Debian's python3 can import module.
func pythonModule(t *testing.T, module string) {
	t.Helper()
	py := testenv.Tool(t, "/usr/bin/python3")
	if out, err := exec.Command(py, "-c", "import "+module).CombinedOutput(); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("python3 cannot import %s (.ci/run installs python3-%s): %s", module, module, out)
		}
		t.Skipf("python3 cannot import %s: %s", module, out)
	}
}

// nodeModules makes sure node and e2e/node's pinned packages are installed.
func nodeModules(t *testing.T) {
	t.Helper()
	testenv.Tool(t, "node")
	if _, err := os.Stat(filepath.Join("node", "node_modules", "@aws-sdk", "client-sesv2")); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("e2e/node/node_modules is missing (.ci/run runs npm ci): %v", err)
		}
		t.Skipf("e2e/node/node_modules is missing (run npm ci in e2e/node): %v", err)
	}
}
