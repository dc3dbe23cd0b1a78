package e2e

import (
	"fmt"
	"strings"
	"testing"

	"sesame/internal/testenv"
)

// Issue 9, defect 10: an auto-reply (feedback that is not a report, which
// sesame forwards to the sender) sent twice to the feedback MX — a
// receiver retrying after a lost 250 — reaches the sender once; another
// auto-reply still goes through.
func TestFeedbackForwardedOnce(t *testing.T) {
	d := testenv.StartDNS(t)
	sinks, port := testenv.StartSinks(t, testenv.SinkOptions{StartTLS: true})
	d.SetA("mx2.test", "127.0.0.2")
	d.SetMX("a.test", 10, "mx2.test")
	d.SetMX("example.com", 10, "mx2.test") // the sender's mailbox
	fbAddr := testenv.FreeAddr(t)
	s := startMXServer(t, d, port, fmt.Sprintf("[feedback]\nlisten = [%q]\n", fbAddr))
	s.Verify("example.com")

	smtpSendTo(t, s, "sender@example.com", "forward once", "away@a.test")
	waitFor(t, "delivery", func() bool { return len(sinks[0].Messages()) == 1 })
	bounceAddr := sinks[0].Messages()[0].From

	autoReply := func(msgID, subject string) string {
		return fmt.Sprintf("From: away@a.test\r\nTo: %s\r\nSubject: %s\r\nMessage-ID: <%s>\r\n"+
			"Auto-Submitted: auto-replied\r\n\r\nI am away until Monday.\r\n", bounceAddr, subject, msgID)
	}
	send := func(data string) {
		t.Helper()
		// 451 while the message is not yet in the sent log: retry as a receiver would.
		waitFor(t, "the feedback MX to take the auto-reply", func() bool { return sendFeedback(fbAddr, bounceAddr, data) == nil })
	}
	send(autoReply("ooo-1@a.test", "Out of office"))
	send(autoReply("ooo-1@a.test", "Out of office"))
	send(autoReply("ooo-2@a.test", "Out of office, again"))

	waitFor(t, "the forwarded auto-replies", func() bool { return len(sinks[0].Messages()) >= 3 })
	if !strings.Contains(s.Stderr.String(), "duplicate not forwarded again") {
		t.Errorf("the second copy was not recognised as a duplicate")
	}
	var subjects []string
	for _, m := range sinks[0].Messages()[1:] {
		if len(m.Recipients) != 1 || m.Recipients[0] != "sender@example.com" {
			t.Errorf("forward went to %v", m.Recipients)
		}
		for _, line := range strings.Split(string(m.Data), "\r\n") {
			if v, ok := strings.CutPrefix(line, "Subject: "); ok {
				subjects = append(subjects, v)
			}
		}
	}
	if len(subjects) != 2 || subjects[0] == subjects[1] {
		t.Errorf("forwarded: %q; want each auto-reply once", subjects)
	}
}
