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
		// client sees it closed: the first two are let in once it is free.
		waitFor(t, "a free connection slot", func() bool {
			a := dial(t, s.SMTP, false)
			a.conn.SetDeadline(time.Now().Add(5 * time.Second))
			line, _ := a.r.ReadString('\n')
			if strings.HasPrefix(line, "421 ") {
				a.conn.Close()
				return false
			}
			if !regexp.MustCompile("^" + greeting[1:] + "\r\n$").MatchString(line) {
				t.Fatalf("got %q, want the greeting", line)
			}
			return true
		})
		b := dial(t, s.SMTPS, true)
		b.expect(greeting)
		c := dial(t, s.SMTP, false)
		c.expect("421 Too many concurrent SMTP connections")
	})
	t.Run("messages per connection", func(t *testing.T) {
		time.Sleep(1500 * time.Millisecond) // the connections above time out and free their slots
		c := login(t, s)
		c.step("MAIL FROM:<sender@example.com>", "250 Ok")
		c.step("RCPT TO:<success@simulator.amazonses.com>", "250 Ok")
		c.sendData([]string{"From: sender@example.com", "", "x"}, "~250 Ok "+messageIDPattern)
		c.step("MAIL FROM:<sender@example.com>", "421 Service not available, closing transmission channel")
	})
}
