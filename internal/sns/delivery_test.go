package sns

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
	"time"

	"sesame/internal/clock"
	"sesame/internal/store"
	"sesame/internal/waitfor"
)

// subscriber is an HTTP endpoint that records what SNS posts and answers
// with the status its answer func gives.
type subscriber struct {
	t      testing.TB
	srv    *httptest.Server
	mu     sync.Mutex
	got    []received
	answer func(n int, r received) int // n: requests so far, this one included
}

type received struct {
	header http.Header
	body   map[string]string
	status int
}

func newSubscriber(t testing.TB) *subscriber {
	sub := &subscriber{t: t, answer: func(int, received) int { return 200 }}
	sub.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		rec := received{header: r.Header.Clone(), body: map[string]string{}}
		if err := json.Unmarshal(b, &rec.body); err != nil {
			rec.body = map[string]string{"raw": string(b)}
		}
		sub.mu.Lock()
		n := len(sub.got) + 1
		rec.status = sub.answer(n, rec)
		sub.got = append(sub.got, rec)
		sub.mu.Unlock()
		w.WriteHeader(rec.status)
	}))
	t.Cleanup(sub.srv.Close)
	return sub
}

func (s *subscriber) requests() []received {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]received(nil), s.got...)
}

// waitFor polls until the subscriber has n requests (bounded wait).
func (s *subscriber) waitFor(n int) []received {
	s.t.Helper()
	var got []received
	waitUntil(s.t, func() bool { got = s.requests(); return len(got) >= n })
	return got
}

// waitUntil waits for cond with the shared bounded wait.
func waitUntil(t testing.TB, cond func() bool) {
	t.Helper()
	waitfor.True(t, "the condition", cond)
}

type env struct {
	st  *store.Store
	clk *clock.Fake
	svc *Service
	c   Caller
}

