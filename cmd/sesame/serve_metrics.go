package main

import (
	"context"
	"log/slog"
	"net/http"

	"sesame/internal/config"
	"sesame/internal/events"
	"sesame/internal/metrics"
	"sesame/internal/spool"
	"sesame/internal/store"
)

// metricsHandler serves GET /metrics: the process's counters and the
// levels of the spool, the event outbox and SNS's queue, read at scrape
// time; each labelled node=<[cluster] node_name>.
func metricsHandler(sp *spool.Spool, st *store.Store, node string, log *slog.Logger) http.Handler {
	return metrics.Handler(metrics.Sources{
		Node: node,
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

// bindMetrics binds [metrics] listen; nil when it is not set.
func bindMetrics(cfg config.Config, h http.Handler) (*httpListener, error) {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", h)
	return bindHTTP("metrics", cfg.Metrics.Listen, mux, 0)
}
