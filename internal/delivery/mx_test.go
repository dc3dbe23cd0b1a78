package delivery

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"sesame/internal/dnsx"
	"sesame/internal/events"
	"sesame/internal/outcome"
	"sesame/internal/sending"
	"sesame/internal/spool"
	"sesame/internal/store"
	"sesame/internal/testenv"
	"sesame/internal/waitfor"
)

const (
	testAccount = "111122223333"
	testRegion  = "us-east-1"
)

// mxEnv is a spool, a store, a DNS server and sink MXes, with an MX worker
// running against them.
type mxEnv struct {
	t     testing.TB
	spool *spool.Spool
	store *store.Store
	dns   *testenv.DNS
	sinks []*testenv.Sink
	dsns  *fakeSystem
	rec   *events.Recorder
	mx    *MX
	n     int
}

type fakeSystem struct {
	mu   sync.Mutex
	msgs []sending.SystemMessage
	fail int // refuse this many submissions first (a full disk)
}

func (f *fakeSystem) SubmitSystem(_ context.Context, m sending.SystemMessage) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail > 0 {
		f.fail--
		return "", errors.New("fake: spool refused the DSN")
	}
	f.msgs = append(f.msgs, m)
	return fmt.Sprintf("dsn-%d", len(f.msgs)), nil
}

func (f *fakeSystem) sent() []sending.SystemMessage {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]sending.SystemMessage(nil), f.msgs...)
}

type fakeSigner struct{}

func (fakeSigner) Sign(_ context.Context, _, _ string, r io.Reader) ([]byte, error) {
	b, _ := io.ReadAll(r)
	return fmt.Appendf(nil, "DKIM-Signature: v=1; fake=%d\r\n", len(b)), nil
}

// startMX starts the environment; sinks are on 127.0.0.2, .3, … and
// mx<N>.test resolves to 127.0.0.<N>.
func startMX(t *testing.T, tune func(*MX), sinks ...testenv.SinkOptions) *mxEnv {
	t.Helper()
	return startMXTB(t, tune, sinks...)
}

func startMXTB(t testing.TB, tune func(*MX), sinks ...testenv.SinkOptions) *mxEnv {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	st, err := store.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	sp, err := spool.Open(t.TempDir(), spool.Options{})
	if err != nil {
		t.Fatal(err)
	}
	d := testenv.StartDNS(t)
	ss, port := testenv.StartSinks(t, sinks...)
	for i := range 8 {
		d.SetA(fmt.Sprintf("mx%d.test", i+2), fmt.Sprintf("127.0.0.%d", i+2))
	}
	env := &mxEnv{t: t, spool: sp, store: st, dns: d, sinks: ss, dsns: &fakeSystem{}}
	// events gives the outcomes their meaning (records, DSNs, suppression).
	env.rec = events.NewRecorder(st, env.dsns, sp, "out.sesame.test", "bounce.sesame.test", nil,
		slog.New(slog.NewTextHandler(io.Discard, nil)))
	// As in serve, the recorder outlives delivery: the last attempts
	// record their outcomes on the way out.
	recCtx, stopRecording := context.WithCancel(context.Background())
	recDone := make(chan error, 1)
	go func() { recDone <- env.rec.Run(recCtx) }()
	env.mx = &MX{
		Spool: sp, Store: st, Signer: fakeSigner{}, Events: env.rec,
		Router:       &Router{Resolver: &dnsx.Client{Server: d.Addr, Timeout: time.Second}, AllowPrivate: true},
		Logger:       slog.New(slog.NewTextHandler(io.Discard, nil)),
		BounceDomain: "bounce.sesame.test",
		Client: ClientOptions{Hostname: "out.sesame.test", Port: port, ConnectTimeout: time.Second,
			CommandTimeout: 2 * time.Second, DataTimeout: 2 * time.Second},
		Retry: RetryPolicy{First: 20 * time.Millisecond, Max: 40 * time.Millisecond, Jitter: 0.01, MaxAge: time.Hour},
	}
	if tune != nil {
		tune(env.mx)
	}
	done := make(chan error, 1)
	go func() { done <- env.mx.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
		stopRecording()
		<-recDone
		sp.Close()
	})
	return env
}

