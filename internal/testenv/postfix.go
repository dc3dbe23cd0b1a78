package testenv

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"sesame/internal/waitfor"
)

// Postfix is a private instance of Debian's Postfix acting as a sending MTA:
// mail injected at Addr is relayed to the test's receiver (sesame's inbound
// MX, a sink) through a transport map, with Postfix's own queue, retries and
// log. It never touches the system instance: its config_directory,
// queue_directory and data_directory live in a temporary directory, its log
// is a file there (maillog_file, so no syslog is needed), and its smtpd
// listens on a free loopback port only.
//
// It must run as root (Postfix's master starts as root and runs its daemons
// as the postfix user, the postdrop group guards the maildrop), with the
// postfix user and postdrop group Debian's package creates.
type Postfix struct {
	// Addr is its smtpd, 127.0.0.1:port: plain SMTP, no auth; 127.0.0.0/8
	// is mynetworks, so any sender and recipient is accepted.
	Addr string
	// Dir holds everything: etc/ (main.cf, master.cf, transport), queue/,
	// data/ and maillog.
	Dir string

	conf, log string
	cmd       *exec.Cmd
	done      chan struct{}
	stopOnce  sync.Once
}

// StartPostfix starts a private Postfix relaying every domain in domains to
// nexthop (host:port) as smtp:[host]:port, with short retry timers
// (queue_run_delay 1s, backoff 1s to 2s) so a message deferred while the
// receiver is down goes out within a few seconds of its return. It offers
// STARTTLS to nothing and uses it where the receiver offers it
// (smtp_tls_security_level = may: any certificate, self-signed included).
// Mail for other domains is bounced by the error transport. Postfix is
// stopped (postfix stop, then killed) when the test ends.
//
// Without root, the postfix binaries or the postfix user and postdrop group,
// the test is skipped, or fails when CI=true.
func StartPostfix(t testing.TB, nexthop string, domains ...string) *Postfix {
	t.Helper()
	postfixUsable(t)
	host, port, err := net.SplitHostPort(nexthop)
	if err != nil {
		t.Fatalf("testenv: postfix: nexthop %q: %v", nexthop, err)
	}
	if len(domains) == 0 {
		t.Fatal("testenv: postfix: no domain to relay")
	}
	// Not t.TempDir: Postfix's daemons run as the postfix user and must
	// reach main.cf, so the directory is 0755 (TempDir's parent is 0700).
	dir, err := os.MkdirTemp("", "sesame-postfix-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	p := &Postfix{Addr: FreeAddr(t), Dir: dir, conf: filepath.Join(dir, "etc"),
		log: filepath.Join(dir, "maillog"), done: make(chan struct{})}
	if err := p.writeConfig(host, port, domains); err != nil {
		t.Fatalf("testenv: postfix: %v", err)
	}
	// Creates the queue's subdirectories with the owners and modes Postfix
	// checks (postfix user, postdrop group on maildrop and public).
	if out, err := p.postfix("check"); err != nil {
		t.Fatalf("testenv: postfix check: %v\n%s\n%s", err, out, p.Log())
	}

	// start-fg keeps the master a child of this process (it is reaped here,
	// not left to init) and in a process group of its own, killed at the end.
	var stderr bytes.Buffer
	p.cmd = exec.Command("/usr/sbin/postfix", "-c", p.conf, "start-fg")
	p.cmd.Stdout, p.cmd.Stderr = &stderr, &stderr
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("testenv: postfix start-fg: %v", err)
	}
	go func() { _ = p.cmd.Wait(); close(p.done) }()
	t.Cleanup(p.stop)
	waitfor.Within(t, "postfix's smtpd on "+p.Addr, 20*time.Second, func() bool {
		select {
		case <-p.done:
			t.Fatalf("testenv: postfix exited at start: %s\n%s", stderr.String(), p.Log())
		default:
		}
		return up(p.Addr)
	})
	return p
}

// postfixUsable skips (or with CI=true fails) the test when a private
// Postfix cannot run here.
func postfixUsable(t testing.TB) {
	t.Helper()
	Tool(t, "/usr/sbin/postfix")
	Tool(t, "/usr/sbin/postqueue")
	why := ""
	if os.Geteuid() != 0 {
		why = "a private Postfix must be started as root"
	} else if _, err := user.Lookup("postfix"); err != nil {
		why = "no postfix user (Debian's postfix package creates it)"
	} else if _, err := user.LookupGroup("postdrop"); err != nil {
		why = "no postdrop group (Debian's postfix package creates it)"
	}
	if why == "" {
		return
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("testenv: postfix: %s", why)
	}
	t.Skipf("testenv: postfix: %s", why)
}

