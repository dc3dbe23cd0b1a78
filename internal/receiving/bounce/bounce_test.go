package bounce

import (
	"bytes"
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"sesame/internal/feedback"
	"sesame/internal/mailmsg"
	"sesame/internal/sending"
)

// recordingSystem keeps what would be spooled (sending's SubmitSystem is
// tested with its spool in internal/sending, the whole path in e2e).
type recordingSystem struct {
	sent []sending.SystemMessage
	err  error
}

func (r *recordingSystem) SubmitSystem(_ context.Context, m sending.SystemMessage) (string, error) {
	if r.err != nil {
		return "", r.err
	}
	r.sent = append(r.sent, m)
	return "dsn-1", nil
}

var origHeader = []byte("From: Bob <bob@sender.example>\r\nTo: gone@in.example\r\nSubject: Hello\r\nMessage-ID: <m1@sender.example>\r\n")

func TestBounceActionDSN(t *testing.T) {
	t.Parallel()
	arrival := time.Date(2026, 12, 6, 10, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name                 string
		reply, status, msg   string
		wantStatus, wantDiag string
	}{
		{"mailbox does not exist", "550", "5.1.1", "mailbox does not exist", "5.1.1", "smtp; 550 5.1.1 mailbox does not exist"},
		{"temporary failure", "450", "4.0.0", "temporary failure", "4.0.0", "smtp; 450 4.0.0 temporary failure"},
		{"status derived", "552", "", "too big", "5.0.0", "smtp; 552 5.0.0 too big"},
		{"no message", "554", "5.0.0", "", "5.0.0", "smtp; 554 5.0.0"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			sys := &recordingSystem{}
			b := New(sys, "mx.in.example")
			id, err := b.Bounce(context.Background(), BounceRequest{
				AccountID: "111122223333", Region: "eu-west-1",
				Sender: "MAILER-DAEMON@in.example", To: "bob@sender.example",
				Recipients:    []string{"gone@in.example", "also@in.example"},
				SmtpReplyCode: tc.reply, StatusCode: tc.status, Message: tc.msg,
				OriginalHeader: origHeader, Arrival: arrival, OriginalMessageID: "rcv-1",
			})
			if err != nil || id != "dsn-1" || len(sys.sent) != 1 {
				t.Fatalf("Bounce = %q, %v; sent %d", id, err, len(sys.sent))
			}
			m := sys.sent[0]
			// The null reverse-path, to the original sender, as the account.
			if m.MailFrom != "" || !reflect.DeepEqual(m.Recipients, []string{"bob@sender.example"}) ||
				m.AccountID != "111122223333" || m.Region != "eu-west-1" || m.Requested {
				t.Errorf("envelope: %+v", m)
			}
			rep, err := feedback.Parse(bytes.NewReader(m.Message))
			if err != nil {
				t.Fatal(err)
			}
			if rep.Kind != feedback.KindBounce || rep.From != "MAILER-DAEMON@in.example" || rep.ReportingMTA != "dns; mx.in.example" {
				t.Errorf("report: %+v", rep)
			}
			var got []feedback.RecipientStatus
			for _, r := range []string{"gone@in.example", "also@in.example"} {
				got = append(got, feedback.RecipientStatus{Recipient: r, Action: "failed", Status: tc.wantStatus, Diagnostic: tc.wantDiag})
			}
			if !reflect.DeepEqual(rep.Recipients, got) {
				t.Errorf("recipients = %+v\nwant %+v", rep.Recipients, got)
			}
			if rep.OriginalMessageID != "m1@sender.example" {
				t.Errorf("original header not returned: %q", rep.OriginalHeader)
			}
			for _, line := range []string{"To: bob@sender.example\r\n", "X-SES-Message-ID: rcv-1\r\n",
				"Arrival-Date: Sun, 06 Dec 2026 10:00:00 +0000\r\n", "gone@in.example: " + strings.TrimPrefix(tc.wantDiag, "smtp; ")} {
				if !bytes.Contains(m.Message, []byte(line)) {
					t.Errorf("no %q in\n%s", line, m.Message)
				}
			}
		})
	}
}