// send spools a message and returns its id.
func (env *mxEnv) send(from string, meta spool.Meta, rcpts ...string) string {
	env.t.Helper()
	env.n++
	return env.sendID(fmt.Sprintf("0100test-%04d-000000", env.n), env.n, from, meta, rcpts...)
}

// sendID spools a message with the given id; safe for concurrent use.
func (env *mxEnv) sendID(id string, n int, from string, meta spool.Meta, rcpts ...string) string {
	d, err := env.spool.NewDraft()
	if err != nil {
		env.t.Fatal(err)
	}
	fmt.Fprintf(d, "From: %s\r\nTo: %s\r\nSubject: test %d\r\nMessage-ID: <%s@test>\r\n\r\nHello.\r\n", from, rcpts[0], n, id)
	err = env.spool.Append(context.Background(), &spool.Envelope{ID: id, AccountID: testAccount, Region: testRegion,
		MailFrom: from, Recipients: rcpts, Received: time.Now(), Via: "api", Meta: meta}, nil, d)
	if err != nil {
		env.t.Fatal(err)
	}
	return id
}

// wait polls cond until it holds (bounded).
func (env *mxEnv) wait(what string, cond func() bool) {
	env.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			env.t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func (env *mxEnv) waitGone(id string) {
	env.t.Helper()
	env.wait(id+" to leave the spool", func() bool { _, ok := env.spool.Entry(id); return !ok })
}

func (env *mxEnv) bounces(id string) []store.Bounce {
	env.t.Helper()
	b, err := env.store.Bounces(context.Background(), testAccount, testRegion, id, 0)
	if err != nil {
		env.t.Fatal(err)
	}
	return b
}

func TestMXDeliversByDomain(t *testing.T) {
	env := startMX(t, nil, testenv.SinkOptions{StartTLS: true}, testenv.SinkOptions{})
	env.dns.SetMX("a.test", 10, "mx2.test")
	env.dns.SetA("b.test", "127.0.0.3") // no MX: the implicit MX
	id := env.send("sender@example.com", spool.Meta{}, "x@a.test", "Y@A.test", "z@b.test")
	env.waitGone(id)
	a, b := env.sinks[0].Messages(), env.sinks[1].Messages()
	if len(a) != 1 || len(a[0].Recipients) != 2 || !a[0].TLS {
		t.Fatalf("a.test's MX got %+v", a)
	}
	if len(b) != 1 || b[0].Recipients[0] != "z@b.test" || b[0].TLS {
		t.Fatalf("b.test's MX got %+v", b)
	}
	if want := id + "@bounce.sesame.test"; a[0].From != want {
		t.Errorf("MAIL FROM = %q, want %q", a[0].From, want)
	}
	data := string(a[0].Data)
	if !strings.HasPrefix(data, "DKIM-Signature: v=1; fake=") || !strings.Contains(data, "\r\nFeedback-ID: 1.us-east-1.") ||
		!strings.HasSuffix(data, "\r\n\r\nHello.\r\n") {
		t.Errorf("delivered message:\n%s", data)
	}
	if len(env.bounces(id)) != 0 {
		t.Errorf("bounces recorded: %v", env.bounces(id))
	}
}

func TestMXReusesConnections(t *testing.T) {
	env := startMX(t, func(m *MX) { m.Workers = 1 }, testenv.SinkOptions{})
	env.dns.SetMX("a.test", 10, "mx2.test")
	var ids []string
	for i := range 5 {
		ids = append(ids, env.send("sender@example.com", spool.Meta{}, fmt.Sprintf("r%d@a.test", i)))
	}
	for _, id := range ids {
		env.waitGone(id)
	}
	if n := env.sinks[0].Connections(); n != 1 {
		t.Errorf("%d connections for 5 messages, want 1", n)
	}
}

func TestMXGreylistRetries(t *testing.T) {
	env := startMX(t, nil, testenv.SinkOptions{Greylist: 2})
	env.dns.SetMX("grey.test", 10, "mx2.test")
	id := env.send("sender@example.com", spool.Meta{}, "u@grey.test")
	env.waitGone(id)
	if got := env.sinks[0].Messages(); len(got) != 1 {
		t.Fatalf("delivered %d", len(got))
	}
	if len(env.bounces(id)) != 0 {
		t.Errorf("a greylisted message bounced")
	}
}

// countingSigner counts signatures, to check a retry reuses the first one.
type countingSigner struct{ n atomic.Int64 }

func (c *countingSigner) Sign(ctx context.Context, acct, region string, r io.Reader) ([]byte, error) {
	c.n.Add(1)
	return fakeSigner{}.Sign(ctx, acct, region, r)
}

func TestMXSignsOncePerMessage(t *testing.T) {
	signer := &countingSigner{}
	env := startMX(t, func(m *MX) { m.Signer = signer }, testenv.SinkOptions{Greylist: 3})
	env.dns.SetMX("grey.test", 10, "mx2.test")
	id := env.send("sender@example.com", spool.Meta{}, "u@grey.test")
	env.waitGone(id)
	got := env.sinks[0].Messages()
	if len(got) != 1 || !strings.Contains(string(got[0].Data), "DKIM-Signature: v=1; fake=") {
		t.Fatalf("delivered %d messages (signed: %v)", len(got), len(got) == 1 && strings.Contains(string(got[0].Data), "DKIM-Signature"))
	}
	if n := signer.n.Load(); n != 1 {
		t.Errorf("signed %d times over the greylisted attempts, want once", n)
	}
	if _, ok := env.mx.cachedSignature(id); ok {
		t.Error("the signature of a finished message is still cached")
	}
}

func TestMXPermanentPerRecipient(t *testing.T) {
	env := startMX(t, nil, testenv.SinkOptions{Reject: map[string]string{
		"gone@c.test": "550 5.1.1 no such user",
		"full@c.test": "552 5.2.2 mailbox full",
	}})
	env.dns.SetMX("c.test", 10, "mx2.test")
	id := env.send("sender@example.com", spool.Meta{}, "ok@c.test", "gone@c.test", "full@c.test")
	env.waitGone(id)
	if got := env.sinks[0].Messages(); len(got) != 1 || len(got[0].Recipients) != 1 || got[0].Recipients[0] != "ok@c.test" {
		t.Fatalf("sink got %+v", got)
	}
	bs := env.bounces(id)
	types := map[string]string{}
	for _, b := range bs {
		types[b.Recipient] = b.Type + "/" + b.SubType + "/" + b.Status
		if b.RemoteMTA != "mx2.test" || !strings.HasPrefix(b.Diagnostic, "smtp; 55") {
			t.Errorf("bounce %+v", b)
		}
	}
	if types["gone@c.test"] != "Permanent/NoEmail/5.1.1" || types["full@c.test"] != "Transient/MailboxFull/5.2.2" || len(types) != 2 {
		t.Errorf("bounces: %v", types)
	}
	ctx := context.Background()
	if _, err := env.store.SuppressedDestination(ctx, testAccount, testRegion, "gone@c.test"); err != nil {
		t.Errorf("hard bounce not suppressed: %v", err)
	}
	if _, err := env.store.SuppressedDestination(ctx, testAccount, testRegion, "full@c.test"); err == nil {
		t.Errorf("a transient bounce was suppressed")
	}
	dsns := env.dsns.sent()
	if len(dsns) != 1 || dsns[0].Recipients[0] != "sender@example.com" || dsns[0].MailFrom != "" {
		t.Fatalf("DSNs: %+v", dsns)
	}
	dsn := string(dsns[0].Message)
	for _, want := range []string{"report-type=delivery-status", "Final-Recipient: rfc822; gone@c.test", "Status: 5.1.1",
		"Action: failed", "Diagnostic-Code: smtp; 550 5.1.1 no such user", "Remote-MTA: dns; mx2.test", "Subject: test 1"} {
		if !strings.Contains(dsn, want) {
			t.Errorf("DSN lacks %q:\n%s", want, dsn)
		}
	}
}

func TestMXSuppressionOffKeepsList(t *testing.T) {
	env := startMX(t, nil, testenv.SinkOptions{Reject: map[string]string{"gone@c.test": "550 5.1.1 no such user"}})
	env.dns.SetMX("c.test", 10, "mx2.test")
	if err := env.store.PutSuppressedReasons(context.Background(), testAccount, testRegion, []string{}); err != nil {
		t.Fatal(err)
	}
	id := env.send("sender@example.com", spool.Meta{}, "gone@c.test")
	env.waitGone(id)
	if _, err := env.store.SuppressedDestination(context.Background(), testAccount, testRegion, "gone@c.test"); err == nil {
		t.Error("suppressed although the account's setting has no BOUNCE")
	}
}

func TestMXFailures(t *testing.T) {
	tests := []struct {
		name    string
		setup   func(env *mxEnv)
		rcpt    string
		typ     string
		status  string
		dsn     bool
		nothing bool // no sink saw the message
	}{
		{name: "null MX", setup: func(env *mxEnv) { env.dns.SetNullMX("null.test") },
			rcpt: "u@null.test", typ: "Permanent/General", status: "5.1.10", dsn: true, nothing: true},
		{name: "no such domain", rcpt: "u@nxdomain.test", typ: "Permanent/General", status: "5.1.2", dsn: true, nothing: true},
		{name: "on the suppression list", setup: func(env *mxEnv) {
			env.dns.SetMX("d.test", 10, "mx2.test")
			err := env.store.PutSuppressedDestination(context.Background(), store.SuppressedDestination{
				AccountID: testAccount, Region: testRegion, Address: "Listed@d.test", Reason: store.ReasonBounce})
			if err != nil {
				env.t.Fatal(err)
			}
		}, rcpt: "listed@d.test", typ: "Permanent/OnAccountSuppressionList", status: "5.1.1", dsn: true, nothing: true},
		{name: "simulator bounce", rcpt: "bounce@simulator.amazonses.com", typ: "Permanent/General", status: "5.1.1", dsn: true, nothing: true},
		{name: "simulator suppression list", rcpt: "suppressionlist@simulator.amazonses.com", typ: "Permanent/Suppressed", status: "5.1.1", dsn: true, nothing: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			env := startMX(t, nil, testenv.SinkOptions{})
			if tc.setup != nil {
				tc.setup(env)
			}
			id := env.send("sender@example.com", spool.Meta{}, tc.rcpt)
			env.waitGone(id)
			bs := env.bounces(id)
			if len(bs) != 1 || bs[0].Type+"/"+bs[0].SubType != tc.typ || bs[0].Status != tc.status {
				t.Fatalf("bounces = %+v, want %s %s", bs, tc.typ, tc.status)
			}
			if tc.nothing && env.sinks[0].Connections() != 0 {
				t.Errorf("the sink was contacted")
			}
			if got := len(env.dsns.sent()); (got == 1) != tc.dsn {
				t.Errorf("%d DSNs", got)
			}
			// A simulator or already listed address is not (re)listed by it.
			if strings.Contains(tc.rcpt, "simulator") {
				if _, err := env.store.SuppressedDestination(context.Background(), testAccount, testRegion, tc.rcpt); err == nil {
					t.Errorf("simulator address suppressed")
				}
			}
		})
	}
}

