package e2e

import (
	"bufio"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"sesame/internal/testenv"
)

// TestSMTPHardening drives the real binary with the [smtp] deadlines and
// cap set small: a slow-loris client (a byte every 300 ms, well inside the
// idle timeout) is cut at the command deadline, a chatty client that never
// authenticates at the pre-authentication deadline, and one address gets
// at most max_connections_per_ip sessions.
func TestSMTPHardening(t *testing.T) {
	s := testenv.Start(t, testenv.Options{SMTPExtra: `idle_timeout = "1s"
command_timeout = "2s"
pre_auth_timeout = "4s"
max_connections_per_ip = 3`})

	t.Run("slow loris command", func(t *testing.T) {
		for _, implicit := range []bool{false, true} {
			addr := s.SMTP
			if implicit {
				addr = s.SMTPS
			}
			c := dial(t, addr, implicit)
			c.expect(greeting)
			start := time.Now()
			reply := trickleUntilClosed(t, c.conn, c.r, "NOOP "+strings.Repeat("x", 200), 300*time.Millisecond, 20*time.Second)
			held := time.Since(start)
			if reply != "451 4.4.2 Timeout waiting for data from client." {
				t.Errorf("implicit TLS %v: reply %q, want the timeout", implicit, reply)
			}
			if held < 1500*time.Millisecond || held > 8*time.Second {
				t.Errorf("implicit TLS %v: held %v, want about the 2 s command deadline", implicit, held)
			}
		}
	})

	t.Run("slow loris TLS handshake", func(t *testing.T) {
		conn, err := net.DialTimeout("tcp", s.SMTPS, 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		start := time.Now()
		// A TLS record header announcing a long ClientHello, then a trickle.
		trickleUntilClosed(t, conn, nil, "\x16\x03\x01\x3f\xff"+strings.Repeat("x", 100), 300*time.Millisecond, 20*time.Second)
		if held := time.Since(start); held > 8*time.Second {
			t.Errorf("handshake held %v, want about the 2 s command deadline", held)
		}
	})

	t.Run("never authenticating", func(t *testing.T) {
		c := dial(t, s.SMTP, false)
		c.expect(greeting)
		start := time.Now()
		tick := time.NewTicker(500 * time.Millisecond) // inside the idle timeout
		defer tick.Stop()
		for {
			<-tick.C
			c.send("NOOP")
			c.conn.SetReadDeadline(time.Now().Add(10 * time.Second))
			line, err := c.r.ReadString('\n')
			if err != nil {
				t.Fatalf("read: %v", err)
			}
			if line == "250 Ok\r\n" {
				if time.Since(start) > 20*time.Second {
					t.Fatal("an unauthenticated session lasted 20 s")
				}
				continue
			}
			if line != "451 4.4.2 Timeout waiting for data from client.\r\n" {
				t.Fatalf("got %q", line)
			}
			break
		}
		if held := time.Since(start); held < 3*time.Second || held > 10*time.Second {
			t.Errorf("held %v, want about the 4 s pre-authentication deadline", held)
		}
	})

	t.Run("connections per IP", func(t *testing.T) {
		// Slots of the sessions above may be freed a moment after they
		// close: wait until three are let in.
		var held []*conv
		waitFor(t, "three sessions from one address", func() bool {
			c := dial(t, s.SMTP, false)
			c.conn.SetDeadline(time.Now().Add(5 * time.Second))
			line, _ := c.r.ReadString('\n')
			if strings.HasPrefix(line, "220 ") {
				held = append(held, c)
			} else {
				c.conn.Close()
			}
			return len(held) == 3
		})
		c := dial(t, s.SMTPS, true)
		c.expect("421 Too many concurrent SMTP connections")
		c = dial(t, s.SMTP, false)
		c.expect("421 Too many concurrent SMTP connections")
		// The cap is per session held, not a ban: one freed, one let in.
		held[0].step("QUIT", "221 Bye")
		waitFor(t, "a freed slot", func() bool {
			c := dial(t, s.SMTP, false)
			c.conn.SetDeadline(time.Now().Add(5 * time.Second))
			line, _ := c.r.ReadString('\n')
			c.conn.Close()
			return strings.HasPrefix(line, "220 ")
		})
	})
}

// trickleUntilClosed writes s a byte every interval (a slow-loris client:
// the pacing is the client's, not a wait for the server) until the server
// closes the connection, and returns the last line it said (r may be nil).
// It fails t after limit.
func trickleUntilClosed(t *testing.T, conn net.Conn, r *bufio.Reader, s string, interval, limit time.Duration) string {
	t.Helper()
	closed := make(chan string, 1)
	go func() {
		var last string
		if r == nil {
			io.Copy(io.Discard, conn)
		} else {
			for {
				line, err := r.ReadString('\n')
				if err != nil {
					break
				}
				last = strings.TrimSuffix(line, "\r\n")
			}
		}
		closed <- last
	}()
	conn.SetDeadline(time.Now().Add(limit))
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for i := 0; ; i++ {
		select {
		case last := <-closed:
			return last
		case <-tick.C:
			conn.Write([]byte{s[i%len(s)]}) // fails once the server has closed
		}
	}
}
