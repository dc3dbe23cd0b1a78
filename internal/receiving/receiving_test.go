package receiving

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http/httptest"
	"net/netip"
	"net/smtp"
	"net/textproto"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"

	"sesame/internal/clock"
	"sesame/internal/inbound"
	"sesame/internal/objstore"
	"sesame/internal/receipt"
	"sesame/internal/receiving/bounce"
	"sesame/internal/seserr"
	"sesame/internal/spool"
	"sesame/internal/store"
	"sesame/internal/waitfor"
)

const (
	acct   = "111122223333"
	other  = "444455556666"
	region = "us-east-1"
	bucket = "inbox"
)

// memRules is the store's side of receiving, in memory: the package's
// subject is what is done with rules, not how they are kept.
type memRules struct {
	mu       sync.Mutex
	verified map[string][]string // domain -> accounts
	pending  map[string][]string // domain -> accounts whose identity is not verified
	sets     map[string]*receipt.RuleSet
	filters  map[string][]receipt.Filter
}

func (m *memRules) AccountsReceiving(_ context.Context, _, rcpt string, unverified bool) ([]string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	domain := strings.ToLower(rcpt[strings.LastIndexByte(rcpt, '@')+1:])
	if unverified {
		return append(slices.Clone(m.verified[domain]), m.pending[domain]...), nil
	}
	return m.verified[domain], nil
}

func (m *memRules) ActiveReceiptRuleSet(_ context.Context, a, _ string) (*receipt.RuleSet, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.sets[a], nil
}

func (m *memRules) ReceiptFilters(_ context.Context, a, _ string) ([]receipt.Filter, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.filters[a], nil
}

type fixedChecker struct{ scans []bool }

func (c *fixedChecker) Check(_ context.Context, in VerdictInput) Verdicts {
	c.scans = append(c.scans, in.Scan)
	return Verdicts{SPF: "PASS", DKIM: "GRAY", DMARC: "GRAY", Spam: "PASS", Virus: "PASS",
		Headers: []byte("X-SES-Spam-Verdict: PASS\r\nX-SES-Virus-Verdict: PASS\r\n")}
}

type publication struct{ topic, subject, message string }

type topicLog struct {
	mu   sync.Mutex
	pubs []publication
}

func (l *topicLog) Publish(_ context.Context, topic, subject, message string) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.pubs = append(l.pubs, publication{topic, subject, message})
	return nil
}

func (l *topicLog) all() []publication {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]publication(nil), l.pubs...)
}

// flakyObjects fails its first n puts as a store that is down would.
type flakyObjects struct {
	Objects
	mu    sync.Mutex
	fails int
	puts  int
}

func (f *flakyObjects) Put(ctx context.Context, bucket, key string, body []byte, ct string) error {
	f.mu.Lock()
	f.puts++
	fail := f.fails > 0
	f.fails--
	f.mu.Unlock()
	if fail {
		return errors.New("connection refused")
	}
	return f.Objects.Put(ctx, bucket, key, body, ct)
}

type harness struct {
	rules  *memRules
	sp     *spool.Spool
	addr   string
	topics *topicLog
	obj    *objstore.Store
	proc   *Processor
	clk    *clock.Fake
	stop   func() // ends the processor's Run, as a shutdown does
	cancel func() // ends its ctx without waiting
}

