package smtpd

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"runtime"
	"strings"
	"testing"
	"time"

	"sesame/internal/clock"
	"sesame/internal/smtpd/smtptest"
)

func TestTooManyConnections(t *testing.T) {
	t.Parallel()
	ts := startServer(t, nil, func(c *Config) { c.MaxConnections = 1 })
	for _, implicit := range []bool{false, true} {
		first := dialGreeted(t, ts.starttls)
		smtptest.Run(t, ts.dialogue(implicit, "localhost"), `
			c <- 421 Too many concurrent SMTP connections
			eof`)
		first.Close()
	}
	dialGreeted(t, ts.starttls).Close() // the count did not leak
}

// dialGreeted connects until it is greeted with 220: a session closed just
// before may hold its slot for a moment.
func dialGreeted(t *testing.T, addr string) net.Conn {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		line, err := bufio.NewReader(c).ReadString('\n')
		if err == nil && strings.HasPrefix(line, "220 ") {
			return c
		}
		c.Close()
		if time.Now().After(deadline) {
			t.Fatalf("greeting = %q, %v", line, err)
		}
		time.Sleep(10 * time.Millisecond) // polling another goroutine's cleanup
	}
}

func TestAuthLockoutPerIP(t *testing.T) {
	t.Parallel()
	fake := clock.NewFake(time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC))
	ts := startServer(t, nil, func(c *Config) {
		c.Clock = fake
		c.AuthFailuresPerIP = 2
		c.AuthLockout = 5 * time.Minute
	})
	d := ts.dialogue(true, "localhost")
	smtptest.Run(t, d, greeting+`
		c -> AUTH PLAIN AEFLSURFWEFNUExFAHdyb25n
		c <- 535 Authentication Credentials Invalid
		c -> AUTH LOGIN QUtJREVYQU1QTEU=
		c <- 334 UGFzc3dvcmQ6
		c -> d3Jvbmc=
		c <- 535 Authentication Credentials Invalid
		# locked out now, even with the right password
		c -> AUTH PLAIN AEFLSURFWEFNUExFAHNlY3JldC1wYXNz
		c <- 454 Temporary authentication failure`)
	// Another session from the same address is locked out too.
	smtptest.Run(t, d, greeting+`
		c -> AUTH PLAIN AEFLSURFWEFNUExFAHNlY3JldC1wYXNz
		c <- 454 Temporary authentication failure`)
	fake.Advance(5*time.Minute + time.Second)
	smtptest.Run(t, d, greeting+authOK)
}

func TestRegionFromSNI(t *testing.T) {
	t.Parallel()
	cases := []struct {
		serverName, want string
	}{
		{"email-smtp.eu-west-1.example.com", "eu-west-1"},
		{"EMAIL-SMTP.EU-WEST-1.EXAMPLE.COM", "eu-west-1"},
		{"email-smtp.ap-south-1.example.com", "us-east-1"}, // not configured
		{"email-smtp.eu-west-1x.example.com", "us-east-1"}, // whole labels only
		{"localhost", "us-east-1"},
	}
	for _, tc := range cases {
		for _, implicit := range []bool{false, true} {
			t.Run(tc.serverName, func(t *testing.T) {
				t.Parallel()
				sc := scenario{script: `{{open}}{{auth}}{{envelope}}
					c -> DATA
					c <- 354 End data with <CR><LF>.<CR><LF>
					c -> .
					{{sent}}`}
				ts := startServer(t, nil, nil)
				smtptest.Run(t, ts.dialogue(implicit, tc.serverName), sc.expand(implicit))
				subs := ts.be.submitted()
				if len(subs) != 1 || subs[0].Region != tc.want {
					t.Fatalf("submissions = %+v, want one in %s", subs, tc.want)
				}
				if r := ts.be.authRegions; len(r) != 1 || r[0] != tc.want {
					t.Errorf("AuthenticateSMTP regions = %v, want [%s]", r, tc.want)
				}
			})
		}
	}
}

func TestConnectionAge(t *testing.T) {
	t.Parallel()
	fake := clock.NewFake(time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC))
	ts := startServer(t, nil, func(c *Config) { c.Clock = fake; c.MaxConnAge = time.Minute })
	d := ts.dialogue(true, "localhost")
	d.Calls = map[string]func(io.Writer) error{
		"age": func(io.Writer) error { fake.Advance(time.Minute); return nil },
	}
	smtptest.Run(t, d, greeting+authOK+`
		c -> NOOP
		c <- 250 Ok
		call age
		c -> NOOP
		c <- 421 Service not available, closing transmission channel
		eof`)
	smtptest.Run(t, d, greeting+`
		call age
		c -> QUIT
		c <- 221 Bye
		eof`)
}

func TestShutdownClosesIdleSessions(t *testing.T) {
	t.Parallel()
	ts := startServer(t, nil, nil)
	d := ts.dialogue(true, "localhost")
	d.Calls = map[string]func(io.Writer) error{
		"shutdown": func(io.Writer) error {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			return ts.srv.Shutdown(ctx)
		},
	}
	smtptest.Run(t, d, greeting+authOK+`
		call shutdown
		c <- 421 Service not available, closing transmission channel
		eof`)
	if _, err := net.Dial("tcp", ts.wrapper); err == nil {
		t.Error("listener still accepting after Shutdown")
	}
}