func (p *Postfix) writeConfig(host, port string, domains []string) error {
	queue, data := filepath.Join(p.Dir, "queue"), filepath.Join(p.Dir, "data")
	for _, d := range []string{p.conf, queue, data} {
		if err := os.Mkdir(d, 0o755); err != nil {
			return err
		}
	}
	if err := os.Chmod(p.Dir, 0o755); err != nil {
		return err
	}
	// The master's lock file lives in data_directory, owned by mail_owner.
	pf, err := user.Lookup("postfix")
	if err != nil {
		return err
	}
	var uid int
	fmt.Sscan(pf.Uid, &uid)
	if err := os.Chown(data, uid, -1); err != nil {
		return err
	}
	if err := os.Chmod(data, 0o700); err != nil {
		return err
	}
	_, smtpdPort, _ := net.SplitHostPort(p.Addr)
	main := fmt.Sprintf(`# A private test instance (sesame internal/testenv): never the system one.
compatibility_level = 3.6
queue_directory = %[1]s
data_directory = %[2]s
mail_owner = postfix
setgid_group = postdrop
syslog_name = sesame-test-postfix
maillog_file = %[3]s
maillog_file_prefixes = %[4]s
myhostname = postfix.sesame.test
mydomain = sesame.test
myorigin = $myhostname
mydestination =
local_recipient_maps =
alias_maps =
alias_database =
inet_interfaces = loopback-only
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
relay_domains = %[5]s
transport_maps = texthash:%[6]s
default_transport = error:5.1.2 this test Postfix routes only the test's domains
local_transport = error:5.1.1 this test Postfix delivers nothing locally
smtp_tls_security_level = may
smtp_tls_loglevel = 1
queue_run_delay = 1s
minimal_backoff_time = 1s
maximal_backoff_time = 2s
smtp_connect_timeout = 5s
biff = no
`, queue, data, p.log, p.Dir, strings.Join(domains, ", "), filepath.Join(p.conf, "transport"))
	// chroot n everywhere: the daemons need no copy of /etc in the queue.
	master := fmt.Sprintf(`127.0.0.1:%s inet n - n - - smtpd
pickup    unix  n - n 60    1 pickup
cleanup   unix  n - n -     0 cleanup
qmgr      unix  n - n 300   1 qmgr
tlsmgr    unix  - - n 1000? 1 tlsmgr
rewrite   unix  - - n -     - trivial-rewrite
bounce    unix  - - n -     0 bounce
defer     unix  - - n -     0 bounce
trace     unix  - - n -     0 bounce
verify    unix  - - n -     1 verify
flush     unix  n - n 1000? 0 flush
proxymap  unix  - - n -     - proxymap
smtp      unix  - - n -     - smtp
showq     unix  n - n -     - showq
error     unix  - - n -     - error
retry     unix  - - n -     - error
discard   unix  - - n -     - discard
anvil     unix  - - n -     1 anvil
scache    unix  - - n -     1 scache
postlog   unix-dgram n - n - 1 postlogd
`, smtpdPort)
	var transport strings.Builder
	for _, d := range domains {
		fmt.Fprintf(&transport, "%s smtp:[%s]:%s\n", d, host, port)
	}
	files := map[string]string{"main.cf": main, "master.cf": master, "transport": transport.String()}
	for name, text := range files {
		if err := os.WriteFile(filepath.Join(p.conf, name), []byte(text), 0o644); err != nil {
			return err
		}
	}
	return nil
}

// postfix runs /usr/sbin/postfix -c DIR args….
func (p *Postfix) postfix(args ...string) ([]byte, error) {
	return exec.Command("/usr/sbin/postfix", append([]string{"-c", p.conf}, args...)...).CombinedOutput()
}

// stop asks Postfix to stop, then kills what is left of its process group.
func (p *Postfix) stop() {
	p.stopOnce.Do(func() {
		_, _ = p.postfix("stop")
		select {
		case <-p.done:
		case <-time.After(10 * time.Second):
		}
		_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
		<-p.done
	})
}

// Send injects one message at its smtpd (EHLO, MAIL, RCPT…, DATA) and
// returns the queue ID Postfix gave it ("250 2.0.0 Ok: queued as ID"):
// from then on Postfix owns the message.
func (p *Postfix) Send(t testing.TB, from string, to []string, msg []byte) string {
	t.Helper()
	id, err := p.send(from, to, msg)
	if err != nil {
		t.Fatalf("testenv: postfix: send: %v", err)
	}
	return id
}

var queuedAs = regexp.MustCompile(`queued as ([0-9A-Za-z]+)`)

