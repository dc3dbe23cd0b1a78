package e2e

import (
	"regexp"
	"strings"
	"testing"
	"time"

	"sesame/internal/testenv"
)

// Connection hygiene through the real binary and its config keys.
func TestConnectionLimits(t *testing.T) {
	s := testenv.Start(t, testenv.Options{SMTPExtra: "idle_timeout = \"1s\"\nmax_connections = 2\nmax_messages_per_connection = 1"})
	s.Verify("example.com")

	t.Run("idle timeout", func(t *testing.T) {
		c := dial(t, s.SMTP, false)
		c.expect(greeting)
		start := time.Now()
		c.expect("451 4.4.2 Timeout waiting for data from client.")
		if waited := time.Since(start); waited < 900*time.Millisecond || waited > 5*time.Second {
			t.Errorf("timed out after %v, want about 1s", waited)
		}
	})
	t.Run("too many connections", func(t *testing.T) {
		// The idle connection above may hold its slot a moment after the
		// client sees it closed: wait until both slots are free, that is
		// until two connections (one per listener) are let in together.
		greeted := func(c *conv) bool {
			c.conn.SetDeadline(time.Now().Add(5 * time.Second))
			line, _ := c.r.ReadString('\n')
			if strings.HasPrefix(line, "421 ") {
				return false
			}
			if !regexp.MustCompile("^" + greeting[1:] + "\r\n$").MatchString(line) {
				t.Fatalf("got %q, want the greeting", line)
			}
			c.conn.SetDeadline(time.Time{})
			return true
		}
		var a, b *conv
		waitFor(t, "two free connection slots", func() bool {
			a, b = dial(t, s.SMTP, false), nil
			if !greeted(a) {
				a.conn.Close()
				return false
			}
			b = dial(t, s.SMTPS, true)
			if !greeted(b) {
				a.conn.Close()
				b.conn.Close()
				return false
			}
			return true
		})
		c := dial(t, s.SMTP, false)
		c.expect("421 Too many concurrent SMTP connections")
		a.conn.Close()
		b.conn.Close()
	})
	t.Run("messages per connection", func(t *testing.T) {
		// The connections above close; their slots free a moment later.
		waitFor(t, "a free connection slot", func() bool {
			p := dial(t, s.SMTP, false)
			defer p.conn.Close()
			p.conn.SetDeadline(time.Now().Add(5 * time.Second))
			line, _ := p.r.ReadString('\n')
			return !strings.HasPrefix(line, "421 ")
		})
		c := login(t, s)
		c.step("MAIL FROM:<sender@example.com>", "250 Ok")
		c.step("RCPT TO:<success@simulator.amazonses.com>", "250 Ok")
		c.sendData([]string{"From: sender@example.com", "", "x"}, "~250 Ok "+messageIDPattern)
		c.step("MAIL FROM:<sender@example.com>", "421 Service not available, closing transmission channel")
	})
}
