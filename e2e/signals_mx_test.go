package e2e

import (
	"fmt"
	"sync"
	"syscall"
	"testing"
	"time"

	"sesame/internal/awsauth"
	"sesame/internal/testenv"
)

// TestSignalsSIGTERMDrainsMXDelivery: SIGTERM in mode "mx" while clients
// send and deliveries to a slow MX are under way. sesame exits 0 with no
// ERROR logged, and after a restart every acknowledged message reaches
// the MX; a message twice only if its delivery was in flight at SIGTERM.
func TestSignalsSIGTERMDrainsMXDelivery(t *testing.T) {
	d := testenv.StartDNS(t)
	sinks, port := testenv.StartSinks(t, testenv.SinkOptions{Stall: 5 * time.Millisecond})
	d.SetA("mx2.test", "127.0.0.2")
	d.SetMX("example.net", 10, "mx2.test")
	const inFlight = 4
	s := startLoadServer(t, testenv.Options{Extra: fmt.Sprintf(`[delivery]
mode = "mx"
resolver = %q
mx_port = %s
concurrency = %d
`, d.Addr, port, inFlight)})
	pw := awsauth.SMTPPassword(s.Secret, s.Regions[0])
	var mu sync.Mutex
	acked := map[string]bool{}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			smtpLoad(s.SMTP, s.KeyID, pw, "rcpt@example.net", stop, func(id string) {
				mu.Lock()
				acked[id] = true
				mu.Unlock()
			})
		})
	}
	waitFor(t, "deliveries under way", func() bool { return len(sinks[0].Messages()) >= 100 })
	s.Signal(t, syscall.SIGTERM)
	if code := s.WaitExit(t, 30*time.Second); code != 0 {
		t.Errorf("exit status %d after SIGTERM, want 0", code)
	}
	close(stop)
	wg.Wait()
	if n := countLines(s, "level=ERROR"); n > 0 {
		t.Errorf("%d ERROR lines on a clean stop:\n%s", n, tailLines(s, 10))
	}
	if countLines(s, "msg=drained", "smtp_sessions_cut=0") != 1 {
		t.Errorf("no drained line without cut sessions:\n%s", tailLines(s, 5))
	}
	s.Restart()
	delivered := func() map[string]int {
		seen := map[string]int{}
		for _, m := range sinks[0].Messages() {
			seen[messageIDOf(m.Data)]++
		}
		return seen
	}
	waitForWithin(t, "every acknowledged message delivered", time.Minute, func() bool {
		seen := delivered()
		for id := range acked {
			if seen[id] == 0 {
				return false
			}
		}
		return true
	})
	dups := 0
	for _, n := range delivered() {
		dups += n - 1
	}
	t.Logf("%d acknowledged, all delivered; %d duplicates", len(acked), dups)
	if dups > inFlight {
		t.Errorf("%d duplicates, more than the %d deliveries in flight", dups, inFlight)
	}
}
