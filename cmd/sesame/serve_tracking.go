package main

import (
	"context"
	"log/slog"
	"net/http"

	"sesame/internal/clock"
	"sesame/internal/config"
	"sesame/internal/events"
	"sesame/internal/listmgmt"
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

// bindTracking binds [tracking] listen; nil when the tracking URLs are
// served on the API's listener.
func bindTracking(cfg config.Config, h http.Handler) (*httpListener, error) {
	// SES refuses requests whose headers pass 8 KB (configure-custom-open-click-domains).
	return bindHTTP("tracking", cfg.Tracking.Listen, h, 8192)
}

// newListManagement is subscription management's wiring: unsubscribe
// links signed with the tracking key (one secret for every link in mail),
// pointing at the API listener as verification.link_base_url says, and
// the endpoint that answers them (recording Subscription events through
// the outbox).
func newListManagement(ctx context.Context, cfg config.Config, st *store.Store, clk clock.Clock, log *slog.Logger) (*sending.ListManagement, http.Handler, error) {
	key, err := st.TrackingKey(ctx)
	if err != nil {
		return nil, nil, err
	}
	links := listmgmt.NewLinks(key)
	log = log.With("component", "listmgmt")
	h := &listmgmt.Handler{Links: links, Store: st, Now: clk.Now, Logger: log,
		Sink: &events.Subscriptions{Store: st, Clock: clk, Logger: log}}
	return &sending.ListManagement{Links: links, BaseURL: cfg.LinkBaseURL()}, h, nil
}
