package sns

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"mime/quotedprintable"
	"net/mail"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"sesame/internal/clock"
	"sesame/internal/sending"
	"sesame/internal/seserr"
)

// fakeMailer records what SubmitSystem is given; fail answers the n-th call.
type fakeMailer struct {
	t    testing.TB
	mu   sync.Mutex
	got  []sending.SystemMessage
	n    int
	fail func(n int) error
}

func (m *fakeMailer) SubmitSystem(ctx context.Context, msg sending.SystemMessage) (string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.n++
	if m.fail != nil {
		if err := m.fail(m.n); err != nil {
			return "", err
		}
	}
	m.got = append(m.got, msg)
	return "id", nil
}

func (m *fakeMailer) waitFor(n int) []sending.SystemMessage {
	m.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		m.mu.Lock()
		got := append([]sending.SystemMessage(nil), m.got...)
		m.mu.Unlock()
		if len(got) >= n {
			return got
		}
		time.Sleep(5 * time.Millisecond)
	}
	m.t.Fatalf("mailer got fewer than %d messages", n)
	return nil
}

// parsedMail is a submitted message read back as a mail client would.
type parsedMail struct {
	from, to, subject, unsubscribe, contentType string
	body                                        string
}

func parseMail(t testing.TB, raw []byte) parsedMail {
	t.Helper()
	if strings.Contains(strings.ReplaceAll(string(raw), "\r\n", ""), "\n") {
		t.Fatalf("bare LF in the message:\n%s", raw)
	}
	for _, l := range strings.Split(string(raw), "\r\n") {
		if len(l) > 998 {
			t.Fatalf("line of %d characters", len(l))
		}
	}
	m, err := mail.ReadMessage(strings.NewReader(string(raw)))
	if err != nil {
		t.Fatalf("%v:\n%s", err, raw)
	}
	dec := new(mime.WordDecoder)
	subject, err := dec.DecodeHeader(m.Header.Get("Subject"))
	if err != nil {
		t.Fatal(err)
	}
	if m.Header.Get("Content-Transfer-Encoding") != "quoted-printable" {
		t.Fatalf("Content-Transfer-Encoding = %q", m.Header.Get("Content-Transfer-Encoding"))
	}
	b, err := io.ReadAll(quotedprintable.NewReader(m.Body))
	if err != nil {
		t.Fatal(err)
	}
	from, err := (&mail.AddressParser{WordDecoder: dec}).Parse(m.Header.Get("From"))
	if err != nil {
		t.Fatalf("From %q: %v", m.Header.Get("From"), err)
	}
	return parsedMail{from: strings.Join([]string{from.Name, from.Address}, " | "), to: m.Header.Get("To"), subject: subject,
		unsubscribe: m.Header.Get("List-Unsubscribe"), contentType: m.Header.Get("Content-Type"),
		body: strings.ReplaceAll(string(b), "\r\n", "\n")}
}

