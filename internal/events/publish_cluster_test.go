package events

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"sesame/internal/pgtest"
	"sesame/internal/store"
	"sesame/internal/waitfor"
)

// clusterStore is a node's store handle that always has something to
// publish to (no destinations are configured in the database).
type clusterStore struct{ *store.Store }

func (clusterStore) PublishesAnything(context.Context) (bool, error) { return true, nil }

// storeTopics queues one SNS delivery per publication, with the cursor
// move, through the node's handle, as sns.Service.PublishEvents does.
type storeTopics struct{ st *store.Store }

func (t storeTopics) Publish(ctx context.Context, pubs []Publication, move store.CursorMove) error {
	var ds []*store.SNSDelivery
	for _, p := range pubs {
		ds = append(ds, &store.SNSDelivery{SubscriptionARN: p.TopicArn + ":sub", Endpoint: "http://127.0.0.1:9/",
			Kind: "Notification", MessageID: p.Message, TopicARN: p.TopicArn, Message: p.Message, Published: time.Now()})
	}
	return t.st.PublishEvents(ctx, move, ds)
}
func (storeTopics) Starved() bool { return false }

// Two nodes' publishers on one PostgreSQL database, both running (as two
// nodes might while a lease passes), while both nodes append events: every
// event is queued for its topic exactly once.
func TestTwoPublishersOnOneDatabase(t *testing.T) {
	url := pgtest.NewDatabase(t, 8)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var nodes []*store.Store
	dir := t.TempDir() // one secret key for both handles
	for range 2 {
		st, err := store.OpenWith(ctx, store.Options{DataDir: dir, URL: url})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		nodes = append(nodes, st)
	}
	var running sync.WaitGroup
	// Always nudged: each publisher reads the outbox again at once, so
	// they read while appends are committing.
	nudged := make(chan struct{})
	close(nudged)
	for _, st := range nodes {
		p := &Publisher{Store: clusterStore{st}, Destinations: oneTopic{}, Topics: storeTopics{st}, Appended: nudged}
		running.Go(func() { p.Run(ctx) })
	}
	const appenders, each = 6, 50
	var appending sync.WaitGroup
	for i := range appenders {
		appending.Go(func() {
			for j := range each {
				key := fmt.Sprintf("m%d-%d", i, j)
				if err := nodes[i%2].AppendEvents(ctx, []store.OutboxEvent{{Key: key + "/send", AccountID: "1",
					Region: "us-east-1", MessageID: key, EventType: TypeSend, ConfigurationSet: "set",
					Record: []byte(`"` + key + `"`), Created: time.Now()}}); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	appending.Wait()
	last, err := nodes[0].LastEventSeq(ctx)
	if err != nil {
		t.Fatal(err)
	}
	waitfor.Within(t, "every event published", time.Minute, func() bool {
		c, err := nodes[1].EventCursor(ctx, PublishCursor)
		return err == nil && c == last
	})
	cancel()
	running.Wait()
	ds, err := nodes[0].SNSDeliveries(context.Background(), "", 0, 1<<62, 10*appenders*each)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]int{}
	for _, d := range ds {
		seen[d.Message]++
	}
	for i := range appenders {
		for j := range each {
			if key := fmt.Sprintf(`"m%d-%d"`, i, j); seen[key] != 1 {
				t.Errorf("event %s queued %d times, want once", key, seen[key])
			}
		}
	}
	if len(ds) != appenders*each {
		t.Errorf("%d deliveries queued, want %d", len(ds), appenders*each)
	}
}
