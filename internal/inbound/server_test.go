package inbound

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/smtp"
	"net/textproto"
	"sesame/internal/feedback"
	"strings"
	"sync"
	"testing"
)

type fakeHandler struct {
	mu      sync.Mutex
	fail    bool
	reports map[string]*feedback.Report
	calls   int
}

func (h *fakeHandler) KnownBounceAddress(_ context.Context, local, domain string) (bool, error) {
	switch {
	case local == "broken":
		return false, errors.New("store down")
	case domain != "bounces.test":
		return false, nil
	}
	return strings.HasPrefix(strings.ToLower(local), "msg-"), nil
}

func (h *fakeHandler) Feedback(_ context.Context, id string, rep *feedback.Report, _ []byte) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.fail {
		return errors.New("spool full")
	}
	h.reports[id] = rep
	h.calls++
	return nil
}

const testDSN = "From: MAILER-DAEMON@mx.a.test\r\nTo: msg-1@bounces.test\r\nSubject: Undelivered Mail\r\n" +
	"MIME-Version: 1.0\r\nContent-Type: multipart/report; report-type=delivery-status; boundary=\"B\"\r\n\r\n" +
	"--B\r\nContent-Type: text/plain\r\n\r\nIt failed.\r\n" +
	"--B\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.a.test\r\n\r\n" +
	"Final-Recipient: rfc822; y@a.test\r\nAction: failed\r\nStatus: 5.1.1\r\n\r\n--B--\r\n"

// dialListener starts a feedback MX over h on loopback and connects to it.
func dialListener(t *testing.T, h feedback.Handler, maxBytes int64) *smtp.Client {
	t.Helper()
	srv := NewServer(Config{Hostname: "fb.sesame.test", Feedback: feedback.NewIntake(h, nil), MaxMessageBytes: maxBytes,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	c, err := smtp.Dial(ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func TestListener(t *testing.T) {
	h := &fakeHandler{reports: map[string]*feedback.Report{}}
	c := dialListener(t, h, 0)
	if err := c.Hello("mx.a.test"); err != nil {
		t.Fatal(err)
	}
	if err := c.Mail(""); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		rcpt string
		code int // 0: accepted
	}{
		{"nobody@bounces.test", 550},
		{"msg-1@elsewhere.test", 550},
		{"broken@bounces.test", 451},
		{"no-at-sign", 501}, // go-smtp's own syntax check
		{"msg-1@bounces.test", 0},
		{"MSG-2@bounces.test", 0},
		{"msg-2@bounces.test", 0}, // again: applied once
	} {
		err := c.Rcpt(tc.rcpt)
		var te *textproto.Error
		switch {
		case tc.code == 0 && err != nil:
			t.Errorf("RCPT %s: %v", tc.rcpt, err)
		case tc.code != 0 && (!errors.As(err, &te) || te.Code != tc.code):
			t.Errorf("RCPT %s = %v, want %d", tc.rcpt, err, tc.code)
		}
	}
	send := func() error {
		w, err := c.Data()
		if err != nil {
			return err
		}
		io.WriteString(w, testDSN)
		return w.Close()
	}
	if err := send(); err != nil {
		t.Fatalf("DATA: %v", err)
	}
	if h.calls != 2 {
		t.Errorf("the report was applied %d times, want once per message", h.calls)
	}
	for _, id := range []string{"msg-1", "msg-2"} { // lower-cased, as sesame's ids are
		rep := h.reports[id]
		if rep == nil || rep.Kind != feedback.KindBounce || len(rep.Recipients) != 1 || rep.Recipients[0].Recipient != "y@a.test" {
			t.Errorf("report for %s: %+v", id, rep)
		}
	}

	// When the consequences cannot be made durable, the receiver is told to
	// try again later.
	h.mu.Lock()
	h.fail = true
	h.mu.Unlock()
	if err := c.Mail(""); err != nil {
		t.Fatal(err)
	}
	if err := c.Rcpt("msg-3@bounces.test"); err != nil {
		t.Fatal(err)
	}
	var te *textproto.Error
	if err := send(); !errors.As(err, &te) || te.Code != 451 {
		t.Errorf("DATA with a failing handler = %v, want 451", err)
	}
	if err := c.Quit(); err != nil {
		t.Errorf("QUIT: %v", err)
	}
}

// TestListenerRefusesOversize: a report past MaxMessageBytes gets 552 and
// is not applied.
func TestListenerRefusesOversize(t *testing.T) {
	h := &fakeHandler{reports: map[string]*feedback.Report{}}
	c := dialListener(t, h, 1024)
	if err := c.Mail(""); err != nil {
		t.Fatal(err)
	}
	if err := c.Rcpt("msg-1@bounces.test"); err != nil {
		t.Fatal(err)
	}
	w, err := c.Data()
	if err != nil {
		t.Fatal(err)
	}
	io.WriteString(w, testDSN+strings.Repeat("padding line\r\n", 200))
	var te *textproto.Error
	if err := w.Close(); !errors.As(err, &te) || te.Code != 552 {
		t.Errorf("oversize DATA = %v, want 552", err)
	}
	if h.calls != 0 {
		t.Errorf("an oversize report was applied")
	}
}
