package e2e

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	v2types "github.com/aws/aws-sdk-go-v2/service/sesv2/types"

	"sesame/internal/awsauth"
	"sesame/internal/testenv"
)

// TestEventsSurviveSubscriberOutageAndCrash: the subscriber is down (503)
// while 8 connections send, sesame is killed with SIGKILL mid-load and
// restarted, more mail is sent, then the subscriber comes back: every
// acknowledged message's Send and Delivery records reach it. Duplicates are
// allowed only for what was in flight at the kill, and are counted.
func TestEventsSurviveSubscriberOutageAndCrash(t *testing.T) {
	s := testenv.Start(t, testenv.Options{SMTPExtra: "max_messages_per_connection = 100000"})
	s.Verify("example.com")
	s.Production()
	ctx := context.Background()
	sub := newSNSSubscriber(t)
	topic := snsTopic(t, s, "crash-events", sub)
	v2 := s.SESv2Client(t)
	snsEventSet(t, v2, "crash", "sns", topic, v2types.EventTypeSend, v2types.EventTypeDelivery)
	// Every message from example.com goes with the set: its identity's default.
	if _, err := v2.PutEmailIdentityConfigurationSetAttributes(ctx, &sesv2.PutEmailIdentityConfigurationSetAttributesInput{
		EmailIdentity: aws.String("example.com"), ConfigurationSetName: aws.String("crash")}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the topic validation message", func() bool { return len(sub.notifications()) > 0 })
	time.Sleep(1100 * time.Millisecond) // settings reach the running server within a second
	sub.setDown(true)
	pw := awsauth.SMTPPassword(s.Secret, s.Regions[0])

	var mu sync.Mutex
	var acked []string
	var total atomic.Int64
	phase := func(until int64, kill bool) {
		stop := make(chan struct{})
		var wg sync.WaitGroup
		for range 8 {
			wg.Go(func() {
				smtpLoad(s.SMTP, s.KeyID, pw, "rcpt@example.net", stop, func(id string) {
					mu.Lock()
					acked = append(acked, id)
					mu.Unlock()
					total.Add(1)
				})
			})
		}
		waitFor(t, "the load", func() bool { return total.Load() >= until })
		if kill {
			s.Kill()
		}
		close(stop)
		wg.Wait()
	}
	phase(300, true)
	t.Logf("killed after %d acknowledged messages", total.Load())
	s.Restart()
	phase(total.Load()+100, false)
	sub.setDown(false)

	missing := func() int {
		n := sub.events(t)
		miss := 0
		mu.Lock()
		defer mu.Unlock()
		for _, id := range acked {
			if n[eventKey{"Send", id}] == 0 || n[eventKey{"Delivery", id}] == 0 {
				miss++
			}
		}
		return miss
	}
	// The subscriber's queue waits out the backoff it reached while down.
	waitForWithin(t, "every acknowledged message's events", 2*time.Minute, func() bool { return missing() == 0 })
	dups := 0
	for _, c := range sub.events(t) {
		dups += c - 1
	}
	t.Logf("%d acknowledged messages, %d notifications, %d duplicates", len(acked), len(sub.notifications())-1, dups)
	if dups > maxDupEventsPerKill {
		t.Errorf("%d duplicate notifications: more than what a kill leaves in flight", dups)
	}
}
