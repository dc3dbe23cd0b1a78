package api

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"sesame/internal/store"
	"sesame/internal/waitfor"
)

// serveTimeouts serves a Server with the given timeouts on loopback.
func serveTimeouts(t *testing.T, read, idle time.Duration) string {
	t.Helper()
	st, err := store.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	s := New(Config{Store: st, Regions: []string{"us-east-1"}, ReadTimeout: read, IdleTimeout: idle})
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go s.Serve(l)
	t.Cleanup(func() { s.Shutdown(context.Background()) })
	return l.Addr().String()
}

// closed says whether the server has closed c (a read sees EOF or a reset).
func closed(c net.Conn) bool {
	// Whatever the server answered before closing (a refusal) is read
	// and dropped: only the end of the stream counts.
	buf := make([]byte, 4096)
	for {
		c.SetReadDeadline(time.Now().Add(10 * time.Millisecond))
		if _, err := c.Read(buf); err != nil {
			return !errors.Is(err, os.ErrDeadlineExceeded)
		}
	}
}

// A keep-alive connection that sends nothing more is closed.
func TestAPIClosesIdleConnections(t *testing.T) {
	t.Parallel()
	addr := serveTimeouts(t, time.Second, 200*time.Millisecond)
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := io.WriteString(c, "GET /_sesame/health HTTP/1.1\r\nHost: x\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Close {
		t.Fatalf("health: %s, close %v", resp.Status, resp.Close)
	}
	waitfor.True(t, "the idle connection to be closed", func() bool { return closed(c) })
}

// A body trickled in holds a connection no longer than the read timeout.
func TestAPICutsTrickledBodies(t *testing.T) {
	t.Parallel()
	addr := serveTimeouts(t, 300*time.Millisecond, time.Second)
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	body := "Action=GetSendQuota&Version=2010-12-01" + strings.Repeat("&x=1", 50)
	if _, err := io.WriteString(c, "POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\n"+
		"Content-Length: "+strconv.Itoa(len(body))+"\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	for i := 0; i < len(body); i++ {
		if _, err := c.Write([]byte{body[i]}); err != nil {
			break // the server closed the connection: what we want
		}
		if closed(c) {
			break
		}
		time.Sleep(20 * time.Millisecond) // the trickle itself, one byte at a time
	}
	if held := time.Since(start); held > 3*time.Second {
		t.Fatalf("a trickled body held the connection %v (read timeout 300 ms)", held)
	}
	waitfor.True(t, "the trickling connection to be closed", func() bool { return closed(c) })
}
