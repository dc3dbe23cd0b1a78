package e2e

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	v2types "github.com/aws/aws-sdk-go-v2/service/sesv2/types"

	"sesame/internal/events"
	"sesame/internal/testenv"
)

// snsSubscriber is an HTTP endpoint subscribed to SNS-compatible topics as
// an application would be: it confirms a subscription by GETting its
// SubscribeURL, checks the signature of everything it receives the way the
// AWS SDK message validators do (verifySNS), and keeps the notifications.
type snsSubscriber struct {
	t   *testing.T
	srv *httptest.Server

	mu    sync.Mutex
	notes []map[string]string
	down  bool // answer 503 to notifications, as a subscriber that is away
}

func newSNSSubscriber(t *testing.T) *snsSubscriber {
	s := &snsSubscriber{t: t}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.srv.Close)
	return s
}

// URL is the endpoint to subscribe.
func (s *snsSubscriber) URL() string { return s.srv.URL + "/sns" }

func (s *snsSubscriber) serve(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	var m map[string]string
	if err := json.Unmarshal(b, &m); err != nil {
		s.t.Errorf("webhook body: %v: %s", err, b)
		return
	}
	if err := testenv.VerifySNS(m); err != nil {
		s.t.Errorf("%s %s: signature: %v", m["Type"], m["MessageId"], err)
	}
	if got := r.Header.Get("x-amz-sns-message-type"); got != m["Type"] {
		s.t.Errorf("x-amz-sns-message-type %q, body Type %q", got, m["Type"])
	}
	if m["Type"] == "SubscriptionConfirmation" {
		resp, err := http.Get(m["SubscribeURL"])
		if err != nil {
			s.t.Errorf("confirm: %v", err)
			return
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			s.t.Errorf("confirm: %s", resp.Status)
		}
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.down {
		w.WriteHeader(http.StatusServiceUnavailable)
		return
	}
	s.notes = append(s.notes, m)
}

// setDown makes the subscriber refuse (or take again) notifications.
func (s *snsSubscriber) setDown(down bool) {
	s.mu.Lock()
	s.down = down
	s.mu.Unlock()
}

// notifications returns what arrived so far.
func (s *snsSubscriber) notifications() []map[string]string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]map[string]string(nil), s.notes...)
}

// eventKey names one SES event of one message.
type eventKey struct{ typ, id string }

// events counts the SES event records that arrived, by type and message
// (the topic's validation message left out).
func (s *snsSubscriber) events(t *testing.T) map[eventKey]int {
	t.Helper()
	n := map[eventKey]int{}
	for _, m := range s.notifications() {
		if m["Message"] == events.TopicValidationMessage {
			continue
		}
		var r eventRecord
		if err := json.Unmarshal([]byte(m["Message"]), &r); err != nil {
			t.Fatalf("notification: %v", err)
		}
		n[eventKey{r.EventType, r.Mail.MessageID}]++
	}
	return n
}

// snsEventSet creates configuration set name with one enabled event
// destination, dest, publishing types to the SNS topic.
func snsEventSet(t *testing.T, v2 *sesv2.Client, name, dest, topic string, types ...v2types.EventType) {
	t.Helper()
	ctx := context.Background()
	if _, err := v2.CreateConfigurationSet(ctx, &sesv2.CreateConfigurationSetInput{ConfigurationSetName: aws.String(name)}); err != nil {
		t.Fatal(err)
	}
	if _, err := v2.CreateConfigurationSetEventDestination(ctx, &sesv2.CreateConfigurationSetEventDestinationInput{
		ConfigurationSetName: aws.String(name), EventDestinationName: aws.String(dest),
		EventDestination: &v2types.EventDestinationDefinition{Enabled: true, MatchingEventTypes: types,
			SnsDestination: &v2types.SnsDestination{TopicArn: aws.String(topic)}}}); err != nil {
		t.Fatal(err)
	}
}
