package store

import (
	"context"
	"fmt"
	"testing"
	"time"
)

// BenchmarkAddCaptured measures capture delivery's write path: batches of
// 100 small messages, one durable commit per batch.
func BenchmarkAddCaptured(b *testing.B) {
	s, err := Open(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	raw := make([]byte, 2048)
	batch := make([]Captured, 100)
	b.ResetTimer()
	for i := range b.N {
		for j := range batch {
			batch[j] = Captured{ID: fmt.Sprintf("m-%d-%d", i, j), AccountID: "111111111111", Region: "us-east-1",
				MailFrom: "sender@example.com", Recipients: []string{"a@example.org", "b@example.org"},
				Raw: raw, Outcome: "delivered"}
		}
		if err := s.AddCaptured(context.Background(), batch); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*len(batch))/b.Elapsed().Seconds(), "msgs/s")
}

// BenchmarkRecordSentMessages measures what MX delivery's sent log costs per
// message: batches of 170 (what 100 ms of a 1,700 msg/s run gathers).
func BenchmarkRecordSentMessages(b *testing.B) {
	s, err := Open(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	batch := make([]SentMessage, 170)
	b.ResetTimer()
	for i := range b.N {
		for j := range batch {
			batch[j] = SentMessage{MessageID: fmt.Sprintf("010001a2096651d2-7b85c86f-89fb-4449-%08d-%04d", i, j),
				AccountID: "111111111111", Region: "us-east-1", Source: "sender@example.com",
				BounceDomain: "bounces.example.com", Created: time.Now()}
		}
		if err := s.RecordOutcomes(context.Background(), Outcomes{Sent: batch}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*len(batch))/b.Elapsed().Seconds(), "msgs/s")
}
