package lowprio

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// threadPolicies lists the scheduling policy of each of the process's
// threads, e.g. "5 5 5 5".
func threadPolicies() string {
	tasks, _ := filepath.Glob("/proc/self/task/*")
	var out []string
	for _, t := range tasks {
		tid, err := strconv.Atoi(filepath.Base(t))
		if err != nil {
			continue
		}
		a, err := unix.SchedGetAttr(tid, 0)
		if err != nil {
			continue // the thread ended meanwhile
		}
		out = append(out, strconv.Itoa(int(a.Policy)))
	}
	return strings.Join(out, " ")
}

// Every thread of the helper runs under SCHED_IDLE, and the server's own
// do not.
func TestHelperIsIdlePriority(t *testing.T) {
	c := newClient(t)
	got, err := c.Call(context.Background(), []byte("policy"))
	if err != nil {
		t.Fatal(err)
	}
	ps := strings.Fields(string(got))
	if len(ps) < 2 {
		t.Fatalf("helper threads' policies = %q", got)
	}
	for _, p := range ps {
		if p != strconv.Itoa(unix.SCHED_IDLE) {
			t.Errorf("helper threads' policies = %q, want all %d (SCHED_IDLE)", got, unix.SCHED_IDLE)
			break
		}
	}
	if os.Getenv(reexecVar) != "" || strings.Contains(threadPolicies(), strconv.Itoa(unix.SCHED_IDLE)) {
		t.Errorf("the test process itself runs under SCHED_IDLE: %q", threadPolicies())
	}
}
