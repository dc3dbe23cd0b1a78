package delivery

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"sesame/internal/spool"
	"sesame/internal/testenv"
)

// BenchmarkMXDeliver spools b.N one-recipient messages for one domain (32
// appenders, group-committed) and measures until MX delivery has taken all
// of them to a loopback sink (go-smtp): spooling and delivery overlap, as
// in production; no DKIM.
func BenchmarkMXDeliver(b *testing.B) {
	env := startMXTB(b, nil, testenv.SinkOptions{})
	env.dns.SetMX("bench.test", 10, "mx2.test")
	b.ResetTimer()
	start := time.Now()
	var wg sync.WaitGroup
	const appenders = 32
	for w := range appenders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < b.N; i += appenders {
				env.sendID(fmt.Sprintf("0100bench-%08d-000000", i), i, "sender@example.com", spool.Meta{}, fmt.Sprintf("r%d@bench.test", i))
			}
		}()
	}
	wg.Wait()
	env.wait("an empty spool", func() bool { return env.spool.Len() == 0 })
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "msg/s")
}
