package admin

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"sesame/internal/queuectl"
	"sesame/internal/spool"
)

// lockout is an AUTH lockout held in a map, as smtpd's is in memory.
type lockout struct {
	mu    sync.Mutex
	locks map[string][]time.Time
}

func (l *lockout) UnlockAuth(ip string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := len(l.locks[ip])
	delete(l.locks, ip)
	return n
}

func (l *lockout) AuthLocks() map[string][]time.Time {
	l.mu.Lock()
	defer l.mu.Unlock()
	m := make(map[string][]time.Time, len(l.locks))
	for k, v := range l.locks {
		m[k] = v
	}
	return m
}

// TestAuthCommands runs auth list and auth unlock through a live control
// socket, then with no server: a clear error, not a fallback.
func TestAuthCommands(t *testing.T) {
	t.Parallel()
	data := t.TempDir()
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	sp, err := spool.Open(filepath.Join(data, "spool"), spool.Options{Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	defer sp.Close()
	until := time.Date(2026, 11, 23, 12, 5, 0, 0, time.UTC)
	lo := &lockout{locks: map[string][]time.Time{"192.0.2.1": {until.Add(-time.Minute), until}, "2001:db8::/64": {until}}}
	srv, err := queuectl.Listen(filepath.Join(data, queuectl.SocketName), sp, lo, quiet)
	if err != nil {
		t.Fatal(err)
	}
	run := func(args ...string) (string, error) {
		var out bytes.Buffer
		err := RunWith(context.Background(), nil, Options{Server: func(ctx context.Context) (queuectl.AuthControl, error) {
			return queuectl.DialServer(ctx, data)
		}}, args, &out)
		return out.String(), err
	}
	out, err := run("auth", "list")
	if err != nil || out != `[
  {
    "client": "192.0.2.1",
    "credentials": 2,
    "locked_until": "2026-11-23T12:05:00Z"
  },
  {
    "client": "2001:db8::/64",
    "credentials": 1,
    "locked_until": "2026-11-23T12:05:00Z"
  }
]
` {
		t.Errorf("auth list: %v\n%s", err, out)
	}
	// An IPv4-mapped address is the IPv4 one.
	if out, err := run("auth", "unlock", "::ffff:192.0.2.1"); err != nil || out != "{\n  \"ip\": \"192.0.2.1\",\n  \"cleared\": 2\n}\n" {
		t.Errorf("auth unlock: %v\n%s", err, out)
	}
	if out, err := run("auth", "unlock", "192.0.2.1"); err != nil || !strings.Contains(out, `"cleared": 0`) {
		t.Errorf("auth unlock again: %v\n%s", err, out)
	}
	for _, args := range [][]string{{"auth", "unlock"}, {"auth", "unlock", "host.example"}, {"auth", "unlock", "1.2.3.4", "5.6.7.8"}} {
		if out, err := run(args...); err == nil || !strings.Contains(err.Error(), "Usage: sesame admin auth unlock IP") {
			t.Errorf("%q: %v, printed %q; want a usage error", args, err, out)
		}
	}

	if err := srv.Close(); err != nil {
		t.Fatal(err)
	}
	_, err = run("auth", "unlock", "192.0.2.1")
	if !errors.Is(err, queuectl.ErrNoServer) || err.Error() != "no server running on data dir "+data+
		" (nothing to unlock: the lockout lives in the server's memory)" {
		t.Errorf("without a server: %v", err)
	}
	if _, err := run("auth", "list"); !errors.Is(err, queuectl.ErrNoServer) {
		t.Errorf("auth list without a server: %v", err)
	}
}
