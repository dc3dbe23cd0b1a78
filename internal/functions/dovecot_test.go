package functions

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"sesame/internal/testenv"
	"sesame/internal/waitfor"
)

// startDovecot runs Dovecot's LMTP server (Debian dovecot-lmtpd) in a
// temporary directory on a free loopback port, delivering to maildirs
// there. Users: u1, u2 and full (a 10-byte quota) @x.test; anyone else
// does not exist. It returns the LMTP address and the mail directory.
func startDovecot(t *testing.T) (addr, mail string) {
	t.Helper()
	const bin = "/usr/sbin/dovecot"
	if _, err := os.Stat("/usr/lib/dovecot/lmtp"); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("Dovecot's LMTP server is missing (Debian package dovecot-lmtpd): %v", err)
		}
		t.Skip("Dovecot's LMTP server is not installed (Debian package dovecot-lmtpd)")
	}
	// Not t.TempDir(): its parent is private, and Dovecot writes mail as
	// an unprivileged user.
	dir, err := os.MkdirTemp("", "dovecot")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	mail = filepath.Join(dir, "mail")
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(mail, 0o777); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(mail, 0o777); err != nil { // past the umask
		t.Fatal(err)
	}
	// Run by root, Dovecot drops to its own users and delivers as nobody;
	// run by anyone else, it stays that user (a rootless Dovecot).
	internal, group, login, uid, gid := "dovecot", "dovecot", "dovenull", "nobody", "nogroup"
	if os.Getuid() != 0 {
		u, err := user.Current()
		if err != nil {
			t.Fatal(err)
		}
		g, err := user.LookupGroupId(u.Gid)
		if err != nil {
			t.Fatal(err)
		}
		internal, group, login, uid, gid = u.Username, g.Name, u.Username, u.Uid, u.Gid
	}
	// passwd-file: user:password:uid:gid:gecos:home:shell:extra fields.
	users := "u1@x.test:::::::\nu2@x.test:::::::\nfull@x.test:::::::userdb_quota_rule=*:storage=10B\n"
	if err := os.WriteFile(filepath.Join(dir, "users"), []byte(users), 0o644); err != nil {
		t.Fatal(err)
	}
	addr = testenv.FreeAddr(t)
	host, port, _ := net.SplitHostPort(addr)
	conf := fmt.Sprintf(`base_dir = %[1]s/run
state_dir = %[1]s/state
log_path = %[1]s/log
protocols = lmtp
ssl = no
listen = %[2]s
mail_location = maildir:%[1]s/mail/%%u
default_internal_user = %[4]s
default_login_user = %[5]s
default_internal_group = %[8]s
first_valid_uid = 1
mail_plugins = quota
lmtp_rcpt_check_quota = no
plugin {
  quota = maildir:User quota
  quota_rule = *:storage=100M
}
passdb {
  driver = passwd-file
  args = %[1]s/users
}
userdb {
  driver = passwd-file
  args = %[1]s/users
  default_fields = uid=%[6]s gid=%[7]s home=%[1]s/mail/%%u
}
service lmtp {
  inet_listener lmtp {
    address = %[2]s
    port = %[3]s
  }
}
`, dir, host, port, internal, login, uid, gid, group)
	if err := os.WriteFile(filepath.Join(dir, "dovecot.conf"), []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "-F", "-c", filepath.Join(dir, "dovecot.conf"))
	out := &strings.Builder{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		cmd.Wait()
		if t.Failed() {
			log, _ := os.ReadFile(filepath.Join(dir, "log"))
			t.Logf("Dovecot's output:\n%s\nits log:\n%s", out, log)
		}
	})
	// Its greeting, not only a listening port: the master binds the LMTP
	// port before it may still fail on another listener.
	waitfor.True(t, "Dovecot's LMTP greeting", func() bool {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			return false
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(time.Second))
		line, _ := bufio.NewReader(c).ReadString('\n')
		return strings.HasPrefix(line, "220 ")
	})
	return addr, mail
}

func TestLMTPToDovecot(t *testing.T) {
	t.Parallel()
	addr, mail := startDovecot(t)
	iv, _ := newInvoker(t, map[string]string{arn: "lmtp://" + addr}, Options{Hostname: "mx.sesame.test"})
	maildir := func(user string) []string {
		files, _ := filepath.Glob(filepath.Join(mail, user, "new", "*"))
		var msgs []string
		for _, f := range files {
			b, _ := os.ReadFile(f)
			msgs = append(msgs, string(b))
		}
		return msgs
	}

	// Everyone exists: both mailboxes get the message, as sent.
	_, err := iv.Invoke(context.Background(), arn, "", nil,
		Message{MailFrom: "a@sender.test", Recipients: []string{"u1@x.test", "u2@x.test"}, Message: []byte(mime)})
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range []string{"u1@x.test", "u2@x.test"} {
		msgs := maildir(u)
		// Dovecot prepends Return-Path and a Received naming our LHLO.
		if len(msgs) != 1 || !strings.HasPrefix(msgs[0], "Return-Path: <a@sender.test>") ||
			!strings.Contains(msgs[0], "from mx.sesame.test ") ||
			!strings.HasSuffix(strings.ReplaceAll(msgs[0], "\r\n", "\n"), strings.ReplaceAll(mime, "\r\n", "\n")) {
			t.Errorf("%s's maildir holds %q", u, msgs)
		}
	}

	// Dovecot's own per-recipient answers: an unknown user is refused at
	// RCPT (550 5.1.1), a full mailbox after the data (552 5.2.2).
	_, err = iv.Invoke(context.Background(), arn, "", nil,
		Message{MailFrom: "a@sender.test", Recipients: []string{"nobody@x.test", "u1@x.test", "full@x.test"}, Message: []byte(mime)})
	var e *Error
	if !errors.As(err, &e) || IsTemporary(err) {
		t.Fatalf("error = %v; want a permanent *Error", err)
	}
	var failed []string
	for _, f := range e.Failed {
		failed = append(failed, fmt.Sprintf("%s %d %s", f.Recipient, f.Code, f.EnhancedCode))
	}
	if want := []string{"nobody@x.test 550 5.1.1", "full@x.test 552 5.2.2"}; !slices.Equal(failed, want) ||
		!slices.Equal(e.Delivered, []string{"u1@x.test"}) {
		t.Errorf("failed %q delivered %q; want %q and [u1@x.test]", failed, e.Delivered, want)
	}
	if n := len(maildir("u1@x.test")); n != 2 {
		t.Errorf("u1's maildir holds %d messages, want 2", n)
	}
	if n := len(maildir("full@x.test")); n != 0 {
		t.Errorf("full's maildir holds %d messages over its quota", n)
	}
}
