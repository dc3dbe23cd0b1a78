package e2e

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"

	"sesame/internal/awsauth"
	"sesame/internal/testenv"
	"sesame/internal/waitfor"
)

// MX delivery through the real binary: sesame accepts over SMTP and
// delivers to sink MXes found through a test DNS server (delivery.resolver),
// with delivery.mx_port pointing at the sinks' port.

// startMXServer starts sesame in mode "mx" against d and the sinks' port.
func startMXServer(t *testing.T, d *testenv.DNS, port string, extra ...string) *testenv.Server {
	t.Helper()
	return startProduction(t, testenv.Options{Extra: fmt.Sprintf(`[delivery]
mode = "mx"
resolver = %q
mx_port = %s
bounce_domain = "bounces.sesame.test"
retry_min = "50ms"
retry_max = "200ms"
command_timeout = "5s"
`, d.Addr, port) + strings.Join(extra, "\n")})
}

// waitFor is the e2e tests' bound on waitfor.Within: a real server on a
// loaded two-core machine gets more time than a unit test's goroutine.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	waitfor.Within(t, what, 15*time.Second, cond)
}

// waitForWithin is waitFor with a bound of its own, for what takes long on
// purpose (retries with backoff).
func waitForWithin(t *testing.T, what string, d time.Duration, cond func() bool) {
	t.Helper()
	waitfor.Within(t, what, d, cond)
}

func TestMXDeliveryBounceAndSuppression(t *testing.T) {
	d := testenv.StartDNS(t)
	sinks, port := testenv.StartSinks(t,
		testenv.SinkOptions{StartTLS: true}, // mx2: a.test and the sender's domain
		testenv.SinkOptions{Greylist: 1, Reject: map[string]string{"gone@b.test": "550 5.1.1 no such user"}}, // mx3: b.test
	)
	d.SetA("mx2.test", "127.0.0.2")
	d.SetA("mx3.test", "127.0.0.3")
	d.SetMX("a.test", 10, "mx2.test")
	d.SetMX("b.test", 10, "mx3.test")
	d.SetMX("example.com", 10, "mx2.test") // where DSNs to the sender go
	s := startMXServer(t, d, port)
	s.Verify("example.com")

	smtpSendTo(t, s, "sender@example.com", "mx e2e", "ok@a.test", "grey@b.test", "gone@b.test")
	// a.test at once over TLS; b.test after one greylisting round; the
	// sender gets a DSN about gone@b.test through its own MX.
	waitFor(t, "deliveries and the DSN", func() bool {
		return len(sinks[1].Messages()) == 1 && len(sinks[0].Messages()) == 2
	})
	var msg, dsn testenv.SinkMessage
	for _, m := range sinks[0].Messages() {
		if m.From == "" {
			dsn = m
		} else {
			msg = m
		}
	}
	if !msg.TLS || len(msg.Recipients) != 1 || msg.Recipients[0] != "ok@a.test" {
		t.Fatalf("a.test got %+v", msg)
	}
	if !strings.HasSuffix(msg.From, "@bounces.sesame.test") || !strings.Contains(string(msg.Data), "Feedback-ID: 1.us-east-1.") {
		t.Errorf("MAIL FROM %q, message:\n%s", msg.From, msg.Data)
	}
	if grey := sinks[1].Messages()[0]; len(grey.Recipients) != 1 || grey.Recipients[0] != "grey@b.test" {
		t.Errorf("b.test got %+v", grey)
	}
	if dsn.Recipients == nil || dsn.Recipients[0] != "sender@example.com" ||
		!strings.Contains(string(dsn.Data), "Final-Recipient: rfc822; gone@b.test") ||
		!strings.Contains(string(dsn.Data), "Status: 5.1.1") {
		t.Fatalf("DSN: %+v\n%s", dsn, dsn.Data)
	}

	// The hard bounce put the address on the account's suppression list.
	cl := s.SESv2Client(t)
	got, err := cl.GetSuppressedDestination(context.Background(), &sesv2.GetSuppressedDestinationInput{EmailAddress: aws.String("gone@b.test")})
	if err != nil {
		t.Fatalf("GetSuppressedDestination: %v", err)
	}
	if got.SuppressedDestination.Reason != "BOUNCE" {
		t.Errorf("reason = %s", got.SuppressedDestination.Reason)
	}
	// Sent again, it is not attempted: b.test's MX sees no new transaction
	// for it, and the sender hears of it (OnAccountSuppressionList).
	before := sinks[1].Connections()
	smtpSendTo(t, s, "sender@example.com", "mx e2e again", "gone@b.test")
	waitFor(t, "the second DSN", func() bool { return len(sinks[0].Messages()) == 3 })
	if n := sinks[1].Connections(); n != before {
		t.Errorf("b.test's MX contacted for a suppressed address (%d → %d connections)", before, n)
	}
}

