package events

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"sesame/internal/store"
)

// outboxFake is a PublisherStore over a slice.
type outboxFake struct {
	mu     sync.Mutex
	evs    []store.OutboxEvent
	cursor int64
}

func (o *outboxFake) EventsAfter(_ context.Context, after int64, limit int) ([]store.OutboxEvent, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	var out []store.OutboxEvent
	for _, ev := range o.evs {
		if ev.Seq > after && len(out) < limit {
			out = append(out, ev)
		}
	}
	return out, nil
}
func (o *outboxFake) EventCursor(context.Context, string) (int64, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.cursor, nil
}
func (o *outboxFake) MoveEventCursor(_ context.Context, m store.CursorMove) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.cursor != m.From {
		return store.ErrCursorMoved
	}
	o.cursor = m.To
	return nil
}
func (o *outboxFake) PruneEvents(context.Context, time.Time, time.Time, int64, int) (int64, error) {
	return 0, nil
}
func (o *outboxFake) PublishesAnything(context.Context) (bool, error) { return true, nil }
func (o *outboxFake) LastEventSeq(context.Context) (int64, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return int64(len(o.evs)), nil
}

// topicsFake takes publications, and says it is starved while starved is set.
type topicsFake struct {
	starved   atomic.Bool
	published atomic.Int64
	outbox    *outboxFake
}

func (f *topicsFake) Publish(ctx context.Context, pubs []Publication, move store.CursorMove) error {
	if err := f.outbox.MoveEventCursor(ctx, move); err != nil {
		return err
	}
	f.published.Add(int64(len(pubs)))
	return nil
}
func (f *topicsFake) Starved() bool { return f.starved.Load() }

type oneTopic struct{}

func (oneTopic) EventTopics(context.Context, string, string, string, string) ([]string, error) {
	return []string{"arn:aws:sns:us-east-1:123456789012:t"}, nil
}
func (oneTopic) NotificationTopic(context.Context, string, string, string, string) (string, bool, error) {
	return "", false, nil
}

// While the topics are starved the Publisher leaves the outbox alone;
// once they are not, it publishes everything.
func TestPublisherHoldsBackWhileStarved(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		o := &outboxFake{}
		for i := range 5 {
			o.evs = append(o.evs, store.OutboxEvent{Seq: int64(i + 1), ConfigurationSet: "set", EventType: TypeSend,
				Record: []byte(`{}`)})
		}
		topics := &topicsFake{outbox: o}
		topics.starved.Store(true)
		p := &Publisher{Store: o, Destinations: oneTopic{}, Topics: topics}
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan struct{})
		go func() { defer close(done); p.Run(ctx) }()

		time.Sleep(10 * time.Second)
		synctest.Wait()
		if n := topics.published.Load(); n != 0 {
			t.Fatalf("published %d while starved", n)
		}
		topics.starved.Store(false)
		time.Sleep(time.Second)
		synctest.Wait()
		if n := topics.published.Load(); n != 5 {
			t.Fatalf("published %d once not starved, want 5", n)
		}
		if c, _ := o.EventCursor(ctx, cursorName); c != 5 {
			t.Errorf("cursor = %d, want 5", c)
		}
		cancel()
		<-done
	})
}

// While the server is busy, records wait until they are MaxDefer old, and
// older ones go at once; when it is not, everything goes.
func TestPublisherDefersWhileBusy(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		start := time.Now()
		o := &outboxFake{}
		for i, age := range []time.Duration{30 * time.Second, 20 * time.Second, 2 * time.Second, time.Second} {
			o.evs = append(o.evs, store.OutboxEvent{Seq: int64(i + 1), ConfigurationSet: "set", EventType: TypeSend,
				Record: []byte(`{}`), Created: start.Add(-age)})
		}
		topics := &topicsFake{outbox: o}
		var busy atomic.Bool
		busy.Store(true)
		p := &Publisher{Store: o, Destinations: oneTopic{}, Topics: topics, Busy: busy.Load, MaxDefer: 5 * time.Second}
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan struct{})
		go func() { defer close(done); p.Run(ctx) }()

		time.Sleep(time.Second)
		synctest.Wait()
		if n := topics.published.Load(); n != 2 {
			t.Fatalf("published %d at once while busy, want the 2 older than 5 s", n)
		}
		// The 2 s old record becomes 5 s old 3 s after the start.
		time.Sleep(2500 * time.Millisecond)
		synctest.Wait()
		if n := topics.published.Load(); n != 3 {
			t.Fatalf("published %d 3.5 s in, want 3", n)
		}
		busy.Store(false)
		time.Sleep(time.Second)
		synctest.Wait()
		if n := topics.published.Load(); n != 4 {
			t.Fatalf("published %d once not busy, want 4", n)
		}
		cancel()
		<-done
	})
}

// Two Publishers on one outbox (two nodes while a lease passes) publish
// each record once: the one whose cursor move comes second publishes
// nothing and goes on from the other's cursor.
func TestPublishersShareTheCursor(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		o := &outboxFake{}
		for i := range 2500 {
			o.evs = append(o.evs, store.OutboxEvent{Seq: int64(i + 1), ConfigurationSet: "set", EventType: TypeSend,
				Record: []byte(`{}`)})
		}
		topics := &topicsFake{outbox: o}
		ctx, cancel := context.WithCancel(t.Context())
		var wg sync.WaitGroup
		for range 2 {
			p := &Publisher{Store: o, Destinations: oneTopic{}, Topics: topics}
			wg.Go(func() { p.Run(ctx) })
		}
		time.Sleep(5 * time.Second)
		synctest.Wait()
		if n := topics.published.Load(); n != 2500 {
			t.Errorf("published %d, want each of 2500 once", n)
		}
		if c, _ := o.EventCursor(ctx, cursorName); c != 2500 {
			t.Errorf("cursor = %d, want 2500", c)
		}
		cancel()
		wg.Wait()
	})
}
