//go:build unix && !linux

package lowprio

import (
	"os/exec"
	"syscall"
)

// detach puts the helper in a process group of its own, so that a
// terminal's Ctrl-C reaches only the server, which then closes the
// helper's stdin.
func detach(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
}

// lowerPriority sets the helper to Nice. A failure leaves it at normal
// priority: slower for mail, still correct.
func lowerPriority() {
	_ = syscall.Setpriority(syscall.PRIO_PROCESS, 0, Nice)
}
