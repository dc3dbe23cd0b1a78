package sns

import (
	"context"
	"encoding/json"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"sesame/internal/clock"
	"sesame/internal/seserr"
	"sesame/internal/testenv"
)

func TestSQSSubscription(t *testing.T) {
	q, e, topic := startSQSEnv(t)
	st, clk, svc := e.st, e.clk, e.svc
	ctx := context.Background()
	queueURL := q.CreateQueue("123456789012", "ses-events")
	queueARN := q.ARN("eu-west-1", "123456789012", "ses-events")

	// A queue of the topic's account needs no confirmation (SNS's rule):
	// Subscribe answers the ARN and nothing but notifications reach it.
	subArn, err := svc.Subscribe(ctx, e.c, topic, "sqs", queueARN, nil, false)
	if err != nil || subArn == pendingARN {
		t.Fatalf("Subscribe sqs = %q, %v", subArn, err)
	}
	ids, err := svc.Publish(ctx, []Publication{{TopicArn: topic, Subject: "Amazon SES Email Event Notification", Message: `{"eventType":"Delivery"}`}})
	if err != nil {
		t.Fatal(err)
	}
	// The queue's consumer receives SNS's envelope.
	client := sqs.NewFromConfig(aws.Config{Region: "eu-west-1", BaseEndpoint: aws.String(q.URL()),
		Credentials: credentials.NewStaticCredentialsProvider("consumer", "x", "")})
	rcv, err := client.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: &queueURL, WaitTimeSeconds: 10, MaxNumberOfMessages: 10})
	if err != nil || len(rcv.Messages) != 1 {
		t.Fatalf("ReceiveMessage = %+v, %v", rcv, err)
	}
	var env map[string]string
	if err := json.Unmarshal([]byte(aws.ToString(rcv.Messages[0].Body)), &env); err != nil {
		t.Fatalf("body is not the SNS envelope: %v", err)
	}
	if env["Type"] != "Notification" || env["MessageId"] != ids[0] || env["TopicArn"] != topic || env["Message"] != `{"eventType":"Delivery"}` ||
		env["Subject"] != "Amazon SES Email Event Notification" || env["Signature"] == "" || env["SignatureVersion"] != "1" ||
		env["UnsubscribeURL"] != "http://sesame.test/?Action=Unsubscribe&SubscriptionArn="+subArn {
		t.Errorf("envelope = %v", env)
	}
	if keys := q.AccessKeys(); !slices.Contains(keys, "AKIDSQSTEST") {
		t.Errorf("requests signed with %v, want AKIDSQSTEST", keys)
	}

	// RawMessageDelivery: the message alone, for messages published after it.
	if err := svc.SetSubscriptionAttribute(ctx, e.c, subArn, "RawMessageDelivery", "true"); err != nil {
		t.Fatal(err)
	}
	attrs, err := svc.SubscriptionAttributes(ctx, e.c, subArn)
	if err != nil || attrs["RawMessageDelivery"] != "true" || attrs["Protocol"] != "sqs" || attrs["Endpoint"] != queueARN {
		t.Fatalf("attributes = %v, %v", attrs, err)
	}
	if _, err := svc.Publish(ctx, []Publication{{TopicArn: topic, Message: "raw one"}}); err != nil {
		t.Fatal(err)
	}
	if got := q.WaitSent("123456789012", "ses-events", 2, 10*time.Second); got[1] != "raw one" {
		t.Errorf("raw delivery sent %q", got[1])
	}

	// The queue goes down: messages wait, in order, and arrive when it is back.
	q.Stop()
	if _, err := svc.Publish(ctx, []Publication{{TopicArn: topic, Message: "m3"}, {TopicArn: topic, Message: "m4"}}); err != nil {
		t.Fatal(err)
	}
	waitFailing(t, svc, subArn)
	q.Start()
	clk.Advance(2 * time.Second)
	got := q.WaitSent("123456789012", "ses-events", 4, 10*time.Second)
	if got[2] != "m3" || got[3] != "m4" {
		t.Errorf("after the outage: %q", got[2:])
	}
	waitEmpty(t, st)
}

