package smtpd

import (
	"bufio"
	"context"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"sesame/internal/smtpd/smtptest"
)

// The slow-loris defences, under testing/synctest: the server runs on an
// in-memory listener, so its deadlines follow the bubble's fake clock and a
// client trickling a byte a second for minutes takes no real time.

// pipeListener hands out the server ends of net.Pipe connections, each
// with the remote address the test chose.
type pipeListener struct {
	conns chan net.Conn
	done  chan struct{}
	once  sync.Once
}

func newPipeListener() *pipeListener {
	return &pipeListener{conns: make(chan net.Conn), done: make(chan struct{})}
}

func (l *pipeListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.done:
		return nil, net.ErrClosed
	}
}

func (l *pipeListener) Close() error {
	l.once.Do(func() { close(l.done) })
	return nil
}

func (l *pipeListener) Addr() net.Addr { return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 25} }

// dial connects a client from ip.
func (l *pipeListener) dial(ip string) net.Conn {
	client, server := net.Pipe()
	l.conns <- &remoteConn{Conn: server, remote: &net.TCPAddr{IP: net.ParseIP(ip), Port: 40000}}
	return client
}

type remoteConn struct {
	net.Conn
	remote net.Addr
}

func (c *remoteConn) RemoteAddr() net.Addr { return c.remote }

// pipeClient reads the server's lines in the background, so the server's
// writes never wait for the client's script.
type pipeClient struct {
	t     *testing.T
	conn  net.Conn
	lines chan string // closed at EOF
}

func newPipeClient(t *testing.T, conn net.Conn) *pipeClient {
	c := &pipeClient{t: t, conn: conn, lines: make(chan string, 16)}
	go func() {
		defer close(c.lines)
		r := bufio.NewReader(conn)
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				return
			}
			c.lines <- strings.TrimSuffix(line, "\r\n")
		}
	}()
	return c
}

// expect reads one line: exactly want, or a prefix of it when want ends in "*".
func (c *pipeClient) expect(want string) {
	c.t.Helper()
	line, ok := <-c.lines
	if !ok {
		c.t.Fatalf("connection closed, want %q", want)
	}
	if p, prefix := strings.CutSuffix(want, "*"); prefix && strings.HasPrefix(line, p) || line == want {
		return
	}
	c.t.Fatalf("got %q, want %q", line, want)
}

func (c *pipeClient) expectEOF() {
	c.t.Helper()
	if line, ok := <-c.lines; ok {
		c.t.Fatalf("got %q, want the connection closed", line)
	}
}

func (c *pipeClient) send(s string) {
	c.t.Helper()
	if _, err := io.WriteString(c.conn, s); err != nil {
		c.t.Fatalf("send %q: %v", s, err)
	}
}

// trickle writes s a byte every interval until the server stops reading
// (the connection is closed), for an hour at most, and returns how long it
// went on.
func (c *pipeClient) trickle(s string, interval time.Duration) time.Duration {
	start := time.Now()
	for i := 0; time.Since(start) < time.Hour; i++ {
		time.Sleep(interval)
		if _, err := c.conn.Write([]byte{s[i%len(s)]}); err != nil {
			return time.Since(start)
		}
	}
	c.t.Fatal("the server went on reading a trickle for an hour")
	return 0
}

// startPipeServer starts a Server on a pipe listener inside the bubble and
// shuts it down when fn returns.
func startPipeServer(t *testing.T, implicitTLS bool, tune func(*Config), fn func(l *pipeListener, be *testBackend)) {
	cert, err := testCert()
	if err != nil {
		t.Fatal(err)
	}
	be := newTestBackend(t)
	cfg := Config{TLS: &tls.Config{Certificates: []tls.Certificate{cert}}}
	tune(&cfg)
	srv := New(cfg, be)
	l := newPipeListener()
	served := make(chan error, 1)
	go func() { served <- srv.Serve(l, implicitTLS) }()
	fn(l, be)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil {
		t.Errorf("Shutdown: %v", err)
	}
	if err := <-served; !errors.Is(err, ErrServerClosed) {
		t.Errorf("Serve: %v", err)
	}
}

const greetingPrefix = "220 localhost ESMTP SimpleEmailService-d-*"

// TestCommandDeadline: a command line trickled a byte a second renews the
// idle timeout forever; the whole-command deadline ends it.
func TestCommandDeadline(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		startPipeServer(t, false, func(c *Config) {
			c.IdleTimeout, c.CommandTimeout, c.PreAuthTimeout = 10*time.Second, 30*time.Second, time.Hour
		}, func(l *pipeListener, _ *testBackend) {
			c := newPipeClient(t, l.dial("192.0.2.1"))
			c.expect(greetingPrefix)
			held := c.trickle("NOOP xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", time.Second)
			c.expect("451 4.4.2 Timeout waiting for data from client.")
			c.expectEOF()
			if held < 29*time.Second || held > 32*time.Second {
				t.Errorf("connection held %v, want the 30 s command deadline", held)
			}
		})
	})
}

// TestPreAuthDeadline: a session busy with harmless commands but never
// authenticating is closed at the pre-authentication deadline.
func TestPreAuthDeadline(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		startPipeServer(t, false, func(c *Config) {
			c.IdleTimeout, c.CommandTimeout, c.PreAuthTimeout = 10*time.Second, 30*time.Second, time.Minute
		}, func(l *pipeListener, _ *testBackend) {
			c := newPipeClient(t, l.dial("192.0.2.1"))
			c.expect(greetingPrefix)
			start := time.Now()
			last := ""
			for last == "" || last == "250 Ok" {
				if time.Since(start) > time.Hour {
					t.Fatal("the session was never closed")
				}
				time.Sleep(7 * time.Second)
				if _, err := io.WriteString(c.conn, "NOOP\r\n"); err != nil {
					last = ""
					break
				}
				last = <-c.lines
			}
			if last == "" {
				c.expect("451 4.4.2 Timeout waiting for data from client.")
			} else if last != "451 4.4.2 Timeout waiting for data from client." {
				t.Fatalf("got %q, want the timeout", last)
			}
			held := time.Since(start)
			c.expectEOF()
			if held < 60*time.Second || held > 63*time.Second {
				t.Errorf("connection held %v, want the 60 s pre-authentication deadline", held)
			}
		})
	})
}

