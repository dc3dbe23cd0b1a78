package delivery

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"sesame/internal/outcome"
	"sesame/internal/spool"
	"sesame/internal/store"
	"sesame/internal/testenv"
)

// recordLog is a slog handler that keeps the records it is given.
type recordLog struct {
	mu   sync.Mutex
	recs []slog.Record
}

func (h *recordLog) Enabled(context.Context, slog.Level) bool { return true }
func (h *recordLog) Handle(_ context.Context, r slog.Record) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.recs = append(h.recs, r.Clone())
	return nil
}
func (h *recordLog) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h *recordLog) WithGroup(string) slog.Handler      { return h }

// deliveries are the "delivery" lines so far, each as its attributes.
func (h *recordLog) deliveries() []map[string]string {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []map[string]string
	for _, r := range h.recs {
		if r.Message != "delivery" {
			continue
		}
		m := map[string]string{"level": r.Level.String()}
		r.Attrs(func(a slog.Attr) bool {
			m[a.Key] = a.Value.String()
			return true
		})
		out = append(out, m)
	}
	return out
}

// One attempt at a message with a recipient of every kind writes exactly
// one info line per recipient, Postfix's way.
func TestMXDeliveryLog(t *testing.T) {
	logs := &recordLog{}
	env := startMX(t, func(m *MX) {
		m.Logger = slog.New(logs)
		m.Retry = RetryPolicy{First: time.Hour, MaxAge: 14 * time.Hour}
	}, testenv.SinkOptions{Reject: map[string]string{"gone@c.test": "550 5.1.1 no such user"}},
		testenv.SinkOptions{Greylist: 1 << 30})
	env.dns.SetMX("c.test", 10, "mx2.test")
	env.dns.SetMX("grey.test", 10, "mx3.test")
	err := env.store.PutSuppressedDestination(context.Background(), store.SuppressedDestination{
		AccountID: testAccount, Region: testRegion, Address: "listed@c.test", Reason: store.ReasonBounce})
	if err != nil {
		t.Fatal(err)
	}
	port := env.mx.Client.Port
	id := env.send("sender@example.com", spool.Meta{}, "ok@c.test", "gone@c.test", "u@grey.test",
		"listed@c.test", "success@simulator.amazonses.com", "u@nxdomain.test")
	env.wait("one line per recipient", func() bool { return len(logs.deliveries()) >= 6 })
	want := map[string]map[string]string{
		"ok@c.test": {"status": "sent", "relay": "mx2.test[127.0.0.2]:" + port, "dsn": "2.0.0", "reply": "250 2.0.0 OK: queued"},
		"gone@c.test": {"status": "bounced", "relay": "mx2.test[127.0.0.2]:" + port, "dsn": "5.1.1",
			"reply": "550 5.1.1 no such user"},
		"u@grey.test": {"status": "deferred", "relay": "mx3.test[127.0.0.3]:" + port, "dsn": "4.7.1",
			"reply": "451 4.7.1 greylisted, try again later"},
		"listed@c.test": {"status": "bounced", "relay": "none", "dsn": "5.1.1",
			"reply": "550 5.1.1 recipient is on the account-level suppression list"},
		"success@simulator.amazonses.com": {"status": "sent", "relay": "simulator.amazonses.com", "dsn": "2.6.0",
			"reply": "250 2.6.0 Message received"},
		"u@nxdomain.test": {"status": "bounced", "relay": "none", "dsn": "5.1.2"},
	}
	got := logs.deliveries()
	if len(got) != len(want) {
		t.Errorf("%d delivery lines, want %d: %v", len(got), len(want), got)
	}
	seen := map[string]bool{}
	for _, line := range got {
		to := line["to"]
		w, ok := want[to]
		if !ok || seen[to] {
			t.Errorf("unexpected or repeated line %v", line)
			continue
		}
		seen[to] = true
		if line["level"] != "INFO" || line["message_id"] != id || line["attempts"] != "1" || line["delay"] == "" {
			t.Errorf("%s: %v", to, line)
		}
		for k, v := range w {
			if line[k] != v {
				t.Errorf("%s: %s=%q, want %q", to, k, line[k], v)
			}
		}
	}
}