func TestMXDeliveryToPostfixSmtpSink(t *testing.T) {
	sinkBin := "/usr/sbin/smtp-sink"
	if _, err := os.Stat(sinkBin); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("Postfix's smtp-sink is missing (Debian package postfix): %v", err)
		}
		t.Skip("Postfix's smtp-sink is not installed (Debian package postfix)")
	}
	d := testenv.StartDNS(t)
	// The go sinks only fix the port; Postfix's smtp-sink listens on
	// 127.0.0.3 on it.
	_, port := testenv.StartSinks(t, testenv.SinkOptions{})
	dir, err := os.MkdirTemp("", "smtp-sink")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o777); err != nil {
		t.Fatal(err)
	}
	args := []string{"-d", filepath.Join(dir, "%M.")}
	if os.Getuid() == 0 {
		args = append(args, "-u", "nobody")
	}
	args = append(args, "127.0.0.3:"+port, "64")
	cmd := exec.Command(sinkBin, args...)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	waitFor(t, "smtp-sink to listen", func() bool {
		c, err := net.Dial("tcp", "127.0.0.3:"+port)
		if err == nil {
			c.Close()
		}
		return err == nil
	})
	d.SetA("sink.test", "127.0.0.3") // no MX: the implicit MX
	s := startMXServer(t, d, port)
	s.Verify("example.com")
	const n = 20
	for i := range n {
		smtpSendTo(t, s, "sender@example.com", fmt.Sprintf("to smtp-sink %d", i), fmt.Sprintf("r%d@sink.test", i))
	}
	// smtp-sink creates a dump file when a message starts and fills it as
	// the message arrives: a file can be listed before it is complete.
	ok := func(b []byte) bool {
		return strings.Contains(string(b), "X-Mail-Args: <") && strings.Contains(string(b), "@bounces.sesame.test>") &&
			strings.Contains(string(b), "Feedback-ID: ") && strings.Contains(string(b), "Hello from sesame.")
	}
	var files []os.DirEntry
	var bad []byte
	deadline := time.Now().Add(15 * time.Second)
	for {
		files, _ = os.ReadDir(dir)
		bad = nil
		for _, f := range files {
			if b, err := os.ReadFile(filepath.Join(dir, f.Name())); err != nil || !ok(b) {
				bad = b
				break
			}
		}
		if len(files) >= n && bad == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("smtp-sink holds %d messages (want %d); one of its dumps:\n%s", len(files), n, bad)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if len(files) != n {
		t.Errorf("smtp-sink holds %d messages, want %d", len(files), n)
	}
	// The delivery log: one info line per recipient, with smtp-sink's reply
	// to the final dot as it was given.
	for i := range n {
		to := fmt.Sprintf("r%d@sink.test", i)
		line := waitDeliveryLine(t, s, to)
		if line["status"] != "sent" || line["relay"] != "sink.test[127.0.0.3]:"+port || line["dsn"] != "2.0.0" ||
			line["reply"] != "250 2.0.0 Ok" || line["message_id"] == "" || line["attempts"] != "1" {
			t.Errorf("delivery line for %s: %v", to, line)
		}
	}
}

