package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"sesame/internal/config"
	"sesame/internal/events"
	"sesame/internal/metrics"
	"sesame/internal/spool"
	"sesame/internal/store"
)

// metricsHandler serves GET /metrics: the process's counters and the
// levels of the spool, the event outbox and SNS's queue, read at scrape
// time.
func metricsHandler(sp *spool.Spool, st *store.Store, log *slog.Logger) http.Handler {
	return metrics.Handler(metrics.Sources{
		Queue: func() metrics.QueueStats {
			s := sp.Stats()
			return metrics.QueueStats{Pending: s.Pending, Deferred: s.Deferred, Oldest: sp.Oldest()}
		},
		OutboxBacklog: func(ctx context.Context) (int64, error) {
			return st.OutboxBacklog(ctx, events.PublishCursor)
		},
		SNSBacklog: st.SNSBacklog,
		Logger:     log.With("component", "metrics"),
	})
}

// onAPIListener is h when [metrics] api_listener is on, else nil (no
// /metrics route on the API listener).
func onAPIListener(cfg config.Config, h http.Handler) http.Handler {
	if !cfg.Metrics.APIListener {
		return nil
	}
	return h
}

// metricsListener is the optional listener of its own for /metrics
// ([metrics] listen), bound before anything serves.
type metricsListener struct {
	srv *http.Server
	ln  net.Listener
}

// bindMetrics binds [metrics] listen; nil when it is not set.
func bindMetrics(cfg config.Config, h http.Handler) (*metricsListener, error) {
	if cfg.Metrics.Listen == "" {
		return nil, nil
	}
	ln, err := net.Listen("tcp", cfg.Metrics.Listen)
	if err != nil {
		return nil, fmt.Errorf("metrics listener: %w", err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", h)
	return &metricsListener{srv: &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}, ln: ln}, nil
}

// serve runs the server, reporting its end on errc.
func (m *metricsListener) serve(errc chan<- error) {
	if m != nil {
		go func() {
			if err := m.srv.Serve(m.ln); !errors.Is(err, http.ErrServerClosed) {
				errc <- err
			}
		}()
	}
}

// close releases the socket of a listener that never served.
func (m *metricsListener) close() {
	if m != nil {
		m.ln.Close()
	}
}

func (m *metricsListener) shutdown(ctx context.Context, log *slog.Logger) {
	if m == nil {
		return
	}
	if err := m.srv.Shutdown(ctx); err != nil {
		log.Warn("metrics shutdown", "err", err)
	}
}