// TestTLSHandshakeDeadline: a TLS hello trickled a byte a second on the
// wrapper port ends at the command deadline.
func TestTLSHandshakeDeadline(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		startPipeServer(t, true, func(c *Config) {
			c.IdleTimeout, c.CommandTimeout, c.PreAuthTimeout = 10*time.Second, 20*time.Second, time.Hour
		}, func(l *pipeListener, _ *testBackend) {
			c := newPipeClient(t, l.dial("192.0.2.1"))
			// A TLS record header announcing a long ClientHello, then junk.
			held := c.trickle("\x16\x03\x01\x3f\xffxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", time.Second)
			c.expectEOF()
			if held < 19*time.Second || held > 22*time.Second {
				t.Errorf("handshake held %v, want the 20 s command deadline", held)
			}
		})
	})
}

// TestConnectionAgeMidData: the age limit is a deadline: a message trickled
// line by line is cut off at the limit, not at the next command.
func TestConnectionAgeMidData(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		startPipeServer(t, true, func(c *Config) {
			c.IdleTimeout, c.MaxConnAge = 10*time.Second, 2*time.Minute
		}, func(l *pipeListener, be *testBackend) {
			start := time.Now()
			tc := tls.Client(l.dial("192.0.2.1"), clientTLS("localhost"))
			if err := tc.Handshake(); err != nil {
				t.Fatal(err)
			}
			c := newPipeClient(t, tc)
			c.expect(greetingPrefix)
			for _, step := range []struct{ send, want string }{
				{"AUTH PLAIN AEFLSURFWEFNUExFAHNlY3JldC1wYXNz\r\n", "235 Authentication successful."},
				{"MAIL FROM:<sender@example.com>\r\n", "250 Ok"},
				{"RCPT TO:<rcpt@example.net>\r\n", "250 Ok"},
				{"DATA\r\n", "354 End data with <CR><LF>.<CR><LF>"},
			} {
				c.send(step.send)
				c.expect(step.want)
			}
			for {
				time.Sleep(5 * time.Second)
				if _, err := io.WriteString(tc, "a line of a message that never ends\r\n"); err != nil {
					break
				}
				if time.Since(start) > 10*time.Minute {
					t.Fatal("the age limit never ended the DATA")
				}
			}
			c.expect("421 Service not available, closing transmission channel")
			c.expectEOF()
			if held := time.Since(start); held < 2*time.Minute || held > 2*time.Minute+6*time.Second {
				t.Errorf("connection held %v, want the 2 min age limit", held)
			}
			if subs := be.submitted(); len(subs) != 0 {
				t.Errorf("a cut-off message was submitted: %+v", subs)
			}
		})
	})
}

// TestConnectionsPerIP: one address (an IPv6 /64) gets at most
// MaxConnectionsPerIP sessions; others still get in.
func TestConnectionsPerIP(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		startPipeServer(t, false, func(c *Config) { c.MaxConnectionsPerIP = 2 }, func(l *pipeListener, _ *testBackend) {
			greeted := func(ip string) *pipeClient {
				c := newPipeClient(t, l.dial(ip))
				c.expect(greetingPrefix)
				return c
			}
			refused := func(ip string) {
				c := newPipeClient(t, l.dial(ip))
				c.expect("421 Too many concurrent SMTP connections")
				c.expectEOF()
			}
			a1, _ := greeted("192.0.2.1"), greeted("192.0.2.1")
			refused("192.0.2.1")
			greeted("192.0.2.2")
			greeted("2001:db8:0:1::1")
			greeted("2001:db8:0:1::2")
			refused("2001:db8:0:1::3") // the same /64
			greeted("2001:db8:0:2::1")
			// A slot freed is a slot again.
			a1.send("QUIT\r\n")
			a1.expect("221 Bye")
			a1.expectEOF()
			synctest.Wait() // the session's cleanup
			greeted("192.0.2.1")
		})
	})
}

// TestAuthLockoutPerCredential: behind one address (a NAT), a client that
// keeps failing locks its own user name out, not a colleague's correct one.
func TestAuthLockoutPerCredential(t *testing.T) {
	t.Parallel()
	ts := startServer(t, nil, func(c *Config) { c.AuthFailuresPerIP = 2 })
	wrong := base64.StdEncoding.EncodeToString([]byte("\x00AKIDOTHER\x00wrong"))
	d := ts.dialogue(true, "localhost")
	smtptest.Run(t, d, greeting+`
		c -> AUTH PLAIN `+wrong+`
		c <- 535 Authentication Credentials Invalid
		c -> AUTH PLAIN `+wrong+`
		c <- 535 Authentication Credentials Invalid
		c -> AUTH PLAIN `+wrong+`
		c <- 454 Temporary authentication failure`)
	// The same address, another (correct) credential: not locked.
	smtptest.Run(t, d, greeting+authOK)
	// The failing one stays locked in a new session.
	smtptest.Run(t, d, greeting+`
		c -> AUTH PLAIN `+wrong+`
		c <- 454 Temporary authentication failure`)
}
