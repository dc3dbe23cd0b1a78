package inbound

import (
	"errors"
	"io"
	"log/slog"
	"net"
	"net/smtp"
	"net/textproto"
	"strings"
	"testing"

	"sesame/internal/feedback"
	"sesame/internal/waitfor"
)

// startServer runs an inbound MX with cfg (Feedback and Logger filled in)
// on loopback; dial connects a new client to it.
func startServer(t *testing.T, cfg Config) (srv *Server, dial func() *smtp.Client) {
	t.Helper()
	cfg.Hostname = "fb.sesame.test"
	cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	srv = NewServer(cfg)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return srv, func() *smtp.Client {
		c, err := smtp.Dial(ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}
}

func startData(t *testing.T, c *smtp.Client, rcpt string) io.WriteCloser {
	t.Helper()
	if err := c.Mail(""); err != nil {
		t.Fatal(err)
	}
	if err := c.Rcpt(rcpt); err != nil {
		t.Fatal(err)
	}
	w, err := c.Data()
	if err != nil {
		t.Fatal(err)
	}
	return w
}

// The messages held in memory across connections share one budget: past
// it a message is refused for now (452), and the budget comes back when
// the messages are done (issue 9: 10 MiB × 200 connections).
func TestListenerSharedMemoryBudget(t *testing.T) {
	h := &fakeHandler{reports: map[string]*feedback.Report{}}
	const maxMsg = 100 << 10
	srv, dial := startServer(t, Config{Feedback: feedback.NewIntake(h, nil), MaxMessageBytes: maxMsg, MaxBufferedBytes: 1})
	if want := int64(2*maxMsg + budgetChunk); srv.cfg.MaxBufferedBytes != want {
		t.Fatalf("budget %d, want it raised to %d so one message always fits", srv.cfg.MaxBufferedBytes, want)
	}
	body := testDSN + strings.Repeat("padding line of a largish bounce\r\n", 90<<10/34)

	// A holds its message half-sent, and with it most of the budget.
	a := startData(t, dial(), "msg-1@bounces.test")
	io.WriteString(a, body)
	waitfor.True(t, "the first message to hold its buffer", func() bool { return srv.budget.inUse() >= 128<<10 })

	b := startData(t, dial(), "msg-2@bounces.test")
	io.WriteString(b, body)
	var te *textproto.Error
	if err := b.Close(); !errors.As(err, &te) || te.Code != 452 || !strings.HasPrefix(te.Msg, "4.3.1 ") {
		t.Fatalf("second message past the budget = %v, want 452 4.3.1", err)
	}
	if err := a.Close(); err != nil {
		t.Fatalf("first message: %v", err)
	}
	if n := srv.budget.inUse(); n != 0 {
		t.Fatalf("%d bytes still reserved after both messages", n)
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.reports["msg-1"] == nil || h.reports["msg-2"] != nil {
		t.Fatalf("applied: %v", h.reports)
	}
}

const testAutoReply = "From: someone@a.test\r\nTo: msg-1@bounces.test\r\nSubject: Out of office\r\n" +
	"Message-ID: <ooo-1@a.test>\r\nAuto-Submitted: auto-replied\r\n\r\nI am away.\r\n"

// Non-report mail (forwarded to the sender) sent twice is forwarded once;
// the same mail about another message, or other mail, is not a duplicate.
func TestListenerForwardsOnce(t *testing.T) {
	h := &fakeHandler{reports: map[string]*feedback.Report{}}
	_, dial := startServer(t, Config{Feedback: feedback.NewIntake(h, nil)})
	c := dial()
	send := func(rcpt, msg string) {
		t.Helper()
		w := startData(t, c, rcpt)
		io.WriteString(w, msg)
		if err := w.Close(); err != nil {
			t.Fatalf("DATA to %s: %v", rcpt, err)
		}
	}
	calls := func() int {
		h.mu.Lock()
		defer h.mu.Unlock()
		return h.calls
	}
	send("msg-1@bounces.test", testAutoReply)
	send("msg-1@bounces.test", testAutoReply) // the receiver retries after a lost 250
	if n := calls(); n != 1 {
		t.Fatalf("the same auto-reply was handed on %d times, want 1", n)
	}
	send("msg-2@bounces.test", testAutoReply)
	noID := strings.Replace(testAutoReply, "Message-ID: <ooo-1@a.test>\r\n", "", 1)
	send("msg-1@bounces.test", noID)
	send("msg-1@bounces.test", noID)
	send("msg-1@bounces.test", noID+"Back Monday.\r\n")
	if n := calls(); n != 4 {
		t.Fatalf("handed on %d times, want 4", n)
	}
	// Reports are not deduplicated here (they are idempotent where applied).
	send("msg-1@bounces.test", testDSN)
	send("msg-1@bounces.test", testDSN)
	if n := calls(); n != 6 {
		t.Fatalf("handed on %d times, want 6", n)
	}
}

// A forward that failed is not remembered: the retry is handed on.
func TestListenerForwardRetriedAfterFailure(t *testing.T) {
	h := &fakeHandler{reports: map[string]*feedback.Report{}, fail: true}
	_, dial := startServer(t, Config{Feedback: feedback.NewIntake(h, nil)})
	c := dial()
	w := startData(t, c, "msg-1@bounces.test")
	io.WriteString(w, testAutoReply)
	if err := w.Close(); err == nil {
		t.Fatal("a failing handler's mail was acknowledged")
	}
	h.mu.Lock()
	h.fail = false
	h.mu.Unlock()
	w = startData(t, c, "msg-1@bounces.test")
	io.WriteString(w, testAutoReply)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if h.calls != 1 {
		t.Fatalf("calls %d", h.calls)
	}
}
