package reputation

import (
	"context"
	"log/slog"
	"time"

	"sesame/internal/clock"
)

// Store is everything the Service needs of the store.
type Store interface {
	EvaluatorStore
	PruneSendStats(ctx context.Context, cutoff time.Time) (int64, error)
}

// StatisticsKept is how long buckets are kept: SES's GetSendStatistics
// covers two weeks; a day more for clocks that disagree.
const StatisticsKept = 15 * 24 * time.Hour

// Service evaluates reputations every EvaluateEvery and prunes old
// statistics.
type Service struct {
	Store     Store
	Evaluator *Evaluator
	// EvaluateEvery is how often reputations are judged (default 1 min).
	EvaluateEvery time.Duration
	Clock         clock.Clock
	Logger        *slog.Logger
}

// pruneEvery is how often old buckets are deleted.
const pruneEvery = time.Hour

// Run evaluates until ctx ends. Failures are logged and tried
// again on the next round.
func (s *Service) Run(ctx context.Context) error {
	clk, log := s.Clock, s.Logger
	if clk == nil {
		clk = clock.Real{}
	}
	if log == nil {
		log = slog.Default()
	}
	evalEvery := s.EvaluateEvery
	if evalEvery <= 0 {
		evalEvery = time.Minute
	}
	var lastEval, lastPrune time.Time
	for ctx.Err() == nil {
		now := clk.Now()
		if s.Evaluator != nil && now.Sub(lastEval) >= evalEvery {
			lastEval = now
			if err := s.Evaluator.Evaluate(ctx); err != nil && ctx.Err() == nil {
				log.Error("reputation: evaluating", "err", err)
			}
		}
		if now.Sub(lastPrune) >= pruneEvery {
			lastPrune = now
			if _, err := s.Store.PruneSendStats(ctx, now.Add(-StatisticsKept)); err != nil && ctx.Err() == nil {
				log.Error("reputation: pruning statistics", "err", err)
			}
		}
		select {
		case <-time.After(min(evalEvery, time.Second)):
		case <-ctx.Done():
		}
	}
	return nil
}