func (p *Postfix) send(from string, to []string, msg []byte) (string, error) {
	c, err := smtp.Dial(p.Addr)
	if err != nil {
		return "", err
	}
	defer c.Close()
	if err := c.Hello("client.sesame.test"); err != nil {
		return "", err
	}
	if err := c.Mail(from, nil); err != nil {
		return "", err
	}
	for _, r := range to {
		if err := c.Rcpt(r, nil); err != nil {
			return "", err
		}
	}
	w, err := c.Data()
	if err != nil {
		return "", err
	}
	if _, err := w.Write(msg); err != nil {
		return "", err
	}
	resp, err := w.CloseWithResponse()
	if err != nil {
		return "", err
	}
	m := queuedAs.FindStringSubmatch(resp.StatusText)
	if m == nil {
		return "", fmt.Errorf("no queue ID in %q", resp.StatusText)
	}
	_ = c.Quit()
	return m[1], nil
}

// PostfixQueued is one message in Postfix's queue (postqueue -j).
type PostfixQueued struct {
	QueueName  string `json:"queue_name"` // active, deferred, hold, incoming
	QueueID    string `json:"queue_id"`
	Sender     string `json:"sender"`
	Recipients []struct {
		Address     string `json:"address"`
		DelayReason string `json:"delay_reason"`
	} `json:"recipients"`
}

// Queue lists the messages Postfix still holds (postqueue -c DIR -j); it
// returns nil when the queue cannot be read.
func (p *Postfix) Queue() []PostfixQueued {
	out, err := exec.Command("/usr/sbin/postqueue", "-c", p.conf, "-j").Output()
	if err != nil {
		return nil
	}
	var q []PostfixQueued
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var m PostfixQueued
		if json.Unmarshal(sc.Bytes(), &m) == nil {
			q = append(q, m)
		}
	}
	return q
}

// QueueEmpty says whether Postfix holds no message (postqueue -p prints
// "Mail queue is empty"): everything it accepted was delivered or bounced.
func (p *Postfix) QueueEmpty() bool {
	out, err := exec.Command("/usr/sbin/postqueue", "-c", p.conf, "-p").Output()
	return err == nil && strings.Contains(string(out), "Mail queue is empty")
}

// Flush asks Postfix to retry every deferred message now (postqueue -f),
// as after the receiver came back.
func (p *Postfix) Flush(t testing.TB) {
	t.Helper()
	if out, err := exec.Command("/usr/sbin/postqueue", "-c", p.conf, "-f").CombinedOutput(); err != nil {
		t.Fatalf("testenv: postqueue -f: %v\n%s", err, out)
	}
}

// PostfixDelivery is one delivery attempt of one recipient, as Postfix
// logged it: "ID: to=<rcpt>, relay=…, dsn=2.0.0, status=sent (250 …)".
type PostfixDelivery struct {
	QueueID   string
	MessageID string // the Message-ID header cleanup logged for QueueID
	To        string
	Relay     string // "127.0.0.1[127.0.0.1]:2525", "none"
	DSN       string // "2.0.0", "4.4.1"
	Status    string // sent, deferred, bounced, expired
	// Reply is the text in parentheses: the receiver's reply for sent
	// ("250 2.0.0 Ok: queued as …"), else Postfix's reason.
	Reply string
}

var (
	logTo        = regexp.MustCompile(`\]: ([0-9A-Za-z]+): to=<([^>]*)>,(?: orig_to=<[^>]*>,)? relay=([^,]+), .*?dsn=([0-9.]+), status=(\w+) \((.*)\)$`)
	logMessageID = regexp.MustCompile(`/cleanup\[\d+\]: ([0-9A-Za-z]+): message-id=(\S*)`)
)

// Deliveries parses Postfix's log: every delivery attempt so far, in order.
func (p *Postfix) Deliveries() []PostfixDelivery {
	b, _ := os.ReadFile(p.log)
	var ds []PostfixDelivery
	ids := map[string]string{}
	for line := range strings.SplitSeq(string(b), "\n") {
		if m := logMessageID.FindStringSubmatch(line); m != nil {
			ids[m[1]] = strings.Trim(m[2], "<>")
			continue
		}
		if m := logTo.FindStringSubmatch(line); m != nil {
			ds = append(ds, PostfixDelivery{QueueID: m[1], MessageID: ids[m[1]], To: m[2], Relay: m[3],
				DSN: m[4], Status: m[5], Reply: m[6]})
		}
	}
	return ds
}

// Sent is Deliveries with status=sent only, keyed by queue ID and then
// recipient: what the receiver acknowledged with 2xx, the promise a
// crash-safe receiver must keep.
func (p *Postfix) Sent() map[string]map[string]PostfixDelivery {
	sent := map[string]map[string]PostfixDelivery{}
	for _, d := range p.Deliveries() {
		if d.Status != "sent" {
			continue
		}
		if sent[d.QueueID] == nil {
			sent[d.QueueID] = map[string]PostfixDelivery{}
		}
		sent[d.QueueID][d.To] = d
	}
	return sent
}

// Log is Postfix's log so far, for a failing test's message.
func (p *Postfix) Log() string {
	b, _ := os.ReadFile(p.log)
	return string(b)
}
