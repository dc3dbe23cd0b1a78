// Command hold holds connections against a server the way an attacker or a
// crowd of idle clients would, and measures how long the server lets them
// stay: many idle SMTP connections (-mode idle), SMTP slow-loris (a command
// line trickled one byte at a time, -mode loris-smtp), and HTTP slow-loris
// (headers, or a body, trickled: -mode loris-http-header, loris-http-body).
// It prints one RESULT line: how many connections were opened, greeted or
// refused, and the time the server took to close them (p50, max), or how
// many were still open when -max ran out.
package main

import (
	"bufio"
	"flag"
	"fmt"
	"net"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

func main() {
	mode := flag.String("mode", "idle", "idle | loris-smtp | loris-http-header | loris-http-body")
	addr := flag.String("addr", "127.0.0.1:2587", "server host:port")
	n := flag.Int("n", 100, "connections")
	dialers := flag.Int("dialers", 200, "connections opened in parallel")
	every := flag.Duration("every", 5*time.Second, "loris modes: one byte this often")
	maxWait := flag.Duration("max", 5*time.Minute, "give up on the server closing after this long")
	sources := flag.Int("sources", 1, "spread the connections over this many loopback source addresses (127.0.1.x, 127.0.2.x, …), so a per-IP cap is not what is measured")
	flag.Parse()

	var greeted, refused, failed atomic.Int64
	var mu sync.Mutex
	var held []time.Duration // per connection: open until the server closed it
	var openNow atomic.Int64
	var peak atomic.Int64
	start := time.Now()
	deadline := start.Add(*maxWait)
	sem := make(chan struct{}, *dialers)
	var wg sync.WaitGroup
	for i := range *n {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			d := net.Dialer{Timeout: 10 * time.Second}
			if *sources > 1 {
				k := i % *sources
				d.LocalAddr = &net.TCPAddr{IP: net.IPv4(127, 0, byte(1+k/250), byte(1+k%250))}
			}
			c, err := d.Dial("tcp", *addr)
			<-sem
			if err != nil {
				failed.Add(1)
				return
			}
			defer c.Close()
			opened := time.Now()
			if o := openNow.Add(1); o > peak.Load() {
				peak.Store(o)
			}
			defer openNow.Add(-1)
			c.SetDeadline(deadline)
			r := bufio.NewReader(c)
			if !strings.HasPrefix(*mode, "loris-http") {
				l, err := r.ReadString('\n')
				switch {
				case err != nil:
					failed.Add(1)
					return
				case strings.HasPrefix(l, "220"):
					greeted.Add(1)
				default:
					refused.Add(1) // 421: too many connections
					return
				}
			}
			closed := make(chan struct{})
			go func() { // the server's close (or its last reply) ends the hold
				defer close(closed)
				for {
					if _, err := r.ReadByte(); err != nil {
						return
					}
				}
			}()
			var trickle string
			switch *mode {
			case "loris-smtp":
				trickle = "EHLO " + strings.Repeat("x", 1<<20)
			case "loris-http-header":
				trickle = "GET /_sesame/health HTTP/1.1\r\nHost: x\r\nX-Slow: " + strings.Repeat("x", 1<<20)
			case "loris-http-body":
				c.Write([]byte("POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 1000000\r\n\r\n"))
				trickle = strings.Repeat("x", 1000000)
			}
			tick := time.NewTicker(*every)
			defer tick.Stop()
			for j := 0; ; j++ {
				select {
				case <-closed:
					if time.Now().Before(deadline) {
						mu.Lock()
						held = append(held, time.Since(opened))
						mu.Unlock()
					}
					return
				case <-tick.C:
					if trickle != "" {
						c.Write([]byte{trickle[j%len(trickle)]})
					}
				}
			}
		}()
	}
	go func() {
		for range time.Tick(10 * time.Second) {
			fmt.Fprintf(os.Stderr, "%s open=%d greeted=%d refused=%d failed=%d closed=%d\n",
				time.Since(start).Round(time.Second), openNow.Load(), greeted.Load(), refused.Load(), failed.Load(), len(held))
		}
	}()
	wg.Wait()
	slices.Sort(held)
	q := func(p float64) string {
		if len(held) == 0 {
			return "-"
		}
		return held[min(len(held)-1, int(p*float64(len(held))))].Round(100 * time.Millisecond).String()
	}
	fmt.Printf("RESULT mode=%s n=%d peak_open=%d greeted=%d refused=%d failed=%d closed_by_server=%d still_open_at_max=%d held_min=%s held_p50=%s held_max=%s every=%s max=%s\n",
		*mode, *n, peak.Load(), greeted.Load(), refused.Load(), failed.Load(), len(held),
		int64(*n)-failed.Load()-refused.Load()-int64(len(held)), q(0), q(0.5), q(1), *every, *maxWait)
}