// start runs an inbound MX with an Acceptor, and a Processor storing to a
// real S3-protocol server (gofakes3 on loopback).
func start(t *testing.T, rules *memRules, tweak func(*Processor)) *harness {
	t.Helper()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	clk := clock.NewFake(time.Date(2026, 12, 6, 10, 0, 0, 0, time.UTC))
	sp, err := spool.Open(t.TempDir(), spool.Options{Logger: log, Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sp.Close() })
	backend := s3mem.New()
	if err := backend.CreateBucket(bucket); err != nil {
		t.Fatal(err)
	}
	s3srv := httptest.NewServer(gofakes3.New(backend).Server())
	t.Cleanup(s3srv.Close)
	obj := objstore.New(objstore.Config{Endpoint: s3srv.URL, Region: region, AccessKeyID: "AKIDTEST",
		SecretAccessKey: "secret", PathStyle: true})
	h := &harness{rules: rules, sp: sp, topics: &topicLog{}, obj: obj, clk: clk}
	h.proc = &Processor{Spool: sp, Rules: rules, Checker: &fixedChecker{}, Objects: obj, Topics: h.topics,
		Hostname: "mx.sesame.test", Clock: clk, Logger: log}
	if tweak != nil {
		tweak(h.proc)
	}
	srv := inbound.NewServer(inbound.Config{Hostname: "mx.sesame.test", Logger: log,
		Receiver: &Acceptor{Region: region, Rules: rules, Spool: sp, Clock: clk, Logger: log}})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	h.addr = ln.Addr().String()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); h.proc.Run(ctx) }()
	h.cancel = cancel
	h.stop = func() { cancel(); <-done }
	t.Cleanup(h.stop)
	return h
}

