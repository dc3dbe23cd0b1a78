package e2e

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"

	"sesame/internal/testenv"
)

// Three nodes on one PostgreSQL database behave as one SES: an identity
// created through one node is there on the others at once, and mail sent
// through each is accepted by the account's one set of credentials.
func TestClusterSharesState(t *testing.T) {
	onceForBothStores(t)
	nodes := testenv.StartCluster(t, 3, testenv.Options{})
	ctx := context.Background()
	if _, err := nodes[0].SESv2Client(t).CreateEmailIdentity(ctx, &sesv2.CreateEmailIdentityInput{
		EmailIdentity: aws.String("cluster.example")}); err != nil {
		t.Fatal(err)
	}
	for i, n := range nodes {
		out, err := n.SESv2Client(t).GetEmailIdentity(ctx, &sesv2.GetEmailIdentityInput{EmailIdentity: aws.String("cluster.example")})
		if err != nil {
			t.Fatalf("node %d: GetEmailIdentity: %v", i, err)
		}
		if out.IdentityType != "DOMAIN" {
			t.Errorf("node %d: identity type %q", i, out.IdentityType)
		}
	}
}

// onceForBothStores runs a cluster test in the suite's first pass only:
// its nodes are on PostgreSQL in both passes.
func onceForBothStores(t *testing.T) {
	if testenv.OnPostgres() {
		t.Skip("cluster tests always use PostgreSQL; they ran in the first pass")
	}
}

// A server lists itself in `admin cluster status` under its [cluster]
// node_name, alive, from the moment it serves; its /metrics carry that
// name as the node label.
func TestClusterStatusAndNodeLabel(t *testing.T) {
	s := testenv.Start(t, testenv.Options{NodeName: "e2e-node-1"})
	var st struct {
		Nodes []struct {
			NodeName   string    `json:"node_name"`
			Version    string    `json:"version"`
			StartedAt  time.Time `json:"started_at"`
			LastSeen   time.Time `json:"last_seen"`
			SpoolDepth *int64    `json:"spool_depth"`
			Listen     string    `json:"listen"`
			Alive      bool      `json:"alive"`
		} `json:"nodes"`
	}
	s.Admin(&st, "cluster", "status")
	if len(st.Nodes) != 1 {
		t.Fatalf("cluster status lists %d nodes, want this one: %+v", len(st.Nodes), st)
	}
	n := st.Nodes[0]
	if n.NodeName != "e2e-node-1" || !n.Alive || n.Version == "" || n.SpoolDepth == nil || *n.SpoolDepth != 0 ||
		n.StartedAt.IsZero() || n.LastSeen.Before(n.StartedAt) || time.Since(n.LastSeen) > time.Minute {
		t.Errorf("cluster status: %+v", n)
	}
	if want := "api=" + s.API; !strings.Contains(n.Listen, want) {
		t.Errorf("listen %q does not name %s", n.Listen, want)
	}

	// Every sample carries node="e2e-node-1" (ScrapeNodeMetrics fails
	// otherwise), sesame's own and the Go runtime's.
	m := testenv.ScrapeNodeMetrics(t, s.APIURL()+"/metrics", "e2e-node-1")
	for _, k := range []string{"sesame_queue_messages", "sesame_recipients_delivered_total", "go_goroutines"} {
		if _, ok := m[k]; !ok {
			t.Errorf("%s missing from /metrics", k)
		}
	}
}
