package e2e

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	v2types "github.com/aws/aws-sdk-go-v2/service/sesv2/types"

	"sesame/internal/testenv"
)

// Two nodes on one database publish each SES event once: mail sent through
// both reaches an HTTP subscriber with one Send and one Delivery record per
// message, while both run; after node 0 (which started first, so holds the
// publisher's and the deliveries' leases) is killed, node 1 takes the work
// over and the events of the mail sent then arrive too, once each.
func TestClusterPublishesEventsOnce(t *testing.T) {
	onceForBothStores(t)
	nodes := testenv.StartCluster(t, 2, testenv.Options{})
	ctx := context.Background()
	nodes[0].Verify("example.com")
	nodes[0].Production()
	sub := newSNSSubscriber(t)
	topic := snsTopic(t, nodes[0], "cluster-events", sub)
	snsEventSet(t, nodes[0].SESv2Client(t), "cluster", "sns", topic, v2types.EventTypeSend, v2types.EventTypeDelivery)
	waitFor(t, "the topic validation message", func() bool { return len(sub.notifications()) > 0 })
	st := nodes[0].OpenStore() // a handle of the test's own: it outlives node 0
	before, err := st.LeaseOf(ctx, "publish-events")
	if err != nil {
		t.Fatalf("the publisher's lease: %v", err)
	}

	var sent []string
	send := func(n *testenv.Server, i int) {
		t.Helper()
		out, err := n.SESv2Client(t).SendEmail(ctx, &sesv2.SendEmailInput{FromEmailAddress: aws.String("sender@example.com"),
			Destination:          &v2types.Destination{ToAddresses: []string{"success@simulator.amazonses.com"}},
			ConfigurationSetName: aws.String("cluster"),
			Content: &v2types.EmailContent{Simple: &v2types.Message{Subject: &v2types.Content{Data: aws.String(fmt.Sprint("m", i))},
				Body: &v2types.Body{Text: &v2types.Content{Data: aws.String("Hello.")}}}}})
		if err != nil {
			t.Fatal(err)
		}
		sent = append(sent, aws.ToString(out.MessageId))
	}
	// exactlyOnce waits for each sent message's Send and Delivery records
	// and then checks none came twice.
	exactlyOnce := func(what string, within time.Duration) {
		t.Helper()
		arrived := func() bool {
			n := sub.events(t)
			for _, id := range sent {
				if n[eventKey{"Send", id}] == 0 || n[eventKey{"Delivery", id}] == 0 {
					return false
				}
			}
			return true
		}
		waitForWithin(t, what, within, arrived)
		// The deliveries are finished (deleted) once they arrived: nothing
		// is left for another node to deliver again.
		waitFor(t, "the finished deliveries deleted", func() bool {
			ds, err := st.SNSDeliveries(ctx, "", 0, 1<<62, 10)
			return err == nil && len(ds) == 0
		})
		for k, c := range sub.events(t) {
			if c != 1 {
				t.Errorf("%s of %s arrived %d times, want once", k.typ, k.id, c)
			}
		}
		if got, want := len(sub.events(t)), 2*len(sent); got != want {
			t.Errorf("%d events arrived, want %d", got, want)
		}
	}

	for i := range 20 {
		send(nodes[i%2], i)
	}
	exactlyOnce("the events of mail sent through both nodes", time.Minute)

	nodes[0].Kill()
	for i := range 20 {
		send(nodes[1], 20+i)
	}
	// Node 0's leases pass to node 1 once they expire.
	exactlyOnce("the events of mail sent after node 0 died", 2*time.Minute)
	after, err := st.LeaseOf(ctx, "publish-events")
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("publisher's lease: %s before the kill, %s after", before.Holder, after.Holder)
}
