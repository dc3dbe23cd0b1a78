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
	"os"
	"path/filepath"
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
//
// Errors are {"error": "..."} with 404 for an id not queued.

// counted is the body of retry and delete answers.
type counted struct {
	Retried int `json:"retried,omitempty"`
	Deleted int `json:"deleted,omitempty"`
}

type errorBody struct {
	Error string `json:"error"`
}

// Server serves the control socket of a running server.
type Server struct {
	srv  *http.Server
	path string
}

// Listen opens the control socket at path (mode 0600), replacing a stale one,
// and serves sp's queue on it until Close.
func Listen(path string, sp *spool.Spool, log *slog.Logger) (*Server, error) {
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
func Start(path string, sp *spool.Spool, log *slog.Logger) io.Closer {
	s, err := Listen(path, sp, log)
	if err != nil {
		log.Error("no control socket: `sesame admin queue` cannot reach this server", "err", err)
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

func reply(w http.ResponseWriter, v any, err error) {
	w.Header().Set("Content-Type", "application/json")
	if err != nil {
		code := http.StatusInternalServerError
		if errors.Is(err, spool.ErrNotPending) {
			code = http.StatusNotFound
		}
		w.WriteHeader(code)
		v = errorBody{Error: err.Error()}
	}
	json.NewEncoder(w).Encode(v)
}
