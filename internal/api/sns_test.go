package api

import (
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	awssns "github.com/aws/aws-sdk-go-v2/service/sns"
	snstypes "github.com/aws/aws-sdk-go-v2/service/sns/types"
	"github.com/aws/smithy-go"

	"sesame/internal/clock"
	"sesame/internal/sns"
	"sesame/internal/store"
	"sesame/internal/testenv"
)

type snsEnv struct {
	st     *store.Store
	svc    *sns.Service
	url    string
	client *awssns.Client
	acct   string
	creds  aws.Credentials
}

func newSNSEnv(t *testing.T) *snsEnv {
	t.Helper()
	st, err := store.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	acct, key, err := st.CreateAccount(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewUnstartedServer(nil)
	hs.Start()
	t.Cleanup(hs.Close)
	clk := clock.NewFake(time.Now())
	// An SQS API no test reaches: sqs subscriptions need one to be accepted.
	svc, err := sns.New(sns.Config{Store: st, BaseURL: hs.URL, Clock: clk, PollInterval: 5 * time.Millisecond,
		SQS: sns.SQSConfig{Endpoint: "http://127.0.0.1:9"}})
	if err != nil {
		t.Fatal(err)
	}
	srv := New(Config{Store: st, Regions: []string{"eu-west-1", "us-east-1"}, Clock: clk, SNS: svc})
	hs.Config.Handler = srv.Handler()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); svc.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	e := &snsEnv{st: st, svc: svc, url: hs.URL, acct: acct.ID,
		creds: aws.Credentials{AccessKeyID: key.ID, SecretAccessKey: key.Secret}}
	e.client = e.clientFor("eu-west-1")
	return e
}

func (e *snsEnv) clientFor(region string) *awssns.Client {
	return awssns.NewFromConfig(aws.Config{Region: region, Credentials: credentials.StaticCredentialsProvider{Value: e.creds},
		RetryMaxAttempts: 1, BaseEndpoint: aws.String(e.url)})
}

// snsErr is the code, message and HTTP status an SDK call failed with.
func snsErr(t *testing.T, err error) (string, string) {
	t.Helper()
	var ae smithy.APIError
	if err == nil || !errors.As(err, &ae) {
		t.Fatalf("want an API error, got %v", err)
	}
	return ae.ErrorCode(), ae.ErrorMessage()
}