// send delivers msg to rcpts; the error is the first refusal.
func (h *harness) send(t *testing.T, from string, rcpts []string, msg string) error {
	t.Helper()
	c, err := smtp.Dial(h.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Hello("client.example.org"); err != nil {
		t.Fatal(err)
	}
	if err := c.Mail(from); err != nil {
		return err
	}
	for _, r := range rcpts {
		if err := c.Rcpt(r); err != nil {
			return err
		}
	}
	w, err := c.Data()
	if err != nil {
		return err
	}
	io.WriteString(w, msg)
	return w.Close()
}

const testMsg = "From: Ann <ann@example.org>\r\nTo: Bob <bob@example.com>, carol@example.com\r\n" +
	"Subject: Hello\r\nMessage-ID: <m1@example.org>\r\n\r\nHi Bob.\r\n"

func TestRulesRunInOrder(t *testing.T) {
	rules := &memRules{
		verified: map[string][]string{"example.com": {acct}},
		sets: map[string]*receipt.RuleSet{acct: {Name: "main", Rules: []receipt.Rule{
			{Name: "store", Enabled: true, Recipients: []string{"example.com"}, Actions: []receipt.Action{
				{AddHeaderAction: &receipt.AddHeaderAction{HeaderName: "X-Stored", HeaderValue: "yes"}},
				{S3Action: &receipt.S3Action{BucketName: bucket, ObjectKeyPrefix: "in/", TopicArn: "arn:aws:sns:us-east-1:" + acct + ":s3"}},
				{SNSAction: &receipt.SNSAction{TopicArn: "arn:aws:sns:us-east-1:" + acct + ":full", Encoding: receipt.EncodingBase64}},
			}},
			{Name: "disabled", Enabled: false, Actions: []receipt.Action{
				{SNSAction: &receipt.SNSAction{TopicArn: "arn:aws:sns:us-east-1:" + acct + ":never"}}}},
			{Name: "stop", Enabled: true, ScanEnabled: true, Recipients: []string{"bob@example.com"}, Actions: []receipt.Action{
				{StopAction: &receipt.StopAction{Scope: "RuleSet", TopicArn: "arn:aws:sns:us-east-1:" + acct + ":stop"}}}},
			{Name: "after-stop", Enabled: true, Actions: []receipt.Action{
				{SNSAction: &receipt.SNSAction{TopicArn: "arn:aws:sns:us-east-1:" + acct + ":never"}}}},
		}}},
	}
	h := start(t, rules, nil)
	if err := h.send(t, "ann@example.org", []string{"bob@example.com", "Carol@Example.com"}, testMsg); err != nil {
		t.Fatal(err)
	}
	waitfor.True(t, "the message processed", func() bool { return len(h.topics.all()) == 3 && h.sp.Len() == 0 })

	pubs := h.topics.all()
	if pubs[0].topic != "arn:aws:sns:us-east-1:"+acct+":s3" || pubs[1].topic != "arn:aws:sns:us-east-1:"+acct+":full" ||
		pubs[2].topic != "arn:aws:sns:us-east-1:"+acct+":stop" {
		t.Fatalf("published to %v", pubs)
	}
	var n Notification
	if err := json.Unmarshal([]byte(pubs[0].message), &n); err != nil {
		t.Fatal(err)
	}
	if pubs[0].subject != "Amazon SES Email Receipt Notification" || n.NotificationType != "Received" {
		t.Errorf("subject %q, type %q", pubs[0].subject, n.NotificationType)
	}
	id := n.Mail.MessageID
	if len(id) != 40 || n.Receipt.Action.Type != "S3" || n.Receipt.Action.ObjectKey != "in/"+id ||
		n.Receipt.Action.BucketName != bucket || n.Content != "" {
		t.Errorf("S3 notification: %+v", n)
	}
	if got := strings.Join(n.Receipt.Recipients, ","); got != "bob@example.com,Carol@Example.com" {
		t.Errorf("receipt.recipients %s", got)
	}
	if got := strings.Join(n.Mail.Destination, ","); got != "bob@example.com,carol@example.com" {
		t.Errorf("mail.destination %s", got)
	}
	if n.Mail.CommonHeaders.MessageID != "<m1@example.org>" || n.Mail.Source != "ann@example.org" {
		t.Errorf("mail: %+v %+v", n.Mail, n.Mail.CommonHeaders)
	}
	// The rule without ScanEnabled says so; the stop rule scans.
	if n.Receipt.SpamVerdict.Status != "DISABLED" || n.Receipt.SPFVerdict.Status != "PASS" {
		t.Errorf("verdicts %+v", n.Receipt)
	}
	if c := h.proc.Checker.(*fixedChecker); len(c.scans) != 1 || !c.scans[0] {
		t.Errorf("scan asked %v, want once with scanning (a matching rule has ScanEnabled)", c.scans)
	}

	obj, err := h.obj.Get(context.Background(), bucket, "in/"+id, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	stored := string(obj)
	for _, want := range []string{"X-Stored: yes\r\nReturn-Path: <ann@example.org>\r\nReceived: from client.example.org",
		"X-SES-Spam-Verdict: PASS\r\n", testMsg} {
		if !strings.Contains(stored, want) {
			t.Errorf("stored object lacks %q:\n%s", want, stored)
		}
	}
	var full Notification
	if err := json.Unmarshal([]byte(pubs[1].message), &full); err != nil {
		t.Fatal(err)
	}
	content, err := base64.StdEncoding.DecodeString(full.Content)
	if err != nil || string(content) != stored {
		t.Errorf("SNS content (%v) differs from the stored object:\n%s", err, content)
	}
	if full.Receipt.Action.Encoding != "BASE64" {
		t.Errorf("SNS action %+v", full.Receipt.Action)
	}
}

func TestRecipientRefusals(t *testing.T) {
	rules := &memRules{
		verified: map[string][]string{"example.com": {acct}, "blocked.test": {other}, "tls.test": {acct}, "norule.test": {acct}},
		sets: map[string]*receipt.RuleSet{
			acct: {Name: "a", Rules: []receipt.Rule{
				{Name: "tls", Enabled: true, TLSPolicy: receipt.TLSRequire, Recipients: []string{"tls.test"}},
				{Name: "plain", Enabled: true, Recipients: []string{"example.com", ".sub.example.com"}},
			}},
			other: {Name: "b", Rules: []receipt.Rule{{Name: "all", Enabled: true}}},
		},
		filters: map[string][]receipt.Filter{other: {{Name: "all", IPFilter: receipt.IPFilter{Policy: receipt.PolicyBlock, Cidr: "0.0.0.0/0"}}}},
	}
	h := start(t, rules, nil)
	for _, c := range []struct {
		rcpt string
		want string // "" = accepted
	}{
		{"bob@example.com", ""},
		{"x@unknown.test", "550 5.1.1 Requested action not taken: mailbox unavailable"},
		{"x@norule.test", "550 5.1.1 Requested action not taken: mailbox unavailable"},
		{"x@blocked.test", "554 5.7.1 Access denied"},
		{"x@tls.test", "530 5.7.0 Must issue a STARTTLS command first"},
	} {
		err := h.send(t, "ann@example.org", []string{c.rcpt}, testMsg)
		got := ""
		var pe *textproto.Error
		if errors.As(err, &pe) {
			got = fmt.Sprintf("%d %s", pe.Code, pe.Msg)
		} else if err != nil {
			t.Fatalf("%s: %v", c.rcpt, err)
		}
		if got != c.want {
			t.Errorf("%s: got %q, want %q", c.rcpt, got, c.want)
		}
	}
	// An Allow filter beats an overlapping Block.
	rules.mu.Lock()
	rules.filters[other] = append(rules.filters[other], receipt.Filter{Name: "me",
		IPFilter: receipt.IPFilter{Policy: receipt.PolicyAllow, Cidr: "127.0.0.0/8"}})
	rules.mu.Unlock()
	if err := h.send(t, "ann@example.org", []string{"x@blocked.test"}, testMsg); err != nil {
		t.Errorf("allowed client refused: %v", err)
	}
}

// An action that fails for now keeps the message; the next try does not
// run again what the first one finished.
func TestTemporaryFailureRetried(t *testing.T) {
	rules := &memRules{
		verified: map[string][]string{"example.com": {acct}},
		sets: map[string]*receipt.RuleSet{acct: {Name: "main", Rules: []receipt.Rule{
			{Name: "r", Enabled: true, Actions: []receipt.Action{
				{SNSAction: &receipt.SNSAction{TopicArn: "arn:aws:sns:us-east-1:" + acct + ":first"}},
				{S3Action: &receipt.S3Action{BucketName: bucket}},
			}},
		}}},
	}
	var flaky *flakyObjects
	h := start(t, rules, func(p *Processor) {
		flaky = &flakyObjects{Objects: p.Objects, fails: 1}
		p.Objects = flaky
	})
	if err := h.send(t, "ann@example.org", []string{"bob@example.com"}, testMsg); err != nil {
		t.Fatal(err)
	}
	waitfor.True(t, "the first try", func() bool {
		flaky.mu.Lock()
		defer flaky.mu.Unlock()
		return flaky.puts == 1
	})
	waitfor.True(t, "the message deferred", func() bool {
		es := h.sp.Entries()
		return len(es) == 1 && es[0].State.Attempts == 1 && !es[0].Claimed
	})
	h.clk.Advance(Backoff(1))
	h.sp.Wake()
	waitfor.True(t, "the retry to finish", func() bool { return h.sp.Len() == 0 })
	if got := len(h.topics.all()); got != 1 {
		t.Errorf("the SNS action ran %d times, want once", got)
	}
	if flaky.puts != 2 {
		t.Errorf("%d puts, want 2", flaky.puts)
	}
}

// fnFake answers each function ARN with a disposition.
type fnFake struct {
	mu    sync.Mutex
	disps map[string]string
	calls []string
}

func (f *fnFake) Invoke(_ context.Context, arn, _ string, _ []byte, _ Forward) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, arn)
	return f.disps[arn], nil
}

