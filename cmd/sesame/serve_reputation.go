package main

import (
	"log/slog"

	"sesame/internal/clock"
	"sesame/internal/config"
	"sesame/internal/reputation"
	"sesame/internal/store"
)

// newReputation makes the statistics counter and reputation evaluator of
// the [reputation] section.
func newReputation(cfg config.Reputation, st *store.Store, clk clock.Clock, log *slog.Logger) *reputation.Service {
	log = log.With("component", "reputation")
	return &reputation.Service{
		Store: st, Clock: clk, Logger: log, EvaluateEvery: cfg.EvaluateEvery.Duration,
		Evaluator: &reputation.Evaluator{
			Store: st, Enforce: cfg.Enforce, Window: cfg.Window.Duration,
			Volume: cfg.RepresentativeVolume, MinVolume: cfg.MinVolume, Clock: clk, Logger: log,
			Thresholds: reputation.Thresholds{
				BounceReview: cfg.BounceReview, BouncePause: cfg.BouncePause,
				ComplaintReview: cfg.ComplaintReview, ComplaintPause: cfg.ComplaintPause,
			},
		},
	}
}
