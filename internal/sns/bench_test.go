package sns

import (
	"context"
	"strconv"
	"testing"
	"time"

	"sesame/internal/clock"
)

// BenchmarkPublishToLocalSubscriber publishes b.N notifications in batches
// of 500 to one confirmed loopback subscriber and waits until all arrived:
// the store, the per-subscription queue, signing and the keep-alive client.
func BenchmarkPublishToLocalSubscriber(b *testing.B) {
	e := newEnv(b, openStore(b, b.TempDir()), clock.NewFake(time.Now()))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); e.svc.Run(ctx) }()
	defer func() { cancel(); <-done }()
	sub := newSubscriber(b)
	topic := e.confirmedSubscription(b, sub)
	b.ResetTimer()
	for i := 0; i < b.N; i += 500 {
		var pubs []Publication
		for j := i; j < min(i+500, b.N); j++ {
			pubs = append(pubs, Publication{TopicArn: topic, Message: "m" + strconv.Itoa(j)})
		}
		if _, err := e.svc.Publish(ctx, pubs); err != nil {
			b.Fatal(err)
		}
	}
	deadline := time.Now().Add(5 * time.Minute)
	for len(sub.requests()) < b.N+1 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	if n := len(sub.requests()) - 1; n != b.N {
		b.Fatalf("delivered %d of %d", n, b.N)
	}
}
