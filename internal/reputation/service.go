package reputation

import (
	"context"
	"log/slog"
	"time"

	"sesame/internal/clock"
	"sesame/internal/store"
)

// Store is everything the Service needs of the store.
type Store interface {
	CounterStore
	EvaluatorStore
	PruneSendStats(ctx context.Context, cutoff time.Time) (int64, error)
}

// StatisticsKept is how long buckets are kept: SES's GetSendStatistics
// covers two weeks; a day more for clocks that disagree.
const StatisticsKept = 15 * 24 * time.Hour

// Service counts the outbox's events every CountEvery and evaluates
// reputations every EvaluateEvery.
type Service struct {
	Store     Store
	Evaluator *Evaluator
	// CountEvery is how often the outbox is read (default 1 s).
	CountEvery time.Duration
	// EvaluateEvery is how often reputations are judged (default 1 min).
	EvaluateEvery time.Duration
	Clock         clock.Clock
	Logger        *slog.Logger
}

// pruneEvery is how often old buckets are deleted.
const pruneEvery = time.Hour

// Run counts and evaluates until ctx ends. Failures are logged and tried
// again on the next round.
func (s *Service) Run(ctx context.Context) error {
	clk, log := s.Clock, s.Logger
	if clk == nil {
		clk = clock.Real{}
	}
	if log == nil {
		log = slog.Default()
	}
	countEvery, evalEvery := s.CountEvery, s.EvaluateEvery
	if countEvery <= 0 {
		countEvery = time.Second
	}
	if evalEvery <= 0 {
		evalEvery = time.Minute
	}
	var lastEval, lastPrune time.Time
	for ctx.Err() == nil {
		if _, err := CountEvents(ctx, s.Store); err != nil && ctx.Err() == nil {
			log.Error("reputation: counting events", "err", err)
		}
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
		case <-time.After(countEvery):
		case <-ctx.Done():
		}
	}
	return nil
}

var _ Store = (*store.Store)(nil)