func TestMXDefers(t *testing.T) {
	tests := []struct {
		name    string
		sink    testenv.SinkOptions
		tune    func(*MX)
		tls     bool
		lastErr string
	}{
		{name: "stall times out", sink: testenv.SinkOptions{Stall: 3 * time.Second},
			tune: func(m *MX) { m.Client.CommandTimeout = 200 * time.Millisecond }, lastErr: "timeout"},
		{name: "TLS required, none offered", sink: testenv.SinkOptions{}, tls: true, lastErr: "STARTTLS"},
		{name: "always 4xx", sink: testenv.SinkOptions{Greylist: 1 << 30}, lastErr: "451 4.7.1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			env := startMX(t, func(m *MX) {
				m.Retry = RetryPolicy{First: time.Hour, MaxAge: 14 * time.Hour}
				if tc.tune != nil {
					tc.tune(m)
				}
			}, tc.sink)
			env.dns.SetMX("e.test", 10, "mx2.test")
			var meta spool.Meta
			if tc.tls {
				err := env.store.CreateConfigurationSet(context.Background(), store.ConfigurationSet{AccountID: testAccount,
					Region: testRegion, Name: "tls", Options: store.ConfigurationSetOptions{Delivery: &store.DeliveryOptions{TlsPolicy: "REQUIRE"}}}, 0)
				if err != nil {
					t.Fatal(err)
				}
				meta = spool.Meta{ConfigurationSet: "tls"}
			}
			id := env.send("sender@example.com", meta, "u@e.test")
			var e spool.Entry
			env.wait("a deferral", func() bool {
				var ok bool
				e, ok = env.spool.Entry(id)
				return ok && e.State.Attempts == 1
			})
			if !strings.Contains(e.State.LastError, tc.lastErr) || e.State.NextAttempt.Before(time.Now().Add(30*time.Minute)) {
				t.Errorf("state = %+v, want LastError with %q and the next attempt in about an hour", e.State, tc.lastErr)
			}
			if got := env.sinks[0].Messages(); len(got) != 0 {
				t.Errorf("delivered: %+v", got)
			}
			if len(env.bounces(id)) != 0 {
				t.Errorf("bounced on a temporary failure")
			}
		})
	}
}

