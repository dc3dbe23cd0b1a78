//go:build linux

package e2e

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"net/smtp"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"sesame/internal/config"
	"sesame/internal/testenv"
	"sesame/internal/waitfor"
)

// The image's promises are checked without docker (CI has none): the
// Dockerfile is read as data, the binary is built exactly as its build step
// says, and that binary is run the way the image runs it — as root, inside
// a directory laid out by the Dockerfile's COPY lines (chroot: no /tmp, no
// /etc/passwd, no CA bundle, nothing writable but /data), as uid 65532.

// dockerfile is the Dockerfile's instructions, comments dropped and
// continuation lines joined, plus its comment lines.
type dockerfile struct {
	instr    [][2]string // instruction (upper case), arguments
	comments []string
}

func readDockerfile(t *testing.T) dockerfile {
	t.Helper()
	b, err := os.ReadFile("../Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	var d dockerfile
	var cur string
	for _, line := range strings.Split(string(b), "\n") {
		trimmed := strings.TrimSpace(line)
		if strings.HasPrefix(trimmed, "#") {
			d.comments = append(d.comments, strings.TrimSpace(strings.TrimPrefix(trimmed, "#")))
			continue
		}
		if strings.HasSuffix(trimmed, `\`) {
			cur += strings.TrimSuffix(trimmed, `\`) + " "
			continue
		}
		cur += trimmed
		if cur = strings.TrimSpace(cur); cur != "" {
			word, rest, _ := strings.Cut(cur, " ")
			d.instr = append(d.instr, [2]string{strings.ToUpper(word), strings.TrimSpace(rest)})
		}
		cur = ""
	}
	return d
}

func (d dockerfile) all(instr string) []string {
	var out []string
	for _, in := range d.instr {
		if in[0] == instr {
			out = append(out, in[1])
		}
	}
	return out
}

func (d dockerfile) one(t *testing.T, instr string) string {
	t.Helper()
	a := d.all(instr)
	if len(a) != 1 {
		t.Fatalf("Dockerfile: %d %s instructions, want 1: %q", len(a), instr, a)
	}
	return a[0]
}

// execForm decodes a JSON-array argument (ENTRYPOINT, CMD).
func execForm(t *testing.T, instr, arg string) []string {
	t.Helper()
	var v []string
	if err := json.Unmarshal([]byte(arg), &v); err != nil {
		t.Fatalf("Dockerfile: %s %s is not the exec (JSON) form: %v", instr, arg, err)
	}
	return v
}

// buildStep is the command the Dockerfile's comment says builds the binary:
// the environment, the go command's arguments, and its -o path.
func (d dockerfile) buildStep(t *testing.T) (env, args []string, out string) {
	t.Helper()
	for _, c := range d.comments {
		f := strings.Fields(c)
		i := slices.Index(f, "go")
		if i < 0 || i+1 >= len(f) || f[i+1] != "build" {
			continue
		}
		env, args = f[:i], f[i+1:]
		if j := slices.Index(args, "-o"); j >= 0 && j+1 < len(args) {
			return env, args, args[j+1]
		}
	}
	t.Fatal("Dockerfile: no comment line with the go build step (… go build … -o dist/docker/sesame ./cmd/sesame)")
	return nil, nil, ""
}

// copyLine is one COPY: its --chown, sources and destination.
type copyLine struct {
	chown string
	srcs  []string
	dst   string
}

func (d dockerfile) copies(t *testing.T) []copyLine {
	t.Helper()
	var out []copyLine
	for _, a := range d.all("COPY") {
		var c copyLine
		f := strings.Fields(a)
		for len(f) > 0 && strings.HasPrefix(f[0], "--") {
			opt, val, _ := strings.Cut(f[0], "=")
			if opt != "--chown" {
				t.Fatalf("Dockerfile: COPY option %s: the test knows only --chown", f[0])
			}
			c.chown, f = val, f[1:]
		}
		if len(f) < 2 {
			t.Fatalf("Dockerfile: COPY %s", a)
		}
		c.srcs, c.dst = f[:len(f)-1], f[len(f)-1]
		out = append(out, c)
	}
	return out
}

// exposedPorts are the EXPOSEd port numbers.
func (d dockerfile) exposedPorts(t *testing.T) []int {
	t.Helper()
	var ports []int
	for _, a := range d.all("EXPOSE") {
		for _, p := range strings.Fields(a) {
			n, err := strconv.Atoi(strings.TrimSuffix(p, "/tcp"))
			if err != nil {
				t.Fatalf("Dockerfile: EXPOSE %s", p)
			}
			ports = append(ports, n)
		}
	}
	slices.Sort(ports)
	return ports
}

func listenerPorts(t *testing.T, c config.Config) []int {
	t.Helper()
	var ports []int
	for _, addr := range slices.Concat(c.SMTP.StartTLSListen, c.SMTP.TLSListen, []string{c.API.Listen, c.Console.Listen}, c.Feedback.Listen) {
		host, port, _ := strings.Cut(addr, ":")
		if host != "0.0.0.0" {
			t.Errorf("listener %s: the image's config listens on 0.0.0.0 (a container's loopback is its own)", addr)
		}
		n, _ := strconv.Atoi(port)
		ports = append(ports, n)
	}
	slices.Sort(ports)
	return ports
}

// TestContainerDockerfile: the Dockerfile builds offline (FROM scratch, no
// RUN), runs sesame as a numeric non-root user with /data as a volume,
// exposes exactly the ports its config listens on (the feedback MX's in
// mode "mx", as sesame.toml's comment shows), and the image's configs load.
func TestContainerDockerfile(t *testing.T) {
	d := readDockerfile(t)
	if from := d.all("FROM"); len(from) != 1 || from[0] != "scratch" {
		t.Errorf("Dockerfile: FROM %q, want only scratch (no base image to pull)", from)
	}
	if run := d.all("RUN"); len(run) > 0 {
		t.Errorf("Dockerfile: RUN %q: scratch has no shell", run)
	}
	user := d.one(t, "USER")
	uid, gid, _ := strings.Cut(user, ":")
	if u, err := strconv.Atoi(uid); err != nil || u == 0 {
		t.Errorf("Dockerfile: USER %s, want a numeric non-root uid (scratch has no /etc/passwd)", user)
	}
	if _, err := strconv.Atoi(gid); err != nil {
		t.Errorf("Dockerfile: USER %s, want a numeric gid", user)
	}
	if v := d.one(t, "VOLUME"); v != "/data" && v != `["/data"]` {
		t.Errorf("Dockerfile: VOLUME %s, want /data", v)
	}
	if ep := execForm(t, "ENTRYPOINT", d.one(t, "ENTRYPOINT")); !slices.Equal(ep, []string{"/sesame"}) {
		t.Errorf("Dockerfile: ENTRYPOINT %q", ep)
	}
	if cmd := execForm(t, "CMD", d.one(t, "CMD")); !slices.Equal(cmd, []string{"serve", "-c", "/etc/sesame/sesame.toml"}) {
		t.Errorf("Dockerfile: CMD %q", cmd)
	}

	// What is COPYed is in the build context (.dockerignore lets it in) and
	// there after the build step; /data is an empty directory owned by USER.
	_, _, built := d.buildStep(t)
	ignore, err := os.ReadFile("../.dockerignore")
	if err != nil {
		t.Fatal(err)
	}
	ignoreLines := strings.Fields(string(ignore))
	dests := map[string]bool{}
	for _, c := range d.copies(t) {
		for _, src := range c.srcs {
			src = strings.TrimSuffix(src, "/")
			if !slices.Contains(ignoreLines, "!"+src) {
				t.Errorf(".dockerignore does not let %s into the build context", src)
			}
			dst := c.dst
			if strings.HasSuffix(dst, "/") && src != "dist/docker/data" {
				dst += filepath.Base(src)
			}
			dests[filepath.Clean(dst)] = true
			switch fi, err := os.Stat("../" + src); {
			case src == built:
				// built below, by TestContainerRunsAsTheImage
			case err != nil:
				t.Errorf("COPY %s: %v", src, err)
			case fi.IsDir():
				if c.chown != user {
					t.Errorf("COPY --chown=%s %s: want --chown=%s (USER)", c.chown, src, user)
				}
				// Only what .dockerignore leaves out may be in it.
				if !slices.Contains(ignoreLines, src+"/*") {
					t.Errorf(".dockerignore lets %s's contents into the image's /data", src)
				}
			}
		}
	}
	for _, want := range []string{"/sesame", "/etc/sesame/sesame.toml", "/etc/sesame/development.toml", "/data", "/backup"} {
		if !dests[want] {
			t.Errorf("Dockerfile: nothing is copied to %s (copied: %v)", want, dests)
		}
	}
	if !dests[filepath.Clean("/"+strings.TrimPrefix(built, "dist/docker/"))] {
		t.Errorf("Dockerfile: the binary the build step makes (%s) is not copied to /sesame", built)
	}

	// The ports: sesame.toml's listeners, and the feedback MX's of mode "mx"
	// (its comment shows how; the image's own config is capture mode).
	c, err := config.Load("../dist/docker/sesame.toml")
	if err != nil {
		t.Fatal(err)
	}
	if c.DataDir != "/data" || c.Delivery.Mode != "capture" || !c.CapturedMailOn() {
		t.Errorf("sesame.toml: data_dir %q, mode %q, captured mail %v", c.DataDir, c.Delivery.Mode, c.CapturedMailOn())
	}
	text, _ := os.ReadFile("../dist/docker/sesame.toml")
	m := regexp.MustCompile(`(?m)^#\s*listen = \["0\.0\.0\.0:(\d+)"\]`).FindSubmatch(text)
	if m == nil {
		t.Fatal(`sesame.toml: no comment showing the feedback MX's listen = ["0.0.0.0:PORT"]`)
	}
	mx := strings.Replace(string(text), `mode = "capture"`, `mode = "mx"`, 1) + fmt.Sprintf("\n[feedback]\nlisten = [\"0.0.0.0:%s\"]\n", m[1])
	cm := config.Default()
	if err := config.Parse(&cm, mx); err != nil {
		t.Fatalf("sesame.toml switched to mode mx as its comment says: %v", err)
	}
	if err := cm.Validate(); err != nil {
		t.Fatalf("sesame.toml switched to mode mx as its comment says: %v", err)
	}
	if got, want := d.exposedPorts(t), listenerPorts(t, cm); !slices.Equal(got, want) {
		t.Errorf("Dockerfile: EXPOSE %v, the configs listen on %v", got, want)
	}

	dev, err := config.Load("../dist/docker/development.toml")
	if err != nil {
		t.Fatal(err)
	}
	// The same as sesame.toml but for the development switch.
	if dev.DataDir != c.DataDir || !slices.Equal(listenerPorts(t, dev), listenerPorts(t, c)) || dev.Delivery.Mode != c.Delivery.Mode {
		t.Errorf("development.toml differs from sesame.toml: %+v", dev)
	}
}

// TestContainerRunsAsTheImage builds the binary as the Dockerfile says and
// runs it as the image does; mail sent over SMTP is read back at /_aws/ses.
func TestContainerRunsAsTheImage(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: compiles the static binary (~20 s on a cold cache)")
	}
	d := readDockerfile(t)
	env, args, _ := d.buildStep(t)
	if env := strings.Join(env, " "); env != "CGO_ENABLED=0" {
		t.Errorf("Dockerfile's build step sets %q, want CGO_ENABLED=0 (a static binary for scratch)", env)
	}
	script, err := os.ReadFile("../dist/docker/build.sh")
	if err != nil {
		t.Fatal(err)
	}
	// build.sh adds its -ldflags for git worktrees; the rest is the same.
	if want := strings.Join(args, " "); !strings.Contains(strings.Replace(string(script), ` -ldflags "$ldflags"`, "", 1), want) {
		t.Errorf("dist/docker/build.sh does not build with the Dockerfile's step: go %s", want)
	}

	base := t.TempDir()
	// t.TempDir's parent is 0700 (root's); the server's user must reach in.
	for _, dir := range []string{filepath.Dir(base), base} {
		if err := os.Chmod(dir, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	bin := filepath.Join(base, "sesame")
	args[slices.Index(args, "-o")+1] = bin
	build := exec.Command("go", args...)
	build.Dir, build.Env = "..", append(os.Environ(), env...)
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	out, err := exec.Command(bin, "version").CombinedOutput()
	first, _, _ := strings.Cut(string(out), "\n")
	if err != nil || !regexp.MustCompile(`^sesame \d+\.\d+\.\d+( \(commit [0-9a-f]{12}(\+dirty)?\))?$`).MatchString(first) {
		t.Fatalf("sesame version: %v\n%s", err, out)
	}
	// A clone (CI) has .git, a directory: the build step puts the commit in.
	if fi, err := os.Stat("../.git"); err == nil && fi.IsDir() && !strings.Contains(first, "(commit ") {
		t.Errorf("sesame version %q: built in a git clone without the commit", first)
	}

	text, err := os.ReadFile("../dist/docker/sesame.toml")
	if err != nil {
		t.Fatal(err)
	}
	if os.Geteuid() == 0 {
		runChrooted(t, d, base, bin, text)
	} else {
		t.Log("not root: the binary runs as this user on the image's config, without the image's filesystem")
		runPlain(t, base, bin, text)
	}
}

// imageConfig is the image's config with its 0.0.0.0 listeners moved to
// free loopback ports (addrs, by the image's port) and data_dir set.
func imageConfig(t *testing.T, text []byte, dataDir string) (string, map[string]string) {
	t.Helper()
	addrs := map[string]string{}
	s := regexp.MustCompile(`"0\.0\.0\.0:(\d+)"`).ReplaceAllStringFunc(string(text), func(m string) string {
		port := strings.TrimSuffix(strings.TrimPrefix(m, `"0.0.0.0:`), `"`)
		if addrs[port] == "" {
			addrs[port] = testenv.FreeAddr(t)
		}
		return strconv.Quote(addrs[port])
	})
	s = strings.Replace(s, `data_dir = "/data"`, "data_dir = "+strconv.Quote(dataDir), 1)
	return s, addrs
}

func runPlain(t *testing.T, base, bin string, text []byte) {
	data := filepath.Join(base, "data")
	if err := os.Mkdir(data, 0o700); err != nil {
		t.Fatal(err)
	}
	cfg, addrs := imageConfig(t, text, data)
	cfgPath := filepath.Join(base, "sesame.toml")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	start := func(args ...string) *exec.Cmd { return exec.Command(bin, args...) }
	exerciseImage(t, start, cfgPath, data, data, filepath.Join(base, "backup"), filepath.Join(base, "backup"), addrs)
}

// runChrooted lays out the image's filesystem from the Dockerfile's COPY
// lines and runs the ENTRYPOINT and CMD there, as USER, in WORKDIR.
func runChrooted(t *testing.T, d dockerfile, base, bin string, text []byte) {
	root := filepath.Join(base, "root")
	if err := os.Mkdir(root, 0o755); err != nil {
		t.Fatal(err)
	}
	_, _, built := d.buildStep(t)
	cfg, addrs := imageConfig(t, text, "/data")
	for _, c := range d.copies(t) {
		for _, src := range c.srcs {
			dst := filepath.Join(root, c.dst)
			if strings.HasSuffix(c.dst, "/") && !strings.HasSuffix(src, "/") {
				dst = filepath.Join(dst, filepath.Base(src))
			}
			var content []byte
			var err error
			switch {
			case src == built:
				content, err = os.ReadFile(bin)
			case strings.HasSuffix(src, "/"): // an empty directory (the test above checks it)
				err = os.MkdirAll(dst, 0o755)
			case src == "dist/docker/sesame.toml":
				content = []byte(cfg)
			default:
				content, err = os.ReadFile("../" + src)
			}
			if err == nil && content != nil {
				if err = os.MkdirAll(filepath.Dir(dst), 0o755); err == nil {
					mode := fs.FileMode(0o644)
					if src == built {
						mode = 0o755
					}
					err = os.WriteFile(dst, content, mode)
				}
			}
			if err == nil && c.chown != "" {
				u, g, _ := strings.Cut(c.chown, ":")
				uid, _ := strconv.Atoi(u)
				gid, _ := strconv.Atoi(g)
				err = os.Chown(dst, uid, gid)
			}
			if err != nil {
				t.Fatalf("COPY %s %s: %v", src, c.dst, err)
			}
		}
	}
	if err := os.Mkdir(filepath.Join(root, "proc"), 0o555); err != nil {
		t.Fatal(err)
	}
	user := d.one(t, "USER")
	u, g, _ := strings.Cut(user, ":")
	uid, _ := strconv.Atoi(u)
	workdir := d.one(t, "WORKDIR")
	var before []string
	filepath.WalkDir(root, func(p string, _ fs.DirEntry, _ error) error { before = append(before, p); return nil })

	// The server gets /proc (the SNS helper finds /sesame by
	// /proc/self/exe, as in a container) when this test may mount it, in
	// a mount namespace of the child's own, gone with it.
	withProc := true
	start := func(args ...string) *exec.Cmd {
		cmd := exec.Command(os.Args[0], "-test.run=^TestContainerInit$")
		spec, _ := json.Marshal(append([]string{root, workdir, u, g, "/sesame"}, args...))
		cmd.Env = []string{"SESAME_CONTAINER_INIT=" + string(spec)}
		cmd.SysProcAttr = &syscall.SysProcAttr{Unshareflags: syscall.CLONE_NEWNS}
		if !withProc {
			cmd.SysProcAttr = nil
			cmd.Env = append(cmd.Env, "SESAME_CONTAINER_NOPROC=1")
		}
		return cmd
	}
	probe := start("version")
	if out, err := probe.CombinedOutput(); err != nil {
		if !strings.Contains(string(out), "container init: mount /proc") && !errors.Is(err, syscall.EPERM) {
			t.Fatalf("%s version in the image's filesystem: %v\n%s", probe.Path, err, out)
		}
		t.Logf("no /proc for the chrooted server (mounting it is not allowed here: %v\n%s): the SNS helper is not checked", err, out)
		withProc = false
	}
	exerciseImage(t, start, "/etc/sesame/sesame.toml", filepath.Join(root, "data"), "/data", filepath.Join(root, "backup"), "/backup", addrs)

	// Nothing was written outside /data and /backup: the root is root's,
	// and 0755.
	var after []string
	filepath.WalkDir(root, func(p string, _ fs.DirEntry, _ error) error {
		if p == filepath.Join(root, "proc") {
			after = append(after, p)
			return filepath.SkipDir
		}
		if !strings.HasPrefix(p, filepath.Join(root, "data")+"/") && !strings.HasPrefix(p, filepath.Join(root, "backup")+"/") {
			after = append(after, p)
		}
		return nil
	})
	if !slices.Equal(before, after) {
		t.Errorf("files outside /data changed: before %q, after %q", before, after)
	}
	fi, err := os.Stat(filepath.Join(root, "data", "first-start-credentials.txt"))
	if err != nil {
		t.Fatal(err)
	}
	if st := fi.Sys().(*syscall.Stat_t); st.Uid != uint32(uid) || fi.Mode().Perm() != 0o600 {
		t.Errorf("first-start-credentials.txt: owner %d, mode %v; want %d, 0600", st.Uid, fi.Mode().Perm(), uid)
	}
}

// TestContainerInit is not a test: TestContainerRunsAsTheImage runs this
// test binary again with SESAME_CONTAINER_INIT set, in a mount namespace of
// its own, to be the container's runtime: mount /proc, chroot, change to
// the user and the directory, and exec the program.
func TestContainerInit(t *testing.T) {
	spec := os.Getenv("SESAME_CONTAINER_INIT")
	if spec == "" {
		t.Skip("a helper of TestContainerRunsAsTheImage")
	}
	var f []string
	if err := json.Unmarshal([]byte(spec), &f); err != nil {
		t.Fatal(err)
	}
	root, workdir, u, g, argv := f[0], f[1], f[2], f[3], f[4:]
	uid, _ := strconv.Atoi(u)
	gid, _ := strconv.Atoi(g)
	fail := func(what string, err error) {
		fmt.Fprintf(os.Stderr, "container init: %s: %v\n", what, err)
		os.Exit(125)
	}
	if os.Getenv("SESAME_CONTAINER_NOPROC") == "" {
		if err := syscall.Mount("proc", filepath.Join(root, "proc"), "proc", syscall.MS_NOSUID|syscall.MS_NODEV|syscall.MS_NOEXEC, ""); err != nil {
			fail("mount /proc", err)
		}
	}
	if err := syscall.Chroot(root); err != nil {
		fail("chroot", err)
	}
	if err := syscall.Chdir(workdir); err != nil {
		fail("chdir", err)
	}
	if err := syscall.Setgroups(nil); err != nil {
		fail("setgroups", err)
	}
	if err := syscall.Setgid(gid); err != nil {
		fail("setgid", err)
	}
	if err := syscall.Setuid(uid); err != nil {
		fail("setuid", err)
	}
	fail("exec", syscall.Exec(argv[0], argv, nil))
}

// exerciseImage starts `serve -c cfgPath` with start (the ENTRYPOINT and
// CMD of the image), takes the first-start credentials from dataDir (the
// host's view; dataIn is the server's), verifies a sender with the admin
// CLI as `docker exec` would, sends over SMTP with STARTTLS trusting
// tls/cert.pem, reads the message at /_aws/ses, takes a backup into
// backupIn (the image's /backup; backupDir on the host), stops with
// SIGTERM, and restores the backup into a new data dir there.
func exerciseImage(t *testing.T, start func(args ...string) *exec.Cmd, cfgPath, dataDir, dataIn, backupDir, backupIn string, addrs map[string]string) {
	t.Helper()
	srv := start("serve", "-c", cfgPath)
	var stdout, stderr strings.Builder
	srv.Stdout, srv.Stderr = &stdout, &stderr
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- srv.Wait() }()
	stopped := false
	t.Cleanup(func() {
		if !stopped {
			srv.Process.Kill()
			<-exited
		}
		if t.Failed() {
			t.Logf("stdout:\n%s\nstderr:\n%s", stdout.String(), stderr.String())
		}
	})
	api := addrs["8787"]
	waitfor.Within(t, "the server from the image's config", 20*time.Second, func() bool {
		select {
		case err := <-exited:
			stopped = true
			t.Fatalf("the server exited: %v\n%s", err, stderr.String())
		default:
		}
		resp, err := http.Get("http://" + api + "/_sesame/health")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == 200
	})
	credsPath := dataIn + "/first-start-credentials.txt"
	if !strings.Contains(stdout.String(), "(see "+credsPath+")") {
		t.Errorf("the banner does not point at %s:\n%s", credsPath, stdout.String())
	}
	creds, err := os.ReadFile(filepath.Join(dataDir, "first-start-credentials.txt"))
	if err != nil {
		t.Fatal(err)
	}
	field := func(re string) string {
		m := regexp.MustCompile(re).FindSubmatch(creds)
		if m == nil {
			t.Fatalf("credentials file without %s:\n%s", re, creds)
		}
		return string(m[1])
	}
	account, keyID := field(`created account (\d{12})`), field(`Access key id \(SMTP user name\):\s+(\S+)`)
	password := field(`SMTP password for us-east-1:\s+(\S+)`)

	admin := start("admin", "-c", cfgPath, "identity", "verify", "--account", account, "--region", "us-east-1", "sender@example.com")
	if out, err := admin.CombinedOutput(); err != nil {
		t.Fatalf("sesame admin identity verify: %v\n%s", err, out)
	}

	certPEM, err := os.ReadFile(filepath.Join(dataDir, "tls", "cert.pem"))
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(certPEM) {
		t.Fatal("tls/cert.pem holds no certificate")
	}
	c, err := smtp.Dial(addrs["2587"])
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	steps := []func() error{
		func() error { return c.StartTLS(&tls.Config{ServerName: "localhost", RootCAs: pool}) },
		func() error { return c.Auth(smtp.PlainAuth("", keyID, password, "127.0.0.1")) },
		func() error { return c.Mail("sender@example.com") },
		func() error { return c.Rcpt("success@simulator.amazonses.com") },
		func() error {
			w, err := c.Data()
			if err != nil {
				return err
			}
			fmt.Fprint(w, "From: sender@example.com\r\nTo: success@simulator.amazonses.com\r\nSubject: from the image\r\n\r\nhello\r\n")
			return w.Close()
		},
		c.Quit,
	}
	for i, step := range steps {
		if err := step(); err != nil {
			t.Fatalf("SMTP step %d: %v", i, err)
		}
	}
	waitfor.Within(t, "the message at /_aws/ses", 10*time.Second, func() bool {
		resp, err := http.Get("http://" + api + "/_aws/ses")
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		var body struct {
			Messages []struct{ Source, Subject string }
		}
		return json.NewDecoder(resp.Body).Decode(&body) == nil && len(body.Messages) == 1 &&
			body.Messages[0].Subject == "from the image"
	})

	if !slices.Contains(srv.Env, "SESAME_CONTAINER_NOPROC=1") {
		// The SNS helper is this program run again, found at /sesame.
		waitfor.Within(t, "the SNS helper, run again at idle priority", 20*time.Second, func() bool {
			h := snsHelpers(t, srv.Process.Pid)
			if len(h) != 1 {
				return false
			}
			env, _ := os.ReadFile("/proc/" + strconv.Itoa(h[0]) + "/environ")
			return strings.Contains(string(env), "SESAME_LOWPRIO_REEXEC=")
		})
	}

	// docs/container.md's backup, as the image's user while the server
	// runs: /backup is writable, and SQLite finds no /tmp.
	if out, err := start("admin", "-c", cfgPath, "backup", backupIn+"/now").CombinedOutput(); err != nil {
		t.Errorf("sesame admin backup %s/now: %v\n%s", backupIn, err, out)
	} else if _, err := os.Stat(filepath.Join(backupDir, "now", "backup.json")); err != nil {
		t.Errorf("backup: %v", err)
	}

	srv.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-exited:
		stopped = true
		if err != nil {
			t.Errorf("after SIGTERM: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("no exit 30 s after SIGTERM")
	}
	for _, line := range strings.Split(stderr.String(), "\n") {
		if strings.Contains(line, "level=ERROR") || strings.Contains(line, "level=WARN") {
			t.Errorf("the server logged: %s", line)
		}
	}
	// The restore into a new data dir (a new volume, in docker), as the
	// image's user.
	restore := start("admin", "-c", cfgPath, "--data", backupIn+"/restored", "restore", backupIn+"/now")
	if out, err := restore.CombinedOutput(); err != nil {
		t.Errorf("sesame admin restore: %v\n%s", err, out)
	} else if _, err := os.Stat(filepath.Join(backupDir, "restored", "secret.key")); err != nil {
		t.Errorf("restore: %v", err)
	}
}
