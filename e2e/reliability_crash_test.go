package e2e

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
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

// reliabilityFigures are the sizes of the crash run: the short form runs in
// `go test ./...`; SESAME_RELIABILITY_LONG=1 runs the long form
// (docs/reliability.md has both runs' figures). SESAME_RELIABILITY_KILLS
// overrides the number of kills.
func reliabilityFigures() (kills, smtpConns, apiSenders, maxAcksPerRound int) {
	kills, smtpConns, apiSenders, maxAcksPerRound = 20, 3, 2, 40
	if os.Getenv("SESAME_RELIABILITY_LONG") == "1" {
		kills, smtpConns, apiSenders, maxAcksPerRound = 100, 12, 6, 400
	}
	if n, err := strconv.Atoi(os.Getenv("SESAME_RELIABILITY_KILLS")); err == nil && n > 0 {
		kills = n
	}
	return
}

// TestReliabilityCrashMixedLoad: SMTP sessions and API callers send while
// sesame delivers to a sink MX and publishes Send and Delivery events to an
// SNS HTTP subscriber; the process is killed with SIGKILL at a random
// moment (after a random number of acknowledgements plus a random delay) at
// least 20 times and started again each time — the spool and the store must
// open cleanly every time. At the end every acknowledged message has reached
// the MX and has its Send and Delivery events; a message reaches the MX more
// than once only when it was in flight at a kill (delivered, but killed
// before the spool recorded it), and those duplicates are counted and bounded.
func TestReliabilityCrashMixedLoad(t *testing.T) {
	kills, smtpConns, apiSenders, maxAcks := reliabilityFigures()
	started := time.Now()
	d := testenv.StartDNS(t)
	sinks, port := testenv.StartSinks(t, testenv.SinkOptions{})
	d.SetA("mx2.test", "127.0.0.2")
	d.SetMX("a.test", 10, "mx2.test")
	d.SetMX("example.com", 10, "mx2.test")
	s := startMXServer(t, d, port)
	s.Verify("example.com")
	ctx := context.Background()
	sub := newSNSSubscriber(t)
	topic := snsTopic(t, s, "crash-mixed", sub)
	v2 := s.SESv2Client(t)
	snsEventSet(t, v2, "mixed", "sns", topic, v2types.EventTypeSend, v2types.EventTypeDelivery)
	if _, err := v2.PutEmailIdentityConfigurationSetAttributes(ctx, &sesv2.PutEmailIdentityConfigurationSetAttributesInput{
		EmailIdentity: aws.String("example.com"), ConfigurationSetName: aws.String("mixed")}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the topic validation message", func() bool { return len(sub.notifications()) > 0 })
	time.Sleep(1100 * time.Millisecond) // settings reach the running server within a second
	pw := awsauth.SMTPPassword(s.Secret, s.Regions[0])

	var (
		mu    sync.Mutex
		acked = map[string]int{} // message id → times acknowledged (must be 1)
		total atomic.Int64
	)
	ack := func(id string) {
		mu.Lock()
		acked[id]++
		mu.Unlock()
		total.Add(1)
	}
	// round runs the mixed load until `until` acknowledgements, then, if
	// kill, waits a random few milliseconds more and kills the process.
	round := func(until int64, kill bool, rng *rand.Rand) {
		stop := make(chan struct{})
		var wg sync.WaitGroup
		for i := range smtpConns {
			wg.Go(func() { smtpLoad(s.SMTP, s.KeyID, pw, fmt.Sprintf("smtp%d@a.test", i), stop, ack) })
		}
		cl := s.SESv2Client(t)
		for i := range apiSenders {
			wg.Go(func() { apiLoad(cl, i, stop, ack) })
		}
		waitForWithin(t, "the load", time.Minute, func() bool { return total.Load() >= until })
		if kill {
			time.Sleep(time.Duration(rng.IntN(150)) * time.Millisecond) // a random moment, not an ack boundary
			s.Kill()
		}
		close(stop)
		wg.Wait()
	}
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d (kill moments)", seed)
	rng := rand.New(rand.NewPCG(seed, 1))
	for k := range kills {
		round(total.Load()+1+int64(rng.IntN(maxAcks)), true, rng)
		s.Restart() // fails the test if the spool or the store do not open
		for _, l := range s.Stderr.Lines() {
			if strings.Contains(l, "level=ERROR") || strings.Contains(l, "panic") {
				t.Errorf("after kill %d: %s", k+1, l)
			}
		}
	}
	round(total.Load()+int64(maxAcks), false, rng)
	want := int(total.Load())
	for id, n := range acked {
		if n != 1 {
			t.Fatalf("id %s acknowledged %d times", id, n)
		}
	}

	delivered := func() map[string]int {
		n := map[string]int{}
		for _, m := range sinks[0].Messages() {
			n[messageIDOf(m.Data)]++
		}
		return n
	}
	untilDone(t, "acknowledged messages not at the MX", func() int {
		got, miss := delivered(), 0
		for id := range acked {
			if got[id] == 0 {
				miss++
			}
		}
		return miss
	})
	untilDone(t, "acknowledged messages without their Send and Delivery events", func() int {
		got, miss := sub.events(t), 0
		for id := range acked {
			if got[eventKey{"Send", id}] == 0 || got[eventKey{"Delivery", id}] == 0 {
				miss++
			}
		}
		return miss
	})
	dupMX, unacked := 0, 0
	for id, c := range delivered() {
		dupMX += c - 1
		if acked[id] == 0 {
			unacked++ // committed, but its 250 / MessageId was cut by a kill
		}
	}
	dupEv := 0
	for _, c := range sub.events(t) {
		dupEv += c - 1
	}
	t.Logf("%d kills in %v: %d acknowledged (SMTP+API), %d delivered to the MX (%d duplicate deliveries, %d committed but unacknowledged), %d duplicate event notifications",
		kills, time.Since(started).Round(time.Second), want, len(sinks[0].Messages()), dupMX, unacked, dupEv)
	// What a kill can leave in flight: the deliveries under way (their done
	// records not yet committed: ~6 a kill in the short form, ~46 in the long
	// one with its 18 senders) and maxDupEventsPerKill notifications.
	if mxLimit, evLimit := kills*100, kills*maxDupEventsPerKill; dupMX > mxLimit || dupEv > evLimit {
		t.Errorf("%d duplicate deliveries, %d duplicate events after %d kills: more than in-flight work explains (%d, %d)",
			dupMX, dupEv, kills, mxLimit, evLimit)
	}
}

// apiLoad sends with SESv2 SendEmail until stop closes or a call fails (the
// process was killed); each MessageId is acknowledged.
func apiLoad(cl *sesv2.Client, worker int, stop <-chan struct{}, acked func(string)) {
	for n := 0; ; n++ {
		select {
		case <-stop:
			return
		default:
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		out, err := cl.SendEmail(ctx, &sesv2.SendEmailInput{
			FromEmailAddress: aws.String("api@example.com"),
			Destination:      &v2types.Destination{ToAddresses: []string{fmt.Sprintf("api%d@a.test", worker)}},
			Content:          simple(fmt.Sprintf("api %d/%d", worker, n), "crash body", ""),
		})
		cancel()
		if err != nil {
			return
		}
		acked(aws.ToString(out.MessageId))
	}
}

// maxDupEventsPerKill bounds the notifications a SIGKILL may make SNS post
// again: those posted since the outbox last deleted what was published
// (internal/sns flushBatch, 256, or a tick), plus those being posted.
const maxDupEventsPerKill = 256 + 50

// untilDone waits until missing() is 0. It fails when the count has not
// gone down for two minutes — lost, not slow: on a loaded machine the queue
// and the outbox may take long, but they make progress — and says how many
// were left.
func untilDone(t *testing.T, what string, missing func() int) {
	t.Helper()
	best, since := missing(), time.Now()
	for best > 0 {
		if time.Since(since) > 2*time.Minute {
			t.Fatalf("%d %s, no progress for 2 minutes", best, what)
		}
		time.Sleep(100 * time.Millisecond)
		if n := missing(); n < best {
			best, since = n, time.Now()
		}
	}
}
