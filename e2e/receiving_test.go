package e2e

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/smtp"
	"net/textproto"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/ses"
	sestypes "github.com/aws/aws-sdk-go-v2/service/ses/types"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	v2types "github.com/aws/aws-sdk-go-v2/service/sesv2/types"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/emersion/go-msgauth/dkim"
	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"

	"sesame/internal/testenv"
)

// Receiving, through the real binary: a domain verified by the account,
// receipt rules made with the SES v1 API, mail sent to sesame's inbound MX
// by swaks and by Go's net/smtp, and every action's peer real — an
// S3-protocol server (gofakes3), an SNS subscriber over HTTP, a
// Lambda-style function over HTTP, a mailbox server for the forward, and
// capture mode catching the DSN of a Bounce action.

const fnAccount = "111122223333"

// receivingPeers are the servers the actions reach.
type receivingPeers struct {
	dns     *testenv.DNS
	s3URL   string
	s3      *s3.Client
	fn      *lambdaFunction
	mailbox *testenv.Sink
	dkimKey *rsa.PrivateKey
}

// lambdaFunction is an HTTP endpoint standing in for a Lambda function:
// it keeps the events and answers the disposition it is set to.
type lambdaFunction struct {
	srv         *httptest.Server
	mu          sync.Mutex
	events      []map[string]any
	disposition string
	delay       time.Duration // how long each call takes
}

func (f *lambdaFunction) serve(w http.ResponseWriter, r *http.Request) {
	var ev map[string]any
	if err := json.NewDecoder(r.Body).Decode(&ev); err != nil {
		http.Error(w, err.Error(), 400)
		return
	}
	f.mu.Lock()
	f.events = append(f.events, ev)
	d, delay := f.disposition, f.delay
	f.mu.Unlock()
	time.Sleep(delay)
	if d != "" {
		fmt.Fprintf(w, `{"disposition":%q}`, d)
	}
}

func (f *lambdaFunction) all() []map[string]any {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]map[string]any(nil), f.events...)
}

func startReceivingPeers(t *testing.T) *receivingPeers {
	t.Helper()
	p := &receivingPeers{dns: testenv.StartDNS(t)}
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	p.dkimKey = key
	pub, _ := x509.MarshalPKIXPublicKey(&key.PublicKey)
	p.dns.SetTXT("sel._domainkey.sender.test", "v=DKIM1; k=rsa; p="+base64.StdEncoding.EncodeToString(pub))
	p.dns.SetTXT("sender.test", "v=spf1 ip4:127.0.0.0/8 -all")
	p.dns.SetTXT("_dmarc.sender.test", "v=DMARC1; p=reject")
	// spoof.test's SPF excludes loopback and it publishes quarantine.
	p.dns.SetTXT("spoof.test", "v=spf1 ip4:192.0.2.1 -all")
	p.dns.SetTXT("_dmarc.spoof.test", "v=DMARC1; p=quarantine")

	backend := s3mem.New()
	if err := backend.CreateBucket("inbox"); err != nil {
		t.Fatal(err)
	}
	s3srv := httptest.NewServer(gofakes3.New(backend).Server())
	t.Cleanup(s3srv.Close)
	p.s3URL = s3srv.URL
	p.s3 = s3.New(s3.Options{Region: "us-east-1", BaseEndpoint: aws.String(s3srv.URL), UsePathStyle: true,
		Credentials: credentials.NewStaticCredentialsProvider("AKIDTEST", "secret", "")})

	p.fn = &lambdaFunction{}
	p.fn.srv = httptest.NewServer(http.HandlerFunc(p.fn.serve))
	t.Cleanup(p.fn.srv.Close)
	sinks, _ := testenv.StartSinks(t, testenv.SinkOptions{})
	p.mailbox = sinks[0]
	return p
}

