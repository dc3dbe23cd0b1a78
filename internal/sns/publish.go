package sns

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"sesame/internal/seserr"
	"sesame/internal/store"
)

// MaxMessageBytes is SNS's limit on a message (256 KiB).
const MaxMessageBytes = 262144

// message is a publication's text: one for every protocol, or per protocol
// from a JSON MessageStructure.
type message struct {
	def         string
	perProtocol map[string]string
}

func (m message) forProtocol(p string) string {
	if v, ok := m.perProtocol[p]; ok {
		return v
	}
	return m.def
}

// PublishMessage is the API's Publish: it validates as SNS does and queues
// the message for the topic's confirmed subscriptions. structure is
// MessageStructure ("" or "json").
func (s *Service) PublishMessage(ctx context.Context, c Caller, topicArn, subject, msg string, hasSubject bool, structure string) (string, error) {
	if topicArn == "" {
		return "", seserr.SNSInvalidParameter("TopicArn or TargetArn Reason: no value for required parameter")
	}
	a, err := parseTopicARN(topicArn, "TopicArn")
	if err != nil {
		return "", err
	}
	if err := c.checkOwner(a, "TopicArn", "Publish", topicArn); err != nil {
		return "", err
	}
	if msg == "" {
		return "", seserr.SNSInvalidParameter("Empty message")
	}
	if len(msg) > MaxMessageBytes {
		return "", seserr.SNSInvalidParameter("Message too long")
	}
	if hasSubject && !validSubject(subject) {
		return "", seserr.SNSInvalidParameter("Subject")
	}
	m := message{def: msg}
	switch structure {
	case "":
	case "json":
		var obj map[string]any
		if err := json.Unmarshal([]byte(msg), &obj); err != nil {
			return "", seserr.SNSInvalidParameter("Message Structure - JSON message body failed to parse")
		}
		def, ok := obj["default"].(string)
		if !ok {
			return "", seserr.SNSInvalidParameter("Message Structure - No default entry in JSON message body")
		}
		m = message{def: def, perProtocol: map[string]string{}}
		for _, p := range []string{"http", "https", "email", "email-json", "sqs"} {
			if v, ok := obj[p].(string); ok {
				m.perProtocol[p] = v
			}
		}
	default:
		return "", seserr.SNSInvalidParameter("MessageStructure")
	}
	f := s.newFanout()
	ds, ok, err := f.deliveries(ctx, a, subject, m, s.clk.Now())
	if err != nil {
		return "", err
	}
	if !ok {
		return "", seserr.SNSTopicNotFound()
	}
	if err := s.st.EnqueueSNSDeliveries(ctx, ds.rows); err != nil {
		return "", internal("publish to "+topicArn, err)
	}
	s.handOff(ds.rows)
	return ds.id, nil
}

// validSubject: SNS's Subject is 1–100 printable ASCII characters, no line
// breaks.
func validSubject(s string) bool {
	if s == "" || len(s) > 100 || !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if r < 0x20 || r > 0x7e {
			return false
		}
	}
	return true
}

// fanout turns publications into delivery rows, reading each topic and its
// confirmed subscriptions once per batch.
type fanout struct {
	s      *Service
	topics map[arn]*topicFanout
}

type topicFanout struct {
	found   bool
	version string
	subs    []store.SNSSubscription
}

type published struct {
	id   string
	rows []*store.SNSDelivery
}

func (s *Service) newFanout() *fanout { return &fanout{s: s, topics: map[arn]*topicFanout{}} }

func (f *fanout) topic(ctx context.Context, a arn) (*topicFanout, error) {
	if t, ok := f.topics[a]; ok {
		return t, nil
	}
	t := &topicFanout{}
	top, err := f.s.st.SNSTopic(ctx, a.account, a.region, a.name)
	switch {
	case errors.Is(err, store.ErrNotFound):
	case err != nil:
		return nil, internal("publish to "+a.topic(), err)
	default:
		t.found = true
		t.version = top.Attributes["SignatureVersion"]
		if t.version == "" {
			t.version = "1"
		}
		subs, err := f.s.st.SNSSubscriptions(ctx, a.account, a.region, a.name, "", 1<<30)
		if err != nil {
			return nil, internal("publish to "+a.topic(), err)
		}
		for _, sub := range subs {
			if sub.Confirmed {
				t.subs = append(t.subs, sub)
			}
		}
	}
	f.topics[a] = t
	return t, nil
}

// deliveries builds one publication's rows; ok is false when the topic does
// not exist.
func (f *fanout) deliveries(ctx context.Context, a arn, subject string, m message, now time.Time) (published, bool, error) {
	t, err := f.topic(ctx, a)
	if err != nil {
		return published{}, false, fmt.Errorf("sns: publish: %w", err)
	}
	if !t.found {
		return published{}, false, nil
	}
	p := published{id: uuid.NewString()}
	for _, sub := range t.subs {
		p.rows = append(p.rows, &store.SNSDelivery{SubscriptionARN: sub.ARN, Endpoint: sub.Endpoint, Protocol: sub.Protocol,
			Raw: sub.Attributes["RawMessageDelivery"] == "true", Kind: "Notification", MessageID: p.id,
			TopicARN: a.topic(), Subject: subject, Message: m.forProtocol(sub.Protocol),
			SignatureVersion: t.version, Published: now})
	}
	return p, true, nil
}
