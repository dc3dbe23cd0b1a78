package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"
)

// httpListener is an optional HTTP listener of its own beside the API's
// ([metrics] listen, [tracking] listen), bound before anything serves; nil
// when its key is empty, and every method is then a no-op.
type httpListener struct {
	name string
	srv  *http.Server
	ln   net.Listener
}

// bindHTTP binds addr for h; nil when addr is empty.
func bindHTTP(name, addr string, h http.Handler, maxHeaderBytes int) (*httpListener, error) {
	if addr == "" {
		return nil, nil
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("%s listener: %w", name, err)
	}
	return &httpListener{name: name, ln: ln,
		srv: &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, MaxHeaderBytes: maxHeaderBytes}}, nil
}

// serve runs the server, reporting its end on errc.
func (l *httpListener) serve(errc chan<- error) {
	if l != nil {
		go func() {
			if err := l.srv.Serve(l.ln); !errors.Is(err, http.ErrServerClosed) {
				errc <- err
			}
		}()
	}
}

// close releases the socket of a listener that never served.
func (l *httpListener) close() {
	if l != nil {
		l.ln.Close()
	}
}

func (l *httpListener) shutdown(ctx context.Context, log *slog.Logger) {
	if l == nil {
		return
	}
	if err := l.srv.Shutdown(ctx); err != nil {
		log.Warn(l.name+" shutdown", "err", err)
	}
}