func TestSNSTopicActions(t *testing.T) {
	t.Parallel()
	e := newSNSEnv(t)
	ctx := context.Background()
	c := e.client

	out, err := c.CreateTopic(ctx, &awssns.CreateTopicInput{Name: aws.String("bounces"),
		Attributes: map[string]string{"DisplayName": "Bounces"}, Tags: []snstypes.Tag{{Key: aws.String("k"), Value: aws.String("v")}}})
	if err != nil {
		t.Fatal(err)
	}
	arn := aws.ToString(out.TopicArn)
	if want := "arn:aws:sns:eu-west-1:" + e.acct + ":bounces"; arn != want {
		t.Fatalf("TopicArn = %q, want %q", arn, want)
	}
	// Idempotent by name; different attributes are refused.
	again, err := c.CreateTopic(ctx, &awssns.CreateTopicInput{Name: aws.String("bounces")})
	if err != nil || aws.ToString(again.TopicArn) != arn {
		t.Fatalf("second CreateTopic = %v, %v", again, err)
	}
	_, err = c.CreateTopic(ctx, &awssns.CreateTopicInput{Name: aws.String("bounces"), Attributes: map[string]string{"DisplayName": "Other"}})
	if code, msg := snsErr(t, err); code != "InvalidParameter" || msg != "Invalid parameter: Attributes Reason: Topic already exists with different attributes" {
		t.Errorf("different attributes: %s %q", code, msg)
	}

	if _, err := c.SetTopicAttributes(ctx, &awssns.SetTopicAttributesInput{TopicArn: &arn,
		AttributeName: aws.String("SignatureVersion"), AttributeValue: aws.String("2")}); err != nil {
		t.Fatal(err)
	}
	attrs, err := c.GetTopicAttributes(ctx, &awssns.GetTopicAttributesInput{TopicArn: &arn})
	if err != nil {
		t.Fatal(err)
	}
	for k, want := range map[string]string{"DisplayName": "Bounces", "SignatureVersion": "2", "Owner": e.acct,
		"TopicArn": arn, "SubscriptionsConfirmed": "0", "SubscriptionsPending": "0"} {
		if got := attrs.Attributes[k]; got != want {
			t.Errorf("attribute %s = %q, want %q", k, got, want)
		}
	}
	if !strings.Contains(attrs.Attributes["Policy"], `"Resource":"`+arn+`"`) {
		t.Errorf("Policy = %s", attrs.Attributes["Policy"])
	}

	list, err := c.ListTopics(ctx, &awssns.ListTopicsInput{})
	if err != nil || len(list.Topics) != 1 || aws.ToString(list.Topics[0].TopicArn) != arn {
		t.Fatalf("ListTopics = %+v, %v", list, err)
	}
	// Another region is another namespace.
	other, err := e.clientFor("us-east-1").ListTopics(ctx, &awssns.ListTopicsInput{})
	if err != nil || len(other.Topics) != 0 {
		t.Fatalf("ListTopics in us-east-1 = %+v, %v", other, err)
	}

	if _, err := c.DeleteTopic(ctx, &awssns.DeleteTopicInput{TopicArn: &arn}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.DeleteTopic(ctx, &awssns.DeleteTopicInput{TopicArn: &arn}); err != nil {
		t.Errorf("deleting again: %v", err)
	}
	_, err = c.GetTopicAttributes(ctx, &awssns.GetTopicAttributesInput{TopicArn: &arn})
	var nf *snstypes.NotFoundException
	if !errors.As(err, &nf) {
		t.Errorf("deleted topic: %v, want NotFoundException", err)
	}
}

func TestSNSErrors(t *testing.T) {
	t.Parallel()
	e := newSNSEnv(t)
	ctx := context.Background()
	c := e.client
	out, err := c.CreateTopic(ctx, &awssns.CreateTopicInput{Name: aws.String("t1")})
	if err != nil {
		t.Fatal(err)
	}
	topic := aws.ToString(out.TopicArn)
	missing := "arn:aws:sns:eu-west-1:" + e.acct + ":missing"
	otherRegion := "arn:aws:sns:us-east-1:" + e.acct + ":t1"
	// A queue of the topic's own account: confirmed at once, as on SNS.
	sub, err := c.Subscribe(ctx, &awssns.SubscribeInput{TopicArn: &topic, Protocol: aws.String("sqs"),
		Endpoint: aws.String("arn:aws:sqs:eu-west-1:" + e.acct + ":q")})
	if err != nil {
		t.Fatal(err)
	}
	sqsSub := aws.ToString(sub.SubscriptionArn)
	if !strings.HasPrefix(sqsSub, topic+":") {
		t.Fatalf("sqs subscription = %q, want its ARN", sqsSub)
	}
	tests := []struct {
		name     string
		call     func() error
		code     string
		msg      string
		typedErr any
	}{
		{"bad topic name", func() error {
			_, err := c.CreateTopic(ctx, &awssns.CreateTopicInput{Name: aws.String("bad name")})
			return err
		}, "InvalidParameter", "Invalid parameter: Topic Name", nil},
		{"unknown topic", func() error {
			_, err := c.GetTopicAttributes(ctx, &awssns.GetTopicAttributesInput{TopicArn: &missing})
			return err
		}, "NotFound", "Topic does not exist", nil},
		{"malformed ARN", func() error {
			_, err := c.GetTopicAttributes(ctx, &awssns.GetTopicAttributesInput{TopicArn: aws.String("nope")})
			return err
		}, "InvalidParameter", "Invalid parameter: TopicArn Reason: An ARN must have at least 6 elements, not 1", nil},
		{"other region", func() error {
			_, err := c.Publish(ctx, &awssns.PublishInput{TopicArn: &otherRegion, Message: aws.String("x")})
			return err
		}, "InvalidParameter", "Invalid parameter: TopicArn", nil},
		{"other account", func() error {
			_, err := c.Publish(ctx, &awssns.PublishInput{TopicArn: aws.String("arn:aws:sns:eu-west-1:999999999999:t1"), Message: aws.String("x")})
			return err
		}, "AuthorizationError", "", nil},
		{"publish to unknown topic", func() error {
			_, err := c.Publish(ctx, &awssns.PublishInput{TopicArn: &missing, Message: aws.String("x")})
			return err
		}, "NotFound", "Topic does not exist", nil},
		{"empty message", func() error {
			_, err := c.Publish(ctx, &awssns.PublishInput{TopicArn: &topic, Message: aws.String("")})
			return err
		}, "InvalidParameter", "Invalid parameter: Empty message", nil},
		{"empty subject", func() error {
			_, err := c.Publish(ctx, &awssns.PublishInput{TopicArn: &topic, Message: aws.String("m"), Subject: aws.String("")})
			return err
		}, "InvalidParameter", "Invalid parameter: Subject", nil},
		{"json without default", func() error {
			_, err := c.Publish(ctx, &awssns.PublishInput{TopicArn: &topic, Message: aws.String(`{"http":"x"}`), MessageStructure: aws.String("json")})
			return err
		}, "InvalidParameter", "Invalid parameter: Message Structure - No default entry in JSON message body", nil},
		{"unknown protocol", func() error {
			_, err := c.Subscribe(ctx, &awssns.SubscribeInput{TopicArn: &topic, Protocol: aws.String("test-protocol"), Endpoint: aws.String("x")})
			return err
		}, "InvalidParameter", "Invalid parameter: Amazon SNS does not support this protocol string: test-protocol", nil},
		{"lambda not delivered", func() error {
			_, err := c.Subscribe(ctx, &awssns.SubscribeInput{TopicArn: &topic, Protocol: aws.String("lambda"),
				Endpoint: aws.String("arn:aws:lambda:eu-west-1:" + e.acct + ":function:f")})
			return err
		}, "InvalidParameter", "", nil},
		{"sqs queue URL instead of ARN", func() error {
			_, err := c.Subscribe(ctx, &awssns.SubscribeInput{TopicArn: &topic, Protocol: aws.String("sqs"),
				Endpoint: aws.String("http://127.0.0.1:9324/" + e.acct + "/q")})
			return err
		}, "InvalidParameter", "Invalid parameter: SQS endpoint ARN", nil},
		{"fifo queue on a standard topic", func() error {
			_, err := c.Subscribe(ctx, &awssns.SubscribeInput{TopicArn: &topic, Protocol: aws.String("sqs"),
				Endpoint: aws.String("arn:aws:sqs:eu-west-1:" + e.acct + ":q.fifo")})
			return err
		}, "InvalidParameter", "Invalid parameter: Invalid parameter: Endpoint Reason: FIFO SQS Queues can not be subscribed to standard SNS topics", nil},
		{"unknown subscription attribute", func() error {
			_, err := c.SetSubscriptionAttributes(ctx, &awssns.SetSubscriptionAttributesInput{SubscriptionArn: &sqsSub,
				AttributeName: aws.String("FakeAttribute"), AttributeValue: aws.String("test-value")})
			return err
		}, "InvalidParameter", "Invalid parameter: AttributeName", nil},
		{"raw delivery not a boolean", func() error {
			_, err := c.SetSubscriptionAttributes(ctx, &awssns.SetSubscriptionAttributesInput{SubscriptionArn: &sqsSub,
				AttributeName: aws.String("RawMessageDelivery"), AttributeValue: aws.String("test-ValUe")})
			return err
		}, "InvalidParameter", "Invalid parameter: RawMessageDelivery: Invalid value [test-ValUe]. Must be true or false.", nil},
		{"raw delivery empty", func() error {
			_, err := c.SetSubscriptionAttributes(ctx, &awssns.SetSubscriptionAttributesInput{SubscriptionArn: &sqsSub,
				AttributeName: aws.String("RawMessageDelivery"), AttributeValue: aws.String("")})
			return err
		}, "InvalidParameter", "Invalid parameter: RawMessageDelivery: Invalid value []. Must be true or false.", nil},
		{"endpoint mismatch", func() error {
			_, err := c.Subscribe(ctx, &awssns.SubscribeInput{TopicArn: &topic, Protocol: aws.String("https"), Endpoint: aws.String("http://x.example/")})
			return err
		}, "InvalidParameter", "Invalid parameter: Endpoint must match the specified protocol", nil},
		{"unknown subscription", func() error {
			_, err := c.GetSubscriptionAttributes(ctx, &awssns.GetSubscriptionAttributesInput{
				SubscriptionArn: aws.String(topic + ":3f1c5b5e-0d5e-4c3e-9b8e-4a1b2c3d4e5f")})
			return err
		}, "NotFound", "Subscription does not exist", nil},
		{"malformed subscription ARN", func() error {
			_, err := c.Unsubscribe(ctx, &awssns.UnsubscribeInput{SubscriptionArn: aws.String("nope")})
			return err
		}, "InvalidParameter", "Invalid parameter: SubscriptionArn Reason: An ARN must have at least 6 elements, not 1", nil},
		{"confirm with a wrong token", func() error {
			_, err := c.ConfirmSubscription(ctx, &awssns.ConfirmSubscriptionInput{TopicArn: &topic, Token: aws.String("00")})
			return err
		}, "InvalidParameter", "Invalid parameter: Token", nil},
		{"list subscriptions of unknown topic", func() error {
			_, err := c.ListSubscriptionsByTopic(ctx, &awssns.ListSubscriptionsByTopicInput{TopicArn: &missing})
			return err
		}, "NotFound", "Topic does not exist", nil},
		{"unknown topic attribute", func() error {
			_, err := c.SetTopicAttributes(ctx, &awssns.SetTopicAttributesInput{TopicArn: &topic, AttributeName: aws.String("FifoTopic"), AttributeValue: aws.String("false")})
			return err
		}, "InvalidParameter", "Invalid parameter: AttributeName", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, msg := snsErr(t, tt.call())
			if code != tt.code || (tt.msg != "" && msg != tt.msg) {
				t.Errorf("got %s %q, want %s %q", code, msg, tt.code, tt.msg)
			}
		})
	}
	// Unsubscribing an unknown (well-formed) subscription is fine, as on SNS.
	if _, err := c.Unsubscribe(ctx, &awssns.UnsubscribeInput{SubscriptionArn: aws.String(topic + ":3f1c5b5e-0d5e-4c3e-9b8e-4a1b2c3d4e5f")}); err != nil {
		t.Errorf("Unsubscribe unknown: %v", err)
	}
}

