package store

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"sesame/internal/waitfor"
)

// A lease goes to one holder at a time: its holder renews it, another gets
// it only once it expired (or was given up), and the old holder then
// cannot renew it.
func TestLeaseTakeRenewExpire(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	a, b := openTest(t, dir), openTest(t, dir) // two nodes
	now := time.Unix(1_800_000_000, 0)
	const ttl = 10 * time.Second
	steps := []struct {
		what   string
		st     *Store
		holder string
		op     string // take | release
		at     time.Duration
		want   bool
		holds  string // who LeaseOf names after the step ("" = nobody)
	}{
		{"first taker gets it", a, "node-a", "take", 0, true, "node-a"},
		{"another does not", b, "node-b", "take", time.Second, false, "node-a"},
		{"holder renews", a, "node-a", "take", 5 * time.Second, true, "node-a"},
		{"renewed lease has not expired at the first expiry", b, "node-b", "take", 12 * time.Second, false, "node-a"},
		{"expired lease goes to another", b, "node-b", "take", 15 * time.Second, true, "node-b"},
		{"the old holder cannot renew it", a, "node-a", "take", 16 * time.Second, false, "node-b"},
		{"the old holder cannot give it up", a, "node-a", "release", 16 * time.Second, true, "node-b"},
		{"the holder gives it up", b, "node-b", "release", 17 * time.Second, true, ""},
		{"then anyone takes it at once", a, "node-a", "take", 17 * time.Second, true, "node-a"},
	}
	for _, s := range steps {
		var got bool
		var err error
		switch s.op {
		case "take":
			got, err = s.st.TakeLease(ctx, "publish-events", s.holder, now.Add(s.at), ttl)
		case "release":
			got, err = true, s.st.ReleaseLease(ctx, "publish-events", s.holder)
		}
		if err != nil {
			t.Fatalf("%s: %v", s.what, err)
		}
		if got != s.want {
			t.Fatalf("%s: %s = %v, want %v", s.what, s.op, got, s.want)
		}
		l, err := a.LeaseOf(ctx, "publish-events")
		switch {
		case s.holds == "" && !errors.Is(err, ErrNotFound):
			t.Fatalf("%s: lease %+v, %v; want none", s.what, l, err)
		case s.holds != "" && (err != nil || l.Holder != s.holds):
			t.Fatalf("%s: lease %+v, %v; want held by %s", s.what, l, err, s.holds)
		}
	}
	// Leases are independent by name.
	if ok, err := b.TakeLease(ctx, "reputation", "node-b", now.Add(17*time.Second), ttl); err != nil || !ok {
		t.Fatalf("another lease: %v, %v", ok, err)
	}
}

// Many nodes asking for a free lease at once: exactly one gets it.
func TestLeaseRace(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	stores := []*Store{openTest(t, dir), openTest(t, dir)}
	now := time.Unix(1_800_000_000, 0)
	var won atomic.Int32
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			ok, err := stores[i%2].TakeLease(context.Background(), "verify", fmt.Sprint("node-", i), now, time.Minute)
			if err != nil {
				t.Error(err)
			}
			if ok {
				won.Add(1)
			}
		})
	}
	wg.Wait()
	if n := won.Load(); n != 1 {
		t.Fatalf("%d nodes got the lease, want 1", n)
	}
}

