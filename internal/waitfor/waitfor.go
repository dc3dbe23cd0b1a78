// Package waitfor is the tests' one bounded wait for something another
// process or goroutine does (a helper's answer, a subscriber's request, a
// real server's queue), where no clock can be injected. Leaf package: any
// test may import it.
package waitfor

import (
	"testing"
	"time"
)

// Timeout is how long True waits.
const Timeout = 10 * time.Second

// True polls cond until it holds, failing the test after Timeout.
func True(t testing.TB, what string, cond func() bool) {
	t.Helper()
	Within(t, what, Timeout, cond)
}

// Within is True with a bound of its own, for what takes long on purpose
// (retries with backoff, a restart). It polls quickly at first and then
// every 50 ms, so a condition that runs a command stays cheap.
func Within(t testing.TB, what string, d time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	pause := time.Millisecond
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", d, what)
		}
		time.Sleep(pause)
		pause = min(2*pause, 50*time.Millisecond)
	}
}
