package e2e

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	"github.com/aws/aws-sdk-go-v2/service/sesv2/types"

	"sesame/internal/awsauth"
	"sesame/internal/testenv"
	"sesame/internal/waitfor"
)

// Three nodes take SMTP load; one is killed with SIGKILL mid-load. The
// other two keep acknowledging; the killed node, restarted on its own data
// dir, delivers (captures, into the shared store) every message it had
// acknowledged; no message is captured twice.
func TestClusterNodeKilledUnderLoad(t *testing.T) {
	onceForBothStores(t)
	nodes := testenv.StartCluster(t, 3, testenv.Options{SMTPExtra: "max_messages_per_connection = 100000"})
	nodes[0].Verify("example.com")
	nodes[0].Production()
	// Each node sees the verified identity and production access (its
	// caches follow within a second) once it sends through its API.
	for i, n := range nodes {
		v2 := n.SESv2Client(t)
		waitfor.Within(t, fmt.Sprintf("node %d to send as example.com", i), 5*time.Second, func() bool {
			_, err := v2.SendEmail(context.Background(), &sesv2.SendEmailInput{
				FromEmailAddress: aws.String("sender@example.com"),
				Destination:      &types.Destination{ToAddresses: []string{"rcpt@example.net"}},
				Content:          simple("ready", "body", ""),
			})
			return err == nil
		})
	}
	pw := awsauth.SMTPPassword(nodes[0].Secret, nodes[0].Regions[0])

	var mu sync.Mutex
	acked := map[string]int{} // id → times acknowledged
	var perNode [3]atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	halt := sync.OnceFunc(func() { close(stop); wg.Wait() })
	defer halt()
	for i, n := range nodes {
		for range 3 {
			wg.Go(func() {
				smtpLoad(n.SMTP, n.KeyID, pw, "rcpt@example.net", stop, func(id string) {
					mu.Lock()
					acked[id]++
					mu.Unlock()
					perNode[i].Add(1)
				})
			})
		}
	}
	waitfor.Within(t, "100 messages acknowledged by node 1", time.Minute, func() bool { return perNode[1].Load() >= 100 })
	nodes[1].Kill() // mid-load: its sessions are in DATA, in the spool's commit
	killedAt := [3]int64{perNode[0].Load(), perNode[1].Load(), perNode[2].Load()}
	waitfor.Within(t, "100 more messages acknowledged by each of nodes 0 and 2 after the kill", time.Minute, func() bool {
		return perNode[0].Load() >= killedAt[0]+100 && perNode[2].Load() >= killedAt[2]+100
	})
	halt()
	t.Logf("node 1 killed after %d acknowledged; nodes 0 and 2 went on to %d and %d",
		perNode[1].Load(), perNode[0].Load(), perNode[2].Load())

	nodes[1].Restart()
	want := len(acked)
	for id, n := range acked {
		if n != 1 {
			t.Fatalf("id %s acknowledged %d times", id, n)
		}
	}
	capturedOnce(t, acked, nodes[0].WaitCaptured(want, 60*time.Second))
}
