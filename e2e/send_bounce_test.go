package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"sesame/internal/feedback"
	"sesame/internal/store"
	"sesame/internal/testenv"
)

// TestSendBounceWithBoto3: a message sesame received is bounced with
// boto3's SendBounce, and the DSN is captured: to the received message's
// envelope sender, from the BounceSender, one block per recipient with
// the status asked for, the original header returned. The received
// message is recorded by opening the store beside the running server, as
// `sesame admin` does (the store takes several processes), since the
// inbound MX that records it for real is another part of issue 12. Then
// SES's refusals: an unknown message, an unverified BounceSender, a
// recipient the message did not have.
func TestSendBounceWithBoto3(t *testing.T) {
	pythonModule(t, "boto3")
	s := testenv.Start(t, testenv.Options{})
	s.Verify("bounce.test")

	st := s.OpenStore()
	const original = "0100019abc-received-1"
	header := "From: Bob <bob@sender.example>\r\nTo: gone@bounce.test, full@bounce.test\r\n" +
		"Subject: Are you there?\r\nMessage-ID: <q1@sender.example>\r\n"
	err := st.PutReceivedMessage(context.Background(), store.ReceivedMessage{
		ID: original, AccountID: s.Account, Region: s.Regions[0], Received: time.Now().Add(-time.Minute),
		MailFrom: "bounces+q1@sender.example", Recipients: []string{"gone@bounce.test", "full@bounce.test"},
		From: "Bob <bob@sender.example>", Subject: "Are you there?", MessageID: "<q1@sender.example>",
		Header: []byte(header), SPF: "PASS", DKIM: "PASS", DMARC: "PASS", Spam: "PASS", Virus: "PASS",
	})
	st.Close()
	if err != nil {
		t.Fatal(err)
	}

	script, err := filepath.Abs(filepath.Join("scripts", "send_bounce_boto3.py"))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "/usr/bin/python3", script)
	cmd.Env = append(s.Env(t), "ORIGINAL="+original, "BOUNCE_SENDER=mailer-daemon@bounce.test",
		"RCPT_GONE=gone@bounce.test", "RCPT_FULL=full@bounce.test")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("send_bounce_boto3.py: %v\n%s%s", err, stdout.String(), stderr.String())
	}
	type apiErr struct{ Code, Message string }
	var out struct {
		MessageId                     string
		Unknown, Unverified, Stranger apiErr
	}
	if err := json.Unmarshal(stdout.Bytes(), &out); err != nil {
		t.Fatalf("script output %q: %v", stdout.String(), err)
	}

	m := waitSubject(t, s, "Delivery Status Notification (Failure)")
	if m.ID != out.MessageId || !reflect.DeepEqual(m.Recipients, []string{"bounces+q1@sender.example"}) {
		t.Errorf("captured %s to %v, want %s to the original sender", m.ID, m.Recipients, out.MessageId)
	}
	rep, err := feedback.Parse(strings.NewReader(m.RawData))
	if err != nil {
		t.Fatal(err)
	}
	want := []feedback.RecipientStatus{
		{Recipient: "gone@bounce.test", Action: "failed", Status: "5.1.1", Diagnostic: "smtp; 550 5.1.1 Mailbox does not exist"},
		{Recipient: "full@bounce.test", Action: "failed", Status: "5.2.2", Diagnostic: "smtp; 552 5.2.2 Mailbox full",
			RemoteMTA: "dns; store.bounce.test"},
	}
	if rep.Kind != feedback.KindBounce || rep.From != "mailer-daemon@bounce.test" || rep.ReportingMTA != "dns; mx.bounce.test" ||
		!reflect.DeepEqual(rep.Recipients, want) || rep.OriginalMessageID != "q1@sender.example" ||
		!bytes.Contains(rep.OriginalHeader, []byte("Subject: Are you there?")) {
		t.Errorf("the captured DSN: %+v\n%s", rep, m.RawData)
	}
	for _, line := range []string{"To: bounces+q1@sender.example\r\n", "Arrival-Date: Sun, 06 Dec 2026 09:30:00 +0000\r\n",
		"X-Bounce-Test: boto3\r\n", "X-SES-Message-ID: " + original + "\r\n", "Some recipients of your message could not be reached.",
		"Auto-Submitted: auto-replied\r\n"} {
		if !strings.Contains(m.RawData, line) {
			t.Errorf("no %q in the captured DSN:\n%s", line, m.RawData)
		}
	}

	for _, tc := range []struct {
		name      string
		got, want apiErr
	}{
		{"unknown message", out.Unknown, apiErr{"MessageRejected",
			"Message no-such-message was not received by this account in this region within the last 24 hours: SendBounce bounces only such messages."}},
		{"unverified sender", out.Unverified, apiErr{"MessageRejected",
			"Email address is not verified. The following identities failed the check in region US-EAST-1: mailer@unverified.test"}},
		{"not a recipient", out.Stranger, apiErr{"MessageRejected",
			"stranger@bounce.test is not a recipient of message " + original + "."}},
	} {
		if tc.got != tc.want {
			t.Errorf("%s: %+v, want %+v", tc.name, tc.got, tc.want)
		}
	}
	// The refusals sent nothing.
	if n := len(s.Captured("")); n != 1 {
		t.Errorf("%d messages captured, want the one DSN", n)
	}
}
