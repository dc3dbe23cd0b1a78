package e2e

import (
	"context"
	"os/exec"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/ses"

	"sesame/internal/testenv"
)

// A request signed for a region the server does not serve gets AWS's code
// and a message saying how to add the region, through the aws CLI (SES v2,
// JSON) and the Go SDK (SES v1, Query XML).
func TestAPIUnknownRegionSaysHowToAddIt(t *testing.T) {
	testenv.Tool(t, "/usr/bin/aws")
	s := testenv.Start(t, testenv.Options{})
	const advice = "Region eu-central-1 is not served by this sesame; add it to `regions` in the configuration."

	cmd := exec.Command("/usr/bin/aws", "sesv2", "get-account", "--region", "eu-central-1", "--endpoint-url", s.APIURL())
	cmd.Env = s.Env(t)
	out, err := cmd.CombinedOutput()
	if err == nil {
		t.Fatalf("aws sesv2 get-account in eu-central-1 succeeded: %s", out)
	}
	if !strings.Contains(string(out), "(SignatureDoesNotMatch)") || !strings.Contains(string(out), advice) {
		t.Errorf("aws CLI said:\n%s\nwant SignatureDoesNotMatch and %q", out, advice)
	}

	_, err = s.SESClient(t, func(o *ses.Options) { o.Region = "eu-central-1" }).GetSendQuota(context.Background(), &ses.GetSendQuotaInput{})
	if err == nil || !strings.Contains(err.Error(), "SignatureDoesNotMatch") || !strings.Contains(err.Error(), advice) {
		t.Errorf("SES v1 GetSendQuota in eu-central-1: %v", err)
	}
}
