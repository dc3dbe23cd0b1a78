package e2e

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	"github.com/aws/aws-sdk-go-v2/service/sesv2/types"

	"sesame/internal/testenv"
	"sesame/internal/waitfor"
)

// `sesame admin` pausing an account through one node is obeyed by another
// node within a second, though that node has the account's settings
// cached: the store announces the change (PostgreSQL NOTIFY) and the
// other node drops its copy.
func TestClusterPauseReachesOtherNodes(t *testing.T) {
	onceForBothStores(t)
	nodes := testenv.StartCluster(t, 2, testenv.Options{})
	nodes[0].Verify("cluster.example")
	nodes[0].Production()
	ctx := context.Background()
	other := nodes[1].SESv2Client(t)
	send := func() error {
		_, err := other.SendEmail(ctx, &sesv2.SendEmailInput{
			FromEmailAddress: aws.String("sender@cluster.example"),
			Destination:      &types.Destination{ToAddresses: []string{"success@simulator.amazonses.com"}},
			Content: &types.EmailContent{Simple: &types.Message{
				Subject: &types.Content{Data: aws.String("pause")},
				Body:    &types.Body{Text: &types.Content{Data: aws.String("x")}},
			}},
		})
		return err
	}
	// Node 1 caches the settings as it admits this message.
	waitfor.True(t, "node 1 to accept mail before the pause", func() bool { return send() == nil })

	nodes[0].Admin(nil, "account", "set", "--account", nodes[0].Account, "--region", nodes[0].Regions[0],
		"--sending-enabled=false")
	var paused *types.SendingPausedException
	waitfor.Within(t, "node 1 to refuse the paused account", time.Second, func() bool {
		return errors.As(send(), &paused)
	})
}
