package e2e

import (
	"context"
	"encoding/json"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	v2types "github.com/aws/aws-sdk-go-v2/service/sesv2/types"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"sesame/internal/events"
	"sesame/internal/testenv"
)

// waitMail polls /_aws/ses for mail to addr with this subject and returns
// the newest such message's decoded text.
func waitMail(t *testing.T, s *testenv.Server, addr, subject string, n int) []string {
	t.Helper()
	var texts []string
	waitFor(t, "mail to "+addr+" with subject "+subject, func() bool {
		texts = nil
		for _, m := range s.Captured("email=" + addr) {
			if m.Subject == subject && m.Body.TextPart != nil {
				texts = append(texts, *m.Body.TextPart)
			}
		}
		return len(texts) >= n
	})
	return texts
}

var confirmLinkRE = regexp.MustCompile(`(?m)^(http://\S+/\?Action=ConfirmSubscription&\S+)$`)

// TestSNSEmailSubscription: an email subscription as a person meets it. The
// confirmation request is mail sesame sends through itself (captured at
// /_aws/ses), its link confirms, and a published message arrives as mail
// with SNS's footer and an unsubscribe link that works.
func TestSNSEmailSubscription(t *testing.T) {
	s := testenv.Start(t, testenv.Options{Extra: "[sns]\nemail_from = \"sns@sesame.test\"\n"})
	ctx := context.Background()
	c := s.SNSClient(t)
	out, err := c.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String("alarms"),
		Attributes: map[string]string{"DisplayName": "Alarms"}})
	if err != nil {
		t.Fatal(err)
	}
	topic := aws.ToString(out.TopicArn)
	sub, err := c.Subscribe(ctx, &sns.SubscribeInput{TopicArn: &topic, Protocol: aws.String("email"), Endpoint: aws.String("oncall@example.com")})
	if err != nil || aws.ToString(sub.SubscriptionArn) != "pending confirmation" {
		t.Fatalf("Subscribe = %v, %v", aws.ToString(sub.SubscriptionArn), err)
	}

	conf := waitMail(t, s, "oncall@example.com", "AWS Notification - Subscription Confirmation", 1)[0]
	m := confirmLinkRE.FindStringSubmatch(strings.ReplaceAll(conf, "\r\n", "\n"))
	if m == nil || !strings.HasPrefix(m[1], s.APIURL()) || !strings.Contains(conf, topic) {
		t.Fatalf("confirmation mail has no SubscribeURL:\n%s", conf)
	}
	raw := s.Captured("email=oncall@example.com")[0]
	if raw.Source != "sns@sesame.test" || !strings.Contains(raw.RawData, "From: \"Alarms\" <sns@sesame.test>") {
		t.Errorf("confirmation from %q:\n%s", raw.Source, raw.RawData)
	}
	getOK(t, m[1])
	subs, err := c.ListSubscriptionsByTopic(ctx, &sns.ListSubscriptionsByTopicInput{TopicArn: &topic})
	if err != nil || len(subs.Subscriptions) != 1 || !strings.HasPrefix(aws.ToString(subs.Subscriptions[0].SubscriptionArn), topic+":") {
		t.Fatalf("after following the link: %+v, %v", subs, err)
	}
	subArn := aws.ToString(subs.Subscriptions[0].SubscriptionArn)

	if _, err := c.Publish(ctx, &sns.PublishInput{TopicArn: &topic, Subject: aws.String("CPU high"),
		Message: aws.String("CPU above 90% on web-1 for 5 minutes.")}); err != nil {
		t.Fatal(err)
	}
	note := waitMail(t, s, "oncall@example.com", "CPU high", 1)[0]
	note = strings.ReplaceAll(note, "\r\n", "\n")
	unsub := s.APIURL() + "/?Action=Unsubscribe&SubscriptionArn=" + subArn
	if !strings.HasPrefix(note, "CPU above 90% on web-1 for 5 minutes.\n\n--\n") || !strings.Contains(note, "\n"+unsub+"\n") {
		t.Fatalf("notification mail:\n%s", note)
	}

	// The unsubscribe link ends the subscription; later messages send no mail.
	getOK(t, unsub)
	if _, err := c.Publish(ctx, &sns.PublishInput{TopicArn: &topic, Subject: aws.String("after"), Message: aws.String("x")}); err != nil {
		t.Fatal(err)
	}
	subs, err = c.ListSubscriptionsByTopic(ctx, &sns.ListSubscriptionsByTopicInput{TopicArn: &topic})
	if err != nil || len(subs.Subscriptions) != 0 {
		t.Fatalf("after unsubscribing: %+v, %v", subs, err)
	}
	time.Sleep(300 * time.Millisecond) // a mail that should not come: give it the chance
	for _, m := range s.Captured("email=oncall@example.com") {
		if m.Subject == "after" {
			t.Errorf("mail after unsubscribing: %s", m.Subject)
		}
	}
}