// webhook is an HTTP subscriber that checks every request the way the AWS
// SDKs' SNS message validators do: fetch SigningCertURL, rebuild the string
// to sign, verify SHA1withRSA (v1) or SHA256withRSA (v2).
type webhook struct {
	t   *testing.T
	srv *httptest.Server
	mu  sync.Mutex
	got []map[string]string
	hdr []http.Header
}

func newWebhook(t *testing.T) *webhook {
	w := &webhook{t: t}
	w.srv = httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		var m map[string]string
		if err := json.Unmarshal(b, &m); err != nil {
			t.Errorf("webhook body is not SNS JSON: %v: %s", err, b)
		}
		w.mu.Lock()
		w.got = append(w.got, m)
		w.hdr = append(w.hdr, r.Header.Clone())
		w.mu.Unlock()
	}))
	t.Cleanup(w.srv.Close)
	return w
}

func (w *webhook) wait(n int) ([]map[string]string, []http.Header) {
	w.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		w.mu.Lock()
		got, hdr := append([]map[string]string(nil), w.got...), append([]http.Header(nil), w.hdr...)
		w.mu.Unlock()
		if len(got) >= n {
			return got, hdr
		}
		time.Sleep(5 * time.Millisecond)
	}
	w.t.Fatalf("webhook got fewer than %d requests", n)
	return nil, nil
}

