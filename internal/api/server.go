// Package api is sesame's HTTP face: in this slice the captured-mail endpoint
// `/_aws/ses` in LocalStack's format (so tools written for LocalStack work
// against sesame), and a health check; the SES v1 and v2 APIs join it with
// their own issue. The api package never decides policy: sending does.
package api

import (
	"context"
	"encoding/json"
	"log/slog"
	"net"
	"net/http"
	"time"

	"sesame/internal/store"
)

// Server serves the HTTP API.
type Server struct {
	store  *store.Store
	log    *slog.Logger
	http   *http.Server
	handle http.Handler
}

// New returns a server over st.
func New(st *store.Store, logger *slog.Logger) *Server {
	if logger == nil {
		logger = slog.Default()
	}
	s := &Server{store: st, log: logger}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /_aws/ses", s.listCaptured)
	mux.HandleFunc("DELETE /_aws/ses", s.deleteCaptured)
	mux.HandleFunc("GET /_sesame/health", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	s.handle = mux
	s.http = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	return s
}

// Handler is the server's routes, for tests.
func (s *Server) Handler() http.Handler { return s.handle }

// Serve answers on l until Shutdown.
func (s *Server) Serve(l net.Listener) error {
	err := s.http.Serve(l)
	if err == http.ErrServerClosed {
		return nil
	}
	return err
}

// Shutdown stops the server, letting requests in flight finish.
func (s *Server) Shutdown(ctx context.Context) error { return s.http.Shutdown(ctx) }

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}