func TestMXTLSRequiredDeliversOverTLS(t *testing.T) {
	env := startMX(t, nil, testenv.SinkOptions{StartTLS: true})
	env.dns.SetMX("f.test", 10, "mx2.test")
	err := env.store.CreateConfigurationSet(context.Background(), store.ConfigurationSet{AccountID: testAccount,
		Region: testRegion, Name: "tls", Options: store.ConfigurationSetOptions{Delivery: &store.DeliveryOptions{TlsPolicy: "REQUIRE"}}}, 0)
	if err != nil {
		t.Fatal(err)
	}
	id := env.send("sender@example.com", spool.Meta{ConfigurationSet: "tls"}, "u@f.test")
	env.waitGone(id)
	if got := env.sinks[0].Messages(); len(got) != 1 || !got[0].TLS {
		t.Fatalf("sink got %+v", got)
	}
}

func TestMXFallsBackToTheNextMX(t *testing.T) {
	env := startMX(t, nil, testenv.SinkOptions{}, testenv.SinkOptions{})
	env.dns.SetMX("g.test", 10, "mx9.test") // nothing listens on 127.0.0.9
	env.dns.SetMX("g.test", 20, "mx3.test")
	id := env.send("sender@example.com", spool.Meta{}, "u@g.test")
	env.waitGone(id)
	if got := env.sinks[1].Messages(); len(got) != 1 {
		t.Fatalf("the second MX got %d messages", len(got))
	}
}