type bounceLog struct {
	mu  sync.Mutex
	got []bounce.BounceRequest
}

func (b *bounceLog) Bounce(_ context.Context, r bounce.BounceRequest) (string, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.got = append(b.got, r)
	return "dsn-1", nil
}

// A RequestResponse function's disposition decides what runs next:
// STOP_RULE skips the rest of its rule, STOP_RULE_SET every later rule.
func TestFunctionDispositions(t *testing.T) {
	fn := func(name string) receipt.Action {
		return receipt.Action{LambdaAction: &receipt.LambdaAction{FunctionArn: "arn:aws:lambda:us-east-1:" + acct + ":function:" + name,
			InvocationType: receipt.InvocationRequestResponse}}
	}
	rules := &memRules{
		verified: map[string][]string{"example.com": {acct}},
		sets: map[string]*receipt.RuleSet{acct: {Name: "main", Rules: []receipt.Rule{
			{Name: "one", Enabled: true, Actions: []receipt.Action{fn("stop-rule"), fn("skipped")}},
			{Name: "two", Enabled: true, Actions: []receipt.Action{fn("continue"), fn("stop-set"), fn("skipped-too")}},
			{Name: "three", Enabled: true, Actions: []receipt.Action{fn("never")}},
		}}},
	}
	f := &fnFake{disps: map[string]string{}}
	for _, n := range []string{"stop-rule", "continue", "stop-set"} {
		f.disps["arn:aws:lambda:us-east-1:"+acct+":function:"+n] = map[string]string{
			"stop-rule": "STOP_RULE", "continue": "CONTINUE", "stop-set": "STOP_RULE_SET"}[n]
	}
	h := start(t, rules, func(p *Processor) { p.Functions = f })
	if err := h.send(t, "ann@example.org", []string{"bob@example.com"}, testMsg); err != nil {
		t.Fatal(err)
	}
	waitfor.True(t, "the message processed", func() bool { return h.sp.Len() == 0 })
	var got []string
	for _, c := range f.calls {
		got = append(got, c[strings.LastIndexByte(c, ':')+1:])
	}
	if strings.Join(got, ",") != "stop-rule,continue,stop-set" {
		t.Errorf("functions called: %v", got)
	}
}

