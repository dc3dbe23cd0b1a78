package e2e

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	"github.com/aws/aws-sdk-go-v2/service/sesv2/types"

	"sesame/internal/testenv"
)

// clusterSender sends through every node of a cluster at once, with the
// SDK's retries off so each throttling answer is seen.
type clusterSender struct {
	t       *testing.T
	clients []*sesv2.Client
}

func newClusterSender(t *testing.T, nodes []*testenv.Server) *clusterSender {
	cs := &clusterSender{t: t}
	for _, n := range nodes {
		cs.clients = append(cs.clients, n.SESv2Client(t, func(o *sesv2.Options) { o.Retryer = aws.NopRetryer{} }))
	}
	return cs
}

// send sends one message to rcpt through node i: "ok", "daily", "rate", or
// the unexpected error's text.
func (cs *clusterSender) send(i int, rcpt string) string {
	_, err := cs.clients[i].SendEmail(context.Background(), &sesv2.SendEmailInput{
		FromEmailAddress: aws.String("sender@example.com"),
		Destination:      &types.Destination{ToAddresses: []string{rcpt}},
		Content: &types.EmailContent{Simple: &types.Message{
			Subject: &types.Content{Data: aws.String("quota")},
			Body:    &types.Body{Text: &types.Content{Data: aws.String("x")}},
		}},
	})
	switch {
	case err == nil:
		return "ok"
	case strings.Contains(err.Error(), "Daily message quota exceeded"):
		return "daily"
	case strings.Contains(err.Error(), "Maximum sending rate exceeded"):
		return "rate"
	default:
		return err.Error()
	}
}

// setLimits sets the account's limits through node 0 and waits until every
// node's API shows them. Call it before anything is sent: the nodes'
// sending caches then hold no older limits.
func setLimits(t *testing.T, nodes []*testenv.Server, rate, daily string) {
	t.Helper()
	n0 := nodes[0]
	n0.Verify("example.com")
	n0.Admin(nil, "account", "set", "--account", n0.Account, "--region", n0.Regions[0],
		"--production", "--max-send-rate", rate, "--max-24h-send", daily)
	for i, n := range nodes {
		c := n.SESv2Client(t)
		waitFor(t, fmt.Sprintf("node %d to see the new limits", i), func() bool {
			out, err := c.GetAccount(context.Background(), &sesv2.GetAccountInput{})
			return err == nil && out.SendQuota != nil &&
				fmt.Sprint(out.SendQuota.MaxSendRate) == rate && fmt.Sprint(out.SendQuota.Max24HourSend) == daily
		})
	}
}

// A 24-hour quota of 10 holds across three nodes sent through as fast as
// they take it: together they accept no more than 10 (the leases the
// database grants never add up to more), and not much less.
func TestClusterDailyQuota(t *testing.T) {
	onceForBothStores(t)
	nodes := testenv.StartCluster(t, 3, testenv.Options{})
	const quota = 10
	setLimits(t, nodes, "100000", fmt.Sprint(quota))
	// Nothing was sent before, so no node's sending cache holds the old
	// limits: the first sends read the new ones.

	cs := newClusterSender(t, nodes)
	var accepted atomic.Int64
	var wg sync.WaitGroup
	for i := range nodes {
		for w := range 4 {
			wg.Go(func() {
				for j := range 100 {
					switch got := cs.send(i, fmt.Sprintf("r%d-%d-%d@example.net", i, w, j)); got {
					case "ok":
						accepted.Add(1)
					case "daily":
						return
					default:
						t.Errorf("node %d: %s", i, got)
						return
					}
				}
			})
		}
	}
	wg.Wait()
	if got := accepted.Load(); got > quota || got < quota-2 {
		t.Errorf("accepted %d through 3 nodes with a 24-hour quota of %d; want %d..%d", got, quota, quota-2, quota)
	}
	// Every node reports the cluster's count once unused leases are back.
	for i, n := range nodes {
		c := n.SESv2Client(t)
		waitFor(t, fmt.Sprintf("node %d to report %d sent", i, accepted.Load()), func() bool {
			out, err := c.GetAccount(context.Background(), &sesv2.GetAccountInput{})
			return err == nil && out.SendQuota.SentLast24Hours == float64(accepted.Load())
		})
	}
}

// A max send rate of 5/s holds across three nodes: over T seconds they
// accept at most 5×(T+2) (one second's burst more than a single node).
func TestClusterSendRate(t *testing.T) {
	onceForBothStores(t)
	nodes := testenv.StartCluster(t, 3, testenv.Options{})
	const rate = 5
	setLimits(t, nodes, fmt.Sprint(rate), "-1")

	cs := newClusterSender(t, nodes)
	var accepted, refused atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	deadline := start.Add(3 * time.Second)
	for i := range nodes {
		for range 3 {
			wg.Go(func() {
				for time.Now().Before(deadline) {
					switch got := cs.send(i, "success@simulator.amazonses.com"); got {
					case "ok":
						accepted.Add(1)
					case "rate":
						refused.Add(1)
					default:
						t.Errorf("node %d: %s", i, got)
						return
					}
				}
			})
		}
	}
	wg.Wait()
	secs := time.Since(start).Seconds()
	hi := int64(rate * (secs + 2))
	lo := int64(rate * (secs - 1) * 0.5)
	if got := accepted.Load(); got > hi || got < lo {
		t.Errorf("accepted %d in %.1f s at %d/s through 3 nodes (%d refused); want %d..%d", got, secs, rate, refused.Load(), lo, hi)
	}
	t.Logf("accepted %d, refused %d in %.1f s", accepted.Load(), refused.Load(), secs)
	if refused.Load() == 0 {
		t.Error("nothing refused: the senders did not reach the rate")
	}
}