// messageIDOf returns the SES MessageId in a delivered message's Message-ID
// field (<id@region.hostname>, added by sesame).
func messageIDOf(data []byte) string {
	s := string(data)
	i := strings.Index(s, "Message-ID: <")
	if i < 0 {
		return ""
	}
	s = s[i+len("Message-ID: <"):]
	if j := strings.IndexByte(s, '@'); j >= 0 {
		return s[:j]
	}
	return ""
}

// TestMXCrashDeliversEveryMessage: ≥ 2,000 messages are accepted while MX
// delivery runs; sesame is killed with SIGKILL mid-delivery and restarted;
// afterwards every acknowledged message has reached the MX, and duplicates
// (delivered, but killed before the spool recorded it) are at most the
// messages in flight.
func TestMXCrashDeliversEveryMessage(t *testing.T) {
	d := testenv.StartDNS(t)
	// A slow MX (5 ms before each MAIL) and 4 deliveries at once keep a
	// backlog, so the kill lands mid-delivery.
	sinks, port := testenv.StartSinks(t, testenv.SinkOptions{Stall: 5 * time.Millisecond})
	d.SetA("mx2.test", "127.0.0.2")
	d.SetMX("example.net", 10, "mx2.test")
	const inFlight = 4
	s := startProduction(t, testenv.Options{SMTPExtra: "max_messages_per_connection = 100000", Extra: fmt.Sprintf(`[delivery]
mode = "mx"
resolver = %q
mx_port = %s
concurrency = %d
retry_min = "50ms"
retry_max = "200ms"
`, d.Addr, port, inFlight)})
	s.Verify("example.com")
	time.Sleep(1100 * time.Millisecond) // admin changes reach the running server within a second
	pw := awsauth.SMTPPassword(s.Secret, s.Regions[0])

	var mu sync.Mutex
	acked := map[string]bool{}
	record := func(id string) {
		mu.Lock()
		acked[id] = true
		mu.Unlock()
	}
	nAcked := func() int {
		mu.Lock()
		defer mu.Unlock()
		return len(acked)
	}
	delivered := func() map[string]int {
		seen := map[string]int{}
		for _, m := range sinks[0].Messages() {
			seen[messageIDOf(m.Data)]++
		}
		return seen
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range 10 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			smtpLoad(s.SMTP, s.KeyID, pw, "rcpt@example.net", stop, record)
		}()
	}
	waitFor(t, "2,000 acknowledged messages", func() bool { return nAcked() >= 2000 })
	close(stop)
	wg.Wait()
	waitFor(t, "deliveries under way", func() bool { return len(sinks[0].Messages()) >= 300 })
	s.Kill()
	before := len(delivered())
	t.Logf("killed after %d of %d acknowledged messages were delivered", before, nAcked())
	if before >= nAcked() {
		t.Fatalf("every message was delivered before the kill: the test killed nothing in flight")
	}
	s.Restart()
	deadline := time.Now().Add(60 * time.Second)
	for {
		seen := delivered()
		missing := 0
		for id := range acked {
			if seen[id] == 0 {
				missing++
			}
		}
		if missing == 0 {
			dups := 0
			for _, n := range seen {
				dups += n - 1
			}
			t.Logf("%d acknowledged, all delivered; %d duplicates (in flight at the kill: at most %d)", len(acked), dups, inFlight)
			if dups > inFlight {
				t.Errorf("%d duplicates, more than the %d messages in flight", dups, inFlight)
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d acknowledged messages never delivered after the restart", missing, len(acked))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// dkimVerifyPy verifies a message's DKIM-Signature with Debian's
// python3-dkim (dkimpy), an implementation independent of sesame's, given
// the key record: argv[1] the message, argv[2] the TXT value.
const dkimVerifyPy = `import sys, dkim
msg = open(sys.argv[1], "rb").read()
txt = open(sys.argv[2], "rb").read()
sys.exit(0 if dkim.verify(msg, dnsfunc=lambda name, timeout=5: txt) else 1)
`

// TestMXDeliversDKIMSigned: a domain identity with Easy DKIM, verified
// through its CNAMEs, sends through MX delivery; the message the MX
// receives carries a signature that python3-dkim verifies against the key
// record `sesame admin dkim zone` publishes.
func TestMXDeliversDKIMSigned(t *testing.T) {
	const py = "/usr/bin/python3"
	if err := exec.Command(py, "-c", "import dkim").Run(); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("Debian's python3-dkim is missing: %v", err)
		}
		t.Skip("Debian's python3-dkim is not installed")
	}
	d := testenv.StartDNS(t)
	sinks, port := testenv.StartSinks(t, testenv.SinkOptions{StartTLS: true})
	d.SetA("mx2.test", "127.0.0.2")
	d.SetMX("a.test", 10, "mx2.test")
	const cnameDomain = "dkim.sesame.test"
	s := startMXServer(t, d, port, fmt.Sprintf("[verification]\ncheck_interval = \"100ms\"\ndkim_cname_domain = %q\n", cnameDomain))
	ctx := context.Background()
	v2 := s.SESv2Client(t)
	const domain = "signed.example"
	created := easyDKIMDomain(t, v2, d, domain, cnameDomain)

	smtpSendTo(t, s, "sender@"+domain, "signed through mx", "u@a.test")
	waitFor(t, "the signed message", func() bool { return len(sinks[0].Messages()) == 1 })
	msg := sinks[0].Messages()[0].Data
	if !strings.HasPrefix(string(msg), "DKIM-Signature: ") {
		t.Fatalf("not signed:\n%s", msg)
	}
	zone, err := s.AdminRaw("dkim", "zone")
	if err != nil {
		t.Fatalf("dkim zone: %v\n%s", err, zone)
	}
	tok := strings.ToLower(created.DkimAttributes.Tokens[0])
	var txt string
	for _, line := range strings.Split(string(zone), "\n") {
		if strings.HasPrefix(strings.ToLower(line), tok) && strings.Contains(line, "TXT") {
			for i, part := range strings.Split(line, `"`) {
				if i%2 == 1 {
					txt += part
				}
			}
		}
	}
	if !strings.Contains(txt, "p=") {
		t.Fatalf("no key record for %s in the zone:\n%s", tok, zone)
	}
	dir := t.TempDir()
	msgFile, txtFile := filepath.Join(dir, "msg.eml"), filepath.Join(dir, "key.txt")
	if err := os.WriteFile(msgFile, msg, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(txtFile, []byte(txt), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(py, "-c", dkimVerifyPy, msgFile, txtFile).CombinedOutput(); err != nil {
		t.Fatalf("python3-dkim does not verify the delivered message: %v %s\n%s", err, out, msg)
	}

	// An address identity under the domain can turn signing off for itself
	// (PutEmailIdentityDkimAttributes on the address); the domain's other
	// addresses still sign.
	const quiet = "quiet@" + domain
	if _, err := v2.CreateEmailIdentity(ctx, &sesv2.CreateEmailIdentityInput{EmailIdentity: aws.String(quiet)}); err != nil {
		t.Fatal(err)
	}
	if _, err := v2.PutEmailIdentityDkimAttributes(ctx, &sesv2.PutEmailIdentityDkimAttributesInput{
		EmailIdentity: aws.String(quiet), SigningEnabled: false}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(1100 * time.Millisecond)
	smtpSendTo(t, s, quiet, "unsigned by choice", "u@a.test")
	smtpSendTo(t, s, "other@"+domain, "still signed", "u@a.test")
	waitFor(t, "both messages", func() bool { return len(sinks[0].Messages()) == 3 })
	for _, m := range sinks[0].Messages()[1:] {
		signed := strings.HasPrefix(string(m.Data), "DKIM-Signature: ")
		if fromQuiet := strings.Contains(string(m.Data), "From: "+quiet); signed == fromQuiet {
			t.Errorf("from %s: signed = %v:\n%s", map[bool]string{true: quiet, false: "other@" + domain}[fromQuiet], signed, m.Data)
		}
	}
}

// TestMXQueueDeferredSurvivesRestartAndRetries: a greylisted message waits
// (retry_min 1h) in the queue with its schedule and error, survives a
// restart with them, and `admin queue retry` sends it at once.
func TestMXQueueDeferredSurvivesRestartAndRetries(t *testing.T) {
	d := testenv.StartDNS(t)
	sinks, port := testenv.StartSinks(t, testenv.SinkOptions{Greylist: 1})
	d.SetA("mx2.test", "127.0.0.2")
	d.SetMX("grey.test", 10, "mx2.test")
	s := startProduction(t, testenv.Options{Extra: fmt.Sprintf(`[delivery]
mode = "mx"
resolver = %q
mx_port = %s
retry_min = "1h"
retry_max = "2h"
`, d.Addr, port)})
	s.Verify("example.com")
	smtpSendTo(t, s, "sender@example.com", "queued", "u@grey.test")
	type queued struct {
		ID          string     `json:"id"`
		Attempts    int        `json:"attempts"`
		NextAttempt *time.Time `json:"next_attempt"`
		LastError   string     `json:"last_error"`
	}
	list := func() []queued {
		var q []queued
		s.Admin(&q, "queue", "list")
		return q
	}
	var q []queued
	waitFor(t, "a deferral", func() bool { q = list(); return len(q) == 1 && q[0].Attempts == 1 })
	check := func(when string, q []queued) {
		t.Helper()
		if len(q) != 1 || q[0].NextAttempt == nil || time.Until(*q[0].NextAttempt) < 30*time.Minute ||
			!strings.Contains(q[0].LastError, "451 4.7.1") {
			t.Fatalf("%s: queue = %+v", when, q)
		}
	}
	check("deferred", q)
	s.Restart()
	time.Sleep(200 * time.Millisecond) // a restarted worker would deliver a message it wrongly thought due
	check("after a restart", list())
	if n := len(sinks[0].Messages()); n != 0 {
		t.Fatalf("delivered %d before its time", n)
	}
	s.Admin(nil, "queue", "retry", q[0].ID)
	waitFor(t, "delivery after queue retry", func() bool { return len(sinks[0].Messages()) == 1 })
	waitFor(t, "an empty queue", func() bool { return len(list()) == 0 })
}

// TestMXReturnPathHeader: as SES, a Return-Path header in the message names
// where bounce notifications go (the DSN reaches it, not the envelope
// sender), and recipients never see it: the delivered message has no
// Return-Path field (the receiver adds its own from MAIL FROM).
func TestMXReturnPathHeader(t *testing.T) {
	d := testenv.StartDNS(t)
	sinks, port := testenv.StartSinks(t,
		testenv.SinkOptions{},
		testenv.SinkOptions{Reject: map[string]string{"gone@b.test": "550 5.1.1 no such user"}},
	)
	d.SetA("mx2.test", "127.0.0.2")
	d.SetA("mx3.test", "127.0.0.3")
	d.SetMX("a.test", 10, "mx2.test")
	d.SetMX("b.test", 10, "mx3.test")
	d.SetMX("example.com", 10, "mx2.test")
	s := startMXServer(t, d, port)
	s.Verify("example.com")
	submitRaw(t, s, "sender@example.com", []string{"ok@a.test", "gone@b.test"},
		"Return-Path: <feedback@example.com>\r\nFrom: sender@example.com\r\nTo: ok@a.test, gone@b.test\r\n"+
			"Subject: return path\r\n\r\nHello.\r\n")
	waitFor(t, "the delivery and the DSN", func() bool { return len(sinks[0].Messages()) == 2 })
	for _, m := range sinks[0].Messages() {
		switch {
		case m.From == "": // the DSN
			if len(m.Recipients) != 1 || m.Recipients[0] != "feedback@example.com" ||
				!strings.Contains(string(m.Data), "Final-Recipient: rfc822; gone@b.test") {
				t.Errorf("DSN: %+v\n%s", m, m.Data)
			}
		default:
			if strings.Contains(strings.ToLower(string(m.Data)), "return-path:") {
				t.Errorf("the delivered message keeps a Return-Path field:\n%s", m.Data)
			}
		}
	}
}
