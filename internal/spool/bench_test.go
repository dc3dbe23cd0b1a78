package spool

import (
	"context"
	"fmt"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// BenchmarkAppend appends 2 KB messages from 20 to 64 goroutines (the SMTP
// server's concurrency under load) and reports durable messages per second,
// the p99 Append latency and how many messages shared each fsync.
// With queued=100000 the spool holds that many deferred messages first: the
// rate must not drop (heap operations only).
func BenchmarkAppend(b *testing.B) {
	for _, n := range []int{20, 64} {
		for _, queued := range []int{0, 100_000} {
			b.Run(fmt.Sprintf("appenders=%d/queued=%d", n, queued), func(b *testing.B) { benchmarkAppend(b, n, queued) })
		}
	}
}

// fillDeferred indexes n deferred messages directly (appending them would
// take n fsyncs of nothing interesting).
func fillDeferred(s *Spool, n int, due time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	seg := s.head
	for i := range n {
		s.addItem(&item{seg: seg, entry: Entry{
			Envelope: Envelope{ID: fmt.Sprintf("q%07d", i)},
			State:    DeliveryState{NextAttempt: due.Add(time.Duration(i%3600) * time.Second)},
		}})
	}
}

func benchmarkAppend(b *testing.B, appenders, queued int) {
	s := openT(b, b.TempDir(), Options{})
	defer s.Close()
	fillDeferred(s, queued, time.Now().Add(time.Hour))
	body := testBody("bench", 2048)
	prefix := []byte(testPrefix)
	var n atomic.Int64
	var mu sync.Mutex
	var lat []time.Duration
	b.SetParallelism(max(1, appenders/runtime.GOMAXPROCS(0)))
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		var mine []time.Duration
		for pb.Next() {
			id := fmt.Sprintf("bench-%d", n.Add(1))
			t0 := time.Now()
			d, err := s.NewDraft()
			if err != nil {
				b.Error(err)
				return
			}
			d.Write(body)
			if err := s.Append(context.Background(), &Envelope{ID: id, MailFrom: "a@example.com",
				Recipients: []string{"b@example.com"}, Via: "smtp"}, prefix, d); err != nil {
				b.Error(err)
				return
			}
			mine = append(mine, time.Since(t0))
		}
		mu.Lock()
		lat = append(lat, mine...)
		mu.Unlock()
	})
	elapsed := time.Since(start)
	b.StopTimer()
	slices.Sort(lat)
	st := s.Stats()
	b.ReportMetric(float64(len(lat))/elapsed.Seconds(), "msgs/s")
	if len(lat) > 0 {
		b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
	}
	if st.Syncs > 0 {
		b.ReportMetric(float64(st.Appends)/float64(st.Syncs), "msgs/fsync")
	}
}
