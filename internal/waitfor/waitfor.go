// Package waitfor is the tests' one bounded wait for something another
// process or goroutine does (a helper's answer, a subscriber's request),
// where no clock can be injected. Leaf package: any test may import it.
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
	deadline := time.Now().Add(Timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", Timeout, what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}
