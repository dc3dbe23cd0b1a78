// Package testenv starts the real sesame binary for end-to-end tests, in the
// spirit of maddy's tests/t.go: it builds the binary once, writes a config
// with free loopback ports and a temporary data dir, starts `sesame serve`,
// waits until it answers, and offers the admin CLI and the captured mail.
// It also finds the external tools tests drive (swaks, openssl, python3):
// with CI=true a missing tool fails the test instead of skipping it.
package testenv

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"sesame/internal/pgtest"
	"sesame/internal/store"
)

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// Binary builds cmd/sesame once per test process and returns its path.
func Binary(t testing.TB) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "sesame-bin-")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "sesame")
		cmd := exec.Command("go", "build", "-o", binPath, "./cmd/sesame")
		cmd.Dir = moduleRoot()
		out, err := cmd.CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

// Main runs a package's tests and then removes the binary Binary built, so
// test runs leave no 35 MB copies in the temporary directory. A package
// that calls Binary calls it from TestMain: os.Exit(testenv.Main(m)).
func Main(m *testing.M) int {
	code := m.Run()
	if binPath != "" {
		os.RemoveAll(filepath.Dir(binPath))
	}
	return code
}

// StoreEnv chooses the engine of the servers Start starts: "postgres" (a
// fresh PostgreSQL database per server, on pgtest's server) or "sqlite"
// (the embedded default).
const StoreEnv = "SESAME_TEST_STORE"

// MainBothStores is Main running the package's tests twice: on servers
// with the embedded SQLite store, then on servers sharing nothing but a
// PostgreSQL server, each with a database of its own. $SESAME_TEST_STORE
// set to one engine runs that one only.
func MainBothStores(m *testing.M) int {
	if os.Getenv(StoreEnv) != "" {
		return Main(m)
	}
	code := m.Run()
	if code == 0 {
		if err := pgtest.Available(); err != nil && os.Getenv("CI") == "" {
			fmt.Fprintf(os.Stderr, "testenv: the PostgreSQL pass is skipped: %v\n", err)
		} else {
			fmt.Fprintln(os.Stderr, "testenv: the same tests on PostgreSQL-backed servers")
			os.Setenv(StoreEnv, "postgres")
			code = m.Run()
		}
	}
	if binPath != "" {
		os.RemoveAll(filepath.Dir(binPath))
	}
	return code
}

// OnPostgres reports whether Start's servers keep their state in PostgreSQL.
func OnPostgres() bool { return os.Getenv(StoreEnv) == "postgres" }

func moduleRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..")
}

// Tool returns the path of an external program, skipping the test when it is
// missing — or failing it when CI=true, so CI never skips silently.
func Tool(t testing.TB, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err == nil {
		return p
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s is not installed (.ci/run installs it)", name)
	}
	t.Skipf("%s is not installed", name)
	return ""
}

// Options adjust the server a test starts.
type Options struct {
	// Extra is TOML appended to the generated config (top-level keys must
	// come before any table, so Extra should only add tables, e.g. "[log]\nlevel = \"debug\"").
	SMTPExtra string // lines added to the [smtp] table
	APIExtra  string // lines added to the [api] table (e.g. APITLSConfig's cert_file/key_file)
	// ConsoleExtra is lines added to the [console] table.
	ConsoleExtra string
	Regions      []string
	// NodeName is [cluster] node_name (default "sesame-test"): the node
	// label of every metric (ScrapeNodeMetrics) and the server's row in
	// `admin cluster status`.
	NodeName string
	Extra    string // tables appended at the end of the config (e.g. "[verification]\n…")
	// StoreURL is the [store] url; "" gives the server a database of its
	// own on the engine $SESAME_TEST_STORE names (SQLite by default).
	StoreURL string
	// Postgres gives the server a fresh PostgreSQL database whatever
	// $SESAME_TEST_STORE says (when StoreURL is "").
	Postgres bool
	// SecretKeyFile is the [store] secret_key_file ("" for the data dir's).
	SecretKeyFile string
	// HasAccount: StoreURL's database already holds the first account
	// (one `sesame admin migrate` filled), so no first-start banner comes;
	// the test sets the Server's KeyID, Secret and Account itself.
	HasAccount bool
	// joining: the store already has the first account (a cluster node
	// after the first), so no first-start banner comes.
	joining bool
}

