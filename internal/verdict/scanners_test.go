package verdict

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"
)

// The real scanners, Debian's rspamd and clamd, each started once for the
// package on first use with a config of the test's own in a temp dir, and
// stopped by TestMain.
// Where a binary is missing the tests that need it skip, and fail under
// CI=true.

func TestMain(m *testing.M) {
	// Failed checks log why; here they fail on purpose.
	slog.SetDefault(slog.New(slog.DiscardHandler))
	code := m.Run()
	rspamdOnce.stop()
	clamdOnce.stop()
	os.Exit(code)
}

// scanner is one scanner process started for the package.
type scanner struct {
	once   sync.Once
	addr   string // rspamd's URL or clamd's address
	err    error
	cmd    *exec.Cmd
	exited chan struct{} // closed when cmd has been waited for
	dir    string
}

var rspamdOnce, clamdOnce scanner

// stop ends the scanner's process group (rspamd forks its workers) and
// removes its directory.
func (s *scanner) stop() {
	if s.cmd != nil && s.cmd.Process != nil {
		_ = syscall.Kill(-s.cmd.Process.Pid, syscall.SIGTERM)
		select {
		case <-s.exited:
		case <-time.After(10 * time.Second):
			_ = syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL)
			<-s.exited
		}
	}
	if s.dir != "" {
		_ = os.RemoveAll(s.dir)
	}
}

// need returns the scanner's address, starting it on first use.
func (s *scanner) need(t *testing.T, binary string, start func(path string) (string, error)) string {
	t.Helper()
	s.once.Do(func() {
		path, err := lookBinary(binary)
		if err != nil {
			s.err = err
			return
		}
		s.addr, s.err = start(path)
	})
	if s.err != nil {
		var missing *missingBinary
		if errors.As(s.err, &missing) && os.Getenv("CI") != "true" {
			t.Skip(s.err)
		}
		t.Fatal(s.err)
	}
	return s.addr
}

type missingBinary struct{ name string }

func (e *missingBinary) Error() string {
	return e.name + " is not installed (Debian: apt-get install rspamd clamav-daemon)"
}

// lookBinary finds a daemon in PATH or the sbin directories a non-root
// PATH lacks.
func lookBinary(name string) (string, error) {
	if p, err := exec.LookPath(name); err == nil {
		return p, nil
	}
	for _, dir := range []string{"/usr/sbin", "/usr/bin", "/sbin"} {
		p := filepath.Join(dir, name)
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	return "", &missingBinary{name}
}

// startDaemon runs path with args in its own process group, its output
// in dir/out.log, and waits (bounded) until ready says it answers.
func (s *scanner) startDaemon(dir, path string, args []string, ready func() bool) error {
	out, err := os.Create(filepath.Join(dir, "out.log"))
	if err != nil {
		return err
	}
	defer out.Close()
	s.cmd = exec.Command(path, args...)
	s.cmd.Stdout, s.cmd.Stderr = out, out
	// Its own group, so stop reaches rspamd's workers too; and ended with
	// the test binary should TestMain not get to stop it (a test timeout).
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM}
	if err := s.cmd.Start(); err != nil {
		return fmt.Errorf("start %s: %w", path, err)
	}
	s.exited = make(chan struct{})
	go func() { _ = s.cmd.Wait(); close(s.exited) }()
	deadline := time.Now().Add(90 * time.Second)
	for pause := 10 * time.Millisecond; !ready(); pause = min(2*pause, 200*time.Millisecond) {
		select {
		case <-s.exited:
			log, _ := os.ReadFile(filepath.Join(dir, "out.log"))
			return fmt.Errorf("%s exited at start:\n%s", path, log)
		default:
		}
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(filepath.Join(dir, "out.log"))
			return fmt.Errorf("%s not ready after 90s:\n%s", path, log)
		}
		time.Sleep(pause)
	}
	return nil
}

// freePort is a loopback port free a moment ago.
func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// rspamdLua is a real rspamd rule of the test's: a Subject containing
// "suspicious" scores 5, between the greylist (4) and add header (6)
// thresholds, so rspamd answers greylist.
const rspamdLua = `
rspamd_config.SESAME_TEST_SUSPICIOUS = {
  callback = function(task)
    local s = task:get_header('Subject')
    return s ~= nil and string.find(s, 'suspicious', 1, true) ~= nil
  end,
  score = 5.0,
  description = 'sesame test: a suspicious subject',
}
`