func TestSQSSubscriptionOtherAccount(t *testing.T) {
	q, e, topic := startSQSEnv(t)
	svc := e.svc
	ctx := context.Background()
	q.CreateQueue("210987654321", "theirs")
	// Another account's queue: pending, and the confirmation goes to the queue.
	got, err := svc.Subscribe(ctx, e.c, topic, "sqs", q.ARN("eu-west-1", "210987654321", "theirs"), nil, false)
	if err != nil || got != pendingARN {
		t.Fatalf("Subscribe = %q, %v", got, err)
	}
	var conf map[string]string
	if err := json.Unmarshal([]byte(q.WaitSent("210987654321", "theirs", 1, 10*time.Second)[0]), &conf); err != nil {
		t.Fatal(err)
	}
	if conf["Type"] != "SubscriptionConfirmation" || conf["Token"] == "" {
		t.Fatalf("confirmation = %v", conf)
	}
	if _, err := svc.ConfirmSubscription(ctx, nil, topic, conf["Token"]); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Publish(ctx, []Publication{{TopicArn: topic, Message: "hello"}}); err != nil {
		t.Fatal(err)
	}
	var n map[string]string
	if err := json.Unmarshal([]byte(q.WaitSent("210987654321", "theirs", 2, 10*time.Second)[1]), &n); err != nil || n["Message"] != "hello" {
		t.Fatalf("notification = %v, %v", n, err)
	}
}

// waitFailing polls until the subscription's head message has failed an
// attempt (bounded wait).
func waitFailing(t *testing.T, s *Service, subArn string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		s.mu.Lock()
		l := s.lanes[subArn]
		failing := l != nil && l.failing && !l.running
		s.mu.Unlock()
		if failing {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatal("the subscription's delivery never failed")
}

// startSQSEnv runs a Service delivering to an SQS-compatible server the
// test started, with a topic "events" of account 123456789012 in eu-west-1.
func startSQSEnv(t *testing.T) (*testenv.SQS, *env, string) {
	t.Helper()
	q := testenv.StartSQS(t)
	st := openStore(t, t.TempDir())
	clk := clock.NewFake(time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC))
	svc, err := New(Config{Store: st, BaseURL: "http://sesame.test", Clock: clk, PollInterval: 5 * time.Millisecond,
		SQS: SQSConfig{Endpoint: q.URL(), AccessKeyID: "AKIDSQSTEST", SecretAccessKey: "secret"}})
	if err != nil {
		t.Fatal(err)
	}
	e := &env{st: st, clk: clk, svc: svc, c: Caller{AccountID: "123456789012", Region: "eu-west-1"}}
	e.run(t)
	topic, err := svc.CreateTopic(context.Background(), e.c, "events", nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	return q, e, topic
}

// TestSQSNeedsAnEndpoint: without [sns] sqs_endpoint an sqs subscription
// is refused, saying so — never sent to AWS's SQS with whatever credentials
// the machine has — after the ARN's own checks.
func TestSQSNeedsAnEndpoint(t *testing.T) {
	e := newEnv(t, openStore(t, t.TempDir()), clock.NewFake(time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)))
	ctx := context.Background()
	topic, err := e.svc.CreateTopic(ctx, e.c, "events", nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	for endpoint, want := range map[string]string{
		"arn:aws:sqs:eu-west-1:123456789012:ses-events": "Invalid parameter: Protocol Reason: this sesame delivers to no SQS queues: " +
			"its operator has set no SQS endpoint ([sns] sqs_endpoint)",
		"http://127.0.0.1:9324/123456789012/ses-events": "Invalid parameter: SQS endpoint ARN",
	} {
		_, err := e.svc.Subscribe(ctx, e.c, topic, "sqs", endpoint, nil, false)
		if se := seserr.As(err); err == nil || se.QueryCode != "InvalidParameter" || se.Message != want {
			t.Errorf("Subscribe sqs %s = %v, want InvalidParameter %q", endpoint, err, want)
		}
	}
}
