package reputation

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"sesame/internal/clock"
	"sesame/internal/events"
	"sesame/internal/store"
)

const (
	acct   = "111111111111"
	region = "eu-west-1"
)

var t0 = time.Date(2026, 11, 2, 10, 0, 0, 0, time.UTC)

// outbox makes outbox events the way the Recorder does, with real SES
// records.
type outbox struct {
	t   *testing.T
	seq int
	evs []store.OutboxEvent
}

func (o *outbox) add(at time.Time, set string, rcpts []string, obj any) {
	o.t.Helper()
	o.seq++
	id := fmt.Sprintf("msg-%d", o.seq)
	rec, err := events.NewRecord(events.NewMail(events.MailInput{Timestamp: at, MessageID: id,
		Source: "s@example.com", SendingAccountID: acct, Destination: rcpts,
		Tags: map[string][]string{"ses:operation": {"SendEmail"}}}), obj)
	if err != nil {
		o.t.Fatal(err)
	}
	b, err := json.Marshal(rec)
	if err != nil {
		o.t.Fatal(err)
	}
	o.evs = append(o.evs, store.OutboxEvent{Key: fmt.Sprintf("%s/%d", id, o.seq), AccountID: acct, Region: region,
		MessageID: id, EventType: rec.EventType, ConfigurationSet: set, Record: b, Created: at, Counts: countsOf(obj, rcpts)})
}

// countsOf is what the Recorder has an event add to the statistics (the
// rules themselves are tested in internal/events).
func countsOf(obj any, rcpts []string) store.SendCounts {
	var n int64
	for _, r := range rcpts {
		if !strings.HasSuffix(strings.ToLower(r), "@simulator.amazonses.com") {
			n++
		}
	}
	switch o := obj.(type) {
	case *events.Send:
		return store.SendCounts{DeliveryAttempts: n}
	case *events.Bounce:
		c := store.SendCounts{Bounces: n}
		if o.BounceType == "Permanent" {
			c.HardBounces = n
		}
		return c
	case *events.Complaint:
		return store.SendCounts{Complaints: n}
	}
	return store.SendCounts{}
}

func (o *outbox) sends(at time.Time, set string, rcpts ...string) {
	o.add(at, set, rcpts, &events.Send{})
}

func (o *outbox) bounce(at time.Time, set, typ, sub string, rcpts ...string) {
	b := &events.Bounce{BounceType: typ, BounceSubType: sub, Timestamp: events.NewTime(at)}
	for _, r := range rcpts {
		b.BouncedRecipients = append(b.BouncedRecipients, events.BouncedRecipient{EmailAddress: r})
	}
	o.add(at, set, rcpts, b)
}

func (o *outbox) complaint(at time.Time, set string, sub *string, rcpts ...string) {
	c := &events.Complaint{ComplaintSubType: sub, Timestamp: events.NewTime(at)}
	for _, r := range rcpts {
		c.ComplainedRecipients = append(c.ComplainedRecipients, events.ComplainedRecipient{EmailAddress: r})
	}
	o.add(at, set, rcpts, c)
}

func addrs(prefix string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("%s%d@example.com", prefix, i)
	}
	return out
}

func TestRatesOf(t *testing.T) {
	b := func(sends, bounces, complaints int64) store.SendStat {
		return store.SendStat{DeliveryAttempts: sends, HardBounces: bounces, Complaints: complaints}
	}
	// Oldest first: a bad old week, then good recent sending.
	buckets := []store.SendStat{b(100, 50, 5), b(400, 4, 0), b(600, 6, 1)}
	for _, tc := range []struct {
		volume                   int64
		sends, bounces, compl    int64
		bounceRate, complaintRat float64
	}{
		{volume: 1000, sends: 1000, bounces: 10, compl: 1, bounceRate: 0.01, complaintRat: 0.001},
		{volume: 500, sends: 600, bounces: 6, compl: 1, bounceRate: 0.01, complaintRat: 1.0 / 600},
		{volume: 1001, sends: 1100, bounces: 60, compl: 6, bounceRate: 60.0 / 1100, complaintRat: 6.0 / 1100},
		{volume: 0, sends: 1100, bounces: 60, compl: 6, bounceRate: 60.0 / 1100, complaintRat: 6.0 / 1100},
	} {
		r := RatesOf(buckets, tc.volume)
		if r.Sends != tc.sends || r.HardBounces != tc.bounces || r.Complaints != tc.compl ||
			r.BounceRate != tc.bounceRate || r.ComplaintRate != tc.complaintRat {
			t.Errorf("volume %d: %+v, want %d sends %d bounces %d complaints (%v, %v)", tc.volume, r,
				tc.sends, tc.bounces, tc.compl, tc.bounceRate, tc.complaintRat)
		}
	}
	if r := RatesOf(nil, 100); r != (Rates{}) {
		t.Errorf("no buckets: %+v", r)
	}
}