// StartCluster starts n nodes (node-0, node-1, …) sharing one fresh
// PostgreSQL database and the first node's secret key, as an operator
// runs a cluster: every node has its own data dir, spool and ports. The
// first node creates the account; the others carry its credentials.
func StartCluster(t testing.TB, n int, opt Options) []*Server {
	t.Helper()
	opt.Postgres = true
	named := opt.NodeName == ""
	if named {
		opt.NodeName = "node-0"
	}
	first := Start(t, opt)
	nodes := []*Server{first}
	opt.StoreURL = first.StoreURL
	opt.SecretKeyFile = filepath.Join(first.Dir, "secret.key")
	opt.joining = true
	for i := range n - 1 {
		if named {
			opt.NodeName = fmt.Sprintf("node-%d", i+1)
		}
		node := Start(t, opt)
		node.KeyID, node.Secret, node.Account = first.KeyID, first.Secret, first.Account
		nodes = append(nodes, node)
	}
	return nodes
}

// Server is a running sesame process.
type Server struct {
	t       testing.TB
	Dir     string // data dir
	Config  string // config file path
	SMTP    string // STARTTLS listener host:port
	SMTPS   string // TLS-wrapper listener host:port
	API     string // API listener host:port
	Console string // web console listener host:port
	// StoreURL is the PostgreSQL database the server keeps its state in
	// ("" for the embedded one in Dir).
	StoreURL      string
	secretKeyFile string // [store] secret_key_file ("" for the data dir's)
	Regions       []string
	Node          string // [cluster] node_name
	cmd           *exec.Cmd
	Stdout        *syncBuffer
	Stderr        *syncBuffer
	KeyID         string // first account's access key id, from the first-start banner
	Secret        string
	Account       string
	exited        chan struct{}
}

// Start writes a config and starts sesame; the process is stopped when the
// test ends.
func Start(t testing.TB, opt Options) *Server {
	t.Helper()
	bin := Binary(t)
	dir := t.TempDir()
	regions := opt.Regions
	if len(regions) == 0 {
		regions = []string{"us-east-1"}
	}
	s := &Server{t: t, Dir: filepath.Join(dir, "data"), Config: filepath.Join(dir, "sesame.toml"), Regions: regions,
		Node: opt.NodeName, secretKeyFile: opt.SecretKeyFile}
	if s.Node == "" {
		s.Node = "sesame-test"
	}
	quoted := make([]string, len(regions))
	for i, r := range regions {
		quoted[i] = fmt.Sprintf("%q", r)
	}
	// A port FreeAddr found free may be taken again (by any outgoing
	// connection's ephemeral port) before sesame binds it: then sesame
	// exits at once, and the start is tried again on other ports.
	for try := 1; ; try++ {
		s.SMTP, s.SMTPS, s.API, s.Console = FreeAddr(t), FreeAddr(t), FreeAddr(t), FreeAddr(t)
		// Each try starts from an empty database, as from an empty data
		// dir: the first start's banner comes again.
		s.StoreURL = opt.StoreURL
		if s.StoreURL == "" && (opt.Postgres || OnPostgres()) {
			s.StoreURL = pgtest.NewDatabase(t, 6)
		}
		storeTable := ""
		if s.StoreURL != "" {
			storeTable = fmt.Sprintf("[store]\nurl = %q\nsecret_key_file = %q\n", s.StoreURL, opt.SecretKeyFile)
		}
		cfg := fmt.Sprintf(`data_dir = %q
hostname = "sesame.test"
regions = [%s]
[smtp]
starttls_listen = [%q]
tls_listen = [%q]
%s
[api]
listen = %q
%s
[console]
listen = %q
%s
[log]
level = "debug"
[cluster]
node_name = %q
%s
%s
`, s.Dir, strings.Join(quoted, ", "), s.SMTP, s.SMTPS, opt.SMTPExtra, s.API, opt.APIExtra, s.Console, opt.ConsoleExtra,
			s.Node, storeTable, allowPrivateDestinations(opt.Extra))
		if err := os.WriteFile(s.Config, []byte(cfg), 0o644); err != nil {
			t.Fatal(err)
		}
		if s.start(bin, try < 3) {
			break
		}
		// The first start's account goes with it: the banner comes again.
		if err := os.RemoveAll(s.Dir); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() {
		s.Stop()
		if t.Failed() {
			t.Logf("sesame stderr:\n%s", tail(s.Stderr.String(), 8000))
		}
	})
	if !opt.joining && !opt.HasAccount {
		s.parseBanner()
	}
	return s
}