// No DSN goes to the null sender.
func TestBounceNullSender(t *testing.T) {
	t.Parallel()
	sys := &recordingSystem{}
	id, err := New(sys, "mx").Bounce(context.Background(), BounceRequest{Sender: "a@in.example", Recipients: []string{"x@in.example"},
		SmtpReplyCode: "550", StatusCode: "5.1.1"})
	if id != "" || err != nil || len(sys.sent) != 0 {
		t.Errorf("Bounce to the null sender = %q, %v; sent %d", id, err, len(sys.sent))
	}
}

// SendBounce's fields: its explanation, Reporting-MTA, extension fields
// and per-recipient blocks as given; a spool failure is the caller's error.
func TestBounceDetails(t *testing.T) {
	t.Parallel()
	sys := &recordingSystem{}
	_, err := New(sys, "mx").Bounce(context.Background(), BounceRequest{
		Sender: "Postmaster <pm@in.example>", To: "bob@sender.example", Requested: true,
		Explanation: "Nobody here by that name.", ReportingMTA: "dns; custom.in.example",
		Fields: []mailmsg.Field{{Name: "X-Custom", Value: "v"}},
		Details: []mailmsg.DSNRecipient{{FinalRecipient: "x@in.example", Action: "delayed", Status: "4.2.2",
			RemoteMTA: "dns; store.in.example", DiagnosticCode: "smtp; 452 full"}},
		OriginalHeader: origHeader,
	})
	if err != nil || len(sys.sent) != 1 || !sys.sent[0].Requested {
		t.Fatalf("%v, %+v", err, sys.sent)
	}
	rep, err := feedback.Parse(bytes.NewReader(sys.sent[0].Message))
	if err != nil {
		t.Fatal(err)
	}
	want := []feedback.RecipientStatus{{Recipient: "x@in.example", Action: "delayed", Status: "4.2.2",
		Diagnostic: "smtp; 452 full", RemoteMTA: "dns; store.in.example"}}
	if rep.ReportingMTA != "dns; custom.in.example" || !reflect.DeepEqual(rep.Recipients, want) {
		t.Errorf("report: %+v", rep)
	}
	for _, s := range []string{"Nobody here by that name.", "X-Custom: v\r\n", "From: Postmaster <pm@in.example>\r\n"} {
		if !bytes.Contains(sys.sent[0].Message, []byte(s)) {
			t.Errorf("no %q in\n%s", s, sys.sent[0].Message)
		}
	}
	// Without a Sender, the DSN is MAILER-DAEMON's of the hostname.
	if _, err := New(sys, "mx.in.example").Bounce(context.Background(), BounceRequest{To: "b@x.example",
		Recipients: []string{"x@in.example"}, SmtpReplyCode: "550"}); err != nil ||
		!bytes.Contains(sys.sent[len(sys.sent)-1].Message, []byte("From: MAILER-DAEMON@mx.in.example\r\n")) {
		t.Errorf("no default From: %v", err)
	}
	sys.err = errors.New("disk full")
	if _, err := New(sys, "mx").Bounce(context.Background(), BounceRequest{To: "b@x.example", Recipients: []string{"x@in.example"}}); err == nil ||
		!strings.Contains(err.Error(), "disk full") {
		t.Errorf("spool failure: %v", err)
	}
}

func TestStatusOf(t *testing.T) {
	t.Parallel()
	for reply, want := range map[string]string{"550": "5.0.0", "450": "4.0.0", "": "5.0.0", "250": "5.0.0"} {
		if got := StatusOf(reply); got != want {
			t.Errorf("StatusOf(%q) = %q, want %q", reply, got, want)
		}
	}
}
