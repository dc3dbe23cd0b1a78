//go:build !unix

package lowprio

import "time"

// processCPU: no figure here, so a Meter is never busy.
func processCPU() (time.Duration, bool) { return 0, false }
