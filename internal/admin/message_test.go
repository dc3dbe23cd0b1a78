package admin

import (
	"context"
	"strings"
	"testing"
	"time"

	"sesame/internal/clock"
	"sesame/internal/events"
	"sesame/internal/outcome"
	"sesame/internal/spool"
)

// TestMessageShow: the events the Recorder put in the outbox for a
// message, in order, each with its recipients and its event object.
func TestMessageShow(t *testing.T) {
	t.Parallel()
	f := newFixture(t, 1)
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	at := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	rec := events.NewRecorder(f.st, nil, nil, "mail.test", "", clock.NewFake(at), nil)
	go rec.Run(ctx)
	env := &spool.Envelope{ID: "0100019ab1c2d3e4-msg", AccountID: f.ids[0], Region: "us-east-1",
		MailFrom: "sender@example.com", Recipients: []string{"ok@example.net", "gone@example.net"},
		Received: at, Via: spool.ViaAPI, Meta: spool.Meta{Operation: "SendEmail"}}
	header := "From: Sender <sender@example.com>\r\nTo: ok@example.net, gone@example.net\r\nSubject: hello there\r\n\r\n"
	if err := rec.Record(ctx, &spool.Entry{Envelope: *env}, []byte(header), []outcome.Result{
		{Kind: outcome.Sent, Recipients: env.Recipients, Time: at},
		{Kind: outcome.Delivered, Recipients: []string{"ok@example.net"}, Time: at.Add(time.Second), Reply: "250 ok"},
		{Kind: outcome.Bounced, Recipients: []string{"gone@example.net"}, Time: at.Add(2 * time.Second),
			BounceType: outcome.BouncePermanent, BounceSubType: outcome.SubNoEmail, FeedbackID: "fb-1",
			Failure: &outcome.Failure{Code: 550, Enhanced: "5.1.1", Text: "<gone@example.net>: no such user", Permanent: true, Remote: true}},
	}); err != nil {
		t.Fatal(err)
	}

	out, err := f.run("message", "show", env.ID)
	if err != nil {
		t.Fatal(err)
	}
	// Addresses as they are, not HTML-escaped: in the header fields and in
	// the event objects (encoded apart).
	if strings.Contains(out, `\u003c`) || !strings.Contains(out, `"Sender <sender@example.com>"`) ||
		!strings.Contains(out, `<gone@example.net>: no such user`) {
		t.Errorf("output escapes HTML or lost the addresses:\n%s", out)
	}
	m := decode(t, out).(map[string]any)
	if m["messageId"] != env.ID || m["subject"] != "hello there" || m["from"] != "Sender <sender@example.com>" ||
		m["source"] != "sender@example.com" || m["timestamp"] != "2026-11-23T12:00:00Z" {
		t.Errorf("message = %s", out)
	}
	evs := m["events"].([]any)
	var types []string
	for _, e := range evs {
		types = append(types, e.(map[string]any)["eventType"].(string))
	}
	if strings.Join(types, ",") != "Send,Delivery,Bounce" {
		t.Fatalf("event types %v, want Send, Delivery, Bounce: %s", types, out)
	}
	send, delivery, bounce := evs[0].(map[string]any), evs[1].(map[string]any), evs[2].(map[string]any)
	if send["detail"] != nil || len(send["recipients"].([]any)) != 2 {
		t.Errorf("send = %v", send)
	}
	if d := delivery["detail"].(map[string]any); d["smtpResponse"] != "250 ok" || delivery["timestamp"] != "2026-11-23T12:00:01Z" {
		t.Errorf("delivery = %v", delivery)
	}
	b := bounce["detail"].(map[string]any)
	br := b["bouncedRecipients"].([]any)[0].(map[string]any)
	if b["bounceType"] != "Permanent" || b["bounceSubType"] != "NoEmail" || br["diagnosticCode"] != "smtp; 550 5.1.1 <gone@example.net>: no such user" ||
		bounce["recipients"].([]any)[0] != "gone@example.net" {
		t.Errorf("bounce = %v", bounce)
	}

	for _, args := range [][]string{
		{"message", "show", "0100019ab1c2d3e4-unknown"},
		{"message", "show", "--region", "eu-west-1", env.ID},
		{"message", "show"},
	} {
		if out, err := f.run(args...); err == nil {
			t.Errorf("%v: no error; printed %s", args, out)
		}
	}
}