// verifySNSSignature checks m's signature as the SDK validators do.
func verifySNSSignature(t *testing.T, m map[string]string) {
	t.Helper()
	if err := testenv.VerifySNS(m); err != nil {
		t.Fatal(err)
	}
}

func TestSNSHTTPSubscriberSignedDelivery(t *testing.T) {
	t.Parallel()
	for _, version := range []string{"1", "2"} {
		t.Run("SignatureVersion"+version, func(t *testing.T) {
			t.Parallel()
			e := newSNSEnv(t)
			ctx := context.Background()
			c := e.client
			wh := newWebhook(t)
			attrs := map[string]string{}
			if version == "2" {
				attrs["SignatureVersion"] = "2"
			}
			out, err := c.CreateTopic(ctx, &awssns.CreateTopicInput{Name: aws.String("events"), Attributes: attrs})
			if err != nil {
				t.Fatal(err)
			}
			topic := aws.ToString(out.TopicArn)
			sub, err := c.Subscribe(ctx, &awssns.SubscribeInput{TopicArn: &topic, Protocol: aws.String("http"), Endpoint: aws.String(wh.srv.URL + "/sns")})
			if err != nil || aws.ToString(sub.SubscriptionArn) != "pending confirmation" {
				t.Fatalf("Subscribe = %v, %v", aws.ToString(sub.SubscriptionArn), err)
			}
			// Nothing but the confirmation before confirming.
			if _, err := c.Publish(ctx, &awssns.PublishInput{TopicArn: &topic, Message: aws.String("too early")}); err != nil {
				t.Fatal(err)
			}
			got, hdr := wh.wait(1)
			conf := got[0]
			if conf["Type"] != "SubscriptionConfirmation" || hdr[0].Get("x-amz-sns-message-type") != "SubscriptionConfirmation" ||
				hdr[0].Get("x-amz-sns-subscription-arn") != "" || hdr[0].Get("x-amz-sns-topic-arn") != topic ||
				hdr[0].Get("x-amz-sns-message-id") != conf["MessageId"] {
				t.Fatalf("confirmation = %v, headers %v", conf, hdr[0])
			}
			if conf["SignatureVersion"] != "1" {
				t.Errorf("confirmation SignatureVersion = %q, want 1", conf["SignatureVersion"])
			}
			if want := e.url + "/?Action=ConfirmSubscription&TopicArn=" + topic + "&Token=" + conf["Token"]; conf["SubscribeURL"] != want {
				t.Errorf("SubscribeURL = %q, want %q", conf["SubscribeURL"], want)
			}
			verifySNSSignature(t, conf)
			list, err := c.ListSubscriptionsByTopic(ctx, &awssns.ListSubscriptionsByTopicInput{TopicArn: &topic})
			if err != nil || len(list.Subscriptions) != 1 || aws.ToString(list.Subscriptions[0].SubscriptionArn) != "PendingConfirmation" {
				t.Fatalf("pending subscription listed as %+v, %v", list, err)
			}

			// The subscriber confirms with an unsigned GET, as on AWS.
			resp, err := http.Get(conf["SubscribeURL"])
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 || !strings.Contains(string(body), "<ConfirmSubscriptionResult><SubscriptionArn>"+topic+":") {
				t.Fatalf("GET SubscribeURL: %s %s", resp.Status, body)
			}
			all, err := c.ListSubscriptions(ctx, &awssns.ListSubscriptionsInput{})
			if err != nil || len(all.Subscriptions) != 1 {
				t.Fatalf("ListSubscriptions = %+v, %v", all, err)
			}
			subArn := aws.ToString(all.Subscriptions[0].SubscriptionArn)
			if !strings.HasPrefix(subArn, topic+":") {
				t.Fatalf("confirmed subscription ARN = %q", subArn)
			}
			sa, err := c.GetSubscriptionAttributes(ctx, &awssns.GetSubscriptionAttributesInput{SubscriptionArn: &subArn})
			if err != nil || sa.Attributes["PendingConfirmation"] != "false" || sa.Attributes["Protocol"] != "http" ||
				sa.Attributes["ConfirmationWasAuthenticated"] != "false" {
				t.Fatalf("GetSubscriptionAttributes = %v, %v", sa.Attributes, err)
			}

			pub, err := c.Publish(ctx, &awssns.PublishInput{TopicArn: &topic, Message: aws.String(`{"eventType":"Bounce"}`),
				Subject: aws.String("Amazon SES Email Event Notification")})
			if err != nil {
				t.Fatal(err)
			}
			got, hdr = wh.wait(2)
			n := got[1]
			if n["Type"] != "Notification" || n["MessageId"] != aws.ToString(pub.MessageId) || n["Message"] != `{"eventType":"Bounce"}` ||
				n["Subject"] != "Amazon SES Email Event Notification" || n["TopicArn"] != topic || n["SignatureVersion"] != version {
				t.Fatalf("notification = %v", n)
			}
			for k, want := range map[string]string{"Content-Type": "text/plain; charset=UTF-8",
				"User-Agent": "Amazon Simple Notification Service Agent", "x-amz-sns-message-type": "Notification",
				"x-amz-sns-message-id": n["MessageId"], "x-amz-sns-topic-arn": topic, "x-amz-sns-subscription-arn": subArn} {
				if v := hdr[1].Get(k); v != want {
					t.Errorf("header %s = %q, want %q", k, v, want)
				}
			}
			if want := e.url + "/?Action=Unsubscribe&SubscriptionArn=" + subArn; n["UnsubscribeURL"] != want {
				t.Errorf("UnsubscribeURL = %q, want %q", n["UnsubscribeURL"], want)
			}
			if _, err := time.Parse("2006-01-02T15:04:05.000Z", n["Timestamp"]); err != nil {
				t.Errorf("Timestamp %q: %v", n["Timestamp"], err)
			}
			verifySNSSignature(t, n)
			// The UnsubscribeURL works as an unsigned GET and stops deliveries.
			resp, err = http.Get(n["UnsubscribeURL"])
			if err != nil {
				t.Fatal(err)
			}
			body, _ = io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 || !strings.Contains(string(body), "<UnsubscribeResponse") {
				t.Fatalf("GET UnsubscribeURL: %s %s", resp.Status, body)
			}
			if _, err := c.Publish(ctx, &awssns.PublishInput{TopicArn: &topic, Message: aws.String("after")}); err != nil {
				t.Fatal(err)
			}
			all, err = c.ListSubscriptions(ctx, &awssns.ListSubscriptionsInput{})
			if err != nil || len(all.Subscriptions) != 0 {
				t.Fatalf("ListSubscriptions after unsubscribe = %+v, %v", all.Subscriptions, err)
			}
			// SNS says goodbye with a signed UnsubscribeConfirmation whose
			// SubscribeURL (a new token) restores the subscription.
			got, hdr = wh.wait(3)
			bye := got[2]
			if bye["Type"] != "UnsubscribeConfirmation" || bye["TopicArn"] != topic || bye["Token"] == "" || bye["Token"] == conf["Token"] ||
				bye["Message"] != "You have chosen to deactivate subscription "+subArn+
					".\nTo cancel this operation and restore the subscription, visit the SubscribeURL included in this message." {
				t.Fatalf("after unsubscribe = %v", bye)
			}
			for k, want := range map[string]string{"x-amz-sns-message-type": "UnsubscribeConfirmation",
				"x-amz-sns-message-id": bye["MessageId"], "x-amz-sns-topic-arn": topic, "x-amz-sns-subscription-arn": subArn} {
				if v := hdr[2].Get(k); v != want {
					t.Errorf("UnsubscribeConfirmation header %s = %q, want %q", k, v, want)
				}
			}
			verifySNSSignature(t, bye)
			waitNoDeliveries(t, e.st)
			resp, err = http.Get(bye["SubscribeURL"])
			if err != nil {
				t.Fatal(err)
			}
			body, _ = io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 || !strings.Contains(string(body), "<SubscriptionArn>"+subArn+"</SubscriptionArn>") {
				t.Fatalf("GET the UnsubscribeConfirmation's SubscribeURL: %s %s", resp.Status, body)
			}
			if _, err := c.Publish(ctx, &awssns.PublishInput{TopicArn: &topic, Message: aws.String("back")}); err != nil {
				t.Fatal(err)
			}
			got, _ = wh.wait(4)
			if got[3]["Message"] != "back" || got[3]["UnsubscribeURL"] != n["UnsubscribeURL"] {
				t.Errorf("after restoring: %v", got[3])
			}
		})
	}
}

