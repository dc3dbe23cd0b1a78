package delivery

import (
	"context"
	"strings"
	"testing"
	"time"

	"sesame/internal/outcome"
	"sesame/internal/spool"
	"sesame/internal/store"
	"sesame/internal/testenv"
)

// The DSN is at least once: a DSN that could not be spooled keeps the
// message (its recipients settled) and is sent on the next attempt — once,
// without contacting the receiver again.
func TestDSNRetriedAfterAFailedSubmission(t *testing.T) {
	// A retry slow enough to see the deferral in between.
	env := startMX(t, func(m *MX) { m.Retry.First = 300 * time.Millisecond },
		testenv.SinkOptions{Reject: map[string]string{"gone@c.test": "550 5.1.1 no such user"}})
	env.dsns.mu.Lock()
	env.dsns.fail = 1
	env.dsns.mu.Unlock()
	env.dns.SetMX("c.test", 10, "mx2.test")
	id := env.send("sender@example.com", spool.Meta{}, "gone@c.test")
	var e spool.Entry
	env.wait("the follow-up to be deferred", func() bool {
		var ok bool
		e, ok = env.spool.Entry(id)
		return ok && e.State.Attempts > 0
	})
	env.waitGone(id)
	if !strings.Contains(e.State.LastError, "recording the outcome") || len(e.State.Done) != 1 {
		t.Errorf("deferred state = %+v", e.State)
	}
	if dsns := env.dsns.sent(); len(dsns) != 1 || !strings.Contains(string(dsns[0].Message), "Final-Recipient: rfc822; gone@c.test") {
		t.Fatalf("DSNs: %+v", dsns)
	}
	if n := env.sinks[0].Connections(); n != 1 {
		t.Errorf("the receiver was contacted %d times, want once", n)
	}
	if p, _ := env.store.PendingBounces(context.Background(), id); len(p) != 0 {
		t.Errorf("still pending: %+v", p)
	}
	if _, err := env.store.SuppressedDestination(context.Background(), testAccount, testRegion, "gone@c.test"); err != nil {
		t.Errorf("not suppressed: %v", err)
	}
}

// A crash between the bounce record and the DSN: the replay of the
// message (the spool still has it) bounces the recipient again, finds the
// record pending and sends the DSN the crashed attempt did not — composed
// from the record, as the first would have been. A record already followed
// up sends nothing again.
func TestDSNSentOnReplayAfterACrash(t *testing.T) {
	env := startMX(t, nil, testenv.SinkOptions{Reject: map[string]string{
		"gone@c.test": "550 5.1.1 no such user", "left@c.test": "550 5.1.1 no such user"}})
	env.dns.SetMX("c.test", 10, "mx2.test")
	ctx := context.Background()
	crashed := func(id, rcpt string, followedUp bool) {
		t.Helper()
		b := store.Bounce{AccountID: testAccount, Region: testRegion, MessageID: id, Recipient: rcpt,
			Type: outcome.BouncePermanent, SubType: outcome.SubNoEmail, Status: "5.1.1", Diagnostic: "smtp; 550 5.1.1 first attempt's words",
			RemoteMTA: "mx2.test", FeedbackID: "f-" + id, Reply: "550 5.1.1 first attempt's words", Created: time.Unix(1e9, 0)}
		if err := env.store.RecordOutcomes(ctx, store.Outcomes{Bounces: []store.Bounce{b}}); err != nil {
			t.Fatal(err)
		}
		if followedUp {
			if err := env.store.BouncesFollowedUp(ctx, id, []string{rcpt}); err != nil {
				t.Fatal(err)
			}
		}
	}
	crashed("0100crash-0001", "gone@c.test", false)
	crashed("0100crash-0002", "left@c.test", true)
	env.sendID("0100crash-0001", 1, "sender@example.com", spool.Meta{}, "gone@c.test")
	env.waitGone("0100crash-0001")
	dsns := env.dsns.sent()
	if len(dsns) != 1 {
		t.Fatalf("%d DSNs after the replay, want 1", len(dsns))
	}
	dsn := string(dsns[0].Message)
	for _, want := range []string{"gone@c.test: 550 5.1.1 first attempt's words", "Diagnostic-Code: smtp; 550 5.1.1 first attempt's words",
		"Remote-MTA: dns; mx2.test", "Status: 5.1.1", "Last-Attempt-Date: " + time.Unix(1e9, 0).UTC().Format(time.RFC1123Z)} {
		if !strings.Contains(dsn, want) {
			t.Errorf("DSN lacks %q:\n%s", want, dsn)
		}
	}
	if _, err := env.store.SuppressedDestination(ctx, testAccount, testRegion, "gone@c.test"); err != nil {
		t.Errorf("the suppression entry was not redone: %v", err)
	}
	env.sendID("0100crash-0002", 2, "sender@example.com", spool.Meta{}, "left@c.test")
	env.waitGone("0100crash-0002")
	if n := len(env.dsns.sent()); n != 1 {
		t.Errorf("%d DSNs: a followed-up bounce's replay sent another", n)
	}
}

// A message whose bounce needs no DSN (sesame's own mail) still has its
// record settled.
func TestBounceWithoutDSNIsSettled(t *testing.T) {
	env := startMX(t, nil, testenv.SinkOptions{Reject: map[string]string{"gone@c.test": "550 5.1.1 no such user"}})
	env.dns.SetMX("c.test", 10, "mx2.test")
	id := env.send("", spool.Meta{}, "gone@c.test") // null reverse-path, as a DSN
	env.waitGone(id)
	if n := len(env.dsns.sent()); n != 0 {
		t.Errorf("%d DSNs about a message with a null reverse-path", n)
	}
	if p, _ := env.store.PendingBounces(context.Background(), id); len(p) != 0 || len(env.bounces(id)) != 1 {
		t.Errorf("pending %+v, bounces %+v", p, env.bounces(id))
	}
}