func TestJudge(t *testing.T) {
	for _, tc := range []struct {
		sends            int64
		bounce, complain float64
		want             string
	}{
		{1000, 0, 0, StatusHealthy},
		{1000, 0.0499, 0.00099, StatusHealthy},
		{1000, 0.05, 0, StatusProbation},
		{1000, 0, 0.001, StatusProbation},
		{1000, 0.0999, 0.0049, StatusProbation},
		{1000, 0.10, 0, StatusPaused},
		{1000, 0, 0.005, StatusPaused},
		{99, 0.5, 0.5, StatusLowVolume},
		{0, 0, 0, StatusLowVolume},
	} {
		r := Rates{Sends: tc.sends, BounceRate: tc.bounce, ComplaintRate: tc.complain}
		if got := SESThresholds.Judge(r, 100); got != tc.want {
			t.Errorf("%d sends, %v bounces, %v complaints: %s, want %s", tc.sends, tc.bounce, tc.complain, got, tc.want)
		}
	}
}

type env struct {
	t   *testing.T
	st  *store.Store
	clk *clock.Fake
	ev  *Evaluator
	o   *outbox
}

func newEnv(t *testing.T) *env {
	t.Helper()
	st, err := store.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	clk := clock.NewFake(t0)
	return &env{t: t, st: st, clk: clk, o: &outbox{t: t},
		ev: &Evaluator{Store: st, Enforce: true, Thresholds: SESThresholds, Window: 14 * 24 * time.Hour,
			Volume: 1000, MinVolume: 100, Clock: clk, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}}
}

// step appends what the outbox got since the last step, counts it and
// evaluates.
func (e *env) step() {
	e.t.Helper()
	ctx := context.Background()
	if err := e.st.AppendEvents(ctx, e.o.evs); err != nil {
		e.t.Fatal(err)
	}
	e.o.evs = nil
	if err := e.ev.Evaluate(ctx); err != nil {
		e.t.Fatal(err)
	}
}

func (e *env) settings() store.AccountSettings {
	e.t.Helper()
	set, err := e.st.AccountSettings(context.Background(), acct, region)
	if err != nil {
		e.t.Fatal(err)
	}
	return set
}

func (e *env) reputation(set string) store.Reputation {
	e.t.Helper()
	reps, err := e.st.Reputations(context.Background(), acct)
	if err != nil {
		e.t.Fatal(err)
	}
	for _, r := range reps {
		if r.Region == region && r.ConfigurationSet == set {
			return r
		}
	}
	e.t.Fatalf("no reputation for %q", set)
	return store.Reputation{}
}

func (e *env) want(enabled bool, status string) {
	e.t.Helper()
	set := e.settings()
	if set.SendingEnabled != enabled || set.EnforcementStatus != status {
		e.t.Fatalf("at %v: sending enabled %v, status %s; want %v, %s (reputation %+v)", e.clk.Now(),
			set.SendingEnabled, set.EnforcementStatus, enabled, status, e.reputation(""))
	}
}

