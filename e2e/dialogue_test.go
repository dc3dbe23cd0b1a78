package e2e

import (
	"bufio"
	"crypto/tls"
	"encoding/base64"
	"net"
	"regexp"
	"strings"
	"testing"
	"time"

	"sesame/internal/awsauth"
	"sesame/internal/testenv"
)

// conv is a line-level SMTP conversation, for pinning SES's exact replies
// (chasquid's .cmy scripts, as Go steps).
type conv struct {
	t    *testing.T
	conn net.Conn
	r    *bufio.Reader
}

func dial(t *testing.T, addr string, implicitTLS bool) *conv {
	t.Helper()
	var conn net.Conn
	var err error
	if implicitTLS {
		conn, err = tls.Dial("tcp", addr, &tls.Config{InsecureSkipVerify: true, ServerName: "localhost"})
	} else {
		conn, err = net.DialTimeout("tcp", addr, 5*time.Second)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return &conv{t: t, conn: conn, r: bufio.NewReader(conn)}
}

// send writes one line (CRLF added).
func (c *conv) send(line string) {
	c.t.Helper()
	c.conn.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := c.conn.Write([]byte(line + "\r\n")); err != nil {
		c.t.Fatalf("send %q: %v", line, err)
	}
}

// expect reads one reply line and checks it: an exact string, or a regexp
// when want starts with "~".
func (c *conv) expect(want string) string {
	c.t.Helper()
	c.conn.SetDeadline(time.Now().Add(10 * time.Second))
	line, err := c.r.ReadString('\n')
	if err != nil {
		c.t.Fatalf("want %q, read error: %v (got %q)", want, err, line)
	}
	line = strings.TrimSuffix(line, "\r\n")
	if strings.HasPrefix(want, "~") {
		if !regexp.MustCompile("^" + want[1:] + "$").MatchString(line) {
			c.t.Fatalf("got %q, want match of %q", line, want[1:])
		}
		return line
	}
	if line != want {
		c.t.Fatalf("got %q, want %q", line, want)
	}
	return line
}

// step sends a line and expects one reply line.
func (c *conv) step(send, want string) string {
	c.t.Helper()
	c.send(send)
	return c.expect(want)
}

func (c *conv) startTLS(serverName string) {
	c.t.Helper()
	c.step("STARTTLS", "220 Ready to start TLS")
	tc := tls.Client(c.conn, &tls.Config{InsecureSkipVerify: true, ServerName: serverName})
	if err := tc.Handshake(); err != nil {
		c.t.Fatalf("TLS handshake: %v", err)
	}
	c.conn = tc
	c.r = bufio.NewReader(tc)
}

const greeting = `~220 sesame\.test ESMTP SimpleEmailService-d-\S+ [A-Za-z0-9]{20}`

// ehlo runs EHLO and checks SES's exact extension list.
func (c *conv) ehlo(tlsOn bool) {
	c.t.Helper()
	c.step("EHLO client.example", "250-sesame.test")
	c.expect("250-8BITMIME")
	if !tlsOn {
		c.expect("250-STARTTLS")
	}
	c.expect("250-AUTH PLAIN LOGIN")
	c.expect("250 Ok")
}

// login opens a STARTTLS session authenticated as the server's first key.
func login(t *testing.T, s *testenv.Server) *conv {
	t.Helper()
	c := dial(t, s.SMTP, false)
	c.expect(greeting)
	c.ehlo(false)
	c.startTLS("localhost")
	c.ehlo(true)
	plain := base64.StdEncoding.EncodeToString([]byte("\x00" + s.KeyID + "\x00" + awsauth.SMTPPassword(s.Secret, s.Regions[0])))
	c.step("AUTH PLAIN "+plain, "235 Authentication successful.")
	return c
}

// sendData runs DATA with the given message lines and returns the final reply.
func (c *conv) sendData(lines []string, want string) string {
	c.t.Helper()
	c.step("DATA", "354 End data with <CR><LF>.<CR><LF>")
	for _, l := range lines {
		c.send(l)
	}
	return c.step(".", want)
}

const messageIDPattern = `[0-9a-f]{16}-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}-000000`

// TestDialogueAgainstRealServer pins SES's replies, end to end through the
// real policy core, store and spool.
func TestDialogueAgainstRealServer(t *testing.T) {
	s := testenv.Start(t, testenv.Options{})
	s.Verify("example.com")
	msg := []string{"From: Sender <sender@example.com>", "To: someone@example.net", "Subject: hi", "", "hello"}

	t.Run("auth before TLS", func(t *testing.T) {
		c := dial(t, s.SMTP, false)
		c.expect(greeting)
		c.ehlo(false)
		c.step("AUTH LOGIN", "530 Must issue a STARTTLS command first")
		c.step("MAIL FROM:<sender@example.com>", "~530 .*")
		c.step("QUIT", "221 Bye")
	})
	t.Run("mail before auth", func(t *testing.T) {
		c := dial(t, s.SMTP, false)
		c.expect(greeting)
		c.ehlo(false)
		c.startTLS("localhost")
		c.ehlo(true)
		c.step("MAIL FROM:<sender@example.com>", "530 Authentication required")
	})
	t.Run("bad credentials", func(t *testing.T) {
		c := dial(t, s.SMTPS, true)
		c.expect(greeting)
		c.ehlo(true)
		c.step("AUTH LOGIN", "334 VXNlcm5hbWU6")
		c.step(base64.StdEncoding.EncodeToString([]byte(s.KeyID)), "334 UGFzc3dvcmQ6")
		c.step(base64.StdEncoding.EncodeToString([]byte("wrong")), "535 Authentication Credentials Invalid")
	})
	t.Run("password of another region", func(t *testing.T) {
		c := dial(t, s.SMTPS, true)
		c.expect(greeting)
		c.ehlo(true)
		plain := base64.StdEncoding.EncodeToString([]byte("\x00" + s.KeyID + "\x00" + awsauth.SMTPPassword(s.Secret, "eu-west-1")))
		c.step("AUTH PLAIN "+plain, "535 Authentication Credentials Invalid")
	})
	t.Run("syntax at MAIL and RCPT", func(t *testing.T) {
		c := login(t, s)
		c.step("MAIL FROM:<>", "501 Invalid MAIL FROM address provided")
		c.step("MAIL FROM:<not an address>", "501 Invalid MAIL FROM address provided")
		c.step("MAIL FROM:<sender@example.com>", "250 Ok")
		c.step("RCPT TO:<bad address>", "501 Invalid RCPT TO address provided")
	})
	t.Run("sandbox: unverified recipient at end of DATA", func(t *testing.T) {
		c := login(t, s)
		c.step("MAIL FROM:<sender@example.com>", "250 Ok")
		c.step("RCPT TO:<someone@example.net>", "250 Ok")
		c.sendData(msg, "554 Message rejected: Email address is not verified. The following identities failed the check in region US-EAST-1: someone@example.net")
	})
	t.Run("unverified sender", func(t *testing.T) {
		c := login(t, s)
		c.step("MAIL FROM:<boss@unverified.example>", "250 Ok")
		c.step("RCPT TO:<success@simulator.amazonses.com>", "250 Ok")
		c.sendData([]string{"From: boss@unverified.example", "Subject: x", "", "x"},
			"554 Message rejected: Email address is not verified. The following identities failed the check in region US-EAST-1: boss@unverified.example")
	})
	t.Run("simulator accepted in the sandbox", func(t *testing.T) {
		c := login(t, s)
		c.step("MAIL FROM:<sender@example.com>", "250 Ok")
		c.step("RCPT TO:<success@simulator.amazonses.com>", "250 Ok")
		c.sendData(msg, "~250 Ok "+messageIDPattern)
	})
	t.Run("duplicate header", func(t *testing.T) {
		c := login(t, s)
		c.step("MAIL FROM:<sender@example.com>", "250 Ok")
		c.step("RCPT TO:<success@simulator.amazonses.com>", "250 Ok")
		c.sendData([]string{"From: sender@example.com", "Subject: a", "Subject: b", "", "x"},
			"554 Transaction failed: Duplicate header 'Subject'.")
	})
	t.Run("51 recipients", func(t *testing.T) {
		c := login(t, s)
		c.step("MAIL FROM:<sender@example.com>", "250 Ok")
		for i := 0; i < 51; i++ {
			c.step("RCPT TO:<success+"+string(rune('a'+i%26))+strings.Repeat("x", i/26)+"@simulator.amazonses.com>", "250 Ok")
		}
		c.sendData(msg, "554 Transaction failed: Recipient count exceeds 50.")
	})
	t.Run("bare LF never ends DATA", func(t *testing.T) {
		// The sandbox's 1 message/s may still count the sends above: try
		// again while the answer is the rate's 454.
		waitFor(t, "the bare-LF message accepted", func() bool {
			c := login(t, s)
			c.step("MAIL FROM:<sender@example.com>", "250 Ok")
			c.step("RCPT TO:<success@simulator.amazonses.com>", "250 Ok")
			c.step("DATA", "354 End data with <CR><LF>.<CR><LF>")
			// A smuggling attempt: "\n.\n" followed by a second transaction.
			// The bare LFs are normalized (Postfix's smtpd_forbid_bare_newline
			// = normalize): one message, the "MAIL FROM" line its content.
			c.conn.Write([]byte("From: sender@example.com\r\n\r\nx\n.\nMAIL FROM:<sender@example.com>\r\n"))
			if c.step(".", "~(250 Ok "+messageIDPattern+"|454 Throttling failure: Maximum sending rate exceeded)")[:3] == "454" {
				return false
			}
			c.step("NOOP", "250 Ok")
			return true
		})
	})
}

func base64Plain(user, pw string) string {
	return base64.StdEncoding.EncodeToString([]byte("\x00" + user + "\x00" + pw))
}

func smtpPassword(s *testenv.Server, region string) string {
	return awsauth.SMTPPassword(s.Secret, region)
}