// needRspamd starts rspamd's normal worker on a free loopback port with a
// minimal config: no Redis, no network lookups (its resolver points at a
// closed port), test patterns (GTUBE and its add header / rewrite subject
// variants) on, and the rule above.
func needRspamd(t *testing.T) string {
	return rspamdOnce.need(t, "rspamd", func(path string) (string, error) {
		dir, err := os.MkdirTemp("", "verdict-rspamd")
		if err != nil {
			return "", err
		}
		rspamdOnce.dir = dir
		port, err := freePort()
		if err != nil {
			return "", err
		}
		if err := os.Mkdir(filepath.Join(dir, "db"), 0o700); err != nil {
			return "", err
		}
		lua := filepath.Join(dir, "rules.lua")
		if err := os.WriteFile(lua, []byte(rspamdLua), 0o600); err != nil {
			return "", err
		}
		// A short public suffix list: rspamd compiles the whole one into its
		// URL matcher at start, which takes seconds.
		if err := os.WriteFile(filepath.Join(dir, "tld.dat"), []byte("com\nnet\norg\ntest\n"), 0o600); err != nil {
			return "", err
		}
		conf := fmt.Sprintf(`options {
  url_tld = "%[1]s/tld.dat";
  pidfile = "%[1]s/rspamd.pid";
  dbdir = "%[1]s/db";
  tempdir = "%[1]s";
  enable_test_patterns = true;
  dns { nameserver = ["127.0.0.1:1"]; timeout = 0.1s; retransmits = 1; }
}
logging { type = "file"; filename = "%[1]s/rspamd.log"; level = "warning"; }
actions { reject = 15; add_header = 6; greylist = 4; }
lua = "%[2]s";
worker "normal" { bind_socket = "127.0.0.1:%[3]d"; count = 1; }
`, dir, lua, port)
		confPath := filepath.Join(dir, "rspamd.conf")
		if err := os.WriteFile(confPath, []byte(conf), 0o600); err != nil {
			return "", err
		}
		url := fmt.Sprintf("http://127.0.0.1:%d", port)
		// -i: the tests run as root in CI, which rspamd refuses without it.
		err = rspamdOnce.startDaemon(dir, path, []string{"-c", confPath, "-f", "-i"}, func() bool {
			resp, err := http.Get(url + "/ping")
			if err != nil {
				return false
			}
			resp.Body.Close()
			return resp.StatusCode == http.StatusOK
		})
		return url, err
	})
}

// virusMarker is what the test signature database calls a virus (a body
// signature of our own: freshclam cannot fetch the real databases here).
const virusMarker = "SESAME-VIRUS-TEST-MARKER"

// needClamd starts clamd on a unix socket in a temp dir with a one-line
// signature database and a 1 MiB StreamMaxLength (so the size limit can be
// tested without big messages).
func needClamd(t *testing.T) string {
	return clamdOnce.need(t, "clamd", func(path string) (string, error) {
		dir, err := os.MkdirTemp("", "verdict-clamd")
		if err != nil {
			return "", err
		}
		clamdOnce.dir = dir
		db := filepath.Join(dir, "db")
		if err := os.Mkdir(db, 0o755); err != nil {
			return "", err
		}
		sig := fmt.Sprintf("SesameTest.Virus:0:*:%x\n", virusMarker)
		if err := os.WriteFile(filepath.Join(db, "sesame.ndb"), []byte(sig), 0o644); err != nil {
			return "", err
		}
		sock := filepath.Join(dir, "clamd.sock")
		conf := fmt.Sprintf("LocalSocket %s\nDatabaseDirectory %s\nForeground yes\nLogFile %s\nStreamMaxLength 1M\n",
			sock, db, filepath.Join(dir, "clamd.log"))
		confPath := filepath.Join(dir, "clamd.conf")
		if err := os.WriteFile(confPath, []byte(conf), 0o644); err != nil {
			return "", err
		}
		err = clamdOnce.startDaemon(dir, path, []string{"-c", confPath}, func() bool {
			c, err := net.Dial("unix", sock)
			if err != nil {
				return false
			}
			c.Close()
			return true
		})
		return "unix:" + sock, err
	})
}
