package queuectl

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"sesame/internal/spool"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

func TestReadHeaders(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, in string
		want     []string
	}{
		{"crlf", "A: 1\r\nB: 2\r\n\r\nbody", []string{"A: 1", "B: 2"}},
		{"lf", "A: 1\nB: 2\n\nbody\n", []string{"A: 1", "B: 2"}},
		{"folded", "Subject: a\r\n\tb\r\n  c\r\nX: y\r\n\r\n", []string{"Subject: a b c", "X: y"}},
		{"no body", "A: 1\r\nB: 2", []string{"A: 1", "B: 2"}},
		{"empty", "", []string{}},
		{"names as written", "Message-ID: <m@x>\r\nX-Empty:\r\n\r\n", []string{"Message-ID: <m@x>", "X-Empty:"}},
		{"a line that is not a field ends the header", "A: 1\r\nnot a field\r\nB: 2\r\n\r\n", []string{"A: 1"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := readHeaders(strings.NewReader(tc.in))
			if err != nil || !slices.Equal(got, tc.want) {
				t.Fatalf("readHeaders = %q, %v; want %q", got, err, tc.want)
			}
		})
	}
}

// TestOpenFallbacks: a stale socket file (a server that died) does not stop
// admin from opening the spool, nor the next server from listening; a spool
// locked by a server without a socket is an error that says so.
func TestOpenFallbacks(t *testing.T) {
	t.Parallel()
	data := t.TempDir()
	sock := filepath.Join(data, SocketName)
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	l.(*net.UnixListener).SetUnlinkOnClose(false)
	l.Close() // the file stays, nobody listens
	ctx := context.Background()
	q, err := Open(ctx, data, quiet)
	if err != nil {
		t.Fatal(err)
	}
	if ms, err := q.List(ctx); err != nil || len(ms) != 0 {
		t.Fatalf("List of an empty spool: %v, %v", ms, err)
	}
	if _, ok := q.(*local); !ok {
		t.Fatalf("Open used %T, want the spool directly", q)
	}
	q.Close()

	sp, err := spool.Open(filepath.Join(data, "spool"), spool.Options{Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	defer sp.Close()
	if _, err := Open(ctx, data, quiet); err == nil || !strings.Contains(err.Error(), "does not open") {
		t.Fatalf("Open with the spool locked and no socket: %v", err)
	}
	srv, err := Listen(sock, sp, nil, quiet)
	if err != nil {
		t.Fatalf("Listen over a stale socket: %v", err)
	}
	// Only its owner may connect, and it was never anywhere else to be
	// reached: the directory it was made in is gone.
	if fi, err := os.Stat(sock); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("socket mode: %v, %v; want 0600", fi.Mode(), err)
	}
	if left, _ := filepath.Glob(filepath.Join(data, ".control-*")); len(left) != 0 {
		t.Errorf("left behind: %v", left)
	}
	q, err = Open(ctx, data, quiet)
	if err != nil {
		t.Fatal(err)
	}
	defer q.Close()
	if err := q.Retry(ctx, "nope"); !errors.Is(err, spool.ErrNotPending) {
		t.Errorf("Retry of an unknown id over the socket: %v", err)
	}
	if err := srv.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(sock); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("socket left after Close: %v", err)
	}
	// Start never fails: a socket that cannot be made is logged.
	Start(filepath.Join(data, "no", "such", "dir", SocketName), sp, nil, quiet).Close()
}
