package e2e

import (
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
		a := dial(t, s.SMTP, false)
		a.expect(greeting)
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