func TestMXExpiryBounces(t *testing.T) {
	env := startMX(t, func(m *MX) {
		m.Retry = RetryPolicy{First: 10 * time.Millisecond, Max: 20 * time.Millisecond, MaxAge: 150 * time.Millisecond, Jitter: 0.01}
	}, testenv.SinkOptions{Greylist: 1 << 30})
	env.dns.SetMX("h.test", 10, "mx2.test")
	id := env.send("sender@example.com", spool.Meta{}, "u@h.test")
	env.waitGone(id)
	bs := env.bounces(id)
	if len(bs) != 1 || bs[0].Type != outcome.BounceTransient || bs[0].SubType != outcome.SubGeneral || !strings.HasPrefix(bs[0].Status, "4.") {
		t.Fatalf("bounces = %+v", bs)
	}
	if _, err := env.store.SuppressedDestination(context.Background(), testAccount, testRegion, "u@h.test"); err == nil {
		t.Error("an expired (transient) bounce suppressed the address")
	}
	if len(env.dsns.sent()) != 1 {
		t.Errorf("DSNs: %d", len(env.dsns.sent()))
	}
}

func TestMXNullSenderGetsNoDSN(t *testing.T) {
	env := startMX(t, nil, testenv.SinkOptions{Reject: map[string]string{"gone@c.test": "550 5.1.1 no such user"}})
	env.dns.SetMX("c.test", 10, "mx2.test")
	id := env.send("", spool.Meta{}, "gone@c.test")
	env.waitGone(id)
	if len(env.bounces(id)) != 1 || len(env.dsns.sent()) != 0 {
		t.Errorf("bounces %v, DSNs %d", env.bounces(id), len(env.dsns.sent()))
	}
	_ = bytes.MinRead
}