// config is the [delivery], [s3] and [receiving] tables for a server whose
// inbound MX listens on inAddr.
func (p *receivingPeers) config(inAddr string) string {
	return fmt.Sprintf(`[delivery]
resolver = %q
[s3]
endpoint = %q
access_key_id = "AKIDTEST"
secret_access_key = "secret"
[receiving]
listen = [%q]
[receiving.functions]
"arn:aws:lambda:us-east-1:%[4]s:function:hook" = %[5]q
"arn:aws:lambda:us-east-1:%[4]s:function:mailbox" = "smtp://%[6]s"
`, p.dns.Addr, p.s3URL, inAddr, fnAccount, p.fn.srv.URL+"/hook", p.mailbox.Addr)
}

// signed is a message from alice@sender.test signed by sender.test's key.
func (p *receivingPeers) signed(t *testing.T, to, subject string) []byte {
	t.Helper()
	msg := "From: Alice <alice@sender.test>\r\nTo: " + to + "\r\nSubject: " + subject +
		"\r\nMessage-ID: <" + strings.ReplaceAll(subject, " ", "-") + "@sender.test>\r\nDate: Sun, 06 Dec 2026 10:00:00 +0000\r\n\r\nHello there.\r\n"
	var b bytes.Buffer
	if err := dkim.Sign(&b, strings.NewReader(msg), &dkim.SignOptions{Domain: "sender.test", Selector: "sel",
		Signer: p.dkimKey, Hash: crypto.SHA256}); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// sendInbound delivers msg over plain SMTP as another MTA would; the error
// is the first refusal.
func sendInbound(addr, from string, to []string, msg []byte) error {
	c, err := smtp.Dial(addr)
	if err != nil {
		return err
	}
	defer c.Close()
	if err := c.Hello("mta.sender.test"); err != nil {
		return err
	}
	if err := c.Mail(from); err != nil {
		return err
	}
	for _, r := range to {
		if err := c.Rcpt(r); err != nil {
			return err
		}
	}
	w, err := c.Data()
	if err != nil {
		return err
	}
	w.Write(msg)
	if err := w.Close(); err != nil {
		return err
	}
	return c.Quit()
}

func smtpReply(err error) string {
	var pe *textproto.Error
	if errors.As(err, &pe) {
		return fmt.Sprintf("%d %s", pe.Code, pe.Msg)
	}
	if err != nil {
		return err.Error()
	}
	return ""
}

// receivedNotification is the part of SES's Received notification the
// tests read.
type receivedNotification struct {
	NotificationType string
	Content          string
	Mail             struct {
		MessageID     string
		Source        string
		Destination   []string
		CommonHeaders struct {
			Subject   string
			MessageID string
		}
	}
	Receipt struct {
		Recipients                                         []string
		SpamVerdict, VirusVerdict, SPFVerdict, DKIMVerdict struct{ Status string }
		DMARCVerdict                                       struct{ Status string }
		DMARCPolicy                                        string
		Action                                             map[string]string
	}
}

func TestReceivingEndToEnd(t *testing.T) {
	p := startReceivingPeers(t)
	inAddr := testenv.FreeAddr(t)
	srv := testenv.Start(t, testenv.Options{Extra: p.config(inAddr)})
	srv.Verify("example.com")
	ctx := context.Background()
	v1 := srv.SESClient(t)
	snsc := srv.SNSClient(t)

	sub := newSNSSubscriber(t)
	topic, err := snsc.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String("inbound")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := snsc.Subscribe(ctx, &sns.SubscribeInput{TopicArn: topic.TopicArn, Protocol: aws.String("http"),
		Endpoint: aws.String(sub.URL())}); err != nil {
		t.Fatal(err)
	}

	hook := "arn:aws:lambda:us-east-1:" + fnAccount + ":function:hook"
	mailbox := "arn:aws:lambda:us-east-1:" + fnAccount + ":function:mailbox"
	createRuleSet(t, srv,
		sestypes.ReceiptRule{Name: aws.String("archive"), Enabled: true, Recipients: []string{"example.com"}, Actions: []sestypes.ReceiptAction{
			{AddHeaderAction: &sestypes.AddHeaderAction{HeaderName: aws.String("X-Archived"), HeaderValue: aws.String("yes")}},
			{S3Action: &sestypes.S3Action{BucketName: aws.String("inbox"), ObjectKeyPrefix: aws.String("mail/"), TopicArn: topic.TopicArn}},
			{LambdaAction: &sestypes.LambdaAction{FunctionArn: aws.String(hook), InvocationType: sestypes.InvocationTypeRequestResponse}},
		}},
		sestypes.ReceiptRule{Name: aws.String("bob"), Enabled: true, Recipients: []string{"bob@example.com"}, Actions: []sestypes.ReceiptAction{
			{SNSAction: &sestypes.SNSAction{TopicArn: topic.TopicArn, Encoding: sestypes.SNSActionEncodingUtf8}},
			{LambdaAction: &sestypes.LambdaAction{FunctionArn: aws.String(mailbox)}},
		}},
		sestypes.ReceiptRule{Name: aws.String("nobody"), Enabled: true, Recipients: []string{"nobody@example.com"}, Actions: []sestypes.ReceiptAction{
			{BounceAction: &sestypes.BounceAction{SmtpReplyCode: aws.String("550"), StatusCode: aws.String("5.1.1"),
				Message: aws.String("Mailbox does not exist"), Sender: aws.String("mailer-daemon@example.com")}},
			{StopAction: &sestypes.StopAction{Scope: sestypes.StopScopeRuleSet}},
		}},
	)
	// Before a set is active, nothing is received.
	if got := smtpReply(sendInbound(inAddr, "alice@sender.test", []string{"bob@example.com"}, p.signed(t, "bob@example.com", "early"))); !strings.HasPrefix(got, "550 5.1.1") {
		t.Fatalf("with no active rule set: %q, want 550 5.1.1", got)
	}
	if _, err := v1.SetActiveReceiptRuleSet(ctx, &ses.SetActiveReceiptRuleSetInput{RuleSetName: aws.String("main")}); err != nil {
		t.Fatal(err)
	}
	// The store's cache may hold the inactive state for a second.
	waitFor(t, "the active set to apply", func() bool {
		return smtpReply(sendInbound(inAddr, "", []string{"carol@example.com"}, []byte("Subject: probe\r\n\r\nprobe\r\n"))) == ""
	})

	// swaks delivers a signed message to bob (rules archive and bob).
	msg := p.signed(t, "Bob <bob@example.com>", "hello bob")
	swaks := testenv.Tool(t, "swaks")
	cmd := exec.Command(swaks, "--server", inAddr, "--helo", "mta.sender.test", "--from", "alice@sender.test",
		"--to", "bob@example.com", "--data", "-")
	cmd.Stdin = bytes.NewReader(msg)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("swaks: %v\n%s", err, out)
	}

	// The archive rule: the object, with sesame's headers and the added one.
	var obj []byte
	var objKey string
	waitFor(t, "the S3 object", func() bool {
		out, err := p.s3.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("inbox"), Prefix: aws.String("mail/")})
		if err != nil || len(out.Contents) < 2 { // the probe and bob's
			return false
		}
		for _, o := range out.Contents {
			g, err := p.s3.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("inbox"), Key: o.Key})
			if err != nil {
				return false
			}
			b, _ := io.ReadAll(g.Body)
			g.Body.Close()
			if bytes.Contains(b, []byte("Subject: hello bob")) {
				obj, objKey = b, *o.Key
				return true
			}
		}
		return false
	})
	for _, want := range []string{"X-Archived: yes\r\n", "Return-Path: <alice@sender.test>\r\n",
		"Received-SPF: pass", " dkim=pass header.i=@sender.test;\r\n", " dmarc=pass header.from=sender.test;\r\n",
		"DKIM-Signature: ", "\r\n\r\nHello there.\r\n"} {
		if !bytes.Contains(obj, []byte(want)) {
			t.Errorf("stored message lacks %q:\n%s", want, obj)
		}
	}
	// No rule of this message scans: no spam or virus headers (as SES).
	if bytes.Contains(obj, []byte("X-SES-Spam-Verdict")) {
		t.Errorf("spam verdict header without scanning:\n%s", obj)
	}
	id := strings.TrimPrefix(objKey, "mail/")

	// The topic: the S3 action's notification and the SNS action's (with content).
	var s3Note, snsNote *receivedNotification
	waitFor(t, "the notifications", func() bool {
		s3Note, snsNote = nil, nil
		for _, m := range sub.notifications() {
			var n receivedNotification
			if json.Unmarshal([]byte(m["Message"]), &n) != nil || n.Mail.MessageID != id {
				continue
			}
			if m["Subject"] != "Amazon SES Email Receipt Notification" {
				t.Errorf("subject %q", m["Subject"])
			}
			switch n.Receipt.Action["type"] {
			case "S3":
				s3Note = &n
			case "SNS":
				snsNote = &n
			}
		}
		return s3Note != nil && snsNote != nil
	})
	if s3Note.NotificationType != "Received" || s3Note.Receipt.Action["objectKey"] != objKey ||
		s3Note.Receipt.Action["bucketName"] != "inbox" || s3Note.Content != "" {
		t.Errorf("S3 notification: %+v", s3Note)
	}
	for name, v := range map[string]string{"spf": s3Note.Receipt.SPFVerdict.Status, "dkim": s3Note.Receipt.DKIMVerdict.Status,
		"dmarc": s3Note.Receipt.DMARCVerdict.Status, "spam": s3Note.Receipt.SpamVerdict.Status} {
		want := "PASS"
		if name == "spam" {
			want = "DISABLED" // the rule does not scan
		}
		if v != want {
			t.Errorf("%s verdict %q, want %s", name, v, want)
		}
	}
	if s3Note.Mail.Source != "alice@sender.test" || s3Note.Mail.CommonHeaders.Subject != "hello bob" ||
		strings.Join(s3Note.Mail.Destination, ",") != "bob@example.com" || strings.Join(s3Note.Receipt.Recipients, ",") != "bob@example.com" {
		t.Errorf("S3 notification mail/receipt: %+v", s3Note)
	}
	if !strings.Contains(snsNote.Content, "Subject: hello bob") || !strings.Contains(snsNote.Content, "X-Archived: yes") ||
		snsNote.Receipt.Action["encoding"] != "UTF8" {
		t.Errorf("SNS notification: action %v, content:\n%s", snsNote.Receipt.Action, snsNote.Content)
	}

	// The function: Lambda's SES event, without content.
	var ev map[string]any
	waitFor(t, "the function's event", func() bool {
		for _, e := range p.fn.all() {
			if strings.Contains(fmt.Sprint(e), id) {
				ev = e
				return true
			}
		}
		return false
	})
	rec := ev["Records"].([]any)[0].(map[string]any)
	if rec["eventSource"] != "aws:ses" || rec["eventVersion"] != "1.0" {
		t.Errorf("event record %v", rec)
	}
	sesPart := rec["ses"].(map[string]any)
	if a := sesPart["receipt"].(map[string]any)["action"].(map[string]any); a["type"] != "Lambda" ||
		a["functionArn"] != hook || a["invocationType"] != "RequestResponse" {
		t.Errorf("event receipt.action %v", a)
	}
	if _, ok := sesPart["content"]; ok {
		t.Errorf("the Lambda event carries content")
	}

	// The forward: bob's mailbox got the message as stored.
	waitFor(t, "the forwarded message", func() bool {
		for _, m := range p.mailbox.Messages() {
			if bytes.Contains(m.Data, []byte("Subject: hello bob")) {
				return m.From == "alice@sender.test" && strings.Join(m.Recipients, ",") == "bob@example.com" &&
					bytes.Contains(m.Data, []byte("X-Archived: yes"))
			}
		}
		return false
	})

	// A Bounce action: a DSN to the sender, captured (capture mode).
	if err := sendInbound(inAddr, "alice@sender.test", []string{"nobody@example.com"}, p.signed(t, "nobody@example.com", "to nobody")); err != nil {
		t.Fatal(err)
	}
	dsn := waitCapturedTo(t, srv, "alice@sender.test")
	if !strings.Contains(dsn.RawData, "Status: 5.1.1") || !strings.Contains(dsn.RawData, "nobody@example.com") ||
		!strings.Contains(dsn.RawData, "mailer-daemon@example.com") {
		t.Errorf("DSN:\n%s", dsn.RawData)
	}

	// A spoofed sender: SPF and DMARC fail, with the policy named.
	spoof := []byte("From: ceo@spoof.test\r\nTo: bob@example.com\r\nSubject: spoofed\r\n\r\nPay now.\r\n")
	if err := sendInbound(inAddr, "ceo@spoof.test", []string{"bob@example.com"}, spoof); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the spoofed message's notification", func() bool {
		for _, m := range sub.notifications() {
			var n receivedNotification
			if json.Unmarshal([]byte(m["Message"]), &n) == nil && n.Mail.CommonHeaders.Subject == "spoofed" &&
				n.Receipt.Action["type"] == "S3" {
				if n.Receipt.SPFVerdict.Status != "FAIL" || n.Receipt.DMARCVerdict.Status != "FAIL" ||
					n.Receipt.DMARCPolicy != "quarantine" || n.Receipt.DKIMVerdict.Status != "GRAY" {
					t.Errorf("spoofed verdicts %+v", n.Receipt)
				}
				return true
			}
		}
		return false
	})

	// Refusals at RCPT: an unknown domain, then an IP address filter.
	if got := smtpReply(sendInbound(inAddr, "alice@sender.test", []string{"x@unknown.test"}, msg)); !strings.HasPrefix(got, "550 5.1.1") {
		t.Errorf("unknown domain: %q", got)
	}
	if _, err := v1.CreateReceiptFilter(ctx, &ses.CreateReceiptFilterInput{Filter: &sestypes.ReceiptFilter{
		Name: aws.String("block-all"), IpFilter: &sestypes.ReceiptIpFilter{Policy: sestypes.ReceiptFilterPolicyBlock, Cidr: aws.String("0.0.0.0/0")}}}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the filter to apply", func() bool {
		return strings.HasPrefix(smtpReply(sendInbound(inAddr, "alice@sender.test", []string{"bob@example.com"}, msg)), "554 5.7.1")
	})
	if _, err := v1.CreateReceiptFilter(ctx, &ses.CreateReceiptFilterInput{Filter: &sestypes.ReceiptFilter{
		Name: aws.String("allow-me"), IpFilter: &sestypes.ReceiptIpFilter{Policy: sestypes.ReceiptFilterPolicyAllow, Cidr: aws.String("127.0.0.1/32")}}}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the Allow filter to win", func() bool {
		return smtpReply(sendInbound(inAddr, "alice@sender.test", []string{"bob@example.com"}, msg)) == ""
	})

	// The operator's view.
	var recent []map[string]any
	srv.Admin(&recent, "receiving", "messages", "--account", srv.Account, "--limit", "500")
	found := false
	for _, m := range recent {
		if m["id"] == id {
			found = true
			if m["spf"] != "PASS" || m["dkim"] != "PASS" || !strings.Contains(fmt.Sprint(m["actions"]), "S3 inbox/"+objKey) {
				t.Errorf("admin receiving messages: %v", m)
			}
		}
	}
	if !found {
		t.Errorf("admin receiving messages lacks %s: %v", id, recent)
	}
	var active map[string]any
	srv.Admin(&active, "receiving", "rules", "--account", srv.Account)
	if active["Name"] != "main" {
		t.Errorf("admin receiving rules: %v", active)
	}
	metrics := testenv.ScrapeNodeMetrics(t, "http://"+srv.API+"/metrics", srv.Node)
	if metrics[`sesame_receipt_actions_total{result="ok",type="S3"}`] < 2 || metrics[`sesame_received_recipients_refused_total{reason="filter"}`] < 1 {
		t.Errorf("metrics: S3 ok %v, refused by filter %v", metrics[`sesame_receipt_actions_total{result="ok",type="S3"}`],
			metrics[`sesame_received_recipients_refused_total{reason="filter"}`])
	}
}