// waitNoDeliveries polls until no delivery is queued (bounded wait).
func waitNoDeliveries(t *testing.T, st *store.Store) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		rows, err := st.SNSDeliveries(context.Background(), "", 0, 1<<62, 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(rows) == 0 {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatal("deliveries still queued")
}

func TestSNSTamperedSignatureFails(t *testing.T) {
	t.Parallel()
	e := newSNSEnv(t)
	ctx := context.Background()
	wh := newWebhook(t)
	out, err := e.client.CreateTopic(ctx, &awssns.CreateTopicInput{Name: aws.String("x")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.client.Subscribe(ctx, &awssns.SubscribeInput{TopicArn: out.TopicArn, Protocol: aws.String("http"), Endpoint: aws.String(wh.srv.URL)}); err != nil {
		t.Fatal(err)
	}
	got, _ := wh.wait(1)
	m := got[0]
	// Change the token's first two characters to something else (a fixed
	// "ff" would be no change for one token in 256).
	tampered := "ff"
	if strings.HasPrefix(m["Token"], tampered) {
		tampered = "00"
	}
	m["Token"] = tampered + m["Token"][2:]
	// Rebuild and check by hand: the validator must refuse it.
	resp, err := http.Get(m["SigningCertURL"])
	if err != nil {
		t.Fatal(err)
	}
	pemBytes, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	block, _ := pem.Decode(pemBytes)
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	str := "Message\n" + m["Message"] + "\nMessageId\n" + m["MessageId"] + "\nSubscribeURL\n" + m["SubscribeURL"] +
		"\nTimestamp\n" + m["Timestamp"] + "\nToken\n" + m["Token"] + "\nTopicArn\n" + m["TopicArn"] + "\nType\n" + m["Type"] + "\n"
	d := sha1.Sum([]byte(str))
	sig, _ := base64.StdEncoding.DecodeString(m["Signature"])
	if rsa.VerifyPKCS1v15(cert.PublicKey.(*rsa.PublicKey), crypto.SHA1, d[:], sig) == nil {
		t.Fatal("a tampered token still verifies")
	}
}

// A browser following the links in an email subscription's mail gets pages.
func TestSNSLinksForPeople(t *testing.T) {
	t.Parallel()
	e := newSNSEnv(t)
	ctx := context.Background()
	wh := newWebhook(t)
	out, err := e.client.CreateTopic(ctx, &awssns.CreateTopicInput{Name: aws.String("people")})
	if err != nil {
		t.Fatal(err)
	}
	topic := aws.ToString(out.TopicArn)
	if _, err := e.client.Subscribe(ctx, &awssns.SubscribeInput{TopicArn: &topic, Protocol: aws.String("http"), Endpoint: aws.String(wh.srv.URL)}); err != nil {
		t.Fatal(err)
	}
	got, _ := wh.wait(1)
	page := func(u string) (int, string) {
		req, _ := http.NewRequest(http.MethodGet, u, nil)
		req.Header.Set("Accept", "text/html,application/xhtml+xml,*/*;q=0.8")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if ct := resp.Header.Get("Content-Type"); ct != "text/html; charset=utf-8" {
			t.Errorf("GET %s: Content-Type %q", u, ct)
		}
		return resp.StatusCode, string(b)
	}
	if code, body := page(e.url + "/?Action=ConfirmSubscription&TopicArn=" + topic + "&Token=00"); code != 400 || !strings.Contains(body, "Invalid link") {
		t.Errorf("bad token: %d %s", code, body)
	}
	code, body := page(got[0]["SubscribeURL"])
	if code != 200 || !strings.Contains(body, "Subscription confirmed!") || !strings.Contains(body, topic+":") {
		t.Fatalf("confirm: %d %s", code, body)
	}
	list, err := e.client.ListSubscriptionsByTopic(ctx, &awssns.ListSubscriptionsByTopicInput{TopicArn: &topic})
	if err != nil || len(list.Subscriptions) != 1 {
		t.Fatal(list, err)
	}
	if code, body := page(e.url + "/?Action=Unsubscribe&SubscriptionArn=" + aws.ToString(list.Subscriptions[0].SubscriptionArn)); code != 200 ||
		!strings.Contains(body, "Subscription removed!") {
		t.Errorf("unsubscribe: %d %s", code, body)
	}
}
