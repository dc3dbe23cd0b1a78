package lowprio

import (
	"context"
	"runtime"
	"sync/atomic"
	"time"
)

// Meter says whether this process keeps the machine busy. It becomes busy
// when the CPU time it used over a sample period is at least Threshold of
// the CPUs it may use (GOMAXPROCS, which follows a container's CPU limit),
// and stays busy until it has used less than leaveFactor of that for
// leaveAfter: work that waits while the process is busy must not make it
// look idle by taking CPU from it the moment it starts. A helper's CPU is
// its own process's, so the Meter sees only the server's work.
type Meter struct {
	// Threshold is the fraction of the CPUs (0–1) from which the process
	// is busy; 0 is never busy.
	Threshold float64
	// Period is how often CPU time is sampled (default 100 ms).
	Period time.Duration

	busy atomic.Bool
}

// A busy process is idle again after leaveAfter under leaveFactor of
// Threshold.
const (
	leaveFactor = 0.6
	leaveAfter  = 500 * time.Millisecond
)

// Busy reports the last sample.
func (m *Meter) Busy() bool { return m != nil && m.busy.Load() }

// Run samples until ctx ends.
func (m *Meter) Run(ctx context.Context) {
	if m.Threshold <= 0 {
		return
	}
	period := m.Period
	if period <= 0 {
		period = 100 * time.Millisecond
	}
	t := time.NewTicker(period)
	defer t.Stop()
	lastCPU, ok := processCPU()
	if !ok {
		return // no figure on this system: never busy
	}
	lastAt := time.Now()
	var quiet time.Duration // how long usage has been under the leaving mark
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		cpu, _ := processCPU()
		now := time.Now()
		used := float64(cpu-lastCPU) / float64(now.Sub(lastAt)) / float64(runtime.GOMAXPROCS(0))
		lastCPU, lastAt = cpu, now
		switch {
		case used >= m.Threshold:
			m.busy.Store(true)
			quiet = 0
		case used < leaveFactor*m.Threshold:
			if quiet += period; quiet >= leaveAfter {
				m.busy.Store(false)
			}
		default:
			quiet = 0
		}
	}
}