func TestEvaluatorAccount(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()

	// 50 sends, all bounced: too few to judge.
	e.o.sends(e.clk.Now(), "", addrs("a", 50)...)
	e.o.bounce(e.clk.Now(), "", "Permanent", "General", addrs("a", 50)...)
	e.step()
	e.want(true, store.EnforcementHealthy)
	if r := e.reputation(""); r.Status != StatusLowVolume || r.Sends != 50 || r.BounceRate != 1 {
		t.Fatalf("reputation %+v", r)
	}

	// 1000 sends in all, 60 hard bounces: 6 %, under review.
	e.clk.Advance(time.Hour)
	e.o.sends(e.clk.Now(), "", addrs("b", 950)...)
	e.o.bounce(e.clk.Now(), "", "Permanent", "General", addrs("b", 10)...)
	// Soft bounces and simulator sends do not count.
	e.o.bounce(e.clk.Now(), "", "Transient", "General", addrs("c", 100)...)
	e.o.sends(e.clk.Now(), "", "bounce@simulator.amazonses.com")
	e.step()
	e.want(true, store.EnforcementProbation)
	if r := e.reputation(""); r.Status != StatusProbation || r.Sends != 1000 || r.HardBounces != 60 || !r.Probation {
		t.Fatalf("reputation %+v", r)
	}

	// 50 more bounces: 11 %, paused.
	e.clk.Advance(time.Minute)
	e.o.bounce(e.clk.Now(), "", "Permanent", "General", addrs("b", 50)[10:]...)
	e.o.bounce(e.clk.Now(), "", "Permanent", "NoEmail", addrs("d", 10)...)
	e.step()
	e.want(false, store.EnforcementProbation)
	if r := e.reputation(""); r.Status != StatusPaused || !r.Paused || !r.PausedAt.Equal(e.clk.Now()) {
		t.Fatalf("reputation %+v", r)
	}
	// Evaluated again: stays paused, nothing else changes.
	e.clk.Advance(time.Minute)
	e.step()
	e.want(false, store.EnforcementProbation)

	// The operator lifts the pause: the same old bounces do not pause
	// again, and PROBATION stays until new sends say otherwise.
	e.clk.Advance(time.Minute)
	if err := e.st.SetAccountSendingEnabled(ctx, acct, region, true); err != nil {
		t.Fatal(err)
	}
	e.step()
	e.want(true, store.EnforcementProbation)
	r := e.reputation("")
	if r.Paused || r.Status != StatusLowVolume || !r.CountsFrom.Equal(e.clk.Now().Truncate(Bucket).Add(Bucket)) {
		t.Fatalf("after the lift: %+v", r)
	}
	// Bounces of old mail arriving in this bucket still do not count.
	e.o.bounce(e.clk.Now(), "", "Permanent", "General", addrs("e", 100)...)
	e.clk.Advance(5 * time.Minute)
	e.step()
	e.want(true, store.EnforcementProbation)

	// Clean sending from the next bucket on: healthy again.
	e.clk.Set(r.CountsFrom.Add(time.Minute))
	e.o.sends(e.clk.Now(), "", addrs("f", 300)...)
	e.o.bounce(e.clk.Now(), "", "Permanent", "General", addrs("f", 3)...)
	e.step()
	e.want(true, store.EnforcementHealthy)
	if r := e.reputation(""); r.Status != StatusHealthy || r.Sends != 300 || r.HardBounces != 3 || r.Probation {
		t.Fatalf("reputation %+v", r)
	}

	// Complaints alone pause too: 1 of 300 is 0.33 % (probation), 3 are
	// 1 %.
	e.clk.Advance(time.Hour)
	e.o.complaint(e.clk.Now(), "", nil, addrs("f", 1)...)
	e.step()
	e.want(true, store.EnforcementProbation)
	e.o.complaint(e.clk.Now(), "", nil, addrs("f", 3)[1:]...)
	e.step()
	e.want(false, store.EnforcementProbation)
}

func TestEvaluatorLeavesShutdownAndOperatorProbation(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	if err := e.st.SetEnforcementStatus(ctx, acct, region, store.EnforcementShutdown); err != nil {
		t.Fatal(err)
	}
	e.o.sends(e.clk.Now(), "", addrs("a", 200)...)
	e.o.bounce(e.clk.Now(), "", "Permanent", "General", addrs("a", 12)...)
	e.step()
	e.want(true, store.EnforcementShutdown)

	// An operator's PROBATION is not cleared by healthy rates.
	if err := e.st.SetEnforcementStatus(ctx, acct, region, store.EnforcementProbation); err != nil {
		t.Fatal(err)
	}
	e.clk.Advance(time.Hour)
	e.o.sends(e.clk.Now(), "", addrs("b", 1000)...)
	e.step()
	e.want(true, store.EnforcementProbation)
}

func TestEvaluatorNotEnforcing(t *testing.T) {
	e := newEnv(t)
	e.ev.Enforce = false
	e.o.sends(e.clk.Now(), "", addrs("a", 200)...)
	e.o.bounce(e.clk.Now(), "", "Permanent", "General", addrs("a", 100)...)
	e.step()
	e.want(true, store.EnforcementHealthy)
	if r := e.reputation(""); r.Status != StatusPaused || r.Paused || r.BounceRate != 0.5 {
		t.Fatalf("reputation %+v", r)
	}
}

func TestEvaluatorWindow(t *testing.T) {
	e := newEnv(t)
	e.o.sends(e.clk.Now(), "", addrs("a", 200)...)
	e.o.bounce(e.clk.Now(), "", "Permanent", "General", addrs("a", 100)...)
	e.o.evs[0].Created = e.clk.Now().Add(-15 * 24 * time.Hour) // sends beyond the window
	e.o.evs[1].Created = e.clk.Now().Add(-15 * 24 * time.Hour)
	e.o.sends(e.clk.Now(), "", addrs("b", 200)...)
	e.step()
	e.want(true, store.EnforcementHealthy)
	if r := e.reputation(""); r.Sends != 200 || r.HardBounces != 0 {
		t.Fatalf("reputation %+v", r)
	}
}