// TestMXDSNGoesToReturnPath: SES sends bounce notifications to the address
// a Return-Path header (or the API's ReturnPath) named, not to the
// envelope sender.
func TestMXDSNGoesToReturnPath(t *testing.T) {
	env := startMX(t, nil, testenv.SinkOptions{Reject: map[string]string{"gone@c.test": "550 5.1.1 no such user"}})
	env.dns.SetMX("c.test", 10, "mx2.test")
	id := env.send("sender@example.com", spool.Meta{FeedbackTo: "feedback@example.com"}, "gone@c.test")
	env.waitGone(id)
	dsns := env.dsns.sent()
	if len(dsns) != 1 || len(dsns[0].Recipients) != 1 || dsns[0].Recipients[0] != "feedback@example.com" ||
		!strings.Contains(string(dsns[0].Message), "\r\nTo: feedback@example.com\r\n") {
		t.Fatalf("DSNs: %+v", dsns)
	}
}

func TestMXRecordsDelays(t *testing.T) {
	env := startMX(t, func(m *MX) {
		m.Retry = RetryPolicy{First: 20 * time.Millisecond, Max: 40 * time.Millisecond, MaxAge: time.Hour, Jitter: 0.01, DelayAfter: time.Nanosecond}
	}, testenv.SinkOptions{Greylist: 1 << 30})
	env.dns.SetMX("slow.test", 10, "mx2.test")
	id := env.send("sender@example.com", spool.Meta{}, "u@slow.test")
	var ds []store.DeliveryDelay
	env.wait("a delay updated by a second deferral", func() bool {
		var err error
		ds, err = env.store.DeliveryDelays(context.Background(), testAccount, testRegion, id, 0)
		return err == nil && len(ds) == 1 && ds[0].Attempts >= 2
	})
	d := ds[0]
	if d.DelayType != outcome.DelayRecipientServerError || d.Status != "4.7.1" || d.RemoteMTA != "mx2.test" ||
		!d.Last.After(d.First) || d.Expires.Sub(d.First) > time.Hour {
		t.Errorf("delay = %+v", d)
	}
}

func TestMXShapesADestination(t *testing.T) {
	env := startMX(t, func(m *MX) {
		m.Client.Shapes = map[string]Shape{"paced.test": {MaxConns: 1, Rate: 40}}
	}, testenv.SinkOptions{})
	env.dns.SetMX("paced.test", 10, "mx2.test")
	start := time.Now()
	var ids []string
	for i := range 8 {
		ids = append(ids, env.send("sender@example.com", spool.Meta{}, fmt.Sprintf("r%d@paced.test", i)))
	}
	for _, id := range ids {
		env.waitGone(id)
	}
	// 8 transactions at 40/s: the last starts 7/40 s after the first.
	if el := time.Since(start); el < 170*time.Millisecond {
		t.Errorf("8 messages at 40/s took %s", el)
	}
	if n := env.sinks[0].Connections(); n != 1 {
		t.Errorf("%d connections with max 1 and reuse", n)
	}
}

