package e2e

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	v2types "github.com/aws/aws-sdk-go-v2/service/sesv2/types"

	"sesame/internal/awsauth"
	"sesame/internal/testenv"
)

// drainSMTP is one SMTP session under TLS and AUTH, driven line by line, for
// the moments a test must hold a transaction open (in the middle of DATA).
type drainSMTP struct {
	t    *testing.T
	conn net.Conn
	r    *bufio.Reader
}

// dialSMTP is a session after the greeting and EHLO, driven line by line.
func dialSMTP(t *testing.T, addr, ehlo string) *drainSMTP {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	conn.SetDeadline(time.Now().Add(time.Minute))
	c := &drainSMTP{t: t, conn: conn, r: bufio.NewReader(conn)}
	c.expect("", "220")
	c.expect("EHLO "+ehlo, "250")
	return c
}

func dialSMTPAuth(t *testing.T, addr, user, pw string) *drainSMTP {
	t.Helper()
	c := dialSMTP(t, addr, "signals.example")
	c.expect("STARTTLS", "220")
	tc := tls.Client(c.conn, &tls.Config{InsecureSkipVerify: true, ServerName: "localhost"})
	c.conn, c.r = tc, bufio.NewReader(tc)
	c.expect("EHLO signals.example", "250")
	c.expect("AUTH PLAIN "+base64Plain(user, pw), "235")
	return c
}

// expect sends line (unless empty) and returns the last line of the reply,
// failing the test unless it starts with want.
func (c *drainSMTP) expect(line, want string) string {
	c.t.Helper()
	if line != "" {
		c.write(line + "\r\n")
	}
	for {
		reply, err := c.r.ReadString('\n')
		if err != nil {
			c.t.Fatalf("%q: reply %q: %v", line, reply, err)
		}
		if len(reply) >= 4 && reply[3] == '-' {
			continue
		}
		reply = strings.TrimRight(reply, "\r\n")
		if !strings.HasPrefix(reply, want) {
			c.t.Fatalf("%q → %q, want %s", line, reply, want)
		}
		return reply
	}
}

func (c *drainSMTP) write(s string) {
	c.t.Helper()
	if _, err := io.WriteString(c.conn, s); err != nil {
		c.t.Fatal(err)
	}
}

// loadRun is SMTP load on several sessions, recording every acknowledged
// message id and every session's end.
type loadRun struct {
	stop  chan struct{}
	wg    sync.WaitGroup
	mu    sync.Mutex
	acked map[string]bool
	errs  []error
	total atomic.Int64
}

func startLoad(s *testenv.Server, sessions int) *loadRun {
	pw := awsauth.SMTPPassword(s.Secret, s.Regions[0])
	l := &loadRun{stop: make(chan struct{}), acked: map[string]bool{}}
	for i := range sessions {
		l.wg.Go(func() {
			err := smtpLoad(s.SMTP, s.KeyID, pw, fmt.Sprintf("load%d@example.net", i), l.stop, l.ack)
			l.mu.Lock()
			l.errs = append(l.errs, err)
			l.mu.Unlock()
		})
	}
	return l
}

func (l *loadRun) ack(id string) {
	l.mu.Lock()
	l.acked[id] = true
	l.mu.Unlock()
	l.total.Add(1)
}

// end stops the load and returns how each session ended.
func (l *loadRun) end() []error {
	close(l.stop)
	l.wg.Wait()
	return l.errs
}

func (l *loadRun) ids() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make([]string, 0, len(l.acked))
	for id := range l.acked {
		out = append(out, id)
	}
	return out
}