func TestEmailSubscription(t *testing.T) {
	st := openStore(t, t.TempDir())
	clk := clock.NewFake(time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC))
	m := &fakeMailer{t: t}
	svc, err := New(Config{Store: st, BaseURL: "http://sesame.test", Clock: clk, PollInterval: 5 * time.Millisecond,
		Mailer: m, MailFrom: "no-reply@sesame.test"})
	if err != nil {
		t.Fatal(err)
	}
	e := &env{st: st, clk: clk, svc: svc, c: Caller{AccountID: "123456789012", Region: "eu-west-1"}}
	e.run(t)
	ctx := context.Background()
	topic, err := svc.CreateTopic(ctx, e.c, "alerts", nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{"not-an-address", "Someone <a@example.com>", "a@b@example.com"} {
		_, err := svc.Subscribe(ctx, e.c, topic, "email", bad, nil, false)
		if e := seserr.As(err); e.Message != "Invalid parameter: Email address" {
			t.Errorf("Subscribe email %q = %v, want Invalid parameter: Email address", bad, err)
		}
	}
	_, err = svc.Subscribe(ctx, e.c, topic, "email", "ops@example.com", map[string]string{"RawMessageDelivery": "true"}, false)
	if seserr.As(err).QueryCode != "InvalidParameter" {
		t.Errorf("raw delivery to email = %v, want InvalidParameter", err)
	}
	got, err := svc.Subscribe(ctx, e.c, topic, "email", "ops@example.com", nil, false)
	if err != nil || got != pendingARN {
		t.Fatalf("Subscribe email = %q, %v", got, err)
	}

	// The confirmation request: SNS's subject and sender name, sesame's
	// unsigned SubscribeURL on a line of its own.
	msgs := m.waitFor(1)
	if msgs[0].AccountID != "123456789012" || msgs[0].Region != "eu-west-1" || msgs[0].MailFrom != "no-reply@sesame.test" ||
		len(msgs[0].Recipients) != 1 || msgs[0].Recipients[0] != "ops@example.com" {
		t.Fatalf("confirmation envelope = %+v", msgs[0])
	}
	c := parseMail(t, msgs[0].Message)
	if c.from != "AWS Notifications | no-reply@sesame.test" || c.to != "ops@example.com" || c.subject != ConfirmationSubject ||
		c.contentType != "text/plain; charset=UTF-8" || c.unsubscribe != "" {
		t.Errorf("confirmation headers = %+v", c)
	}
	var link string
	for _, l := range strings.Split(c.body, "\n") {
		if strings.HasPrefix(l, "http://sesame.test/?Action=ConfirmSubscription&TopicArn="+topic+"&Token=") {
			link = l
		}
	}
	if link == "" || !strings.Contains(c.body, "You have chosen to subscribe to the topic:\n"+topic+"\n") {
		t.Fatalf("confirmation body has no SubscribeURL line:\n%s", c.body)
	}
	u, _ := url.Parse(link)
	subArn, err := svc.ConfirmSubscription(ctx, nil, u.Query().Get("TopicArn"), u.Query().Get("Token"))
	if err != nil {
		t.Fatal(err)
	}

	// A notification: the message as text, SNS's footer with an unsubscribe
	// link; the default subject when none was published; the topic's
	// DisplayName as the sender's name.
	if err := svc.SetTopicAttribute(ctx, e.c, topic, "DisplayName", "Ops, Inc."); err != nil {
		t.Fatal(err)
	}
	long := strings.Repeat("é", 600) // a line past 998 octets: QP must fold it
	if _, err := svc.PublishMessage(ctx, e.c, topic, "", "Disk full on db-1\n"+long, false, ""); err != nil {
		t.Fatal(err)
	}
	n := parseMail(t, m.waitFor(2)[1].Message)
	unsub := "http://sesame.test/?Action=Unsubscribe&SubscriptionArn=" + subArn
	if n.subject != NotificationSubject || n.from != "Ops, Inc. | no-reply@sesame.test" || n.unsubscribe != "<"+unsub+">" {
		t.Errorf("notification headers = %+v", n)
	}
	if !strings.HasPrefix(n.body, "Disk full on db-1\n"+long+"\n\n--\nIf you wish to stop receiving notifications from this topic, please click or visit the link below to unsubscribe:\n"+unsub+"\n") {
		t.Errorf("notification body:\n%s", n.body)
	}
	if _, err := svc.PublishMessage(ctx, e.c, topic, "Alarm", `{"default":"d","email":"for people"}`, true, "json"); err != nil {
		t.Fatal(err)
	}
	n = parseMail(t, m.waitFor(3)[2].Message)
	if n.subject != "Alarm" || !strings.HasPrefix(n.body, "for people\n") {
		t.Errorf("per-protocol message: subject %q body %q", n.subject, n.body)
	}

	// Unsubscribing through the link stops the mail; no farewell is mailed.
	if err := svc.Unsubscribe(ctx, nil, subArn); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.PublishMessage(ctx, e.c, topic, "", "after", false, ""); err != nil {
		t.Fatal(err)
	}
	waitEmpty(t, st)
	if got := m.waitFor(3); len(got) != 3 {
		t.Errorf("%d mails after unsubscribing, want 3", len(got))
	}
}

