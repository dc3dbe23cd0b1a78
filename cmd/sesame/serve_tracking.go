package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"sesame/internal/clock"
	"sesame/internal/config"
	"sesame/internal/events"
	"sesame/internal/sending"
	"sesame/internal/store"
	"sesame/internal/tracking"
)

// newTracking is open and click tracking's wiring: the signing key from
// the store, what sending needs to place tracking URLs, and the handler
// that answers them (recording Open and Click events through the outbox).
func newTracking(ctx context.Context, cfg config.Config, st *store.Store, clk clock.Clock, log *slog.Logger) (*sending.Tracking, *tracking.Handler, error) {
	key, err := st.TrackingKey(ctx)
	if err != nil {
		return nil, nil, err
	}
	links := tracking.NewLinks(key)
	log = log.With("component", "tracking")
	h := &tracking.Handler{Links: links, Now: clk.Now, Logger: log,
		Sink: &events.Engagements{Store: st, Clock: clk, Logger: log}}
	return &sending.Tracking{Links: links, BaseURL: cfg.TrackingBaseURL()}, h, nil
}

// trackingListener is the tracking URLs' own listener ([tracking] listen),
// bound before anything serves; nil when they are served on the API's.
type trackingListener struct {
	srv *http.Server
	ln  net.Listener
}

func bindTracking(cfg config.Config, h http.Handler) (*trackingListener, error) {
	if cfg.Tracking.Listen == "" {
		return nil, nil
	}
	ln, err := net.Listen("tcp", cfg.Tracking.Listen)
	if err != nil {
		return nil, fmt.Errorf("tracking listener: %w", err)
	}
	return &trackingListener{ln: ln, srv: &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second,
		// SES refuses requests whose headers pass 8 KB (configure-custom-open-click-domains).
		MaxHeaderBytes: 8192}}, nil
}

func (t *trackingListener) serve(errc chan<- error) {
	if t != nil {
		go func() {
			if err := t.srv.Serve(t.ln); !errors.Is(err, http.ErrServerClosed) {
				errc <- err
			}
		}()
	}
}

func (t *trackingListener) close() {
	if t != nil {
		t.ln.Close()
	}
}

func (t *trackingListener) shutdown(ctx context.Context, log *slog.Logger) {
	if t == nil {
		return
	}
	if err := t.srv.Shutdown(ctx); err != nil {
		log.Warn("tracking shutdown", "err", err)
	}
}