// TestStreamedDataMemory sends 50 MB of DATA with a 1 MB limit: the reply
// is 552 and the bytes are neither kept nor allocated per line.
func TestStreamedDataMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("streams 50 MB")
	}
	ts := startServer(t, nil, func(c *Config) { c.MaxMessageBytes = 1 << 20 })
	const total = 50 << 20
	line := []byte(strings.Repeat("0123456789", 9) + "\r\n") // 92 octets
	chunk := make([]byte, 0, 64<<10)
	for len(chunk)+len(line) <= cap(chunk) {
		chunk = append(chunk, line...)
	}
	var before, after runtime.MemStats
	d := ts.dialogue(true, "localhost")
	d.Calls = map[string]func(io.Writer) error{
		"before": func(io.Writer) error {
			runtime.GC()
			runtime.ReadMemStats(&before)
			return nil
		},
		"stream": func(w io.Writer) error {
			for sent := 0; sent < total; sent += len(chunk) {
				if _, err := w.Write(chunk); err != nil {
					return err
				}
			}
			return nil
		},
		"after": func(io.Writer) error {
			runtime.ReadMemStats(&after)
			return nil
		},
	}
	sc := scenario{script: `{{open}}{{auth}}{{envelope}}
		call before
		c -> DATA
		c <- 354 End data with <CR><LF>.<CR><LF>
		call stream
		c -> .
		c <- 552 Message is too long.
		call after
		c -> NOOP
		c <- 250 Ok`}
	smtptest.Run(t, d, sc.expand(true))
	// TotalAlloc counts every allocation, freed or not, client side
	// included: per-line allocations or buffering the body would show as
	// tens of MB.
	t.Logf("allocated %d KB, heap in use %+d KB", (after.TotalAlloc-before.TotalAlloc)>>10,
		(int64(after.HeapInuse)-int64(before.HeapInuse))>>10)
	if grew := after.TotalAlloc - before.TotalAlloc; grew > 16<<20 {
		t.Errorf("allocated %d MB while streaming 50 MB, want < 16 MB", grew>>20)
	}
	if peak := int64(after.HeapInuse) - int64(before.HeapInuse); peak > 16<<20 {
		t.Errorf("heap in use grew by %d MB", peak>>20)
	}
	if subs := ts.be.submitted(); len(subs) != 0 {
		t.Errorf("oversize message submitted: %d", len(subs))
	}
}

// TestBackendFaults checks that faults inside sesame (not seserr values)
// reach the client as SES's temporary failures, never as a cause's text.
func TestBackendFaults(t *testing.T) {
	t.Parallel()
	be := newTestBackend(t)
	ts := startServer(t, be, nil)
	be.setFail(errors.New("disk on fire"))
	sc := scenario{script: `{{open}}{{auth}}{{envelope}}
		c -> DATA
		c <- 354 End data with <CR><LF>.<CR><LF>
		c -> x
		c -> .
		c <- 451 Temporary service failure
		c -> RCPT TO:<rcpt@example.net>
		c <- 503 Bad sequence of commands`}
	smtptest.Run(t, ts.dialogue(true, "localhost"), sc.expand(true))

	be.mu.Lock()
	be.authErr = errors.New("store unreachable")
	be.mu.Unlock()
	smtptest.Run(t, ts.dialogue(true, "localhost"), greeting+`
		c -> AUTH PLAIN AEFLSURFWEFNUExFAHNlY3JldC1wYXNz
		c <- 454 Temporary authentication failure
		c -> AUTH PLAIN AEFLSURFWEFNUExFAHNlY3JldC1wYXNz
		c <- 454 Temporary authentication failure
		c -> AUTH PLAIN AEFLSURFWEFNUExFAHNlY3JldC1wYXNz
		c <- 454 Temporary authentication failure
		# temporary failures neither close the session nor count towards lockout
		c -> NOOP
		c <- 250 Ok`)
}

// TestAuthUnlock: the operator's unlock (Server.UnlockAuth, reached through
// the control socket) lets a locked-out client authenticate at once.
func TestAuthUnlock(t *testing.T) {
	t.Parallel()
	ts := startServer(t, nil, func(c *Config) { c.AuthFailuresPerIP = 2 })
	d := ts.dialogue(true, "localhost")
	smtptest.Run(t, d, greeting+`
		c -> AUTH PLAIN AEFLSURFWEFNUExFAHdyb25n
		c <- 535 Authentication Credentials Invalid
		c -> AUTH PLAIN AEFLSURFWEFNUExFAHdyb25n
		c <- 535 Authentication Credentials Invalid
		c -> AUTH PLAIN AEFLSURFWEFNUExFAHNlY3JldC1wYXNz
		c <- 454 Temporary authentication failure`)
	if locks := ts.srv.AuthLocks(); len(locks["127.0.0.1"]) != 1 {
		t.Fatalf("AuthLocks = %v; want 127.0.0.1 with one credential", locks)
	}
	if n := ts.srv.UnlockAuth("127.0.0.1"); n != 1 {
		t.Errorf("UnlockAuth cleared %d, want 1", n)
	}
	smtptest.Run(t, d, greeting+authOK)
	if locks := ts.srv.AuthLocks(); len(locks) != 0 {
		t.Errorf("AuthLocks after unlock = %v", locks)
	}
}

// TestAuthLockoutOff: a negative AuthFailuresPerIP (config 0) never locks:
// many failures, then the right password succeeds.
func TestAuthLockoutOff(t *testing.T) {
	t.Parallel()
	ts := startServer(t, nil, func(c *Config) { c.AuthFailuresPerIP = -1 })
	d := ts.dialogue(true, "localhost")
	for range 5 { // 15 failures; a session ends after 3
		smtptest.Run(t, d, greeting+`
			c -> AUTH PLAIN AEFLSURFWEFNUExFAHdyb25n
			c <- 535 Authentication Credentials Invalid
			c -> AUTH PLAIN AEFLSURFWEFNUExFAHdyb25n
			c <- 535 Authentication Credentials Invalid
			c -> AUTH PLAIN AEFLSURFWEFNUExFAHdyb25n
			c <- 535 Authentication Credentials Invalid`)
	}
	smtptest.Run(t, d, greeting+authOK)
}