// allowPrivateDestinations sets delivery.allow_private_destinations in
// extra's [delivery] table unless extra sets it: tests' MXes are on
// 127.0.0.x, which delivery refuses by default. A test of the refusal
// sets the key to false itself.
func allowPrivateDestinations(extra string) string {
	if strings.Contains(extra, "allow_private_destinations") {
		return extra
	}
	i := strings.Index("\n"+extra, "\n[delivery]")
	if i < 0 {
		return extra
	}
	i += len("[delivery]")
	return extra[:i] + "\nallow_private_destinations = true" + extra[i:]
}

// start runs the binary and waits until it serves. When the process exits
// at start because a port was taken and retry is set, start returns false.
func (s *Server) start(bin string, retry ...bool) bool {
	s.t.Helper()
	s.Stdout, s.Stderr = &syncBuffer{}, &syncBuffer{}
	s.cmd = exec.Command(bin, "serve", "-c", s.Config)
	s.cmd.Stdout, s.cmd.Stderr = s.Stdout, s.Stderr
	if err := s.cmd.Start(); err != nil {
		s.t.Fatal(err)
	}
	s.exited = make(chan struct{})
	go func() { s.cmd.Wait(); close(s.exited) }()
	deadline := time.Now().Add(20 * time.Second)
	for {
		select {
		case <-s.exited:
			if len(retry) > 0 && retry[0] && strings.Contains(s.Stderr.String(), "address already in use") {
				return false
			}
			s.t.Fatalf("sesame exited at start: %v\nstdout:\n%s\nstderr:\n%s", s.cmd.ProcessState, s.Stdout, s.Stderr)
		default:
		}
		if up(s.SMTP) && up(s.SMTPS) && (healthy(s.API) || healthyTLS(s.API)) {
			return true
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("sesame did not come up in 20s\nstderr:\n%s", s.Stderr)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// OpenStore opens the server's store beside it, as `sesame admin` does
// (both engines take several processes); it is closed when the test ends.
func (s *Server) OpenStore() *store.Store {
	s.t.Helper()
	st, err := store.OpenWith(context.Background(), store.Options{DataDir: s.Dir, URL: s.StoreURL, SecretKeyFile: s.secretKeyFile})
	if err != nil {
		s.t.Fatal(err)
	}
	s.t.Cleanup(func() { st.Close() })
	return st
}

// Restart starts the process again on the same config and data. A process
// still running (no Kill or Stop before) is stopped first, so two never
// share the data dir and the ports.
func (s *Server) Restart() {
	s.t.Helper()
	s.Stop()
	s.start(Binary(s.t))
}

// Stop sends SIGTERM and waits for the process to end.
func (s *Server) Stop() {
	s.signal(syscall.SIGTERM, 15*time.Second)
}

// Kill sends SIGKILL: a crash.
func (s *Server) Kill() {
	s.signal(syscall.SIGKILL, 5*time.Second)
}

func (s *Server) signal(sig syscall.Signal, wait time.Duration) {
	if s.cmd == nil || s.cmd.Process == nil {
		return
	}
	select {
	case <-s.exited:
		return
	default:
	}
	_ = s.cmd.Process.Signal(sig)
	select {
	case <-s.exited:
	case <-time.After(wait):
		_ = s.cmd.Process.Kill()
		<-s.exited
	}
}

// PID is the running server's process id.
func (s *Server) PID() int { return s.cmd.Process.Pid }

// Exited reports whether the process has ended.
func (s *Server) Exited() bool {
	select {
	case <-s.exited:
		return true
	default:
		return false
	}
}

var (
	keyIDLine  = regexp.MustCompile(`Access key id \(SMTP user name\):\s+(\S+)`)
	secretLine = regexp.MustCompile(`Secret access key:\s+(\S+)`)
	acctLine   = regexp.MustCompile(`created account (\d{12})`)
)

func (s *Server) parseBanner() {
	// The secrets are in the first-start file; stdout (not a terminal)
	// has them redacted.
	creds, _ := os.ReadFile(filepath.Join(s.Dir, "first-start-credentials.txt"))
	out := string(creds) + s.Stdout.String()
	if m := keyIDLine.FindStringSubmatch(out); m != nil {
		s.KeyID = m[1]
	}
	if m := secretLine.FindStringSubmatch(out); m != nil {
		s.Secret = m[1]
	}
	if m := acctLine.FindStringSubmatch(out); m != nil {
		s.Account = m[1]
	}
	if s.KeyID == "" || s.Secret == "" || s.Account == "" {
		s.t.Fatalf("first-start banner without credentials:\n%s", out)
	}
}

// Admin runs `sesame admin -c CONFIG args...` and decodes its JSON output
// into v (when v is not nil). It fails the test on a non-zero exit.
func (s *Server) Admin(v any, args ...string) {
	s.t.Helper()
	out, err := s.AdminRaw(args...)
	if err != nil {
		s.t.Fatalf("sesame admin %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	if v != nil {
		if err := json.Unmarshal(out, v); err != nil {
			s.t.Fatalf("sesame admin %s: bad JSON: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
}

// AdminRaw runs the admin CLI and returns its combined output.
func (s *Server) AdminRaw(args ...string) ([]byte, error) {
	cmd := exec.Command(Binary(s.t), append([]string{"admin", "-c", s.Config}, args...)...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if err != nil {
		return append(stdout.Bytes(), stderr.Bytes()...), err
	}
	return stdout.Bytes(), nil
}

// Verify marks an identity verified for the first account (operator override).
func (s *Server) Verify(identity string) {
	s.t.Helper()
	s.Admin(nil, "identity", "verify", "--account", s.Account, "--region", s.Regions[0], identity)
}

// Production takes the first account out of the sandbox with generous quotas.
func (s *Server) Production() {
	s.t.Helper()
	s.Admin(nil, "account", "set", "--account", s.Account, "--region", s.Regions[0],
		"--production", "--max-send-rate", "100000", "--max-24h-send", "-1")
}

// CapturedMessage is one entry of GET /_aws/ses.
type CapturedMessage struct {
	ID          string `json:"Id"`
	Region      string
	Source      string
	Destination struct{ ToAddresses, CcAddresses, BccAddresses []string }
	Subject     string
	Body        struct {
		TextPart *string `json:"text_part"`
		HTMLPart *string `json:"html_part"`
	}
	RawData    string
	Timestamp  string
	Recipients []string
	Outcomes   map[string]string
}

// Captured returns GET /_aws/ses with the given raw query ("" for all).
func (s *Server) Captured(query string) []CapturedMessage {
	s.t.Helper()
	url := "http://" + s.API + "/_aws/ses"
	if query != "" {
		url += "?" + query
	}
	resp, err := http.Get(url)
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	var body struct{ Messages []CapturedMessage }
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		s.t.Fatalf("GET %s: %v", url, err)
	}
	return body.Messages
}

// WaitCaptured polls /_aws/ses until at least n messages are there.
func (s *Server) WaitCaptured(n int, timeout time.Duration) []CapturedMessage {
	s.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		msgs := s.Captured("")
		if len(msgs) >= n || time.Now().After(deadline) {
			return msgs
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// FreeAddr returns a loopback host:port that was free a moment ago.
func FreeAddr(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

func up(addr string) bool {
	c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
	if err != nil {
		return false
	}
	c.Close()
	return true
}

func healthy(addr string) bool {
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", "http://"+addr+"/_sesame/health", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == 200
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "…" + s[len(s)-n:]
}

// syncBuffer is a bytes.Buffer safe for the process's writer and the test's reader.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// Lines returns the buffer's lines.
func (b *syncBuffer) Lines() []string {
	var out []string
	sc := bufio.NewScanner(strings.NewReader(b.String()))
	for sc.Scan() {
		out = append(out, sc.Text())
	}
	return out
}