// TestMXCapsConnectionsPerMXHosts: recipient domains that share their MX
// hosts share one connection cap (as KumoMTA's sites): four domains on one
// MX, a cap of 2, never more than 2 sessions open at the receiver.
func TestMXCapsConnectionsPerMXHosts(t *testing.T) {
	env := startMX(t, func(m *MX) {
		m.Client.MaxConnsPerDomain = 2
	}, testenv.SinkOptions{Stall: 30 * time.Millisecond})
	var ids []string
	for i := range 16 {
		d := fmt.Sprintf("d%d.test", i%4)
		env.dns.SetMX(d, 10, "mx2.test")
		ids = append(ids, env.send("sender@example.com", spool.Meta{}, fmt.Sprintf("r%d@%s", i, d)))
	}
	for _, id := range ids {
		env.waitGone(id)
	}
	if got := len(env.sinks[0].Messages()); got != 16 {
		t.Fatalf("%d of 16 messages delivered", got)
	}
	if n := env.sinks[0].PeakConnections(); n > 2 || n < 1 {
		t.Errorf("%d sessions open at once at one MX shared by 4 domains, cap 2", n)
	}
}

func TestMXCustomMailFromDomain(t *testing.T) {
	tests := []struct {
		name     string
		status   string
		feedback bool
		from     string // MAIL FROM's domain
	}{
		{name: "verified", status: store.StatusSuccess, feedback: true, from: "mail.custom.test"},
		{name: "not verified: SES's default", status: store.StatusPending, feedback: true, from: "bounce.sesame.test"},
		{name: "feedback forwarding off", status: store.StatusSuccess, from: "mail.custom.test"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			env := startMX(t, nil, testenv.SinkOptions{Reject: map[string]string{"gone@c.test": "550 5.1.1 no such user"}})
			env.dns.SetMX("c.test", 10, "mx2.test")
			err := env.store.CreateIdentity(context.Background(), store.IdentityDetails{
				Identity:           store.Identity{AccountID: testAccount, Region: testRegion, Name: "custom.test", Type: store.Domain, Status: store.StatusSuccess},
				MailFrom:           store.MailFrom{Domain: "mail.custom.test", Behavior: store.MailFromUseDefault, Status: tc.status},
				FeedbackForwarding: tc.feedback,
			}, 100)
			if err != nil {
				t.Fatal(err)
			}
			id := env.send("sender@custom.test", spool.Meta{}, "ok@c.test", "gone@c.test")
			env.waitGone(id)
			got := env.sinks[0].Messages()
			if len(got) != 1 || got[0].From != id+"@"+tc.from {
				t.Fatalf("MAIL FROM = %+v, want %s@%s", got, id, tc.from)
			}
			if n := len(env.dsns.sent()); (n == 1) != tc.feedback {
				t.Errorf("%d DSNs with feedback forwarding %v", n, tc.feedback)
			}
		})
	}
}

func TestMXSplitsLargeRecipientLists(t *testing.T) {
	env := startMX(t, nil, testenv.SinkOptions{}, testenv.SinkOptions{})
	env.dns.SetMX("many.test", 10, "mx2.test")
	env.dns.SetMX("other.test", 10, "mx3.test")
	var rcpts []string
	for i := range 250 {
		rcpts = append(rcpts, fmt.Sprintf("r%d@many.test", i))
	}
	rcpts = append(rcpts, "x@other.test")
	id := env.send("sender@example.com", spool.Meta{}, rcpts...)
	env.waitGone(id)
	got := env.sinks[0].Messages()
	total := 0
	for _, m := range got {
		if len(m.Recipients) > maxRcptsPerTx {
			t.Errorf("a transaction with %d recipients", len(m.Recipients))
		}
		total += len(m.Recipients)
	}
	if len(got) != 3 || total != 250 || len(env.sinks[1].Messages()) != 1 {
		t.Errorf("%d transactions for %d recipients; other.test got %d; bounces %v", len(got), total, len(env.sinks[1].Messages()), env.bounces(id))
	}
}