func TestEmailJSONSubscriptionAndRetry(t *testing.T) {
	st := openStore(t, t.TempDir())
	clk := clock.NewFake(time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC))
	// The spool refuses the first notification once (a full disk, say).
	m := &fakeMailer{t: t, fail: func(n int) error {
		if n == 2 {
			return seserr.TemporaryFailure().Wrap(errors.New("disk full"))
		}
		return nil
	}}
	svc, err := New(Config{Store: st, BaseURL: "http://sesame.test", Clock: clk, PollInterval: 5 * time.Millisecond, Mailer: m})
	if err != nil {
		t.Fatal(err)
	}
	e := &env{st: st, clk: clk, svc: svc, c: Caller{AccountID: "123456789012", Region: "eu-west-1"}}
	e.run(t)
	ctx := context.Background()
	topic, err := svc.CreateTopic(ctx, e.c, "events", map[string]string{"SignatureVersion": "2"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Subscribe(ctx, e.c, topic, "email-json", "app@example.com", nil, false); err != nil {
		t.Fatal(err)
	}
	// The confirmation is the JSON document an http subscriber would get.
	c := parseMail(t, m.waitFor(1)[0].Message)
	var conf map[string]string
	if err := json.Unmarshal([]byte(c.body), &conf); err != nil {
		t.Fatalf("email-json confirmation body: %v\n%s", err, c.body)
	}
	if c.subject != ConfirmationSubject || c.from != "AWS Notifications | no-reply@localhost" ||
		conf["Type"] != "SubscriptionConfirmation" || conf["TopicArn"] != topic || conf["Token"] == "" ||
		conf["SubscribeURL"] != "http://sesame.test/?Action=ConfirmSubscription&TopicArn="+topic+"&Token="+conf["Token"] {
		t.Fatalf("email-json confirmation = %+v\n%v", c, conf)
	}
	subArn, err := svc.ConfirmSubscription(ctx, nil, topic, conf["Token"])
	if err != nil {
		t.Fatal(err)
	}
	ids, err := svc.Publish(ctx, []Publication{{TopicArn: topic, Subject: "Amazon SES Email Event Notification", Message: `{"eventType":"Send"}`},
		{TopicArn: topic, Message: "second"}})
	if err != nil {
		t.Fatal(err)
	}
	// Refused once: retried after the backoff (the other may pass it).
	time.Sleep(50 * time.Millisecond)
	clk.Advance(2 * time.Second)
	msgs := m.waitFor(3)
	var first, second map[string]string
	n := parseMail(t, msgs[1].Message)
	n2 := parseMail(t, msgs[2].Message)
	if n.subject != "Amazon SES Email Event Notification" {
		n, n2 = n2, n
	}
	if err := json.Unmarshal([]byte(n.body), &first); err != nil {
		t.Fatalf("email-json notification body: %v\n%s", err, n.body)
	}
	if err := json.Unmarshal([]byte(n2.body), &second); err != nil {
		t.Fatal(err)
	}
	if n.subject != "Amazon SES Email Event Notification" || first["Type"] != "Notification" || first["MessageId"] != ids[0] ||
		first["Message"] != `{"eventType":"Send"}` || first["SignatureVersion"] != "2" || first["Signature"] == "" ||
		first["UnsubscribeURL"] != "http://sesame.test/?Action=Unsubscribe&SubscriptionArn="+subArn {
		t.Errorf("email-json notification = %q %v", n.subject, first)
	}
	if second["MessageId"] != ids[1] || second["Message"] != "second" {
		t.Errorf("second = %v", second)
	}
	waitEmpty(t, st)
}

func TestMailBytes(t *testing.T) {
	b := Mail{FromName: `Büro "Ops"`, From: "n@x.test", To: "a@x.test", Subject: "Grüße", Body: "a\nb\n"}.Bytes()
	p := parseMail(t, b)
	if p.from != `Büro "Ops" | n@x.test` || p.subject != "Grüße" || p.body != "a\nb\n" {
		t.Errorf("parsed back = %+v", p)
	}
}

// An UnsubscribeConfirmation's token restores the subscription for three
// days, not longer.
func TestRestoreWindow(t *testing.T) {
	st := openStore(t, t.TempDir())
	clk := clock.NewFake(time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC))
	e := newEnv(t, st, clk)
	ctx := context.Background()
	sub := newSubscriber(t)
	e.run(t)
	topic := e.confirmedSubscription(t, sub)
	subs, _, err := e.svc.ListSubscriptions(ctx, e.c, topic, "")
	if err != nil || len(subs) != 1 {
		t.Fatal(subs, err)
	}
	arn := subs[0].SubscriptionArn
	seen := 1 // the SubscriptionConfirmation
	farewell := func() string {
		t.Helper()
		if err := e.svc.Unsubscribe(ctx, &e.c, arn); err != nil {
			t.Fatal(err)
		}
		seen++
		bye := sub.waitFor(seen)[seen-1]
		if bye.body["Type"] != "UnsubscribeConfirmation" || bye.header.Get("x-amz-sns-subscription-arn") != arn {
			t.Fatalf("after Unsubscribe: %v", bye.body)
		}
		return bye.body["Token"]
	}
	tok := farewell()
	clk.Advance(71 * time.Hour)
	if got, err := e.svc.ConfirmSubscription(ctx, nil, topic, tok); err != nil || got != arn {
		t.Fatalf("restored within three days = %q, %v", got, err)
	}
	// Visiting the link again is harmless.
	if got, err := e.svc.ConfirmSubscription(ctx, nil, topic, tok); err != nil || got != arn {
		t.Fatalf("restored twice = %q, %v", got, err)
	}
	tok = farewell()
	clk.Advance(73 * time.Hour)
	if _, err := e.svc.ConfirmSubscription(ctx, nil, topic, tok); seserr.As(err).Message != "Invalid parameter: Token" {
		t.Fatalf("restored after three days: %v", err)
	}
	if subs, _, err := e.svc.ListSubscriptions(ctx, e.c, topic, ""); err != nil || len(subs) != 0 {
		t.Fatalf("subscriptions = %v, %v", subs, err)
	}
}
