package sdnotify

import (
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// listen opens a unixgram socket as systemd does for NOTIFY_SOCKET.
func listen(t *testing.T, name string) *net.UnixConn {
	t.Helper()
	c, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: name, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func recv(t *testing.T, c *net.UnixConn) string {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	buf := make([]byte, 4096)
	n, err := c.Read(buf)
	if err != nil {
		t.Fatal(err)
	}
	return string(buf[:n])
}

func TestNotifyPathSocket(t *testing.T) {
	path := filepath.Join(t.TempDir(), "notify")
	c := listen(t, path)
	t.Setenv("NOTIFY_SOCKET", path)
	n := FromEnv()
	if n == nil {
		t.Fatal("FromEnv: nil with NOTIFY_SOCKET set")
	}
	if v, ok := lookupEnv("NOTIFY_SOCKET"); ok {
		t.Errorf("NOTIFY_SOCKET still set (%q): children would notify in sesame's name", v)
	}
	if err := n.Ready(); err != nil {
		t.Fatal(err)
	}
	if got := recv(t, c); got != "READY=1" {
		t.Errorf("got %q, want READY=1", got)
	}
	before := monotonicUsec()
	if err := n.Reloading(); err != nil {
		t.Fatal(err)
	}
	got := recv(t, c)
	lines := strings.Split(got, "\n")
	if len(lines) != 2 || lines[0] != "RELOADING=1" || !strings.HasPrefix(lines[1], "MONOTONIC_USEC=") {
		t.Fatalf("got %q, want RELOADING=1 and MONOTONIC_USEC", got)
	}
	usec, err := strconv.ParseInt(strings.TrimPrefix(lines[1], "MONOTONIC_USEC="), 10, 64)
	if err != nil || usec < before || usec > monotonicUsec() {
		t.Errorf("MONOTONIC_USEC %q not the monotonic clock now (%d..%d)", lines[1], before, monotonicUsec())
	}
	if err := n.Stopping(); err != nil {
		t.Fatal(err)
	}
	if got := recv(t, c); got != "STOPPING=1" {
		t.Errorf("got %q, want STOPPING=1", got)
	}
}

func TestNotifyAbstractSocket(t *testing.T) {
	name := "sesame-sdnotify-test-" + strconv.FormatInt(time.Now().UnixNano(), 36)
	c := listen(t, "@"+name) // Go maps a leading '@' to the abstract namespace too
	if err := New("@" + name).Notify("STATUS=hello"); err != nil {
		t.Fatal(err)
	}
	if got := recv(t, c); got != "STATUS=hello" {
		t.Errorf("got %q", got)
	}
}

func TestNoSocketIsQuiet(t *testing.T) {
	t.Setenv("NOTIFY_SOCKET", "")
	n := FromEnv()
	if n != nil {
		t.Fatalf("FromEnv without NOTIFY_SOCKET: %+v, want nil", n)
	}
	if err := n.Ready(); err != nil {
		t.Errorf("nil Notifier: %v", err)
	}
}

func TestMissingSocketIsAnError(t *testing.T) {
	if err := New(filepath.Join(t.TempDir(), "absent")).Ready(); err == nil {
		t.Error("no error for a socket that does not exist")
	}
}

func lookupEnv(k string) (string, bool) { return os.LookupEnv(k) }
