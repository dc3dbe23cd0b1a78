package lowprio

import (
	"context"
	"testing"
	"time"

	"sesame/internal/waitfor"
)

// spin keeps the calling goroutine on the CPU until stop is closed.
func spin(stop <-chan struct{}) {
	for {
		select {
		case <-stop:
			return
		default:
		}
		for i := 0; i < 1e5; i++ {
			_ = i * i
		}
	}
}

// The Meter turns busy while the process keeps its CPUs busy, and idle
// again once it stops.
func TestMeter(t *testing.T) {
	if _, ok := processCPU(); !ok {
		t.Skip("no process CPU time on this system")
	}
	m := &Meter{Threshold: 0.3, Period: 20 * time.Millisecond}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go m.Run(ctx)
	if m.Busy() {
		t.Fatal("busy before anything ran")
	}
	stop := make(chan struct{})
	for range 4 {
		go spin(stop)
	}
	waitfor.True(t, "the meter to see the spinning goroutines", m.Busy)
	close(stop)
	waitfor.True(t, "the meter to see the process idle", func() bool { return !m.Busy() })
	if (*Meter)(nil).Busy() || (&Meter{}).Busy() {
		t.Error("a nil or zero Meter is busy")
	}
}
