package queuectl

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"sesame/internal/spool"
)

// The protocol: HTTP/1.1 over the unix socket, JSON bodies.
//
//	GET    /queue              → []Message
//	GET    /queue/{id}         → Detail
//	POST   /queue/{id}/retry   → {"retried": 1}
//	POST   /queue/retry        → {"retried": n} (every deferred message)
//	DELETE /queue/{id}         → {"deleted": 1}
//	POST   /spool/adopt        {"dir": DIR} → Adopted
//	POST   /auth/unlock/{ip}   → {"ip": ip, "cleared": n} (SMTP AUTH lockout)
//	GET    /auth/locks         → []AuthLock
//
// Errors are {"error": "..."} with 404 for an id not queued, 400 for an
// address that is not one or a directory adopt refuses, 409 for a spool
// directory another process holds.

// counted is the body of retry and delete answers.
type counted struct {
	Retried int `json:"retried,omitempty"`
	Deleted int `json:"deleted,omitempty"`
}

// adoptRequest is the body of POST /spool/adopt.
type adoptRequest struct {
	Dir string `json:"dir"`
}

type errorBody struct {
	Error string `json:"error"`
}

// AuthLockout is the SMTP endpoint's AUTH lockout, which lives in the
// running server's memory (smtpd.Server implements it).
type AuthLockout interface {
	// UnlockAuth forgets every credential's failures and lockout from ip
	// (its /64 for IPv6) and returns how many credentials it forgot.
	UnlockAuth(ip string) int
	// AuthLocks maps each client locked out now (an IPv4 address or an
	// IPv6 /64) to when each of its locked credentials is free again.
	AuthLocks() map[string][]time.Time
}

// AuthLock is one client locked out, as `sesame admin auth list` shows it.
type AuthLock struct {
	Client      string    `json:"client"`       // an IPv4 address or an IPv6 /64
	Credentials int       `json:"credentials"`  // user names locked out from it
	LockedUntil time.Time `json:"locked_until"` // when the last of them is free again
}

// Unlocked is the answer to an unlock.
type Unlocked struct {
	IP      string `json:"ip"`
	Cleared int    `json:"cleared"`
}

// Server serves the control socket of a running server.
type Server struct {
	srv  *http.Server
	path string
}

// Listen opens the control socket at path (mode 0600), replacing a stale one,
// and serves sp's queue and auth's lockout (nil: none) on it until Close.
func Listen(path string, sp *spool.Spool, auth AuthLockout, log *slog.Logger) (*Server, error) {
	removeStale(path)
	l, err := listenPrivate(path)
	if err != nil {
		return nil, fmt.Errorf("control socket: %w", err)
	}
	q := Local(sp)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /queue", func(w http.ResponseWriter, r *http.Request) {
		ms, err := q.List(r.Context())
		reply(w, ms, err)
	})
	mux.HandleFunc("GET /queue/{id}", func(w http.ResponseWriter, r *http.Request) {
		d, err := q.Show(r.Context(), r.PathValue("id"))
		reply(w, d, err)
	})
	mux.HandleFunc("POST /queue/{id}/retry", func(w http.ResponseWriter, r *http.Request) {
		err := q.Retry(r.Context(), r.PathValue("id"))
		reply(w, counted{Retried: 1}, err)
	})
	mux.HandleFunc("POST /queue/retry", func(w http.ResponseWriter, r *http.Request) {
		n, err := q.RetryAll(r.Context())
		reply(w, counted{Retried: n}, err)
	})
	mux.HandleFunc("DELETE /queue/{id}", func(w http.ResponseWriter, r *http.Request) {
		err := q.Delete(r.Context(), r.PathValue("id"))
		reply(w, counted{Deleted: 1}, err)
	})
	mux.HandleFunc("POST /spool/adopt", func(w http.ResponseWriter, r *http.Request) {
		var req adoptRequest
		if err := json.NewDecoder(io.LimitReader(r.Body, 64<<10)).Decode(&req); err != nil || !filepath.IsAbs(req.Dir) {
			replyStatus(w, http.StatusBadRequest, errors.New(`want {"dir": an absolute path}`))
			return
		}
		res, err := q.Adopt(r.Context(), req.Dir)
		reply(w, res, err)
	})
	mux.HandleFunc("POST /auth/unlock/{ip}", func(w http.ResponseWriter, r *http.Request) {
		ip, err := netip.ParseAddr(r.PathValue("ip"))
		switch {
		case err != nil:
			replyStatus(w, http.StatusBadRequest, fmt.Errorf("%q is not an IP address", r.PathValue("ip")))
		case auth == nil:
			replyStatus(w, http.StatusServiceUnavailable, errors.New("this server has no SMTP AUTH lockout"))
		default:
			a := ip.Unmap().String()
			n := auth.UnlockAuth(a)
			log.Info("control socket: SMTP AUTH lockout cleared", "ip", a, "cleared", n)
			reply(w, Unlocked{IP: a, Cleared: n}, nil)
		}
	})
	mux.HandleFunc("GET /auth/locks", func(w http.ResponseWriter, r *http.Request) {
		if auth == nil {
			replyStatus(w, http.StatusServiceUnavailable, errors.New("this server has no SMTP AUTH lockout"))
			return
		}
		reply(w, authLocks(auth.AuthLocks()), nil)
	})
	s := &Server{path: path, srv: &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}}
	go func() {
		if err := s.srv.Serve(l); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("control socket stopped", "err", err)
		}
	}()
	return s, nil
}