// waitCapturedTo waits for a captured message to rcpt.
func waitCapturedTo(t *testing.T, srv *testenv.Server, rcpt string) testenv.CapturedMessage {
	t.Helper()
	var got testenv.CapturedMessage
	waitFor(t, "a captured message to "+rcpt, func() bool {
		for _, m := range srv.Captured("") {
			for _, r := range m.Recipients {
				if r == rcpt {
					got = m
					return true
				}
			}
		}
		return false
	})
	return got
}

// One inbound MX in mx mode: the bounce addresses of sent mail (feedback)
// and the accounts' domains (receiving) on the same listener, even in one
// transaction; STARTTLS offered, and a rule with TlsPolicy Require taking
// mail only over it.
func TestInboundMXServesFeedbackAndReceiving(t *testing.T) {
	d := testenv.StartDNS(t)
	sinks, port := testenv.StartSinks(t, testenv.SinkOptions{StartTLS: true})
	d.SetA("mx2.test", "127.0.0.2")
	d.SetMX("a.test", 10, "mx2.test")
	inAddr := testenv.FreeAddr(t)
	s := startMXServer(t, d, port, fmt.Sprintf("[receiving]\nlisten = [%q]\n", inAddr))
	s.Verify("example.com")
	s.Verify("inbox.test")
	activateRules(t, s,
		sestypes.ReceiptRule{Name: aws.String("secure"), Enabled: true, TlsPolicy: sestypes.TlsPolicyRequire,
			Recipients: []string{"secure@inbox.test"}, Actions: []sestypes.ReceiptAction{
				{AddHeaderAction: &sestypes.AddHeaderAction{HeaderName: aws.String("X-Secure"), HeaderValue: aws.String("1")}}}},
		sestypes.ReceiptRule{Name: aws.String("inbox"), Enabled: true, Recipients: []string{"inbox.test"}, Actions: []sestypes.ReceiptAction{
			{AddHeaderAction: &sestypes.AddHeaderAction{HeaderName: aws.String("X-Inbox"), HeaderValue: aws.String("1")}}}},
	)

	smtpSendTo(t, s, "sender@example.com", "feedback on the inbound MX", "gone@a.test")
	waitFor(t, "delivery", func() bool { return len(sinks[0].Messages()) == 1 })
	bounceAddr := sinks[0].Messages()[0].From
	id, _, _ := strings.Cut(bounceAddr, "@")

	// One transaction to a bounce address and a received address: the
	// DSN is applied and the message received.
	waitFor(t, "the inbound MX to take the DSN and the mail", func() bool {
		return sendInbound(inAddr, "", []string{bounceAddr, "bob@inbox.test"}, []byte(strings.ReplaceAll(asyncDSN(id, "gone@a.test"), "\n", "\r\n"))) == nil
	})
	cl := s.SESv2Client(t)
	got, err := cl.GetSuppressedDestination(context.Background(), &sesv2.GetSuppressedDestinationInput{EmailAddress: aws.String("gone@a.test")})
	if err != nil || string(got.SuppressedDestination.Reason) != "BOUNCE" {
		t.Fatalf("the DSN to the receiving listener: suppression %v, %v", got, err)
	}
	var recent []map[string]any
	waitFor(t, "the received message's record", func() bool {
		s.Admin(&recent, "receiving", "messages")
		return len(recent) == 1
	})
	if fmt.Sprint(recent[0]["recipients"]) != "[bob@inbox.test]" || fmt.Sprint(recent[0]["actions"]) != "[AddHeader X-Inbox]" {
		t.Errorf("received: %v", recent[0])
	}

	// TlsPolicy Require: refused in clear text, taken after STARTTLS (swaks).
	if got := smtpReply(sendInbound(inAddr, "alice@sender.test", []string{"secure@inbox.test"}, []byte("Subject: s\r\n\r\ns\r\n"))); got != "530 5.7.0 Must issue a STARTTLS command first" {
		t.Errorf("clear text to a TLS-only rule: %q", got)
	}
	out, err := exec.Command(testenv.Tool(t, "swaks"), "--server", inAddr, "--tls", "--from", "alice@sender.test",
		"--to", "secure@inbox.test", "--header", "Subject: over TLS").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "250 2.0.0 Ok: queued as ") {
		t.Fatalf("swaks --tls: %v\n%s", err, out)
	}
	waitFor(t, "the TLS message's record", func() bool {
		s.Admin(&recent, "receiving", "messages")
		return len(recent) == 2
	})
	if fmt.Sprint(recent[0]["recipients"]) != "[secure@inbox.test]" || recent[0]["subject"] != "over TLS" {
		t.Errorf("received over TLS: %v", recent[0])
	}
}