// A message over the SNS action's 150 KB is bounced, as SES does.
func TestSNSActionTooLargeBounces(t *testing.T) {
	rules := &memRules{
		verified: map[string][]string{"example.com": {acct}},
		sets: map[string]*receipt.RuleSet{acct: {Name: "main", Rules: []receipt.Rule{
			{Name: "sns", Enabled: true, Actions: []receipt.Action{
				{SNSAction: &receipt.SNSAction{TopicArn: "arn:aws:sns:us-east-1:" + acct + ":big"}}}},
		}}},
	}
	b := &bounceLog{}
	h := start(t, rules, func(p *Processor) { p.Bouncer = b })
	big := testMsg + strings.Repeat("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\r\n", 160<<10/66)
	if err := h.send(t, "ann@example.org", []string{"bob@example.com"}, big); err != nil {
		t.Fatal(err)
	}
	waitfor.True(t, "the message processed", func() bool { return h.sp.Len() == 0 })
	if n := len(h.topics.all()); n != 0 {
		t.Errorf("%d publications of a message over 150 KB", n)
	}
	if len(b.got) != 1 || b.got[0].To != "ann@example.org" || b.got[0].SmtpReplyCode != "552" ||
		b.got[0].StatusCode != "5.3.4" || strings.Join(b.got[0].Recipients, ",") != "bob@example.com" {
		t.Errorf("bounces: %+v", b.got)
	}
}