// listenPrivate listens on a unix socket at path that nobody but its owner
// could ever connect to. The socket's mode is what guards it, and a socket
// made where it belongs would be open to others (by the umask) until a
// chmod: so it is made in a directory of mode 0700, chmod'ed there, and
// only then renamed into place. Without changing the umask, which is the
// whole process's.
func listenPrivate(path string) (net.Listener, error) {
	dir, err := os.MkdirTemp(filepath.Dir(path), ".control-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	tmp := filepath.Join(dir, filepath.Base(path))
	l, err := net.Listen("unix", tmp)
	if err != nil {
		return nil, err
	}
	// Close removes the socket where it ends up (Server.Close), not here.
	l.(*net.UnixListener).SetUnlinkOnClose(false)
	if err := os.Chmod(tmp, 0o600); err != nil {
		l.Close()
		return nil, err
	}
	if err := os.Rename(tmp, path); err != nil {
		l.Close()
		return nil, err
	}
	return l, nil
}

// Start is Listen for `sesame serve`: a control socket that cannot be opened
// is logged, not fatal (mail still flows; admin then cannot reach the
// queue), and the result can always be closed.
func Start(path string, sp *spool.Spool, auth AuthLockout, log *slog.Logger) io.Closer {
	s, err := Listen(path, sp, auth, log)
	if err != nil {
		log.Error("no control socket: `sesame admin queue` and `auth` cannot reach this server", "err", err)
		return io.NopCloser(nil)
	}
	return s
}

// Close stops serving and removes the socket.
func (s *Server) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := s.srv.Shutdown(ctx)
	os.Remove(s.path)
	return err
}

// authLocks orders the lockout's clients for listing.
func authLocks(m map[string][]time.Time) []AuthLock {
	out := make([]AuthLock, 0, len(m))
	for client, until := range m {
		l := AuthLock{Client: client, Credentials: len(until)}
		for _, t := range until {
			if t.After(l.LockedUntil) {
				l.LockedUntil = t
			}
		}
		out = append(out, l)
	}
	slices.SortFunc(out, func(a, b AuthLock) int { return strings.Compare(a.Client, b.Client) })
	return out
}

func reply(w http.ResponseWriter, v any, err error) {
	if err != nil {
		code := http.StatusInternalServerError
		switch {
		case errors.Is(err, spool.ErrNotPending):
			code = http.StatusNotFound
		case errors.Is(err, spool.ErrNotSpool), errors.Is(err, spool.ErrOwnSpool):
			code = http.StatusBadRequest
		case errors.Is(err, spool.ErrInUse):
			code = http.StatusConflict
		}
		replyStatus(w, code, err)
		return
	}
	write(w, http.StatusOK, v)
}

func replyStatus(w http.ResponseWriter, code int, err error) {
	write(w, code, errorBody{Error: err.Error()})
}

func write(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	// Unescaped, like the admin's output: `curl --unix-socket` users read
	// the <addresses> of header fields and errors as they are.
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.Encode(v)
}
