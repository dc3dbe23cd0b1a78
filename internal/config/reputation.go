package config

import "time"

// Reputation is the [reputation] section: how sesame judges bounce and
// complaint rates and what it does about them (internal/reputation).
type Reputation struct {
	// Enforce: at the review thresholds an account goes on PROBATION, at
	// the pause thresholds its sending (or a configuration set's with
	// reputation metrics) is paused. false: the rates are only recorded.
	Enforce bool `toml:"enforce"`
	// EvaluateEvery is how often the rates are judged.
	EvaluateEvery Duration `toml:"evaluate_every"`
	// Window is how far back the rates look at most.
	Window Duration `toml:"window"`
	// RepresentativeVolume: the rates are over the newest sends, back to
	// this many recipients (or Window).
	RepresentativeVolume int64 `toml:"representative_volume"`
	// MinVolume: with fewer recipients in the window nothing is judged.
	MinVolume int64 `toml:"min_volume"`
	// Rates (0.05 = 5 %) at or above which an account is under review or
	// paused.
	BounceReview    float64 `toml:"bounce_review"`
	BouncePause     float64 `toml:"bounce_pause"`
	ComplaintReview float64 `toml:"complaint_review"`
	ComplaintPause  float64 `toml:"complaint_pause"`
}

// defaultReputation is SES's: review at 5 % bounces or 0.1 % complaints,
// pause at 10 % or 0.5 %.
func defaultReputation() Reputation {
	return Reputation{
		Enforce:              true,
		EvaluateEvery:        Duration{time.Minute},
		Window:               Duration{14 * 24 * time.Hour},
		RepresentativeVolume: 10000,
		MinVolume:            100,
		BounceReview:         0.05,
		BouncePause:          0.10,
		ComplaintReview:      0.001,
		ComplaintPause:       0.005,
	}
}

// validate checks the [reputation] keys.
func (r *Reputation) validate(bad func(key, format string, args ...any) error) error {
	if r.EvaluateEvery.Duration < 10*time.Millisecond {
		return bad("reputation.evaluate_every", "must be at least 10ms, got %s", r.EvaluateEvery.Duration)
	}
	if r.Window.Duration < 15*time.Minute || r.Window.Duration > 14*24*time.Hour {
		return bad("reputation.window", "must be between 15m and 336h (the two weeks of statistics kept), got %s", r.Window.Duration)
	}
	if r.RepresentativeVolume < 1 {
		return bad("reputation.representative_volume", "must be at least 1, got %d", r.RepresentativeVolume)
	}
	if r.MinVolume < 1 {
		return bad("reputation.min_volume", "must be at least 1, got %d", r.MinVolume)
	}
	for _, t := range []struct {
		key string
		v   float64
	}{
		{"reputation.bounce_review", r.BounceReview}, {"reputation.bounce_pause", r.BouncePause},
		{"reputation.complaint_review", r.ComplaintReview}, {"reputation.complaint_pause", r.ComplaintPause},
	} {
		if !(t.v > 0 && t.v <= 1) {
			return bad(t.key, "must be a rate above 0 and at most 1 (0.05 = 5 %%), got %g", t.v)
		}
	}
	if r.BouncePause < r.BounceReview {
		return bad("reputation.bounce_pause", "must not be below reputation.bounce_review (%g), got %g", r.BounceReview, r.BouncePause)
	}
	if r.ComplaintPause < r.ComplaintReview {
		return bad("reputation.complaint_pause", "must not be below reputation.complaint_review (%g), got %g", r.ComplaintReview, r.ComplaintPause)
	}
	return nil
}