// A cursor move commits with its deliveries once: the second node to move
// the cursor from the same place writes nothing.
func TestPublishEventsMovesCursorOnce(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	a, b := openTest(t, dir), openTest(t, dir)
	move := CursorMove{Name: "publish", From: 0, To: 3}
	row := func() []*SNSDelivery {
		return []*SNSDelivery{{SubscriptionARN: "arn:aws:sns:us-east-1:1:t:x", Endpoint: "http://x", Kind: "Notification",
			MessageID: "m", TopicARN: "arn:aws:sns:us-east-1:1:t", Message: "hi", Published: time.Unix(1, 0)}}
	}
	if err := a.PublishEvents(ctx, move, row()); err != nil {
		t.Fatal(err)
	}
	if err := b.PublishEvents(ctx, move, row()); !errors.Is(err, ErrCursorMoved) {
		t.Fatalf("second publish from the same cursor: %v, want ErrCursorMoved", err)
	}
	if err := b.MoveEventCursor(ctx, move); !errors.Is(err, ErrCursorMoved) {
		t.Fatalf("second move from the same cursor: %v, want ErrCursorMoved", err)
	}
	if err := b.PublishEvents(ctx, CursorMove{Name: "publish", From: 3, To: 5}, nil); err != nil {
		t.Fatal(err)
	}
	if c, err := a.EventCursor(ctx, "publish"); err != nil || c != 5 {
		t.Fatalf("cursor %d, %v; want 5", c, err)
	}
	ds, err := a.SNSDeliveries(ctx, "", 0, 1<<62, 10)
	if err != nil || len(ds) != 1 {
		t.Fatalf("deliveries %d, %v; want 1", len(ds), err)
	}
}

