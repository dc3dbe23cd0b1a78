// Command eventsink is the events benchmark's HTTP subscriber (bench/events.sh).
//
//	eventsink -listen 127.0.0.1:3790 -endpoint http://127.0.0.1:3787 -key AKIA… -secret … -region us-east-1
//
// It sets sesame up for the benchmark through sesame's SNS and SES v2 APIs
// (a topic it subscribes itself to, a configuration set "bench-all" whose
// SNS destination takes every event type, an empty set "bench-none", and
// example.com's default configuration set), confirms its subscription as an
// application would (GET SubscribeURL), and counts the notifications it
// receives, with each event's latency: arrival minus the event's own time
// (mail.timestamp for Send, the type's timestamp for the others). It does not
// verify signatures (the e2e tests do); the bench measures throughput.
//
// Control over HTTP on the same listener:
//
//	GET  /stats           {"count":N,"p50_ms":…,"p99_ms":…,"max_ms":…} since the last reset
//	POST /reset           forget the counts
//	POST /down?on=1|0     answer 503 to notifications (a subscriber that is away)
//	POST /use?set=NAME    make NAME example.com's default configuration set
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	v2types "github.com/aws/aws-sdk-go-v2/service/sesv2/types"
	"github.com/aws/aws-sdk-go-v2/service/sns"
)

type sink struct {
	v2 *sesv2.Client

	mu        sync.Mutex
	latencies []time.Duration
	down      atomic.Bool
	confirmed chan struct{}
	once      sync.Once
}

func main() {
	listen := flag.String("listen", "127.0.0.1:3790", "`host:port` to serve the subscriber and its controls on")
	endpoint := flag.String("endpoint", "http://127.0.0.1:3787", "sesame's API `URL`")
	key := flag.String("key", "", "access key id")
	secret := flag.String("secret", "", "secret access key")
	region := flag.String("region", "us-east-1", "region")
	flag.Parse()
	cfg := aws.Config{Region: *region, BaseEndpoint: endpoint, RetryMaxAttempts: 1,
		Credentials: credentials.NewStaticCredentialsProvider(*key, *secret, "")}
	s := &sink{v2: sesv2.NewFromConfig(cfg), confirmed: make(chan struct{})}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /sns", s.notification)
	mux.HandleFunc("GET /stats", s.stats)
	mux.HandleFunc("POST /reset", func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.latencies = s.latencies[:0]
		s.mu.Unlock()
	})
	mux.HandleFunc("POST /down", func(w http.ResponseWriter, r *http.Request) { s.down.Store(r.URL.Query().Get("on") == "1") })
	mux.HandleFunc("POST /use", func(w http.ResponseWriter, r *http.Request) {
		if err := s.use(r.Context(), r.URL.Query().Get("set")); err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
		}
	})
	srv := &http.Server{Addr: *listen, Handler: mux}
	go func() { log.Fatal(srv.ListenAndServe()) }()
	if err := s.setup(context.Background(), sns.NewFromConfig(cfg), "http://"+*listen+"/sns"); err != nil {
		log.Fatalf("eventsink: setup: %v", err)
	}
	fmt.Println("ready")
	select {}
}

// setup makes the topic, the subscription (confirmed), the two sets and
// example.com's default set (bench-none).
func (s *sink) setup(ctx context.Context, c *sns.Client, url string) error {
	topic, err := c.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String("bench-events")})
	if err != nil {
		return err
	}
	if _, err := c.Subscribe(ctx, &sns.SubscribeInput{TopicArn: topic.TopicArn, Protocol: aws.String("http"), Endpoint: aws.String(url)}); err != nil {
		return err
	}
	select {
	case <-s.confirmed:
	case <-time.After(30 * time.Second):
		return fmt.Errorf("no subscription confirmation")
	}
	for _, name := range []string{"bench-all", "bench-none"} {
		if _, err := s.v2.CreateConfigurationSet(ctx, &sesv2.CreateConfigurationSetInput{ConfigurationSetName: aws.String(name)}); err != nil {
			return err
		}
	}
	all := []v2types.EventType{v2types.EventTypeSend, v2types.EventTypeReject, v2types.EventTypeBounce, v2types.EventTypeComplaint,
		v2types.EventTypeDelivery, v2types.EventTypeOpen, v2types.EventTypeClick, v2types.EventTypeRenderingFailure,
		v2types.EventTypeDeliveryDelay}
	if _, err := s.v2.CreateConfigurationSetEventDestination(ctx, &sesv2.CreateConfigurationSetEventDestinationInput{
		ConfigurationSetName: aws.String("bench-all"), EventDestinationName: aws.String("sink"),
		EventDestination: &v2types.EventDestinationDefinition{Enabled: true, MatchingEventTypes: all,
			SnsDestination: &v2types.SnsDestination{TopicArn: topic.TopicArn}}}); err != nil {
		return err
	}
	return s.use(ctx, "bench-none")
}

func (s *sink) use(ctx context.Context, set string) error {
	_, err := s.v2.PutEmailIdentityConfigurationSetAttributes(ctx, &sesv2.PutEmailIdentityConfigurationSetAttributesInput{
		EmailIdentity: aws.String("example.com"), ConfigurationSetName: aws.String(set)})
	return err
}

// envelope is what the sink reads of SNS's envelope.
type envelope struct {
	Type, Message, SubscribeURL string
}

// eventTime is an event record's own time: the Delivery's timestamp, or
// else the mail's. The sink shares the machine with sesame, so it reads
// the record by looking for the fields rather than decoding all of it:
// what it costs is not publishing's cost.
func eventTime(rec string) (time.Time, bool) {
	if !strings.Contains(rec, `"eventType":"`) {
		return time.Time{}, false // the topic validation message
	}
	for _, key := range []string{`"delivery":{"timestamp":"`, `"mail":{"timestamp":"`} {
		if i := strings.Index(rec, key); i >= 0 {
			v := rec[i+len(key):]
			if j := strings.IndexByte(v, '"'); j > 0 {
				t, err := time.Parse(time.RFC3339Nano, v[:j])
				return t, err == nil
			}
		}
	}
	return time.Time{}, false
}

func (s *sink) notification(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	var m envelope
	if err := json.Unmarshal(body, &m); err != nil {
		http.Error(w, "not JSON", http.StatusBadRequest)
		return
	}
	switch m.Type {
	case "SubscriptionConfirmation":
		resp, err := http.Get(m.SubscribeURL)
		if err != nil {
			log.Printf("eventsink: confirm: %v", err)
			return
		}
		resp.Body.Close()
		s.once.Do(func() { close(s.confirmed) })
		return
	case "Notification":
	default:
		return
	}
	if s.down.Load() {
		w.WriteHeader(http.StatusServiceUnavailable)
		return
	}
	at, ok := eventTime(m.Message)
	if !ok {
		return
	}
	lat := time.Since(at)
	s.mu.Lock()
	s.latencies = append(s.latencies, lat)
	s.mu.Unlock()
}

func (s *sink) stats(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	l := slices.Clone(s.latencies)
	s.mu.Unlock()
	slices.Sort(l)
	q := func(p float64) float64 {
		if len(l) == 0 {
			return 0
		}
		return float64(l[min(len(l)-1, int(p*float64(len(l))))].Microseconds()) / 1000
	}
	json.NewEncoder(w).Encode(map[string]any{"count": len(l), "p50_ms": q(0.5), "p99_ms": q(0.99), "max_ms": q(1)})
}
