package lowprio

import (
	"os"
	"os/exec"
	"runtime"
	"syscall"

	"golang.org/x/sys/unix"
)

// detach puts the helper in a process group of its own, so that a
// terminal's Ctrl-C reaches only the server, which then closes the
// helper's stdin; and has the kernel kill it the moment the server dies,
// so no notification goes out behind a crashed server's back (a helper
// starved of CPU would be slow to see its stdin end). Linux sends the
// signal when the thread that started the helper ends, which in Go only a
// goroutine locked to its thread can cause: the next call then starts
// another helper.
func detach(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}

// reexecVar marks the helper's second start (see lowerPriority).
const reexecVar = "SESAME_LOWPRIO_REEXEC"

// lowerPriority puts every thread of the helper under SCHED_IDLE: it runs
// only on CPU nothing else wants, and a thread of the server that wakes up
// takes the CPU from it at once (a nice value alone still gets a helper
// about a sixth of a busy core on a recent kernel, measured). On Linux the
// policy is a thread's, not the process's, and the Go runtime has started
// threads before any code of ours runs: so the calling thread takes the
// policy and execs the program again, and every thread of the new image
// descends from it. Nice is set too, for what reads only that. A failure
// leaves the helper at normal priority: slower for mail, still correct.
func lowerPriority() {
	_ = syscall.Setpriority(syscall.PRIO_PGRP, 0, Nice)
	if os.Getenv(reexecVar) != "" {
		return
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	attr := &unix.SchedAttr{Size: unix.SizeofSchedAttr, Policy: unix.SCHED_IDLE}
	if err := unix.SchedSetAttr(0, attr, 0); err != nil {
		return
	}
	exe, err := os.Executable()
	if err != nil {
		return
	}
	env := append(os.Environ(), reexecVar+"=1")
	// Exec returns only on failure; the helper goes on as it is.
	_ = syscall.Exec(exe, os.Args, env)
}
