package e2e

import (
	"bufio"
	"crypto/tls"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"sesame/internal/awsauth"
	"sesame/internal/testenv"
)

// rawSMTP is an SMTP client that records every reply and never gives up on
// a refusal: the open-relay battery wants to see how far each form gets.
type rawSMTP struct {
	conn net.Conn
	r    *bufio.Reader
	log  strings.Builder
}

func dialRaw(t *testing.T, addr string, implicitTLS bool) *rawSMTP {
	t.Helper()
	var conn net.Conn
	var err error
	if implicitTLS {
		conn, err = tls.DialWithDialer(&net.Dialer{Timeout: 10 * time.Second}, "tcp", addr,
			&tls.Config{InsecureSkipVerify: true, ServerName: "localhost"})
	} else {
		conn, err = net.DialTimeout("tcp", addr, 10*time.Second)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	c := &rawSMTP{conn: conn, r: bufio.NewReader(conn)}
	c.cmd("")
	return c
}

// cmd sends line (none if empty) and returns the last line of the reply.
func (c *rawSMTP) cmd(line string) string {
	c.conn.SetDeadline(time.Now().Add(30 * time.Second))
	if line != "" {
		fmt.Fprintf(&c.log, "C: %s\n", line)
		if _, err := c.conn.Write([]byte(line + "\r\n")); err != nil {
			return "write: " + err.Error()
		}
	}
	for {
		l, err := c.r.ReadString('\n')
		if err != nil {
			return "read: " + err.Error()
		}
		fmt.Fprintf(&c.log, "S: %s", l)
		if len(l) < 4 || l[3] != '-' {
			return strings.TrimRight(l, "\r\n")
		}
	}
}

func (c *rawSMTP) startTLS() bool {
	if !strings.HasPrefix(c.cmd("STARTTLS"), "220") {
		return false
	}
	tc := tls.Client(c.conn, &tls.Config{InsecureSkipVerify: true, ServerName: "localhost"})
	if err := tc.Handshake(); err != nil {
		return false
	}
	c.conn, c.r = tc, bufio.NewReader(tc)
	return true
}

// transaction runs MAIL, RCPT and DATA as far as the server lets it and
// says whether the message was accepted (a 250 after the final dot).
func (c *rawSMTP) transaction(from, rcptArg string) bool {
	if !strings.HasPrefix(c.cmd("MAIL FROM:"+from), "250") {
		c.cmd("RSET")
		return false
	}
	if !strings.HasPrefix(c.cmd("RCPT TO:"+rcptArg), "250") {
		c.cmd("RSET")
		return false
	}
	if !strings.HasPrefix(c.cmd("DATA"), "354") {
		c.cmd("RSET")
		return false
	}
	return strings.HasPrefix(c.cmd("From: "+strings.Trim(from, "<>")+"\r\nTo: victim@c.test\r\nSubject: relay test\r\n\r\nrelay?\r\n."), "250")
}

// relayForms are the ways a recipient has been written to make a server
// relay to victim@c.test, a domain that is not the server's: RFC 5321
// source routes, the %-hack, quoted local parts holding an @, a second @,
// UUCP bang paths, IP literals (127.0.0.2 is where c.test's MX listens),
// a trailing dot, case tricks and no angle brackets. host is a name the
// server might take for its own.
func relayForms(host string) []string {
	return []string{
		"<victim@c.test>",
		"victim@c.test",
		"<VICTIM@C.TEST>",
		"<victim@c.test.>",
		"<@" + host + ":victim@c.test>",
		"<@" + host + ",@c.test:victim@c.test>",
		"<victim%c.test@" + host + ">",
		"<victim%c.test>",
		"<\"victim@c.test\"@" + host + ">",
		"<\"victim%c.test\"@" + host + ">",
		"<victim@c.test@" + host + ">",
		"<c.test!victim@" + host + ">",
		"<c.test!victim>",
		"<" + host + "!c.test!victim>",
		"<victim@[127.0.0.2]>",
		"<victim@[IPv6:::1]>",
		"<victim@c.test\\@" + host + ">",
		"<victim(comment)@c.test>",
		"<\"victim\"@c.test>",
	}
}

// TestOpenRelayRefused: no form of relaying works without authentication on
// either submission listener, nor on the feedback MX (which takes only its
// own bounce addresses); and an authenticated account still in the sandbox
// cannot reach an unverified address through any of the forms either. The
// proof is at the receiving end too: c.test's MX never gets a message,
// while a legitimate message sent after the battery does reach its MX.
func TestOpenRelayRefused(t *testing.T) {
	d := testenv.StartDNS(t)
	sinks, port := testenv.StartSinks(t, testenv.SinkOptions{}, testenv.SinkOptions{})
	d.SetA("mx2.test", "127.0.0.2")
	d.SetA("mx3.test", "127.0.0.3")
	d.SetMX("c.test", 10, "mx2.test")      // the victim: nothing may reach it
	d.SetMX("example.com", 10, "mx3.test") // the account's verified domain
	fbAddr := testenv.FreeAddr(t)
	s := startMXServer(t, d, port, fmt.Sprintf("[feedback]\nlisten = [%q]\n", fbAddr))
	s.Verify("example.com")
	// Back into the sandbox (startMXServer leaves it), with a rate that does
	// not turn the battery into a throttling test.
	s.Admin(nil, "account", "set", "--account", s.Account, "--region", s.Regions[0], "--sandbox", "--max-send-rate", "1000")
	time.Sleep(1100 * time.Millisecond) // admin changes reach the running server within a second

	hosts := []string{"sesame.test", "example.com", "bounces.sesame.test", "localhost", "[127.0.0.1]"}
	var forms []string
	seen := map[string]bool{}
	for _, h := range hosts {
		for _, f := range relayForms(h) {
			if !seen[f] {
				seen[f] = true
				forms = append(forms, f)
			}
		}
	}

	unauth := []struct {
		name string
		open func() *rawSMTP
	}{
		{"STARTTLS listener, no TLS", func() *rawSMTP {
			c := dialRaw(t, s.SMTP, false)
			c.cmd("EHLO relay.example")
			return c
		}},
		{"STARTTLS listener, TLS", func() *rawSMTP {
			c := dialRaw(t, s.SMTP, false)
			c.cmd("EHLO relay.example")
			if !c.startTLS() {
				t.Fatalf("STARTTLS failed:\n%s", c.log.String())
			}
			c.cmd("EHLO relay.example")
			return c
		}},
		{"TLS wrapper", func() *rawSMTP {
			c := dialRaw(t, s.SMTPS, true)
			c.cmd("EHLO relay.example")
			return c
		}},
		{"feedback MX", func() *rawSMTP {
			c := dialRaw(t, fbAddr, false)
			c.cmd("EHLO relay.example")
			return c
		}},
	}
	for _, l := range unauth {
		c := l.open()
		for _, f := range forms {
			for _, from := range []string{"<sender@example.com>", "<>"} {
				if c.transaction(from, f) {
					t.Errorf("%s, unauthenticated: RCPT TO:%s from %s accepted:\n%s", l.name, f, from, c.log.String())
				}
			}
		}
		c.cmd("QUIT")
	}

	// Authenticated, in the sandbox: only verified addresses may receive.
	pw := awsauth.SMTPPassword(s.Secret, s.Regions[0])
	c := dialRaw(t, s.SMTP, false)
	c.cmd("EHLO relay.example")
	c.startTLS()
	c.cmd("EHLO relay.example")
	if r := c.cmd("AUTH PLAIN " + base64Plain(s.KeyID, pw)); !strings.HasPrefix(r, "235") {
		t.Fatalf("AUTH: %s", r)
	}
	accepted := 0
	for _, f := range forms {
		if c.transaction("<sender@example.com>", f) {
			accepted++ // must then go to example.com's MX, never to c.test's
			t.Logf("sandbox: RCPT TO:%s accepted (its domain must be a verified one)", f)
		}
	}
	if !c.transaction("<sender@example.com>", "<ok@example.com>") {
		t.Fatalf("a legitimate sandbox send was refused:\n%s", c.log.String())
	}
	c.cmd("QUIT")
	waitFor(t, "the legitimate message at example.com's MX", func() bool {
		for _, m := range sinks[1].Messages() {
			if len(m.Recipients) == 1 && m.Recipients[0] == "ok@example.com" {
				return true
			}
		}
		return false
	})
	// Delivery runs in order of acceptance; anything relayed would be there.
	waitFor(t, "the accepted forms delivered", func() bool {
		n := 0
		for _, m := range sinks[1].Messages() {
			if m.From != "" {
				n++
			}
		}
		return n >= accepted+1
	})
	for _, m := range sinks[0].Messages() {
		t.Errorf("c.test's MX received a message: from %q to %v", m.From, m.Recipients)
	}
	for _, m := range sinks[1].Messages() {
		for _, r := range m.Recipients {
			if !strings.HasSuffix(strings.ToLower(r), "@example.com") {
				t.Errorf("example.com's MX got a message for %q", r)
			}
		}
	}
}
