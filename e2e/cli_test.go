package e2e

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"sesame/internal/testenv"
)

func TestSMTPPasswordCommand(t *testing.T) {
	out, err := exec.Command(testenv.Binary(t), "smtp-password", "--secret", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "--region", "us-east-2").Output()
	if err != nil {
		t.Fatal(err)
	}
	// The aws-sdk-php test suite's published vector.
	if got := strings.TrimSpace(string(out)); got != "BMPPgbAHoFVbze1Ud0oA5uNdXRwUXUZ+qOwphGJbl/cS" {
		t.Errorf("smtp-password = %q", got)
	}
}

// A bad configuration stops sesame at start, naming the key, exit status 2.
func TestBadConfigFailsAtStart(t *testing.T) {
	for _, tc := range []struct{ text, want string }{
		{"[smtp]\nmax_conections = 5\n", "unknown key smtp.max_conections"},
		{"[smtp]\nidle_timeout = \"forever\"\n", "idle_timeout"},
		{"[delivery]\nmode = \"pigeon\"\n", "delivery.mode"},
	} {
		dir := t.TempDir()
		cfg := filepath.Join(dir, "sesame.toml")
		if err := os.WriteFile(cfg, []byte("data_dir = \""+dir+"/data\"\n"+tc.text), 0o644); err != nil {
			t.Fatal(err)
		}
		out, err := exec.Command(testenv.Binary(t), "serve", "-c", cfg).CombinedOutput()
		var exit *exec.ExitError
		if !errors.As(err, &exit) || exit.ExitCode() != 2 || !strings.Contains(string(out), tc.want) {
			t.Errorf("serve with %q: err %v, output %q; want exit 2 naming %q", tc.text, err, out, tc.want)
		}
	}
}

// The first start prints working credentials; a second start creates no
// second account.
func TestFirstStartBannerOnlyOnce(t *testing.T) {
	s := testenv.Start(t, testenv.Options{})
	if !strings.Contains(s.Stdout.String(), "swaks --server "+s.SMTP) {
		t.Errorf("banner has no ready-to-run example:\n%s", s.Stdout)
	}
	s.Stop()
	s.Restart()
	if strings.Contains(s.Stdout.String(), "first start") {
		t.Errorf("second start printed a first-start banner:\n%s", s.Stdout)
	}
	var accounts []map[string]any
	s.Admin(&accounts, "account", "list")
	if len(accounts) != 1 {
		t.Errorf("%d accounts after a restart, want 1", len(accounts))
	}
}