// What sesame sends comes back in as PASS: mail signed by its outbound path
// (a BYODKIM key), delivered by its MX delivery to its own inbound MX, is
// checked there with the key from DNS — SPF of the bounce domain, DKIM of
// the From domain, DMARC aligned through DKIM.
func TestOwnOutboundMailVerifiesOnTheWayIn(t *testing.T) {
	d := testenv.StartDNS(t)
	inAddr := testenv.FreeAddr(t)
	_, inPort, _ := strings.Cut(inAddr, ":")
	d.SetA("mx.inbox.test", "127.0.0.1")
	d.SetMX("inbox.test", 10, "mx.inbox.test")
	d.SetTXT("bounces.sesame.test", "v=spf1 ip4:127.0.0.0/8 -all")
	d.SetTXT("_dmarc.byo.example", "v=DMARC1; p=reject")
	s := startMXServer(t, d, inPort, fmt.Sprintf("[receiving]\nlisten = [%q]\n[verification]\ncheck_interval = \"100ms\"\n", inAddr))
	s.Verify("inbox.test")
	activateRules(t, s, sestypes.ReceiptRule{Name: aws.String("all"), Enabled: true, Actions: []sestypes.ReceiptAction{
		{AddHeaderAction: &sestypes.AddHeaderAction{HeaderName: aws.String("X-Seen"), HeaderValue: aws.String("1")}}}})

	// The sender's domain signs with its own key (BYODKIM), published at d.
	ctx := context.Background()
	v2 := s.SESv2Client(t)
	if _, err := v2.CreateEmailIdentity(ctx, &sesv2.CreateEmailIdentityInput{EmailIdentity: aws.String("byo.example")}); err != nil {
		t.Fatal(err)
	}
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	der, _ := x509.MarshalPKCS8PrivateKey(key)
	pub, _ := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if _, err := v2.PutEmailIdentityDkimSigningAttributes(ctx, &sesv2.PutEmailIdentityDkimSigningAttributesInput{
		EmailIdentity: aws.String("byo.example"), SigningAttributesOrigin: v2types.DkimSigningAttributesOriginExternal,
		SigningAttributes: &v2types.DkimSigningAttributes{DomainSigningSelector: aws.String("s1"),
			DomainSigningPrivateKey: aws.String(base64.StdEncoding.EncodeToString(der))}}); err != nil {
		t.Fatal(err)
	}
	d.SetTXT("s1._domainkey.byo.example", "v=DKIM1; k=rsa; p="+base64.StdEncoding.EncodeToString(pub))
	waitIdentity(t, v2, "byo.example", func(g *sesv2.GetEmailIdentityOutput) bool {
		return g.VerifiedForSendingStatus && g.DkimAttributes != nil && g.DkimAttributes.Status == v2types.DkimStatusSuccess
	})
	time.Sleep(1100 * time.Millisecond) // the signer's one-second identity cache

	smtpSendTo(t, s, "news@byo.example", "round trip", "bob@inbox.test")
	var recent []map[string]any
	waitFor(t, "the message to come back in", func() bool {
		s.Admin(&recent, "receiving", "messages")
		return len(recent) == 1
	})
	m := recent[0]
	if m["spf"] != "PASS" || m["dkim"] != "PASS" || m["dmarc"] != "PASS" || m["subject"] != "round trip" {
		t.Errorf("verdicts of sesame's own mail: %v", m)
	}
}
