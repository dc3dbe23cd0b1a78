package queuectl

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"

	"sesame/internal/spool"
)

// ErrNoServer is DialServer's answer when no server runs on the data dir.
var ErrNoServer = errors.New("no server running")

// AuthControl is what `sesame admin auth` needs of the running server: its
// SMTP AUTH lockout lives in that process's memory only.
type AuthControl interface {
	// UnlockAuth clears the lockout and the failure counts of every
	// credential tried from ip (its /64 for IPv6) and returns how many.
	UnlockAuth(ctx context.Context, ip string) (int, error)
	// AuthLocks lists the clients locked out now.
	AuthLocks(ctx context.Context) ([]AuthLock, error)
	Close() error
}

// DialServer returns the control socket of the server running on dataDir,
// or an error wrapping ErrNoServer when nothing answers there. Unlike Open
// it has no fallback: what it is for exists only in a running server.
func DialServer(ctx context.Context, dataDir string) (*Remote, error) {
	sock := filepath.Join(dataDir, SocketName)
	var d net.Dialer
	c, err := d.DialContext(ctx, "unix", sock)
	switch {
	case errors.Is(err, fs.ErrPermission):
		return nil, fmt.Errorf("control socket: %w", err)
	case err != nil:
		// No socket file, or one a dead server left (connection refused).
		return nil, fmt.Errorf("%w on data dir %s", ErrNoServer, dataDir)
	}
	c.Close()
	return Dial(sock), nil
}

// Dial returns the server whose control socket is at path: its queue and
// its AUTH lockout. It connects on each call.
func Dial(path string) *Remote {
	tr := &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", path)
		},
	}
	return &Remote{c: &http.Client{Transport: tr}, tr: tr}
}

// Remote is a running server reached through its control socket.
type Remote struct {
	c  *http.Client
	tr *http.Transport
}

func (q *Remote) List(ctx context.Context) ([]Message, error) {
	var ms []Message
	return ms, q.do(ctx, http.MethodGet, "/queue", &ms)
}

func (q *Remote) Show(ctx context.Context, id string) (Detail, error) {
	var d Detail
	return d, q.do(ctx, http.MethodGet, "/queue/"+url.PathEscape(id), &d)
}

func (q *Remote) Retry(ctx context.Context, id string) error {
	return q.do(ctx, http.MethodPost, "/queue/"+url.PathEscape(id)+"/retry", nil)
}

func (q *Remote) RetryAll(ctx context.Context) (int, error) {
	var c counted
	return c.Retried, q.do(ctx, http.MethodPost, "/queue/retry", &c)
}

// Delete deletes each id, reporting the ones not queued after trying all.
func (q *Remote) Delete(ctx context.Context, ids ...string) error {
	var errs []error
	for _, id := range ids {
		errs = append(errs, q.do(ctx, http.MethodDelete, "/queue/"+url.PathEscape(id), nil))
	}
	return errors.Join(errs...)
}

// Adopt asks the server to adopt the spool in dir, which must be absolute
// (the server's working directory is not the caller's).
func (q *Remote) Adopt(ctx context.Context, dir string) (Adopted, error) {
	body, err := json.Marshal(adoptRequest{Dir: dir})
	if err != nil {
		return Adopted{}, err
	}
	var a Adopted
	return a, q.send(ctx, http.MethodPost, "/spool/adopt", body, &a)
}

func (q *Remote) UnlockAuth(ctx context.Context, ip string) (int, error) {
	var u Unlocked
	return u.Cleared, q.do(ctx, http.MethodPost, "/auth/unlock/"+url.PathEscape(ip), &u)
}

func (q *Remote) AuthLocks(ctx context.Context) ([]AuthLock, error) {
	var ls []AuthLock
	return ls, q.do(ctx, http.MethodGet, "/auth/locks", &ls)
}

func (q *Remote) Close() error {
	q.tr.CloseIdleConnections()
	return nil
}

func (q *Remote) do(ctx context.Context, method, path string, out any) error {
	return q.send(ctx, method, path, nil, out)
}

// send is do with a JSON request body (nil: none).
func (q *Remote) send(ctx context.Context, method, path string, in []byte, out any) error {
	var reqBody io.Reader
	if in != nil {
		reqBody = bytes.NewReader(in)
	}
	req, err := http.NewRequestWithContext(ctx, method, "http://sesame"+path, reqBody)
	if err != nil {
		return err
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := q.c.Do(req)
	if err != nil {
		return fmt.Errorf("control socket: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<30))
	if err != nil {
		return fmt.Errorf("control socket: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		var e errorBody
		if json.Unmarshal(body, &e) != nil || e.Error == "" {
			e.Error = resp.Status
		}
		if resp.StatusCode == http.StatusNotFound && strings.HasPrefix(path, "/queue/") {
			ids := strings.TrimPrefix(e.Error, spool.ErrNotPending.Error()+": ")
			return fmt.Errorf("%w: %s", spool.ErrNotPending, ids)
		}
		return fmt.Errorf("control socket: server: %s", e.Error)
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(body, out); err != nil {
		return fmt.Errorf("control socket answer: %w", err)
	}
	return nil
}