// The listener's limits: the size (552 5.3.4) and the recipients of one
// transaction.
func TestReceivingLimits(t *testing.T) {
	rules := &memRules{
		verified: map[string][]string{"example.com": {acct}},
		sets:     map[string]*receipt.RuleSet{acct: {Name: "main", Rules: []receipt.Rule{{Name: "all", Enabled: true}}}},
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	sp, err := spool.Open(t.TempDir(), spool.Options{Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sp.Close() })
	srv := inbound.NewServer(inbound.Config{Hostname: "mx.sesame.test", Logger: log, MaxMessageBytes: 4096, MaxRecipients: 3,
		Receiver: &Acceptor{Region: region, Rules: rules, Spool: sp, Clock: clock.Real{}, Logger: log}})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	h := &harness{addr: ln.Addr().String()}
	err = h.send(t, "ann@example.org", []string{"bob@example.com"}, testMsg+strings.Repeat(strings.Repeat("x", 98)+"\r\n", 50))
	var pe *textproto.Error
	if !errors.As(err, &pe) || pe.Code != 552 || pe.Msg != "5.3.4 Maximum message size exceeded" {
		t.Errorf("oversize: %v", err)
	}
	err = h.send(t, "ann@example.org", []string{"bob@example.com"}, "Subject: x\r\n\r\n"+strings.Repeat("x", 3000)+"\r\n")
	if !errors.As(err, &pe) || pe.Code != 500 {
		t.Errorf("a 3,000-byte line: %v", err)
	}
	err = h.send(t, "ann@example.org", []string{"a@example.com", "b@example.com", "c@example.com", "d@example.com"}, testMsg)
	if !errors.As(err, &pe) || pe.Code != 452 {
		t.Errorf("a fourth recipient: %v", err)
	}
	if sp.Len() != 0 {
		t.Errorf("%d messages spooled", sp.Len())
	}
}

// Whatever a sender sends is kept and processed: a message without a
// header, an empty one, a broken field, 8-bit bytes, the null sender.
func TestOddMessagesAreProcessed(t *testing.T) {
	rules := &memRules{
		verified: map[string][]string{"example.com": {acct}},
		sets: map[string]*receipt.RuleSet{acct: {Name: "main", Rules: []receipt.Rule{
			{Name: "store", Enabled: true, Actions: []receipt.Action{
				{S3Action: &receipt.S3Action{BucketName: bucket, TopicArn: "arn:aws:sns:us-east-1:" + acct + ":t"}}}},
		}}},
	}
	h := start(t, rules, nil)
	msgs := []string{
		"just a body line, no header\r\n",
		"\r\n",
		"Subject ohne Doppelpunkt\r\nFrom: =?bogus?Q?x?= <\r\n\r\nbody\r\n",
		"Subject: caf\xe9 \xff\r\nTo: \xc3\x28@example.com\r\n\r\n\x00\x01\r\n",
	}
	for i, m := range msgs {
		from := "ann@example.org"
		if i == 1 {
			from = ""
		}
		if err := h.send(t, from, []string{"bob@example.com"}, m); err != nil {
			t.Fatalf("message %d: %v", i, err)
		}
	}
	waitfor.True(t, "every message processed", func() bool { return len(h.topics.all()) == len(msgs) && h.sp.Len() == 0 })
	for _, p := range h.topics.all() {
		var n Notification
		if err := json.Unmarshal([]byte(p.message), &n); err != nil {
			t.Fatalf("notification: %v", err)
		}
		if _, err := h.obj.Get(context.Background(), bucket, n.Mail.MessageID, 1<<20); err != nil {
			t.Errorf("object of %s: %v", n.Mail.MessageID, err)
		}
	}
}

// blockingFn is a function that answers only when its caller gives up.
type blockingFn struct{ called chan struct{} }

func (f *blockingFn) Invoke(ctx context.Context, _, _ string, _ []byte, _ Forward) (string, error) {
	close(f.called)
	<-ctx.Done()
	return "", fmt.Errorf("%w: %w", ErrTemporary, ctx.Err())
}

// TestShutdownInterruptsWithoutFailing: a shutdown (Run's ctx ending) in
// the middle of a message's actions is not a failed try: the message is
// due at once after a restart, with no attempt counted, and the actions
// finished before it are not run again.
func TestShutdownInterruptsWithoutFailing(t *testing.T) {
	rules := &memRules{
		verified: map[string][]string{"example.com": {acct}},
		sets: map[string]*receipt.RuleSet{acct: {Name: "main", Rules: []receipt.Rule{
			{Name: "r", Enabled: true, Actions: []receipt.Action{
				{SNSAction: &receipt.SNSAction{TopicArn: "arn:aws:sns:us-east-1:" + acct + ":first"}},
				{LambdaAction: &receipt.LambdaAction{FunctionArn: "arn:aws:lambda:us-east-1:" + acct + ":function:slow",
					InvocationType: "Event"}},
			}},
		}}},
	}
	fn := &blockingFn{called: make(chan struct{})}
	h := start(t, rules, func(p *Processor) { p.Functions = fn })
	if err := h.send(t, "ann@example.org", []string{"bob@example.com"}, testMsg); err != nil {
		t.Fatal(err)
	}
	<-fn.called
	h.stop()
	es := h.sp.Entries()
	if len(es) != 1 {
		t.Fatalf("%d messages kept, want 1", len(es))
	}
	st := es[0].State
	if es[0].Claimed || st.Attempts != 0 || !st.NextAttempt.IsZero() || len(st.Done) != 1 {
		t.Errorf("after the shutdown: claimed %v, attempts %d, next attempt %v, done %v; want due at once, no attempt, the SNS action done",
			es[0].Claimed, st.Attempts, st.NextAttempt, st.Done)
	}
}

// storeRecords keeps records as the store does: not once ctx has ended.
type storeRecords struct {
	mu   sync.Mutex
	recs []store.ReceivedMessage
}

func (r *storeRecords) PutReceivedMessage(ctx context.Context, m store.ReceivedMessage) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.recs = append(r.recs, m)
	return nil
}