// installCert copies a certificate and its key to the paths the config names.
func installCert(t *testing.T, c testenv.APITLS, certPath, keyPath string) {
	t.Helper()
	for _, f := range [][2]string{{c.CertFile, certPath}, {c.KeyFile, keyPath}} {
		b, err := os.ReadFile(f[0])
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(f[1]+".tmp", b, 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(f[1]+".tmp", f[1]); err != nil {
			t.Fatal(err)
		}
	}
}

func certDER(t *testing.T, c testenv.APITLS) []byte {
	t.Helper()
	pair, err := tls.LoadX509KeyPair(c.CertFile, c.KeyFile)
	if err != nil {
		t.Fatal(err)
	}
	return pair.Certificate[0]
}

// servedCert is the certificate a new TLS handshake sees: over STARTTLS
// ("starttls"), or from the first byte: the TLS-wrapper port ("tls"), the
// HTTPS API ("https") or console.
func servedCert(t *testing.T, addr, how string) []byte {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	if how == "starttls" {
		c := &drainSMTP{t: t, conn: conn, r: bufio.NewReader(conn)}
		c.expect("", "220")
		c.expect("EHLO signals.example", "250")
		c.expect("STARTTLS", "220")
	}
	tc := tls.Client(conn, &tls.Config{InsecureSkipVerify: true, ServerName: "localhost"})
	if err := tc.Handshake(); err != nil {
		t.Fatalf("%s handshake with %s: %v", how, addr, err)
	}
	return tc.ConnectionState().PeerCertificates[0].Raw
}

// countLines counts the server's log lines that contain all of parts.
func countLines(s *testenv.Server, parts ...string) int {
	n := 0
next:
	for _, l := range s.Stderr.Lines() {
		for _, p := range parts {
			if !strings.Contains(l, p) {
				continue next
			}
		}
		n++
	}
	return n
}

// startLoadServer is a server in production whose sessions may send many
// messages each.
func startLoadServer(t *testing.T, opt testenv.Options) *testenv.Server {
	t.Helper()
	opt.SMTPExtra += "\nmax_messages_per_connection = 100000\n"
	s := testenv.Start(t, opt)
	s.Verify("example.com")
	s.Production()
	time.Sleep(1100 * time.Millisecond) // admin changes reach the running server within a second
	return s
}

// TestSignalsSIGHUPReloadsCertificatesUnderLoad: while SMTP sessions send,
// new certificate files and SIGHUP make every new handshake — STARTTLS,
// the TLS wrapper, the HTTPS API, the HTTPS console — present the new
// certificate; the
// process stays up and no session fails. A broken certificate on the next
// SIGHUP is refused and the new one stays.
func TestSignalsSIGHUPReloadsCertificatesUnderLoad(t *testing.T) {
	dir := t.TempDir()
	certPath, keyPath := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	oldCert, newCert := testenv.NewAPITLS(t), testenv.NewAPITLS(t)
	installCert(t, oldCert, certPath, keyPath)
	files := fmt.Sprintf("cert_file = %q\nkey_file = %q\n", certPath, keyPath)
	s := startLoadServer(t, testenv.Options{APIExtra: files, ConsoleExtra: files, Extra: "[tls]\n" + files})
	oldDER, newDER := certDER(t, oldCert), certDER(t, newCert)
	ports := []struct{ addr, how string }{{s.SMTP, "starttls"}, {s.SMTPS, "tls"}, {s.API, "https"}, {s.Console, "console https"}}
	for _, p := range ports {
		if !bytes.Equal(servedCert(t, p.addr, p.how), oldDER) {
			t.Fatalf("%s: not the configured certificate at start", p.how)
		}
	}

	load := startLoad(s, 4)
	waitFor(t, "the load to be acknowledged", func() bool { return load.total.Load() >= 20 })
	installCert(t, newCert, certPath, keyPath)
	s.Signal(t, syscall.SIGHUP)
	waitFor(t, "the reload", func() bool { return countLines(s, "msg=reloaded") == 1 })
	for _, p := range ports {
		if !bytes.Equal(servedCert(t, p.addr, p.how), newDER) {
			t.Errorf("%s: a new handshake after SIGHUP does not see the new certificate", p.how)
		}
	}
	atReload := load.total.Load()
	waitFor(t, "the load to go on after the reload", func() bool { return load.total.Load() >= atReload+20 })

	// A certificate that does not load: the reload fails, loudly, and the
	// certificate in use stays.
	if err := os.WriteFile(certPath, []byte("-----BEGIN CERTIFICATE-----\nbroken\n-----END CERTIFICATE-----\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	s.Signal(t, syscall.SIGHUP)
	waitFor(t, "the failed reload", func() bool { return countLines(s, "level=ERROR", "reload failed") == 1 })
	for _, p := range ports {
		if !bytes.Equal(servedCert(t, p.addr, p.how), newDER) {
			t.Errorf("%s: a broken certificate on SIGHUP replaced the one in use", p.how)
		}
	}
	if s.Exited() {
		t.Fatal("sesame exited on SIGHUP")
	}
	for i, err := range load.end() {
		if err != nil {
			t.Errorf("session %d failed across the reloads: %v", i, err)
		}
	}
	if n := countLines(s, "msg=reloaded"); n != 1 {
		t.Errorf("%d reloaded lines, want 1 (the broken certificate must not count)", n)
	}
}

// TestSignalsSIGTERMDrainsUnderLoad: SIGTERM while sessions send. A
// transaction in the middle of DATA finishes and gets its 250, the command
// after it 421; the process exits 0 and says it drained, with no ERROR (the
// capture of mail in hand finishes); after a restart
// every acknowledged message is there (captured), the one finished during
// the drain included.
func TestSignalsSIGTERMDrainsUnderLoad(t *testing.T) {
	s := startLoadServer(t, testenv.Options{})
	load := startLoad(s, 4)
	waitFor(t, "the load to be acknowledged", func() bool { return load.total.Load() >= 20 })

	c := dialSMTPAuth(t, s.SMTP, s.KeyID, awsauth.SMTPPassword(s.Secret, s.Regions[0]))
	c.expect("MAIL FROM:<sender@example.com>", "250")
	c.expect("RCPT TO:<drain@example.net>", "250")
	c.expect("DATA", "354")
	c.write("From: sender@example.com\r\nTo: drain@example.net\r\nSubject: in flight at SIGTERM\r\n\r\nfirst half\r\n")
	s.Signal(t, syscall.SIGTERM)
	waitFor(t, "the drain to start", func() bool { return countLines(s, "shutting down: draining") == 1 })
	if _, err := net.DialTimeout("tcp", s.SMTP, time.Second); err == nil {
		t.Error("the SMTP listener still accepts during the drain")
	}
	c.write("second half, sent during the drain\r\n")
	id := strings.TrimPrefix(c.expect(".", "250 Ok "), "250 Ok ")
	c.expect("NOOP", "421 Service not available, closing transmission channel")

	if code := s.WaitExit(t, 30*time.Second); code != 0 {
		t.Errorf("exit status %d after SIGTERM, want 0", code)
	}
	if n := countLines(s, "level=ERROR"); n > 0 {
		t.Errorf("%d ERROR lines on a clean stop:\n%s", n, tailLines(s, 10))
	}
	load.end() // the sessions end with the 421 or a closed connection
	drained := regexp.MustCompile(`msg=drained .*smtp_messages_finished=(\d+) smtp_sessions_cut=(\d+)`)
	var finished, cut int
	for _, l := range s.Stderr.Lines() {
		if m := drained.FindStringSubmatch(l); m != nil {
			finished, _ = strconv.Atoi(m[1])
			cut, _ = strconv.Atoi(m[2])
		}
	}
	if finished < 1 || cut != 0 {
		t.Errorf("drained line: %d messages finished, %d sessions cut; want the one in DATA finished, none cut\n%s",
			finished, cut, tailLines(s, 5))
	}

	s.Restart()
	want := append(load.ids(), id)
	msgs := s.WaitCaptured(len(want), time.Minute)
	got := map[string]bool{}
	for _, m := range msgs {
		got[m.ID] = true
	}
	missing := 0
	for _, id := range want {
		if !got[id] {
			missing++
		}
	}
	if missing > 0 || !got[id] {
		t.Errorf("%d of %d acknowledged messages missing after the drain and a restart (the one finished in the drain: %v)",
			missing, len(want), got[id])
	}
}

// gatedTransport sends the first half of a request body, then waits for
// the gate before the rest: the request is in flight at the server.
type gatedTransport struct {
	sent  chan struct{} // closed when the first half is sent
	gate  chan struct{} // closed by the test to send the rest
	local atomic.Value  // the client's address (string), once dialed
}

func (g *gatedTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	body, err := io.ReadAll(req.Body)
	if err != nil {
		return nil, err
	}
	half := len(body) / 2
	req.Body = io.NopCloser(io.MultiReader(bytes.NewReader(body[:half]), &gateReader{g: g}, bytes.NewReader(body[half:])))
	// A connection of its own: one reused from http.DefaultTransport's
	// pool is idle on the server's side until the request's bytes arrive,
	// and a drain closes idle connections at once (as it should).
	tr := &http.Transport{DisableKeepAlives: true, DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := (&net.Dialer{}).DialContext(ctx, network, addr)
		if err == nil {
			g.local.Store(c.LocalAddr().String())
		}
		return c, err
	}}
	defer tr.CloseIdleConnections()
	return tr.RoundTrip(req)
}

// serverHasRead says whether the server side of the loopback connection
// from client to server has read every byte sent so far: then it has
// accepted the connection and its handler is waiting for the rest of the
// body, so the request is in flight. (A connection still in the kernel's
// accept queue at SIGTERM is reset, as with any server that stops
// accepting; that is not what the test is about.) /proc/net/tcp lists the
// server's socket with the server's port as local_address and its receive
// queue in tx_queue:rx_queue.
func serverHasRead(t *testing.T, server, client string) bool {
	t.Helper()
	hexAddr := func(hostport string) string {
		ap, err := netip.ParseAddrPort(hostport)
		if err != nil {
			t.Fatal(err)
		}
		b := ap.Addr().As4()
		return fmt.Sprintf("%02X%02X%02X%02X:%04X", b[3], b[2], b[1], b[0], ap.Port())
	}
	local, remote := hexAddr(server), hexAddr(client)
	data, err := os.ReadFile("/proc/net/tcp")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		f := strings.Fields(line)
		if len(f) > 4 && f[1] == local && f[2] == remote && f[3] == "01" { // 01: ESTABLISHED
			_, rx, _ := strings.Cut(f[4], ":")
			return strings.Trim(rx, "0") == ""
		}
	}
	return false
}

type gateReader struct{ g *gatedTransport }

func (r *gateReader) Read([]byte) (int, error) {
	close(r.g.sent)
	<-r.g.gate
	return 0, io.EOF
}

// TestSignalsSIGTERMFinishesAPIRequests: an API request whose body is
// half sent at SIGTERM completes with its MessageId, and the message is
// there after a restart.
func TestSignalsSIGTERMFinishesAPIRequests(t *testing.T) {
	s := startLoadServer(t, testenv.Options{})
	g := &gatedTransport{sent: make(chan struct{}), gate: make(chan struct{})}
	cl := s.SESv2Client(t, func(o *sesv2.Options) { o.HTTPClient = &http.Client{Transport: g} })
	type result struct {
		id  string
		err error
	}
	done := make(chan result, 1)
	go func() {
		out, err := cl.SendEmail(context.Background(), &sesv2.SendEmailInput{
			FromEmailAddress: aws.String("api@example.com"),
			Destination:      &v2types.Destination{ToAddresses: []string{"drain@example.net"}},
			// Larger than the transport's 4 KiB write buffer, so that the
			// first half is on the wire, not in the client's buffer, when
			// the test signals.
			Content: simple("in flight at SIGTERM", strings.Repeat("the body ", 2000), ""),
		})
		if err != nil {
			done <- result{err: err}
			return
		}
		done <- result{id: aws.ToString(out.MessageId)}
	}()
	<-g.sent
	waitFor(t, "the server to read the request's first half", func() bool {
		client, _ := g.local.Load().(string)
		return client != "" && serverHasRead(t, s.API, client)
	})
	s.Signal(t, syscall.SIGTERM)
	waitFor(t, "the drain to start", func() bool { return countLines(s, "shutting down: draining") == 1 })
	close(g.gate)
	r := <-done
	if r.err != nil {
		t.Fatalf("the request in flight at SIGTERM failed: %v", r.err)
	}
	if code := s.WaitExit(t, 30*time.Second); code != 0 {
		t.Errorf("exit status %d after SIGTERM, want 0", code)
	}
	if countLines(s, "msg=drained", "api_cut=false") != 1 {
		t.Errorf("no drained line without cut API requests:\n%s", tailLines(s, 5))
	}
	s.Restart()
	found := false
	for _, m := range s.WaitCaptured(1, time.Minute) {
		found = found || m.ID == r.id
	}
	if !found {
		t.Errorf("message %s, acknowledged during the drain, not there after a restart", r.id)
	}
}

// TestSignalsSDNotify: started with NOTIFY_SOCKET, sesame says READY=1
// once it serves, RELOADING=1 (with MONOTONIC_USEC) then READY=1 around a
// SIGHUP, and STOPPING=1 at SIGTERM.
func TestSignalsSDNotify(t *testing.T) {
	path := filepath.Join(t.TempDir(), "notify")
	sock, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	defer sock.Close()
	t.Setenv("NOTIFY_SOCKET", path) // the server inherits it
	s := testenv.Start(t, testenv.Options{})
	next := func(want string) string {
		t.Helper()
		sock.SetReadDeadline(time.Now().Add(15 * time.Second))
		buf := make([]byte, 4096)
		n, err := sock.Read(buf)
		if err != nil {
			t.Fatalf("waiting for %s: %v", want, err)
		}
		got := string(buf[:n])
		if !strings.HasPrefix(got, want) {
			t.Fatalf("sd_notify: got %q, want %s", got, want)
		}
		return got
	}
	next("READY=1")
	s.Signal(t, syscall.SIGHUP)
	if got := next("RELOADING=1\n"); !regexp.MustCompile(`\nMONOTONIC_USEC=[1-9][0-9]*$`).MatchString(got) {
		t.Errorf("RELOADING without MONOTONIC_USEC: %q", got)
	}
	next("READY=1")
	s.Signal(t, syscall.SIGTERM)
	next("STOPPING=1")
	if code := s.WaitExit(t, 30*time.Second); code != 0 {
		t.Errorf("exit status %d after SIGTERM, want 0", code)
	}
}

func tailLines(s *testenv.Server, n int) string {
	lines := s.Stderr.Lines()
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

// TestSignalsSIGHUPSparesTheSNSHelper: `pkill -HUP sesame` reaches the SNS
// helper process as well as the server; the helper ignores SIGHUP (its
// /proc status says so) and outlives it.
func TestSignalsSIGHUPSparesTheSNSHelper(t *testing.T) {
	s := testenv.Start(t, testenv.Options{})
	var helper int
	waitFor(t, "the SNS helper process", func() bool {
		helper = childWith(t, s.PID(), "_sns-helper")
		return helper != 0
	})
	// A fresh look once it has re-executed itself at low priority: the
	// final image is what must ignore the signal.
	waitFor(t, "the helper to ignore SIGHUP", func() bool {
		st, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", helper))
		if err != nil {
			t.Fatalf("the helper: %v", err)
		}
		m := regexp.MustCompile(`(?m)^SigIgn:\s*([0-9a-f]+)$`).FindSubmatch(st)
		ign, _ := strconv.ParseUint(string(m[1]), 16, 64)
		return ign&(1<<(syscall.SIGHUP-1)) != 0
	})
	if err := syscall.Kill(helper, syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	s.Signal(t, syscall.SIGHUP)
	waitFor(t, "the reload", func() bool { return countLines(s, "msg=reloaded") == 1 })
	if childWith(t, s.PID(), "_sns-helper") != helper {
		t.Error("the SNS helper did not survive SIGHUP")
	}
}

// childWith is the pid of parent's child whose command line contains arg, or 0.
func childWith(t *testing.T, parent int, arg string) int {
	t.Helper()
	dirs, err := os.ReadDir("/proc")
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range dirs {
		pid, err := strconv.Atoi(d.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			continue
		}
		// pid (comm) state ppid …; comm may hold spaces, so read after the last ')'.
		f := strings.Fields(string(stat[bytes.LastIndexByte(stat, ')')+1:]))
		if len(f) < 2 || f[0] == "Z" || f[1] != strconv.Itoa(parent) {
			continue
		}
		cmdline, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
		if bytes.Contains(cmdline, []byte(arg)) {
			return pid
		}
	}
	return 0
}