func newEnv(t testing.TB, st *store.Store, clk *clock.Fake) *env {
	t.Helper()
	svc, err := New(Config{Store: st, BaseURL: "http://sesame.test", Clock: clk, PollInterval: 5 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	return &env{st: st, clk: clk, svc: svc, c: Caller{AccountID: "123456789012", Region: "eu-west-1"}}
}

func (e *env) run(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); e.svc.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
}

// confirmedSubscription makes a topic with a subscription of sub's and
// confirms it with the token the confirmation carried.
func (e *env) confirmedSubscription(t testing.TB, sub *subscriber) string {
	t.Helper()
	ctx := context.Background()
	topic, err := e.svc.CreateTopic(ctx, e.c, "events", nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.Subscribe(ctx, e.c, topic, "http", sub.srv.URL+"/hook", nil, false); err != nil {
		t.Fatal(err)
	}
	got := sub.waitFor(1)
	if got[0].body["Type"] != "SubscriptionConfirmation" {
		t.Fatalf("first request = %v", got[0].body)
	}
	if _, err := e.svc.ConfirmSubscription(ctx, nil, topic, got[0].body["Token"]); err != nil {
		t.Fatal(err)
	}
	return topic
}

func openStore(t testing.TB, dir string) *store.Store {
	t.Helper()
	st, err := store.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	// Registered before Run's cleanup, so it runs after Run stopped.
	t.Cleanup(func() { st.Close() })
	return st
}

// TestRetryWithBackoff: a refused message is tried again after its
// backoff with the same MessageId; the others of its subscription are not
// held back by it while the subscriber takes them (SNS standard topics keep
// no order).
func TestRetryWithBackoff(t *testing.T) {
	st := openStore(t, t.TempDir())
	e := newEnv(t, st, clock.NewFake(time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)))
	e.run(t)
	sub := newSubscriber(t)
	topic := e.confirmedSubscription(t, sub)

	// The first notification is refused with 500 once, then taken.
	sub.mu.Lock()
	refused := false
	sub.answer = func(n int, r received) int {
		if r.body["Message"] == "m1" && !refused {
			refused = true
			return 500
		}
		return 200
	}
	sub.mu.Unlock()
	ids, err := e.svc.Publish(context.Background(), []Publication{
		{TopicArn: topic, Subject: "one", Message: "m1"},
		{TopicArn: topic, Message: "m2"},
		{TopicArn: "arn:aws:sns:eu-west-1:123456789012:nosuch", Message: "lost"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if ids[0] == "" || ids[1] == "" || ids[2] != "" {
		t.Fatalf("ids = %q", ids)
	}
	sub.waitFor(3)
	// The refused one's retry is due a second later on the fake clock.
	time.Sleep(50 * time.Millisecond)
	if got := sub.requests(); len(got) != 3 {
		t.Fatalf("before the backoff ran out: %d requests, want 3", len(got))
	}
	e.clk.Advance(2 * time.Second)
	got := sub.waitFor(4)
	seen := map[string][]string{} // MessageId → Message of each request
	for _, r := range got[1:] {
		seen[r.body["MessageId"]] = append(seen[r.body["MessageId"]], r.body["Message"]+"/"+r.body["Subject"])
	}
	if len(seen[ids[0]]) != 2 || seen[ids[0]][0] != "m1/one" || seen[ids[0]][1] != "m1/one" ||
		len(seen[ids[1]]) != 1 || seen[ids[1]][0] != "m2/" {
		t.Errorf("requests = %v, want m1 twice with its Subject and MessageId, m2 once", seen)
	}
	waitEmpty(t, st)
}

func TestRetryPeriodDropsMessage(t *testing.T) {
	st := openStore(t, t.TempDir())
	e := newEnv(t, st, clock.NewFake(time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)))
	e.run(t)
	sub := newSubscriber(t)
	topic := e.confirmedSubscription(t, sub)
	sub.mu.Lock()
	sub.answer = func(n int, r received) int {
		if r.body["Message"] == "doomed" {
			return 503
		}
		return 200
	}
	sub.mu.Unlock()
	if _, err := e.svc.Publish(context.Background(), []Publication{{TopicArn: topic, Message: "doomed"}, {TopicArn: topic, Message: "next"}}); err != nil {
		t.Fatal(err)
	}
	got := sub.waitFor(3)
	if m := got[1].body["Message"] + got[2].body["Message"]; m != "doomednext" && m != "nextdoomed" {
		t.Fatalf("first attempts: %q", m)
	}
	// Past the retry period the failing message is dropped without another
	// attempt.
	e.clk.Advance(61 * time.Minute)
	waitEmpty(t, st)
	if n := len(sub.requests()); n != 3 {
		t.Errorf("%d requests, want no attempt past the retry period", n)
	}
}

func TestPendingDeliveriesSurviveRestart(t *testing.T) {
	dir := t.TempDir()
	st := openStore(t, dir)
	clk := clock.NewFake(time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC))
	e := newEnv(t, st, clk)
	sub := newSubscriber(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); e.svc.Run(ctx) }()
	topic := e.confirmedSubscription(t, sub)
	cancel()
	<-done

	// Published while no Run is delivering: only rows in the store.
	if _, err := e.svc.Publish(context.Background(), []Publication{
		{TopicArn: topic, Message: "a"}, {TopicArn: topic, Message: "b"}, {TopicArn: topic, Message: "c"}}); err != nil {
		t.Fatal(err)
	}
	st.Close()

	st2 := openStore(t, dir)
	e2 := newEnv(t, st2, clk)
	if e2.svc.SigningCertURL() != e.svc.SigningCertURL() {
		t.Errorf("signing certificate changed across restart: %s vs %s", e2.svc.SigningCertURL(), e.svc.SigningCertURL())
	}
	e2.run(t)
	// The confirmation may come again too (its delete may not have been
	// flushed before the first Run stopped): at least once.
	var msgs []string
	waitUntil(t, func() bool {
		msgs = msgs[:0]
		for _, r := range sub.requests() {
			if r.body["Type"] == "Notification" {
				msgs = append(msgs, r.body["Message"])
			}
		}
		return len(msgs) >= 3
	})
	slices.Sort(msgs)
	if !slices.Equal(msgs, []string{"a", "b", "c"}) {
		t.Errorf("after restart: %v, want a, b and c", msgs)
	}
	waitEmpty(t, st2)
}

// waitEmpty polls until every finished row has left the store.
func waitEmpty(t *testing.T, st *store.Store) {
	t.Helper()
	waitUntil(t, func() bool {
		rows, err := st.SNSDeliveries(context.Background(), "", 0, 1<<62, 10)
		if err != nil {
			t.Fatal(err)
		}
		return len(rows) == 0
	})
}

func TestStringToSign(t *testing.T) {
	got := StringToSign(map[string]string{"Type": "Notification", "Message": "m", "MessageId": "id", "Timestamp": "ts", "TopicArn": "arn"})
	want := "Message\nm\nMessageId\nid\nTimestamp\nts\nTopicArn\narn\nType\nNotification\n"
	if got != want {
		t.Errorf("notification without subject:\n%q\nwant\n%q", got, want)
	}
	got = StringToSign(map[string]string{"Type": "SubscriptionConfirmation", "Message": "m", "MessageId": "id",
		"SubscribeURL": "u", "Timestamp": "ts", "Token": "tok", "TopicArn": "arn"})
	want = "Message\nm\nMessageId\nid\nSubscribeURL\nu\nTimestamp\nts\nToken\ntok\nTopicArn\narn\nType\nSubscriptionConfirmation\n"
	if got != want {
		t.Errorf("confirmation:\n%q\nwant\n%q", got, want)
	}
}
