// Package sdnotify tells systemd how the service is doing (sd_notify(3)):
// READY=1 once it serves, RELOADING=1 around a reload, STOPPING=1 when it
// drains. It is the protocol's few lines over the datagram socket systemd
// names in $NOTIFY_SOCKET, so sesame needs no systemd library; without
// that variable (not started by systemd with Type=notify) it does nothing.
package sdnotify

import (
	"fmt"
	"net"
	"os"
	"strings"
	"time"
)

// Notifier sends state changes to the service manager. The zero value and
// a nil *Notifier send nothing.
type Notifier struct {
	addr *net.UnixAddr
}

// FromEnv returns the Notifier $NOTIFY_SOCKET names (a path, or an
// abstract socket name starting with '@') and unsets the variable, so the
// processes sesame starts do not talk to systemd in its name. Without the
// variable it returns nil.
func FromEnv() *Notifier {
	path := os.Getenv("NOTIFY_SOCKET")
	os.Unsetenv("NOTIFY_SOCKET")
	return New(path)
}

// New returns a Notifier for the socket at path ("" for none: nil).
func New(path string) *Notifier {
	if path == "" {
		return nil
	}
	name := path
	if strings.HasPrefix(name, "@") {
		// Linux abstract namespace: the name starts with a NUL byte.
		name = "\x00" + name[1:]
	}
	return &Notifier{addr: &net.UnixAddr{Name: name, Net: "unixgram"}}
}

// Notify sends state, newline-separated assignments such as "READY=1".
func (n *Notifier) Notify(state string) error {
	if n == nil || n.addr == nil {
		return nil
	}
	conn, err := net.DialUnix("unixgram", nil, n.addr)
	if err != nil {
		return fmt.Errorf("sdnotify: %w", err)
	}
	defer conn.Close()
	if _, err := conn.Write([]byte(state)); err != nil {
		return fmt.Errorf("sdnotify: send %q: %w", state, err)
	}
	return nil
}

// Ready says the service is up: every listener is bound and serving.
func (n *Notifier) Ready() error { return n.Notify("READY=1") }

// Reloading says a reload has begun. systemd (Type=notify-reload, and
// Type=notify since 253) wants the monotonic time with it, to tell this
// reload from an earlier one; Ready ends it.
func (n *Notifier) Reloading() error {
	return n.Notify(fmt.Sprintf("RELOADING=1\nMONOTONIC_USEC=%d", monotonicUsec()))
}

// Stopping says the service is shutting down (draining).
func (n *Notifier) Stopping() error { return n.Notify("STOPPING=1") }

// Status sets the free-form status line systemctl status shows.
func (n *Notifier) Status(text string) error {
	return n.Notify("STATUS=" + strings.ReplaceAll(text, "\n", " "))
}

// monotonicUsec is CLOCK_MONOTONIC in microseconds, the clock systemd
// compares MONOTONIC_USEC with.
func monotonicUsec() int64 {
	return clockMonotonic() / int64(time.Microsecond)
}