// Nodes append events and two publishers on two handles follow the outbox
// by cursor: every event becomes its delivery exactly once. On PostgreSQL
// this needs appends to commit in seq order (a cursor that passed a seq
// committed later would lose it) and the conditional cursor move (both
// publishers read the same batch).
func TestTwoPublishersPublishEachEventOnce(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	dir := t.TempDir()
	stores := []*Store{openTest(t, dir), openTest(t, dir)}
	const appenders, perAppender = 6, 40
	var appending sync.WaitGroup
	for i := range appenders {
		appending.Go(func() {
			for j := range perAppender {
				key := fmt.Sprintf("m%d-%d/send", i, j)
				ev := OutboxEvent{Key: key, AccountID: "1", Region: "us-east-1", MessageID: key, EventType: "Send",
					Record: []byte(`{}`), Created: time.Unix(1, 0)}
				if err := stores[i%2].AppendEvents(ctx, []OutboxEvent{ev}); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	publish := func(st *Store) error {
		cursor := int64(0)
		for ctx.Err() == nil {
			evs, err := st.EventsAfter(ctx, cursor, 7)
			if err != nil {
				return err
			}
			if len(evs) == 0 {
				continue
			}
			var ds []*SNSDelivery
			for _, ev := range evs {
				ds = append(ds, &SNSDelivery{SubscriptionARN: "arn:aws:sns:us-east-1:1:t:x", Endpoint: "http://x",
					Kind: "Notification", MessageID: ev.Key, TopicARN: "arn:aws:sns:us-east-1:1:t", Message: ev.Key,
					Published: time.Unix(1, 0)})
			}
			err = st.PublishEvents(ctx, CursorMove{Name: "publish", From: cursor, To: evs[len(evs)-1].Seq}, ds)
			switch {
			case errors.Is(err, ErrCursorMoved):
				if cursor, err = st.EventCursor(ctx, "publish"); err != nil {
					return err
				}
			case err != nil:
				return err
			default:
				cursor = evs[len(evs)-1].Seq
			}
		}
		return nil
	}
	var publishing sync.WaitGroup
	for _, st := range stores {
		publishing.Go(func() {
			if err := publish(st); err != nil && ctx.Err() == nil {
				t.Error(err)
			}
		})
	}
	appending.Wait()
	last, err := stores[0].LastEventSeq(ctx)
	if err != nil {
		t.Fatal(err)
	}
	waitfor.Within(t, "every event published", 30*time.Second, func() bool {
		c, err := stores[0].EventCursor(ctx, "publish")
		return err == nil && c == last
	})
	cancel()
	publishing.Wait()
	ds, err := stores[1].SNSDeliveries(context.Background(), "", 0, 1<<62, 10*appenders*perAppender)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]int{}
	for _, d := range ds {
		seen[d.Message]++
	}
	for i := range appenders {
		for j := range perAppender {
			if key := fmt.Sprintf("m%d-%d/send", i, j); seen[key] != 1 {
				t.Errorf("event %s published %d times, want once", key, seen[key])
			}
		}
	}
	if len(ds) != appenders*perAppender {
		t.Errorf("%d deliveries, want %d", len(ds), appenders*perAppender)
	}
}

// Import/export jobs are claimed per row: a job goes to one node at a time,
// a node renews its claims, another takes a job once its claim ran out, and
// a node restarted (same holder) takes its own jobs back at once.
func TestDataJobClaims(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	a, b := openTest(t, dir), openTest(t, dir)
	now := time.Unix(1_800_000_000, 0)
	const ttl = time.Minute
	job := func(id, holder string) DataJob {
		j := DataJob{AccountID: "1", Region: "us-east-1", ID: id, Kind: JobImport, Type: "SUPPRESSION_LIST",
			Request: []byte(`{}`), Status: JobCreated, Created: now}
		if holder != "" {
			j.ClaimedBy, j.ClaimedUntil = holder, now.Add(ttl)
		}
		return j
	}
	for _, j := range []DataJob{job("left", ""), job("a-made", "node-a"), job("b-made", "node-b")} {
		if err := a.CreateDataJob(ctx, j); err != nil {
			t.Fatal(err)
		}
	}
	ids := func(js []DataJob) []string {
		var out []string
		for _, j := range js {
			out = append(out, j.ID)
		}
		return out
	}
	claim := func(st *Store, holder string, at time.Duration, want ...string) {
		t.Helper()
		js, err := st.ClaimDataJobs(ctx, holder, now.Add(at), ttl)
		if err != nil {
			t.Fatal(err)
		}
		if got := ids(js); fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("%s claims at +%v: %v, want %v", holder, at, got, want)
		}
	}
	claim(a, "node-a", 0, "a-made", "left")   // unclaimed, and its own
	claim(b, "node-b", time.Second, "b-made") // not a's
	held, err := a.RenewDataJobClaims(ctx, "node-a", now.Add(30*time.Second), ttl)
	if err != nil || !held["left"] || !held["a-made"] || held["b-made"] {
		t.Fatalf("a renews: %v, %v", held, err)
	}
	claim(b, "node-b", 80*time.Second, "b-made") // a's renewed claims last to +90 s
	claim(b, "node-b", 91*time.Second, "a-made", "b-made", "left")
	held, err = a.RenewDataJobClaims(ctx, "node-a", now.Add(92*time.Second), ttl)
	if err != nil || len(held) != 0 {
		t.Fatalf("a renews after b took its jobs: %v, %v; want none held", held, err)
	}
	// A finished job is nobody's work.
	if _, err := a.UpdateDataJob(ctx, "1", "us-east-1", JobImport, "left", func(j *DataJob) error {
		j.Status = JobCompleted
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	claim(a, "node-a", time.Hour, "a-made", "b-made")
}

// Nodes claiming at once get each job once between them.
func TestDataJobClaimRace(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	stores := []*Store{openTest(t, dir), openTest(t, dir)}
	now := time.Unix(1_800_000_000, 0)
	for i := range 20 {
		if err := stores[0].CreateDataJob(ctx, DataJob{AccountID: "1", Region: "us-east-1", ID: fmt.Sprint("j", i),
			Kind: JobExport, Type: "METRICS_DATA", Request: []byte(`{}`), Status: JobCreated, Created: now}); err != nil {
			t.Fatal(err)
		}
	}
	var mu sync.Mutex
	got := map[string]int{}
	var wg sync.WaitGroup
	for i := range 6 {
		wg.Go(func() {
			js, err := stores[i%2].ClaimDataJobs(ctx, fmt.Sprint("node-", i), now, time.Minute)
			if err != nil {
				t.Error(err)
			}
			mu.Lock()
			defer mu.Unlock()
			for _, j := range js {
				got[j.ID]++
			}
		})
	}
	wg.Wait()
	if len(got) != 20 {
		t.Errorf("%d jobs claimed, want 20", len(got))
	}
	for id, n := range got {
		if n != 1 {
			t.Errorf("job %s claimed %d times", id, n)
		}
	}
}
