//go:build linux

package e2e

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"sesame/internal/awsauth"
	"sesame/internal/testenv"
)

// openFiles counts the process's open file descriptors.
func openFiles(t *testing.T, pid int) int {
	t.Helper()
	ents, err := os.ReadDir("/proc/" + strconv.Itoa(pid) + "/fd")
	if err != nil {
		t.Fatal(err)
	}
	return len(ents)
}

// TestReliabilityLoadHeldShort is the CI form of reliability/soak.sh and
// reliability/load-held.sh: 1,000 idle SMTP connections are held at once and
// all released by the idle timeout; SMTP sessions send a load; HTTP
// requests whose headers are trickled are cut by the header deadline.
// Afterwards the server's goroutines and open files come back to where they
// started: no connection, session or request leaves anything behind.
func TestReliabilityLoadHeldShort(t *testing.T) {
	const idle = 1000
	s := startProduction(t, testenv.Options{SMTPExtra: "idle_timeout = \"3s\"\nmax_connections = 2000\n"})
	s.Verify("example.com")
	metricsURL := "http://" + s.API + "/metrics"
	goroutines := func() int { return int(testenv.ScrapeNodeMetrics(t, metricsURL, s.Node)["go_goroutines"]) }
	time.Sleep(1100 * time.Millisecond) // admin changes reach the running server within a second
	baseG, baseF := goroutines(), openFiles(t, s.PID())

	// 1,000 idle connections, each greeted, all closed by the server.
	var greeted, closed atomic.Int64
	var wg sync.WaitGroup
	sem := make(chan struct{}, 100)
	start := time.Now()
	var mu sync.Mutex
	var longest time.Duration
	var refused atomic.Int64
	for i := range idle {
		wg.Go(func() {
			sem <- struct{}{}
			// From 100 loopback addresses, 10 each: a per-IP connection
			// cap is not what this measures.
			d := net.Dialer{Timeout: 10 * time.Second,
				LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 0, 1, byte(10+i%100))}}
			c, err := d.Dial("tcp", s.SMTP)
			<-sem
			if err != nil {
				t.Errorf("dial: %v", err)
				return
			}
			defer c.Close()
			c.SetDeadline(time.Now().Add(time.Minute))
			r := bufio.NewReader(c)
			l, err := r.ReadString('\n')
			switch {
			case err == nil && strings.HasPrefix(l, "421"):
				refused.Add(1) // a cap; counted, not held
				return
			case err != nil || !strings.HasPrefix(l, "220"):
				t.Errorf("greeting: %q %v", l, err)
				return
			}
			opened := time.Now()
			greeted.Add(1)
			for {
				if _, err := r.ReadByte(); err != nil {
					break // the idle timeout's 421, then the close
				}
			}
			closed.Add(1)
			mu.Lock()
			longest = max(longest, time.Since(opened))
			mu.Unlock()
		})
	}
	waitForWithin(t, "every idle connection greeted", time.Minute, func() bool { return greeted.Load()+refused.Load() >= idle || t.Failed() })
	peakF := openFiles(t, s.PID())
	wg.Wait()
	t.Logf("%d idle connections greeted and held (server: %d open files at the peak, %d before), all closed by the server within %v of their greeting (%v in all)",
		greeted.Load(), peakF, baseF, longest.Round(100*time.Millisecond), time.Since(start).Round(100*time.Millisecond))
	if refused.Load() > 0 {
		t.Logf("%d connections refused with 421 (a connection cap)", refused.Load())
	}
	if greeted.Load() < idle/2 || closed.Load() != greeted.Load() {
		t.Fatalf("%d of %d idle connections greeted, %d of them closed by the server", greeted.Load(), idle, closed.Load())
	}
	if longest > 30*time.Second {
		t.Errorf("an idle connection was held %v with idle_timeout = 3s", longest)
	}

	// A load over SMTP.
	pw := awsauth.SMTPPassword(s.Secret, s.Regions[0])
	var acked atomic.Int64
	stop := make(chan struct{})
	var lw sync.WaitGroup
	for i := range 10 {
		lw.Go(func() {
			smtpLoad(s.SMTP, s.KeyID, pw, fmt.Sprintf("load%d@example.net", i), stop, func(string) { acked.Add(1) })
		})
	}
	waitForWithin(t, "the load", 2*time.Minute, func() bool { return acked.Load() >= 2000 })
	close(stop)
	lw.Wait()

	// HTTP slow-loris on the headers: cut by the header deadline.
	var hw sync.WaitGroup
	var cut atomic.Int64
	for range 20 {
		hw.Go(func() {
			c, err := net.DialTimeout("tcp", s.API, 10*time.Second)
			if err != nil {
				t.Errorf("dial API: %v", err)
				return
			}
			defer c.Close()
			c.SetDeadline(time.Now().Add(time.Minute))
			c.Write([]byte("GET /_sesame/health HTTP/1.1\r\nHost: x\r\nX-Slow: "))
			done := make(chan struct{})
			go func() {
				b := make([]byte, 512)
				for {
					if _, err := c.Read(b); err != nil {
						close(done)
						return
					}
				}
			}()
			tick := time.NewTicker(500 * time.Millisecond)
			defer tick.Stop()
			for {
				select {
				case <-done:
					cut.Add(1)
					return
				case <-tick.C:
					c.Write([]byte("x"))
				}
			}
		})
	}
	hw.Wait()
	if cut.Load() != 20 {
		t.Errorf("%d of 20 trickled HTTP requests cut within a minute", cut.Load())
	}

	// Back to where it started.
	waitForWithin(t, "goroutines and open files back to their level before the load", time.Minute, func() bool {
		return goroutines() <= baseG+10 && openFiles(t, s.PID()) <= baseF+10
	})
	t.Logf("%d messages sent; goroutines %d before, %d after; open files %d before, %d after",
		acked.Load(), baseG, goroutines(), baseF, openFiles(t, s.PID()))
}
