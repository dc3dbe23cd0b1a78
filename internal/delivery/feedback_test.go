package delivery

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"sesame/internal/events"
	"sesame/internal/feedback"
	"sesame/internal/mailmsg"
	"sesame/internal/outcome"
	"sesame/internal/spool"
	"sesame/internal/testenv"
)

// TestFeedbackAfterDelivery: a message delivered and gone from the spool;
// a receiver reports later, at its bounce address, a failed recipient, a
// complaint and an auto-reply. Each gets SES's consequences.
func TestFeedbackAfterDelivery(t *testing.T) {
	env := startMX(t, nil, testenv.SinkOptions{})
	env.dns.SetMX("a.test", 10, "mx2.test")
	ctx := context.Background()
	id := env.send("sender@example.com", spool.Meta{FeedbackTo: "fb@example.com"},
		"x@a.test", "y@a.test")
	env.waitGone(id)
	from := env.sinks[0].Messages()[0].From
	if from != id+"@bounce.sesame.test" {
		t.Fatalf("MAIL FROM %q", from)
	}
	env.wait("the sent record", func() bool {
		ok, _ := env.rec.KnownBounceAddress(ctx, id, "bounce.sesame.test")
		return ok
	})
	for _, tc := range []struct {
		local, domain string
		known, err    bool
	}{
		{strings.ToUpper(id), "BOUNCE.sesame.test", true, false}, // receivers may change case
		{id, "other.test", false, false},
		{"postmaster", "bounce.sesame.test", false, false},
		// Not in the spool and not recorded: never sent (the record of a
		// delivered message is written before the spool lets it go).
		{mailmsg.NewMessageID("us-east-1", time.Now()), "bounce.sesame.test", false, false},
	} {
		known, err := env.rec.KnownBounceAddress(ctx, tc.local, tc.domain)
		if known != tc.known || (err != nil) != tc.err {
			t.Errorf("KnownBounceAddress(%s, %s) = %v, %v", tc.local, tc.domain, known, err)
		}
	}

	// An asynchronous DSN: y@a.test does not exist after all.
	dsn := &feedback.Report{Kind: feedback.KindBounce, ReportingMTA: "dns; mx2.test",
		Recipients: []feedback.RecipientStatus{
			{Recipient: "y@a.test", Action: "failed", Status: "5.1.1",
				Diagnostic: "smtp; 550 5.1.1 <y@a.test>: Recipient address rejected: User unknown", RemoteMTA: "dns; mailbox.a.test"},
			{Recipient: "x@a.test", Action: "delivered", Status: "2.0.0"},
		},
		OriginalHeader: []byte("From: sender@example.com\r\nSubject: test 1\r\n")}
	for range 2 { // the receiver sends it twice: one bounce, one DSN
		if err := env.rec.Feedback(ctx, id, dsn, nil); err != nil {
			t.Fatal(err)
		}
	}
	b := env.bounces(id)
	if len(b) != 1 || b[0].Recipient != "y@a.test" || b[0].Type != outcome.BouncePermanent || b[0].SubType != outcome.SubNoEmail ||
		b[0].RemoteMTA != "mailbox.a.test" || b[0].DSNPending {
		t.Fatalf("bounces = %+v", b)
	}
	if sup, err := env.store.SuppressedDestination(ctx, testAccount, testRegion, "y@a.test"); err != nil || sup.Reason != "BOUNCE" {
		t.Errorf("suppression of y@a.test = %+v, %v", sup, err)
	}
	sent := env.dsns.sent()
	if len(sent) != 1 || sent[0].Recipients[0] != "fb@example.com" {
		t.Fatalf("DSNs = %+v", sent)
	}
	for _, want := range []string{"Final-Recipient: rfc822; y@a.test", "Status: 5.1.1", "Subject: test 1",
		"X-SES-Message-ID: " + id} {
		if !strings.Contains(string(sent[0].Message), want) {
			t.Errorf("DSN lacks %q:\n%s", want, sent[0].Message)
		}
	}

	// An ARF complaint about x@a.test, forwarded as received.
	arf := "From: fbl@a.test\r\nSubject: complaint\r\nMIME-Version: 1.0\r\n" +
		"Content-Type: multipart/report; report-type=feedback-report; boundary=\"b\"\r\n\r\n--b\r\n" +
		"Content-Type: message/feedback-report\r\n\r\nFeedback-Type: abuse\r\n\r\n--b--\r\n"
	comp := &feedback.Report{Kind: feedback.KindComplaint, Subject: "complaint",
		Complaint: &feedback.Complaint{FeedbackType: "abuse", UserAgent: "FBL/1.0", Recipients: []string{"x@a.test"}}}
	for range 2 { // a receiver retrying: recorded and forwarded once
		if err := env.rec.Feedback(ctx, id, comp, []byte(arf)); err != nil {
			t.Fatal(err)
		}
	}
	cs, err := env.store.Complaints(ctx, testAccount, testRegion, id, 0)
	if err != nil || len(cs) != 1 || cs[0].Recipient != "x@a.test" || cs[0].FeedbackType != "abuse" || cs[0].UserAgent != "FBL/1.0" {
		t.Fatalf("complaints = %+v, %v", cs, err)
	}
	if sup, err := env.store.SuppressedDestination(ctx, testAccount, testRegion, "x@a.test"); err != nil || sup.Reason != "COMPLAINT" {
		t.Errorf("suppression of x@a.test = %+v, %v", sup, err)
	}
	sent = env.dsns.sent()
	if len(sent) != 2 {
		t.Fatalf("%d messages sent, want the complaint forwarded", len(sent))
	}
	fwd := string(sent[1].Message)
	for _, want := range []string{"From: complaints@bounce.sesame.test\r\n", "To: fb@example.com\r\n",
		"Content-Type: multipart/report; report-type=feedback-report; boundary=\"b\"\r\n", "Feedback-Type: abuse\r\n"} {
		if !strings.Contains(fwd, want) {
			t.Errorf("forwarded complaint lacks %q:\n%s", want, fwd)
		}
	}

	// Reports about addresses the message was not sent to change nothing:
	// whoever saw the bounce address cannot suppress others.
	forged := &feedback.Report{Kind: feedback.KindBounce, Recipients: []feedback.RecipientStatus{
		{Recipient: "victim@b.test", Action: "failed", Status: "5.1.1"}}}
	redacted := &feedback.Report{Kind: feedback.KindComplaint,
		Complaint: &feedback.Complaint{FeedbackType: "abuse", Recipients: []string{"redacted@a.test"}}}
	// No Original-Rcpt-To and a To naming both recipients: which one
	// complained is unknown, so neither is recorded.
	bothTo := &feedback.Report{Kind: feedback.KindComplaint,
		Complaint: &feedback.Complaint{FeedbackType: "abuse", OriginalTo: []string{"x@a.test", "Y@a.test"}}}
	for _, rep := range []*feedback.Report{forged, redacted, bothTo} {
		if err := env.rec.Feedback(ctx, id, rep, []byte(arf)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := env.store.SuppressedDestination(ctx, testAccount, testRegion, "victim@b.test"); err == nil {
		t.Error("a forged DSN suppressed an address the message never went to")
	}
	if b := env.bounces(id); len(b) != 1 {
		t.Errorf("bounces after a forged DSN: %+v", b)
	}
	if cs, _ := env.store.Complaints(ctx, testAccount, testRegion, id, 0); len(cs) != 1 {
		t.Errorf("complaints after a redacted one on a two-recipient message: %+v", cs)
	}
	if _, err := env.store.SuppressedDestination(ctx, testAccount, testRegion, "y@a.test"); err != nil {
		t.Fatal(err) // still there from the bounce, as BOUNCE
	}
	// A To naming exactly one of them says who it was.
	oneTo := &feedback.Report{Kind: feedback.KindComplaint,
		Complaint: &feedback.Complaint{FeedbackType: "abuse", OriginalTo: []string{"Y@a.test", "someone@else.test"}}}
	if err := env.rec.Feedback(ctx, id, oneTo, []byte(arf)); err != nil {
		t.Fatal(err)
	}
	if cs, _ := env.store.Complaints(ctx, testAccount, testRegion, id, 0); len(cs) != 2 {
		t.Errorf("complaints after one whose To names y@a.test: %+v", cs)
	}
	// With one recipient, a redacted complaint can only be about it.
	one := env.send("sender@example.com", spool.Meta{}, "solo@a.test")
	env.waitGone(one)
	env.wait("the sent record", func() bool { ok, _ := env.rec.KnownBounceAddress(ctx, one, "bounce.sesame.test"); return ok })
	if err := env.rec.Feedback(ctx, one, redacted, []byte(arf)); err != nil {
		t.Fatal(err)
	}
	if cs, _ := env.store.Complaints(ctx, testAccount, testRegion, one, 0); len(cs) != 1 || cs[0].Recipient != "solo@a.test" {
		t.Errorf("redacted complaint on a one-recipient message: %+v", cs)
	}
	base := len(env.dsns.sent())

	// An auto-reply is passed on; a message sesame never sent is refused.
	other := &feedback.Report{Kind: feedback.KindOther, Subject: "Out of office"}
	if err := env.rec.Feedback(ctx, id, other, []byte("Subject: Out of office\r\n\r\nBack Monday.\r\n")); err != nil {
		t.Fatal(err)
	}
	if sent = env.dsns.sent(); len(sent) != base+1 || !strings.Contains(string(sent[base].Message), "Back Monday.") {
		t.Errorf("auto-reply not forwarded: %+v", sent)
	}
	if err := env.rec.Feedback(ctx, "0100nothing-000000", other, nil); !errors.Is(err, events.ErrUnknownMessage) {
		t.Errorf("Feedback on an unknown message = %v", err)
	}
}

// TestSystemMailTakesNoFeedback: sesame's own mail (a verification message)
// leaves no sent record, so a late report about it is refused, never turned
// into a DSN to no-reply@ or a suppression in the account.
func TestSystemMailTakesNoFeedback(t *testing.T) {
	env := startMX(t, nil, testenv.SinkOptions{})
	env.dns.SetMX("a.test", 10, "mx2.test")
	ctx := context.Background()
	d, err := env.spool.NewDraft()
	if err != nil {
		t.Fatal(err)
	}
	d.Write([]byte("From: no-reply@out.sesame.test\r\nTo: v@a.test\r\nSubject: verify\r\n\r\nClick.\r\n"))
	id := "0100sys-0001-000000"
	if err := env.spool.Append(ctx, &spool.Envelope{ID: id, AccountID: testAccount, Region: testRegion,
		MailFrom: "no-reply@out.sesame.test", Recipients: []string{"v@a.test"}, Received: time.Now(),
		Via: spool.ViaSystem}, nil, d); err != nil {
		t.Fatal(err)
	}
	env.waitGone(id)
	// Delivery of an ordinary message after it, so the sent log has flushed
	// past the system message's turn.
	other := env.send("sender@example.com", spool.Meta{}, "w@a.test")
	env.waitGone(other)
	env.wait("the ordinary message's record", func() bool {
		ok, _ := env.rec.KnownBounceAddress(ctx, other, "bounce.sesame.test")
		return ok
	})
	if ok, err := env.rec.KnownBounceAddress(ctx, id, "bounce.sesame.test"); ok || err != nil {
		t.Errorf("KnownBounceAddress of a system message = %v, %v; want unknown", ok, err)
	}
	if err := env.rec.Feedback(ctx, id, &feedback.Report{Kind: feedback.KindBounce}, nil); !errors.Is(err, events.ErrUnknownMessage) {
		t.Errorf("Feedback about a system message = %v", err)
	}
}

// TestFailedSystemMailIsDropped: a DSN (sesame's own mail, null sender)
// that its receiver refuses is dropped: no bounce record of the sender's
// address, no suppression, no DSN about the DSN.
func TestFailedSystemMailIsDropped(t *testing.T) {
	env := startMX(t, nil, testenv.SinkOptions{Reject: map[string]string{"sender@noreply.test": "550 5.1.1 no such user"}})
	env.dns.SetMX("noreply.test", 10, "mx2.test")
	ctx := context.Background()
	d, err := env.spool.NewDraft()
	if err != nil {
		t.Fatal(err)
	}
	d.Write([]byte("From: MAILER-DAEMON@bounce.sesame.test\r\nTo: sender@noreply.test\r\nSubject: Delivery Status Notification (Failure)\r\n\r\nFailed.\r\n"))
	id := "0100sys-0002-000000"
	if err := env.spool.Append(ctx, &spool.Envelope{ID: id, AccountID: testAccount, Region: testRegion,
		MailFrom: "", Recipients: []string{"sender@noreply.test"}, Received: time.Now(),
		Via: spool.ViaSystem}, nil, d); err != nil {
		t.Fatal(err)
	}
	env.waitGone(id)
	if bs, err := env.store.Bounces(ctx, testAccount, testRegion, id, 10); err != nil || len(bs) != 0 {
		t.Errorf("bounce records of the failed DSN = %+v, %v; want none", bs, err)
	}
	if _, err := env.store.SuppressedDestination(ctx, testAccount, testRegion, "sender@noreply.test"); err == nil {
		t.Error("the sender's address is on the suppression list because a DSN to it failed")
	}
	if n := len(env.dsns.sent()); n != 0 {
		t.Errorf("%d DSNs about the failed DSN", n)
	}
}
