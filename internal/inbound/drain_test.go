package inbound

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"sesame/internal/waitfor"
	"strings"
	"testing"
	"time"
)

// keepAll receives every recipient and keeps every message (as "id1").
type keepAll struct{}

func (keepAll) Recipient(_ context.Context, _ *Session, rcpt string) (Route, error) {
	return Route{Recipient: rcpt, Accounts: []string{"111122223333"}}, nil
}

func (keepAll) Accept(_ context.Context, _ *Session, _ string, _ []Route, msg io.Reader) (string, error) {
	_, err := io.Copy(io.Discard, msg)
	return "id1", err
}

// mta is a sending server's side of a session, line by line.
type mta struct {
	t    *testing.T
	conn net.Conn
	r    *bufio.Reader
}

func dialMTA(t *testing.T, addr string) *mta {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	m := &mta{t: t, conn: conn, r: bufio.NewReader(conn)}
	m.expect("", "220 ")
	m.expect("EHLO mta.test", "250 ")
	return m
}

// expect sends line (unless empty) and checks the reply's last line.
func (m *mta) expect(line, want string) {
	m.t.Helper()
	if line != "" {
		if _, err := io.WriteString(m.conn, line+"\r\n"); err != nil {
			m.t.Fatal(err)
		}
	}
	for {
		l, err := m.r.ReadString('\n')
		if err != nil {
			m.t.Fatalf("%q: reply %q: %v", line, l, err)
		}
		if len(l) >= 4 && l[3] == '-' {
			continue
		}
		if !strings.HasPrefix(l, want) {
			m.t.Fatalf("%q → %q, want %s", line, l, want)
		}
		return
	}
}

func (m *mta) eof() {
	m.t.Helper()
	if l, err := m.r.ReadString('\n'); err != io.EOF {
		m.t.Errorf("after the 421: %q, %v; want the connection closed", l, err)
	}
}

const shuttingDown = "421 4.3.2 Service not available, closing transmission channel"

func startReceiving(t *testing.T) (*Server, string) {
	t.Helper()
	srv := NewServer(Config{Hostname: "mx.sesame.test", Receiver: keepAll{},
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return srv, ln.Addr().String()
}

// TestShutdownDrains: a session waiting for a command is told 421 at
// once, one in DATA finishes it (250) and then gets the 421, a session
// that has not said EHLO yet gets the 421 too, and Shutdown returns as
// soon as they are gone, with their count.
func TestShutdownDrains(t *testing.T) {
	srv, addr := startReceiving(t)
	idle := dialMTA(t, addr)
	fresh, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer fresh.Close()
	fr := bufio.NewReader(fresh)
	if l, _ := fr.ReadString('\n'); !strings.HasPrefix(l, "220 ") {
		t.Fatalf("greeting %q", l)
	}
	busy := dialMTA(t, addr)
	busy.expect("MAIL FROM:<a@sender.test>", "250 ")
	busy.expect("RCPT TO:<b@example.com>", "250 ")
	busy.expect("DATA", "354 ")
	io.WriteString(busy.conn, "Subject: x\r\n\r\nfirst half\r\n")
	// Shutdown sees the session in DATA once its first bytes are read;
	// before, the 354's session is in DATA as well (go-smtp calls Data
	// right after writing it), so this only waits for the goroutines.
	waitInData(t, srv, 1)

	type result struct {
		rep DrainReport
		err error
	}
	done := make(chan result, 1)
	go func() {
		rep, err := srv.Shutdown(context.Background())
		done <- result{rep, err}
	}()
	idle.expect("", shuttingDown)
	idle.eof()
	if l, _ := fr.ReadString('\n'); !strings.HasPrefix(l, shuttingDown) {
		t.Errorf("before EHLO: %q, want the 421", l)
	}
	if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
		c.Close()
		t.Error("the listener still accepts once the drain began")
	}
	select {
	case r := <-done:
		t.Fatalf("Shutdown returned with a session in DATA: %+v", r)
	case <-time.After(50 * time.Millisecond):
	}
	busy.expect("second half\r\n.", "250 2.0.0 Ok: queued as id1")
	busy.expect("", shuttingDown)
	busy.eof()
	r := <-done
	if r.err != nil {
		t.Errorf("Shutdown: %v", r.err)
	}
	if want := (DrainReport{Sessions: 3, Idle: 2, Messages: 1}); r.rep != want {
		t.Errorf("report %+v, want %+v", r.rep, want)
	}
}

// TestShutdownCutsAtTheBound: a session still in DATA when ctx ends is
// closed, unacknowledged.
func TestShutdownCutsAtTheBound(t *testing.T) {
	srv, addr := startReceiving(t)
	busy := dialMTA(t, addr)
	busy.expect("MAIL FROM:<a@sender.test>", "250 ")
	busy.expect("RCPT TO:<b@example.com>", "250 ")
	busy.expect("DATA", "354 ")
	waitInData(t, srv, 1)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	rep, err := srv.Shutdown(ctx)
	if err == nil || rep != (DrainReport{Sessions: 1, Cut: 1}) {
		t.Errorf("Shutdown = %+v, %v; want one session cut and ctx's error", rep, err)
	}
	busy.eof()
}

// waitInData waits until n sessions are in DATA.
func waitInData(t *testing.T, srv *Server, n int) {
	t.Helper()
	waitfor.True(t, fmt.Sprintf("%d sessions in DATA", n), func() bool {
		got := 0
		srv.conns.mu.Lock()
		defer srv.conns.mu.Unlock()
		for c := range srv.conns.open {
			c.mu.Lock()
			if c.inData {
				got++
			}
			c.mu.Unlock()
		}
		return got == n
	})
}
