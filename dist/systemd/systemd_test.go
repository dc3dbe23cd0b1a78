package systemd

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"sesame/internal/config"
	"sesame/internal/testenv"
)

// unitSettings reads sesame.service's key=value lines (the last of a key wins, as in systemd).
func unitSettings(t *testing.T) (text string, keys map[string]string) {
	t.Helper()
	b, err := os.ReadFile("sesame.service")
	if err != nil {
		t.Fatal(err)
	}
	keys = map[string]string{}
	for _, l := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(l, "="); ok && !strings.HasPrefix(l, "#") {
			keys[k] = v
		}
	}
	return string(b), keys
}

// TestUnitVerifies runs systemd-analyze verify on the unit. It warns (on
// standard error, with exit status 0) about unknown keys and bad values, so
// any output fails the test. The user and the binary do not exist here:
// the unit is verified with ExecStart pointing at one that does (this test's).
func TestUnitVerifies(t *testing.T) {
	analyze := testenv.Tool(t, "systemd-analyze")
	text, _ := unitSettings(t)
	bin, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(text, "ExecStart=/usr/local/bin/sesame ") {
		t.Fatal("ExecStart does not run /usr/local/bin/sesame")
	}
	path := filepath.Join(t.TempDir(), "sesame.service")
	if err := os.WriteFile(path, []byte(strings.ReplaceAll(text, "/usr/local/bin/sesame", bin)), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(analyze, "verify", path)
	cmd.Env = append(os.Environ(), "SYSTEMD_LOG_LEVEL=warning")
	out, err := cmd.CombinedOutput()
	if err != nil || len(strings.TrimSpace(string(out))) > 0 {
		t.Errorf("systemd-analyze verify: %v\n%s", err, out)
	}
}

// TestUnitSettings pins what the unit promises operators (the names the
// docs use) and that the example config fits it.
func TestUnitSettings(t *testing.T) {
	_, keys := unitSettings(t)
	for k, want := range map[string]string{
		"Type": "notify", "User": "sesame", "Group": "sesame",
		"ExecStart":             "/usr/local/bin/sesame serve -c /etc/sesame/sesame.toml",
		"ExecReload":            "/bin/kill -HUP $MAINPID",
		"StateDirectory":        "sesame",
		"ReadWritePaths":        "/var/lib/sesame",
		"AmbientCapabilities":   "CAP_NET_BIND_SERVICE",
		"CapabilityBoundingSet": "CAP_NET_BIND_SERVICE",
		"NoNewPrivileges":       "yes", "ProtectSystem": "strict", "ProtectHome": "yes", "PrivateTmp": "yes",
		"PrivateDevices": "yes", "ProtectKernelTunables": "yes", "ProtectKernelModules": "yes",
		"ProtectKernelLogs": "yes", "ProtectControlGroups": "yes", "RestrictNamespaces": "yes",
		"RestrictAddressFamilies": "AF_UNIX AF_INET AF_INET6", "LockPersonality": "yes",
		"MemoryDenyWriteExecute": "yes", "SystemCallFilter": "@system-service",
		"LimitNOFILE": "65536", "Restart": "on-failure",
	} {
		if keys[k] != want {
			t.Errorf("%s=%q, want %q", k, keys[k], want)
		}
	}
	stop, err := time.ParseDuration(keys["TimeoutStopSec"])
	if err != nil {
		t.Fatalf("TimeoutStopSec=%q: %v", keys["TimeoutStopSec"], err)
	}
	cfg, err := config.Load("sesame.toml")
	if err != nil {
		t.Fatalf("the example config does not load: %v", err)
	}
	if d := max(cfg.ShutdownTimeout.Duration, config.Default().ShutdownTimeout.Duration); stop <= d {
		t.Errorf("TimeoutStopSec=%v is not above shutdown_timeout (%v): systemd would kill the drain", stop, d)
	}
	if cfg.DataDir != "/var/lib/"+keys["StateDirectory"] {
		t.Errorf("data_dir %q is not the unit's StateDirectory", cfg.DataDir)
	}
}

// TestExampleConfig: the example is a production setup: mx delivery,
// submission on 587 and 465, the feedback MX on 25, all on every address.
func TestExampleConfig(t *testing.T) {
	cfg, err := config.Load("sesame.toml")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Delivery.Mode != "mx" || strings.Join(cfg.SMTP.StartTLSListen, ",") != "0.0.0.0:587" ||
		strings.Join(cfg.SMTP.TLSListen, ",") != "0.0.0.0:465" || strings.Join(cfg.Feedback.Listen, ",") != "0.0.0.0:25" {
		t.Errorf("not the production setup: mode %s, starttls %v, tls %v, feedback %v",
			cfg.Delivery.Mode, cfg.SMTP.StartTLSListen, cfg.SMTP.TLSListen, cfg.Feedback.Listen)
	}
	b, err := os.ReadFile("sesame.toml")
	if err != nil {
		t.Fatal(err)
	}
	// The commented certbot paths become a valid config when uncommented.
	text := strings.NewReplacer("# cert_file", "cert_file", "# key_file", "key_file").Replace(string(b))
	text = strings.Replace(text, "listen = \"127.0.0.1:8787\"", "", 1)
	text = strings.Replace(text, "# listen    = ", "listen    = ", 1)
	var c config.Config = config.Default()
	if err := config.Parse(&c, text); err != nil {
		t.Fatalf("uncommented: %v", err)
	}
	if err := c.Validate(); err != nil || !strings.HasPrefix(c.TLS.CertFile, "/etc/letsencrypt/live/") || c.API.CertFile == "" {
		t.Errorf("uncommented: %v (tls %+v, api cert %q)", err, c.TLS, c.API.CertFile)
	}

	// The optional servers (the inbound MX instead of the feedback MX, the
	// DNS zone, PostgreSQL) are valid when uncommented too.
	var lines []string
	for _, l := range strings.Split(string(b), "\n") {
		switch {
		case strings.HasPrefix(l, "listen = [\"0.0.0.0:25\"]"):
			continue // [receiving] listen replaces [feedback] listen
		case strings.HasPrefix(l, "# ["), strings.HasPrefix(l, "# listen = "), strings.HasPrefix(l, "# url"),
			strings.HasPrefix(l, "# secret_key_file"), strings.HasPrefix(l, "# node_name"):
			l = strings.TrimPrefix(l, "# ")
		}
		lines = append(lines, l)
	}
	c = config.Default()
	if err := config.Parse(&c, strings.Join(lines, "\n")); err != nil {
		t.Fatalf("optional sections uncommented: %v", err)
	}
	if err := c.Validate(); err != nil || len(c.Receiving.Listen) != 1 || c.DNS.Listen == "" || c.Store.URL == "" ||
		c.Cluster.NodeName == "" || len(c.Feedback.Listen) != 0 {
		t.Errorf("optional sections uncommented: %v (receiving %v, dns %q, store %q, node %q, feedback %v)",
			err, c.Receiving.Listen, c.DNS.Listen, c.Store.URL, c.Cluster.NodeName, c.Feedback.Listen)
	}
}
