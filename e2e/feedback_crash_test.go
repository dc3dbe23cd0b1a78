package e2e

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"

	"sesame/internal/testenv"
)

// TestFeedbackCrashKeepsAcknowledgedReports: receivers send asynchronous
// DSNs to the feedback MX while sesame is killed with SIGKILL; after the
// restart every DSN that got its 250 has had its effect (the address is on
// the suppression list) and the sender gets sesame's DSN about it.
func TestFeedbackCrashKeepsAcknowledgedReports(t *testing.T) {
	d := testenv.StartDNS(t)
	sinks, port := testenv.StartSinks(t, testenv.SinkOptions{})
	d.SetA("mx2.test", "127.0.0.2")
	d.SetMX("a.test", 10, "mx2.test")
	d.SetMX("example.com", 10, "mx2.test")
	fbAddr := testenv.FreeAddr(t)
	s := startMXServer(t, d, port, fmt.Sprintf("[feedback]\nlisten = [%q]\n", fbAddr))
	s.Verify("example.com")

	const n = 200
	for i := range n {
		smtpSendTo(t, s, "sender@example.com", "crash feedback", fmt.Sprintf("r%03d@a.test", i))
	}
	waitFor(t, "the messages delivered", func() bool { return len(sinks[0].Messages()) == n })
	bounceAddr := map[string]string{} // recipient → its message's bounce address
	for _, m := range sinks[0].Messages() {
		bounceAddr[m.Recipients[0]] = m.From
	}
	// The last message's record reaches the sent log within a batch.
	last := fmt.Sprintf("r%03d@a.test", n-1)
	waitFor(t, "the sent records", func() bool {
		id, _, _ := strings.Cut(bounceAddr[last], "@")
		return sendFeedback(fbAddr, bounceAddr[last], asyncDSN(id, last)) == nil
	})

	var (
		mu    sync.Mutex
		acked = map[string]bool{last: true}
		count atomic.Int64
		wg    sync.WaitGroup
	)
	work := make(chan string, n)
	for i := range n - 1 {
		work <- fmt.Sprintf("r%03d@a.test", i)
	}
	close(work)
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for rcpt := range work {
				id, _, _ := strings.Cut(bounceAddr[rcpt], "@")
				if err := sendFeedback(fbAddr, bounceAddr[rcpt], asyncDSN(id, rcpt)); err != nil {
					continue // refused or cut by the kill: the receiver would retry
				}
				mu.Lock()
				acked[rcpt] = true
				mu.Unlock()
				count.Add(1)
			}
		}()
	}
	deadline := time.Now().Add(30 * time.Second)
	for count.Load() < n/3 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	s.Kill() // mid-load: reports in DATA, in the store, in the spool
	wg.Wait()
	t.Logf("killed after %d of %d reports acknowledged", len(acked), n)
	if len(acked) < n/3 || len(acked) == n {
		t.Fatalf("%d reports acknowledged: the kill did not land mid-load", len(acked))
	}
	s.Restart()

	cl := s.SESv2Client(t)
	for rcpt := range acked {
		got, err := cl.GetSuppressedDestination(context.Background(), &sesv2.GetSuppressedDestinationInput{EmailAddress: aws.String(rcpt)})
		if err != nil {
			t.Fatalf("%s: its DSN was acknowledged, but: %v", rcpt, err)
		}
		if got.SuppressedDestination.Reason != "BOUNCE" {
			t.Errorf("%s suppressed for %s", rcpt, got.SuppressedDestination.Reason)
		}
	}
	// Every acknowledged report reaches the sender as sesame's DSN (at
	// least once: one spooled just before the kill may come twice).
	told := func() map[string]bool {
		m := map[string]bool{}
		for _, msg := range sinks[0].Messages() {
			if msg.From != "" {
				continue
			}
			for rcpt := range acked {
				if strings.Contains(string(msg.Data), "Final-Recipient: rfc822; "+rcpt+"\r\n") {
					m[rcpt] = true
				}
			}
		}
		return m
	}
	waitFor(t, "the sender's DSNs", func() bool { return len(told()) == len(acked) })
}