// TestMXUnderPushBack: a receiver refusing a share of recipients with 4xx
// and 5xx; every message ends delivered or bounced, none is lost.
func TestMXUnderPushBack(t *testing.T) {
	env := startMX(t, nil, testenv.SinkOptions{TempFailPercent: 20, PermFailPercent: 10})
	env.dns.SetMX("push.test", 10, "mx2.test")
	const n = 100
	var ids []string
	for i := range n {
		ids = append(ids, env.send("sender@example.com", spool.Meta{}, fmt.Sprintf("r%d@push.test", i)))
	}
	for _, id := range ids {
		env.waitGone(id)
	}
	bounced := 0
	for _, id := range ids {
		bounced += len(env.bounces(id))
	}
	delivered := len(env.sinks[0].Messages())
	if delivered+bounced != n || bounced == 0 || delivered < n/2 {
		t.Errorf("%d delivered + %d bounced, want %d in all", delivered, bounced, n)
	}
}

// failingSuppression is the store with a suppression list that cannot be
// read while fail is set.
type failingSuppression struct {
	MXStore
	fail  atomic.Bool
	calls atomic.Int64
}

func (f *failingSuppression) SuppressedAmong(ctx context.Context, accountID, region string, addrs []string) (map[string]string, error) {
	f.calls.Add(1)
	if f.fail.Load() {
		return nil, errors.New("database is locked")
	}
	return f.MXStore.SuppressedAmong(ctx, accountID, region, addrs)
}

// A suppression list that cannot be read sends nobody anything: the
// message waits and goes once the list can be read.
func TestMXSuppressionUnreadableDefers(t *testing.T) {
	fs := &failingSuppression{}
	fs.fail.Store(true)
	env := startMX(t, func(m *MX) { fs.MXStore = m.Store; m.Store = fs }, testenv.SinkOptions{})
	env.dns.SetMX("c.test", 10, "mx2.test")
	id := env.send("sender@example.com", spool.Meta{}, "someone@c.test")
	waitfor.True(t, "a few attempts, or a delivery", func() bool {
		return fs.calls.Load() >= 3 || len(env.sinks[0].Messages()) > 0
	})
	if n := len(env.sinks[0].Messages()); n != 0 {
		t.Fatalf("%d messages delivered while the suppression list could not be read", n)
	}
	fs.fail.Store(false)
	env.waitGone(id)
	if n := len(env.sinks[0].Messages()); n != 1 {
		t.Errorf("%d messages delivered once the list could be read, want 1", n)
	}
}

// TestMXSkipsUnsubscribed: recipients sending found unsubscribed from the
// message's contact list are never attempted: a Permanent bounce
// (UnsubscribedRecipient) each, never the suppression list; the others are
// delivered.
func TestMXSkipsUnsubscribed(t *testing.T) {
	env := startMX(t, nil, testenv.SinkOptions{})
	env.dns.SetMX("c.test", 10, "mx2.test")
	id := env.send("sender@example.com", spool.Meta{ListManagement: &spool.ListManagement{ContactList: "news"},
		Unsubscribed: []string{"Left@c.test"}}, "ok@c.test", "left@c.test")
	env.waitGone(id)
	if got := env.sinks[0].Messages(); len(got) != 1 || len(got[0].Recipients) != 1 || got[0].Recipients[0] != "ok@c.test" {
		t.Fatalf("sink got %+v", got)
	}
	bs := env.bounces(id)
	if len(bs) != 1 || bs[0].Recipient != "left@c.test" || bs[0].Type != "Permanent" || bs[0].SubType != "UnsubscribedRecipient" {
		t.Fatalf("bounces: %+v", bs)
	}
	if _, err := env.store.SuppressedDestination(context.Background(), testAccount, testRegion, "left@c.test"); err == nil {
		t.Error("an unsubscribed contact was put on the suppression list")
	}
}