// TestSNSToSQS: SES events → an SNS topic → an SQS queue on a server the
// test runs. The consumer receives SNS's envelope, then with
// RawMessageDelivery the bare record; a queue that is down for a while
// gets the message when it is back.
func TestSNSToSQS(t *testing.T) {
	q := testenv.StartSQS(t)
	s := testenv.Start(t, testenv.Options{Extra: "[sns]\nsqs_endpoint = \"" + q.URL() + "\"\n" +
		"sqs_access_key_id = \"AKIDQUEUE\"\nsqs_secret_access_key = \"secret\"\n"})
	s.Verify("sender@example.com")
	s.Production()
	ctx := context.Background()
	c := s.SNSClient(t)
	out, err := c.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String("ses-events")})
	if err != nil {
		t.Fatal(err)
	}
	topic := aws.ToString(out.TopicArn)
	region := s.Regions[0]
	queueURL := q.CreateQueue(s.Account, "events")
	sub, err := c.Subscribe(ctx, &sns.SubscribeInput{TopicArn: &topic, Protocol: aws.String("sqs"),
		Endpoint: aws.String(q.ARN(region, s.Account, "events"))})
	if err != nil || !strings.HasPrefix(aws.ToString(sub.SubscriptionArn), topic+":") {
		t.Fatalf("Subscribe sqs = %v, %v (a queue of the same account is confirmed at once)", aws.ToString(sub.SubscriptionArn), err)
	}
	subArn := aws.ToString(sub.SubscriptionArn)

	v2 := s.SESv2Client(t)
	snsEventSet(t, v2, "tracked", "to-sqs", topic, v2types.EventTypeDelivery)
	send := func(subject string) string {
		t.Helper()
		out, err := v2.SendEmail(ctx, &sesv2.SendEmailInput{FromEmailAddress: aws.String("sender@example.com"),
			Destination:          &v2types.Destination{ToAddresses: []string{"success@simulator.amazonses.com"}},
			ConfigurationSetName: aws.String("tracked"),
			Content: &v2types.EmailContent{Simple: &v2types.Message{Subject: &v2types.Content{Data: aws.String(subject)},
				Body: &v2types.Body{Text: &v2types.Content{Data: aws.String("hello")}}}}})
		if err != nil {
			t.Fatal(err)
		}
		return aws.ToString(out.MessageId)
	}
	id := send("first")

	// The consumer: aws-sdk-go-v2's SQS client long-polling the queue.
	consumer := sqs.NewFromConfig(aws.Config{Region: region, BaseEndpoint: aws.String(q.URL()),
		Credentials: credentials.NewStaticCredentialsProvider("consumer", "x", "")})
	var bodies []string
	receive := func(n int) {
		t.Helper()
		deadline := time.Now().Add(20 * time.Second)
		for len(bodies) < n && time.Now().Before(deadline) {
			r, err := consumer.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: &queueURL, WaitTimeSeconds: 2, MaxNumberOfMessages: 10})
			if err != nil {
				t.Fatal(err)
			}
			for _, m := range r.Messages {
				bodies = append(bodies, aws.ToString(m.Body))
			}
		}
		if len(bodies) < n {
			t.Fatalf("queue has %d messages, want %d", len(bodies), n)
		}
	}
	// SES's validation message, then the Delivery record, each in SNS's envelope.
	receive(2)
	var env [2]map[string]string
	for i := range env {
		if err := json.Unmarshal([]byte(bodies[i]), &env[i]); err != nil {
			t.Fatalf("message %d is not SNS's envelope: %v\n%s", i, err, bodies[i])
		}
		if env[i]["Type"] != "Notification" || env[i]["TopicArn"] != topic || env[i]["Signature"] == "" ||
			env[i]["UnsubscribeURL"] != s.APIURL()+"/?Action=Unsubscribe&SubscriptionArn="+subArn {
			t.Errorf("envelope %d = %v", i, env[i])
		}
	}
	if env[0]["Message"] != events.TopicValidationMessage {
		t.Errorf("first message = %q, want SES's topic validation message", env[0]["Message"])
	}
	var rec eventRecord
	if err := json.Unmarshal([]byte(env[1]["Message"]), &rec); err != nil || rec.EventType != "Delivery" || rec.Mail.MessageID != id ||
		env[1]["Subject"] != events.Subject {
		t.Errorf("record = %+v (%v), subject %q", rec, err, env[1]["Subject"])
	}

	// RawMessageDelivery: the record itself.
	if _, err := c.SetSubscriptionAttributes(ctx, &sns.SetSubscriptionAttributesInput{SubscriptionArn: &subArn,
		AttributeName: aws.String("RawMessageDelivery"), AttributeValue: aws.String("true")}); err != nil {
		t.Fatal(err)
	}
	id = send("raw")
	receive(3)
	rec = eventRecord{}
	if err := json.Unmarshal([]byte(bodies[2]), &rec); err != nil || rec.EventType != "Delivery" || rec.Mail.MessageID != id {
		t.Errorf("raw message = %s (%v)", bodies[2], err)
	}

	// The queue is down: sesame retries, and delivers once it is back.
	q.Stop()
	id = send("while down")
	waitFor(t, "a failed delivery to the stopped queue", func() bool {
		return strings.Contains(s.Stderr.String(), "sns: delivery failed, will retry")
	})
	q.Start()
	receive(4)
	rec = eventRecord{}
	if err := json.Unmarshal([]byte(bodies[3]), &rec); err != nil || rec.Mail.MessageID != id {
		t.Errorf("after the outage = %s (%v)", bodies[3], err)
	}
}
