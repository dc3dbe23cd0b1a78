//go:build unix

package lowprio

import (
	"syscall"
	"time"
)

// processCPU is the user and system CPU time the process has used (its
// threads, not its children: a helper's time is not in it).
func processCPU() (time.Duration, bool) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0, false
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), true
}
