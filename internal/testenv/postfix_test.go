package testenv_test

import (
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"sesame/internal/testenv"
	"sesame/internal/waitfor"
)

// TestPostfixSenderHelper drives the private Postfix the receiving tests
// send through: 20 messages relayed to a sink, then 5 deferred while the
// sink is down and delivered once it is back on the same port (the pattern
// of a crash test: what Postfix saw accepted it no longer holds).
func TestPostfixSenderHelper(t *testing.T) {
	sink := testenv.StartSinkAt(t, testenv.FreeAddr(t), testenv.SinkOptions{StartTLS: true})
	pf := testenv.StartPostfix(t, sink.Addr, "inbound.test", "other.test")

	msg := func(i int) []byte {
		return fmt.Appendf(nil, "From: a@sender.test\r\nTo: b@inbound.test\r\nSubject: %d\r\n"+
			"Message-ID: <m%d@sender.test>\r\n\r\nbody %d\r\n", i, i, i)
	}
	ids := map[string]bool{}
	var firstID string
	for i := range 20 {
		to := []string{"b@inbound.test"}
		if i == 0 {
			to = append(to, "c@other.test")
		}
		id := pf.Send(t, "a@sender.test", to, msg(i))
		if i == 0 {
			firstID = id
		}
		if ids[id] {
			t.Fatalf("queue ID %s given twice", id)
		}
		ids[id] = true
	}
	waitfor.Within(t, "20 messages at the sink", 20*time.Second, func() bool { return len(sink.Messages()) == 20 })
	waitfor.True(t, "postfix's queue empty", pf.QueueEmpty)
	for _, m := range sink.Messages() {
		if !m.TLS {
			t.Errorf("message from %s came without STARTTLS (smtp_tls_security_level = may)", m.From)
		}
		if m.From != "a@sender.test" {
			t.Errorf("envelope sender %q", m.From)
		}
	}
	sent := pf.Sent()
	if len(sent) != 20 {
		t.Fatalf("log has %d sent queue IDs, want 20:\n%s", len(sent), pf.Log())
	}
	for id := range ids {
		d, ok := sent[id]["b@inbound.test"]
		if !ok {
			t.Fatalf("queue ID %s not logged as sent to b@inbound.test:\n%s", id, pf.Log())
		}
		if !strings.HasPrefix(d.Reply, "250 ") || d.DSN != "2.0.0" || d.Relay != "127.0.0.1[127.0.0.1]:"+portOf(sink.Addr) {
			t.Errorf("delivery %+v", d)
		}
		if !strings.HasPrefix(d.MessageID, "m") || !strings.HasSuffix(d.MessageID, "@sender.test") {
			t.Errorf("delivery %s: message-id %q", id, d.MessageID)
		}
	}
	if d, ok := sent[firstID]["c@other.test"]; !ok || d.Status != "sent" {
		t.Errorf("second domain's recipient not sent: %+v", sent[firstID])
	}

	// The receiver goes down: Postfix keeps the mail, deferred.
	sink.Close()
	var later []string
	for i := range 5 {
		later = append(later, pf.Send(t, "a@sender.test", []string{"b@inbound.test"}, msg(100+i)))
	}
	waitfor.True(t, "5 messages deferred", func() bool {
		q := pf.Queue()
		deferred := 0
		for _, m := range q {
			if len(m.Recipients) == 1 && m.Recipients[0].DelayReason != "" {
				deferred++
			}
		}
		return len(q) == 5 && deferred == 5
	})
	if pf.QueueEmpty() {
		t.Fatal("QueueEmpty with 5 messages deferred")
	}
	for _, id := range later {
		if _, ok := pf.Sent()[id]; ok {
			t.Fatalf("%s logged as sent while the sink was down", id)
		}
	}
	// The log line follows the queue file's deferral reason by a moment.
	waitfor.True(t, "5 deferrals logged", func() bool {
		deferred := map[string]bool{}
		for _, d := range pf.Deliveries() {
			if d.Status == "deferred" && d.DSN == "4.4.1" {
				deferred[d.QueueID] = true
			}
		}
		for _, id := range later {
			if !deferred[id] {
				return false
			}
		}
		return true
	})

	// It comes back on the same port; a flush sends everything now.
	back := testenv.StartSinkAt(t, sink.Addr, testenv.SinkOptions{StartTLS: true})
	pf.Flush(t)
	// Postfix's queue manager takes the flush in its own time: on a loaded machine more than waitfor's 10 s.
	waitfor.Within(t, "the 5 deferred messages at the returned sink", time.Minute, func() bool { return len(back.Messages()) == 5 })
	waitfor.Within(t, "postfix's queue empty again", time.Minute, pf.QueueEmpty)
	sent = pf.Sent()
	for _, id := range later {
		if _, ok := sent[id]["b@inbound.test"]; !ok {
			t.Errorf("%s not logged as sent after the flush", id)
		}
	}
}

func portOf(addr string) string {
	_, port, _ := net.SplitHostPort(addr)
	return port
}
