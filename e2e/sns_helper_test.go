//go:build linux

package e2e

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"sesame/internal/sns"
	"sesame/internal/testenv"
)

// TestSNSHelperRunsAtIdlePriority: `sesame serve` starts SNS's signing
// helper as a child process, and every thread of it runs under
// SCHED_IDLE; with [sns] inline = true there is none.
func TestSNSHelperRunsAtIdlePriority(t *testing.T) {
	s := testenv.Start(t, testenv.Options{})
	// The server does not wait for its helper: wait until the helper has
	// set its policy and run itself again (the variable marks that).
	var helpers []int
	waitFor(t, "the SNS helper, run again at idle priority", func() bool {
		helpers = snsHelpers(t, s.PID())
		if len(helpers) != 1 {
			return false
		}
		env, _ := os.ReadFile("/proc/" + strconv.Itoa(helpers[0]) + "/environ")
		return strings.Contains(string(env), "SESAME_LOWPRIO_REEXEC=")
	})
	tasks, _ := filepath.Glob("/proc/" + strconv.Itoa(helpers[0]) + "/task/*")
	if len(tasks) == 0 {
		t.Fatal("the helper has no threads to read")
	}
	for _, task := range tasks {
		tid, _ := strconv.Atoi(filepath.Base(task))
		a, err := unix.SchedGetAttr(tid, 0)
		if err != nil {
			continue // the thread ended meanwhile
		}
		if a.Policy != unix.SCHED_IDLE {
			t.Errorf("helper thread %d runs under policy %d, want SCHED_IDLE (%d)", tid, a.Policy, unix.SCHED_IDLE)
		}
	}
	if a, err := unix.SchedGetAttr(s.PID(), 0); err != nil || a.Policy == unix.SCHED_IDLE {
		t.Errorf("the server itself: %+v, %v", a, err)
	}

	inline := testenv.Start(t, testenv.Options{Extra: "[sns]\ninline = true\n"})
	if h := snsHelpers(t, inline.PID()); len(h) != 0 {
		t.Errorf("with inline = true: %d helper processes, want none", len(h))
	}
}

// snsHelpers are the pids of parent's children running sns.HelperSubcommand.
func snsHelpers(t *testing.T, parent int) []int {
	t.Helper()
	stats, _ := filepath.Glob("/proc/[0-9]*/stat")
	var out []int
	for _, st := range stats {
		b, err := os.ReadFile(st)
		if err != nil {
			continue
		}
		// pid (comm) state ppid …: comm may hold spaces, so after the last ')'.
		f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+1:]))
		if len(f) < 2 || f[1] != strconv.Itoa(parent) {
			continue
		}
		dir := filepath.Dir(st)
		cmdline, _ := os.ReadFile(filepath.Join(dir, "cmdline"))
		if strings.Contains(string(cmdline), sns.HelperSubcommand) {
			pid, _ := strconv.Atoi(filepath.Base(dir))
			out = append(out, pid)
		}
	}
	return out
}
