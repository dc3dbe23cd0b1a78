package e2e

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"sesame/internal/testenv"
)

// TestSpoolAdoptDeadNode: mail queued on a node that cannot deliver it
// (its MX greylists, next try in an hour) is moved, once that node is
// stopped, into a second running node's spool with `admin spool adopt`;
// the second node captures each message exactly once, a second adopt
// finds nothing, and the first node, started again, has nothing left to
// send. While the first node runs, its spool is refused.
func TestSpoolAdoptDeadNode(t *testing.T) {
	d := testenv.StartDNS(t)
	sinks, port := testenv.StartSinks(t, testenv.SinkOptions{Greylist: 100})
	d.SetA("mx2.test", "127.0.0.2")
	d.SetMX("grey.test", 10, "mx2.test")
	dead := startProduction(t, testenv.Options{Extra: fmt.Sprintf(`[delivery]
mode = "mx"
resolver = %q
mx_port = %s
retry_min = "1h"
retry_max = "2h"
`, d.Addr, port)})
	live := startProduction(t, testenv.Options{}) // capture mode
	dead.Verify("example.com")
	subjects := []string{"adopted one", "adopted two"}
	for _, s := range subjects {
		smtpSendTo(t, dead, "sender@example.com", s, "u@grey.test")
	}
	type queued struct {
		ID       string `json:"id"`
		Attempts int    `json:"attempts"`
	}
	list := func(s *testenv.Server) []queued {
		var q []queued
		s.Admin(&q, "queue", "list")
		return q
	}
	waitFor(t, "two deferred messages", func() bool {
		q := list(dead)
		return len(q) == 2 && q[0].Attempts == 1 && q[1].Attempts == 1
	})
	ids := map[string]bool{}
	for _, m := range list(dead) {
		ids[m.ID] = true
	}
	spoolDir := filepath.Join(dead.Dir, "spool")

	out, err := live.AdminRaw("spool", "adopt", spoolDir)
	if err == nil || !strings.Contains(string(out), "in use") {
		t.Fatalf("adopting a running node's spool: %v\n%s", err, out)
	}

	dead.Stop()
	type adopted struct {
		Adopted, Skipped int
		Source           string
	}
	var res adopted
	live.Admin(&res, "spool", "adopt", spoolDir)
	if res != (adopted{Adopted: 2, Source: spoolDir}) {
		t.Fatalf("spool adopt = %+v", res)
	}
	msgs := live.WaitCaptured(2, 15*time.Second)
	got := map[string]int{}
	for _, m := range msgs {
		got[m.ID]++
	}
	for id := range ids {
		if got[id] != 1 {
			t.Errorf("message %s captured %d times on the live node (captured: %v)", id, got[id], got)
		}
	}
	waitFor(t, "the live node's empty queue", func() bool { return len(list(live)) == 0 })

	live.Admin(&res, "spool", "adopt", spoolDir)
	if res != (adopted{Source: spoolDir}) {
		t.Errorf("second spool adopt = %+v", res)
	}
	dead.Restart()
	if q := list(dead); len(q) != 0 {
		t.Errorf("the adopted node still queues %+v", q)
	}
	if n := len(live.Captured("")); n != 2 {
		t.Errorf("%d captured messages on the live node, want 2", n)
	}
	if n := len(sinks[0].Messages()); n != 0 {
		t.Errorf("the dead node's MX got %d messages", n)
	}
}