// A recipient retried until it expires gets one line per attempt: deferred,
// then bounced on the attempt that gave up (not deferred and bounced).
func TestMXDeliveryLogPerAttempt(t *testing.T) {
	logs := &recordLog{}
	env := startMX(t, func(m *MX) {
		m.Logger = slog.New(logs)
		m.Retry = RetryPolicy{First: 10 * time.Millisecond, Max: 20 * time.Millisecond, MaxAge: 150 * time.Millisecond, Jitter: 0.01}
	}, testenv.SinkOptions{Greylist: 1 << 30})
	env.dns.SetMX("h.test", 10, "mx2.test")
	id := env.send("sender@example.com", spool.Meta{}, "u@h.test")
	env.waitGone(id)
	got := logs.deliveries()
	if len(got) < 2 {
		t.Fatalf("lines: %v", got)
	}
	for i, line := range got {
		status := "deferred"
		if i == len(got)-1 {
			status = "bounced"
		}
		if line["status"] != status || line["attempts"] != fmt.Sprint(i+1) || line["to"] != "u@h.test" ||
			!strings.HasPrefix(line["reply"], "451 4.7.1 greylisted") {
			t.Errorf("line %d of %d: %v", i+1, len(got), line)
		}
	}
	if last := got[len(got)-1]["reply"]; !strings.HasSuffix(last, "(delivery time expired)") {
		t.Errorf("last reply %q", last)
	}
}

// The delivery log in capture mode: captured, one line per recipient; the
// mailbox simulator's addresses say what the simulator did.
func TestCaptureDeliveryLog(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	st, err := store.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	sp, err := spool.Open(dir+"/spool", spool.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer sp.Close()
	ctx := context.Background()
	d, err := sp.NewDraft()
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(d, "Subject: m\r\n\r\nbody\r\n")
	rcpts := []string{"a@example.com", "b@example.com", "bounce@simulator.amazonses.com"}
	if err := sp.Append(ctx, &spool.Envelope{ID: "id-log", AccountID: "111122223333", Region: "us-east-1",
		MailFrom: "s@example.com", Recipients: rcpts, Received: time.Now(), Via: "smtp"}, nil, d); err != nil {
		t.Fatal(err)
	}
	logs := &recordLog{}
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan error)
	c := &Capture{Spool: sp, Store: st, Hostname: "sesame.test", Logger: slog.New(logs)}
	go func() { done <- c.Run(runCtx) }()
	deadline := time.Now().Add(10 * time.Second)
	for sp.Len() > 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	got := logs.deliveries()
	if len(got) != len(rcpts) {
		t.Fatalf("lines: %v", got)
	}
	want := map[string][2]string{
		"a@example.com":                  {"captured", "250 2.0.0 Ok: captured by sesame.test"},
		"b@example.com":                  {"captured", "250 2.0.0 Ok: captured by sesame.test"},
		"bounce@simulator.amazonses.com": {"bounced", "550 5.1.1 mailbox simulator: bounce"},
	}
	for _, line := range got {
		w, ok := want[line["to"]]
		if !ok || line["status"] != w[0] || line["reply"] != w[1] || line["message_id"] != "id-log" {
			t.Errorf("line %v, want status %q reply %q", line, w[0], w[1])
		}
		delete(want, line["to"])
	}
}

func TestReplyStatus(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ reply, want string }{
		{"250 2.0.0 Ok: queued as 4Xy", "2.0.0"},
		{"250 2.6.0 Message received", "2.6.0"},
		{"250 Ok", "2.0.0"},
		{"250 ok 5.1.1 not a status", "2.0.0"},
		{"250 5.1.1 mismatched class", "2.0.0"},
		{"451 4.7.1 greylisted", "4.7.1"},
		{"", ""},
		{"junk", ""},
	} {
		if got := replyStatus(tc.reply); got != tc.want {
			t.Errorf("replyStatus(%q) = %q, want %q", tc.reply, got, tc.want)
		}
	}
}

// The log is not written, nor built, when info is off.
func TestDeliveryLogOffBelowInfo(t *testing.T) {
	t.Parallel()
	var b strings.Builder
	l := &attemptLog{log: slog.New(slog.NewTextHandler(&b, &slog.HandlerOptions{Level: slog.LevelWarn})), e: &spool.Entry{}}
	if l.enabled(context.Background()) {
		t.Error("enabled at warn")
	}
}

// What one delivery line costs on the hot path, written by the text
// handler sesame uses (to a discarding writer: the handler's work only).
func BenchmarkDeliveryLogLine(b *testing.B) {
	l := &attemptLog{log: slog.New(slog.NewTextHandler(io.Discard, nil)), e: &spool.Entry{Envelope: spool.Envelope{
		ID: "010001a249b8112d-e4f39de2-5d3b-40bb-a6ac-5e5ea388e1f7-000000", Received: time.Now()}},
		now: time.Now(), attempt: 1, port: "25", delivered: statusSent}
	results := []outcome.Result{{Kind: outcome.Delivered, Recipients: []string{"ann@example.net"},
		Reply: "250 2.0.0 Ok: queued as 4XyZ", MTA: "mx.example.net", RemoteIP: "192.0.2.25"}}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		l.results(ctx, results)
	}
}