// cancellingFn succeeds, and the shutdown begins as it returns.
type cancellingFn struct{ cancel func() }

func (f *cancellingFn) Invoke(context.Context, string, string, []byte, Forward) (string, error) {
	f.cancel()
	return "", nil
}

// TestShutdownAfterActionsKeepsTheRecord: a shutdown that begins once a
// message's actions have run does not lose its record, and the message is
// done (its actions do not run again at the next start).
func TestShutdownAfterActionsKeepsTheRecord(t *testing.T) {
	rules := &memRules{
		verified: map[string][]string{"example.com": {acct}},
		sets: map[string]*receipt.RuleSet{acct: {Name: "main", Rules: []receipt.Rule{
			{Name: "r", Enabled: true, Actions: []receipt.Action{
				{LambdaAction: &receipt.LambdaAction{FunctionArn: "arn:aws:lambda:us-east-1:" + acct + ":function:last",
					InvocationType: "Event"}},
			}},
		}}},
	}
	recs := &storeRecords{}
	fn := &cancellingFn{}
	h := start(t, rules, func(p *Processor) { p.Functions, p.Records = fn, recs })
	fn.cancel = h.cancel
	if err := h.send(t, "ann@example.org", []string{"bob@example.com"}, testMsg); err != nil {
		t.Fatal(err)
	}
	waitfor.True(t, "the message processed", func() bool { return h.sp.Len() == 0 })
	h.stop()
	recs.mu.Lock()
	defer recs.mu.Unlock()
	if len(recs.recs) != 1 {
		t.Errorf("%d records, want the message's", len(recs.recs))
	}
}

// In development mode an identity not (yet) verified receives, as it
// sends; otherwise only a verified one does.
func TestDevelopmentReceivesForPendingIdentities(t *testing.T) {
	rules := &memRules{
		pending: map[string][]string{"new.test": {acct}},
		sets:    map[string]*receipt.RuleSet{acct: {Name: "a", Rules: []receipt.Rule{{Name: "all", Enabled: true}}}},
	}
	s := &inbound.Session{Remote: netip.MustParseAddrPort("127.0.0.1:40000"), Helo: "client.test"}
	for _, dev := range []bool{false, true} {
		a := &Acceptor{Region: "us-east-1", Rules: rules, Development: dev}
		route, err := a.Recipient(context.Background(), s, "x@new.test")
		switch {
		case dev && (err != nil || !slices.Equal(route.Accounts, []string{acct})):
			t.Errorf("development: route %+v, err %v; want the pending identity's account", route, err)
		case !dev && (err == nil || seserr.As(err).SMTPReply() != "550 5.1.1 Requested action not taken: mailbox unavailable"):
			t.Errorf("without development: err %v, want 550 5.1.1", err)
		}
	}
}