func TestEvaluatorConfigurationSets(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	for _, cs := range []store.ConfigurationSet{
		{AccountID: acct, Region: region, Name: "watched", Options: store.ConfigurationSetOptions{
			Reputation: &store.ReputationOptions{ReputationMetricsEnabled: true}}},
		{AccountID: acct, Region: region, Name: "unwatched"},
	} {
		if err := e.st.CreateConfigurationSet(ctx, cs, 0); err != nil {
			t.Fatal(err)
		}
	}
	// Each set: 150 sends, 30 bounces (20 %); the account: 150 clean sends
	// more, so 60 of 450 (13 %).
	for _, set := range []string{"watched", "unwatched"} {
		e.o.sends(e.clk.Now(), set, addrs(set, 150)...)
		e.o.bounce(e.clk.Now(), set, "Permanent", "General", addrs(set, 30)...)
	}
	e.o.sends(e.clk.Now(), "", addrs("plain", 150)...)
	e.ev.Thresholds.BouncePause = 0.15 // the account only under review
	e.step()
	e.want(true, store.EnforcementProbation)
	get := func(name string) store.ConfigurationSet {
		cs, err := e.st.ConfigurationSet(ctx, acct, region, name)
		if err != nil {
			t.Fatal(err)
		}
		return cs
	}
	if get("watched").SendingEnabled() || !get("unwatched").SendingEnabled() {
		t.Fatalf("watched sends %v, unwatched %v; want false, true", get("watched").SendingEnabled(), get("unwatched").SendingEnabled())
	}
	if r := e.reputation("watched"); r.Sends != 150 || r.HardBounces != 30 || !r.Paused {
		t.Fatalf("watched: %+v", r)
	}
	// UpdateConfigurationSetSendingEnabled lifts it; the old bounces do not
	// pause it again.
	if err := e.st.UpdateConfigurationSetOptions(ctx, acct, region, "watched", func(o *store.ConfigurationSetOptions) error {
		o.Sending = &store.SendingOptions{SendingEnabled: true}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	e.clk.Advance(time.Minute)
	e.step()
	if !get("watched").SendingEnabled() {
		t.Fatal("a lifted pause was imposed again by the same bounces")
	}
	r := e.reputation("watched")
	if r.Paused || r.CountsFrom.IsZero() || r.Sends != 0 {
		t.Fatalf("watched after the lift: %+v", r)
	}
	// GetConfigurationSet shows the fresh start.
	if ro := get("watched").Options.Reputation; ro == nil || ro.LastFreshStart == nil || !ro.LastFreshStart.Equal(r.CountsFrom) ||
		!ro.ReputationMetricsEnabled {
		t.Fatalf("watched reputation options %+v, want LastFreshStart %v", ro, r.CountsFrom)
	}
	// New bad sending through it pauses it again.
	e.clk.Set(r.CountsFrom.Add(time.Minute))
	e.o.sends(e.clk.Now(), "watched", addrs("w2", 100)...)
	e.o.bounce(e.clk.Now(), "watched", "Permanent", "General", addrs("w2", 20)...)
	e.step()
	if get("watched").SendingEnabled() {
		t.Fatal("20 % bounces after the fresh start did not pause the set")
	}
}

func TestEventsCountOnce(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.o.sends(t0, "", addrs("a", 3)...)
	e.o.bounce(t0, "", "Permanent", "General", "a0@example.com")
	// A replayed stage appends the same events again: kept once, so
	// counted once.
	for range 2 {
		if err := e.st.AppendEvents(ctx, e.o.evs); err != nil {
			t.Fatal(err)
		}
	}
	stats, err := e.st.SendStatsSince(ctx, acct, region, t0.Add(-time.Hour), true, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(stats) != 1 || stats[0].DeliveryAttempts != 3 || stats[0].Bounces != 1 || stats[0].HardBounces != 1 {
		t.Fatalf("stats %+v", stats)
	}
}

// Run judges what the outbox counted and pauses the account, without being
// told (it polls).
func TestServiceRun(t *testing.T) {
	e := newEnv(t)
	ctx, cancel := context.WithCancel(context.Background())
	svc := &Service{Store: e.st, Evaluator: e.ev, EvaluateEvery: time.Nanosecond,
		Clock: e.clk, Logger: e.ev.Logger}
	done := make(chan error)
	go func() { done <- svc.Run(ctx) }()
	e.o.sends(e.clk.Now(), "", addrs("a", 200)...)
	e.o.bounce(e.clk.Now(), "", "Permanent", "General", addrs("a", 40)...)
	if err := e.st.AppendEvents(context.Background(), e.o.evs); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for e.settings().SendingEnabled {
		if time.Now().After(deadline) {
			t.Fatal("the account was not paused")
		}
		e.clk.Advance(time.Second)
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if r := e.reputation(""); r.Sends != 200 || r.HardBounces != 40 || !r.Paused {
		t.Fatalf("reputation %+v", r)
	}
}

// The server passes a *store.Store as the Store.
var _ Store = (*store.Store)(nil)
