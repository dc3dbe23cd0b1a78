package mailmsg_test

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"sesame/internal/feedback"
	"sesame/internal/mailmsg"
)

// The DSN the composer writes reads back, with feedback's parser (the one
// sesame applies to the DSNs it receives), as the bounce it describes.
func TestDSNParsesBack(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 12, 6, 10, 0, 0, 0, time.UTC)
	orig := []byte("From: Bob <bob@sender.example>\r\nTo: a@in.example\r\nSubject: Hello\r\nMessage-ID: <orig-1@sender.example>\r\n")
	d := mailmsg.DSN{
		From: "MAILER-DAEMON@in.example", To: "bob@sender.example", Subject: "Delivery Status Notification (Failure)",
		Explanation:  "An error occurred.\n",
		ReportingMTA: "dns; mx.in.example",
		Fields: []mailmsg.Field{{Name: "Arrival-Date", Value: mailmsg.FormatDate(at)},
			{Name: "X-Injected", Value: "one\r\nFinal-Recipient: rfc822; evil@x.example"}},
		Recipients: []mailmsg.DSNRecipient{
			{FinalRecipient: "a@in.example", Action: "failed", Status: "5.1.1",
				DiagnosticCode: "smtp; 550 5.1.1 no such mailbox", LastAttempt: at},
			{FinalRecipient: "b@in.example", Action: "failed", Status: "4.0.0", RemoteMTA: "dns; store.in.example",
				DiagnosticCode: "smtp; 450 4.0.0 try later", Fields: []mailmsg.Field{{Name: "X-Extra", Value: "1"}}},
		},
		OriginalHeader: orig,
	}
	raw := d.Bytes()
	rep, err := feedback.Parse(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	if rep.Kind != feedback.KindBounce || rep.ReportingMTA != "dns; mx.in.example" ||
		rep.From != "MAILER-DAEMON@in.example" || rep.Subject != d.Subject {
		t.Errorf("report = %+v", rep)
	}
	want := []feedback.RecipientStatus{
		{Recipient: "a@in.example", Action: "failed", Status: "5.1.1", Diagnostic: "smtp; 550 5.1.1 no such mailbox"},
		{Recipient: "b@in.example", Action: "failed", Status: "4.0.0", Diagnostic: "smtp; 450 4.0.0 try later",
			RemoteMTA: "dns; store.in.example"},
	}
	if len(rep.Recipients) != len(want) {
		t.Fatalf("recipients = %+v, want %+v", rep.Recipients, want)
	}
	for i := range want {
		if rep.Recipients[i] != want[i] {
			t.Errorf("recipient %d = %+v, want %+v", i, rep.Recipients[i], want[i])
		}
	}
	if rep.OriginalMessageID != "orig-1@sender.example" || !bytes.Contains(rep.OriginalHeader, []byte("Subject: Hello")) {
		t.Errorf("original header %q (id %q)", rep.OriginalHeader, rep.OriginalMessageID)
	}
	s := string(raw)
	for _, line := range []string{"Arrival-Date: Sun, 06 Dec 2026 10:00:00 +0000\r\n", "Last-Attempt-Date: Sun, 06 Dec 2026 10:00:00 +0000\r\n",
		"X-Extra: 1\r\n", "Auto-Submitted: auto-replied\r\n", "X-Injected: one Final-Recipient: rfc822; evil@x.example\r\n"} {
		if !strings.Contains(s, line) {
			t.Errorf("no line %q in\n%s", line, s)
		}
	}
	if strings.Count(s, "Last-Attempt-Date") != 1 {
		t.Errorf("a zero LastAttempt wrote a Last-Attempt-Date:\n%s", s)
	}
}
