package e2e

import (
	"context"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"sesame/internal/testenv"
)

// TestSNSWebhookBoto3 drives the real binary's SNS-compatible topics with
// boto3: a topic, an HTTP subscriber that confirms by GETting the
// SubscribeURL, and a published message the subscriber checks the
// signature of (fetching SigningCertURL, as the AWS SDK validators do).
func TestSNSWebhookBoto3(t *testing.T) {
	pythonModule(t, "boto3")
	s := testenv.Start(t, testenv.Options{})
	sub := newSNSSubscriber(t)

	scripts, err := filepath.Abs("scripts")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "/usr/bin/python3", filepath.Join(scripts, "sns_boto3.py"))
	cmd.Env = append(s.Env(t), "WEBHOOK="+sub.URL())
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("sns_boto3.py: %v\n%s", err, out)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	id := lines[len(lines)-1]
	waitFor(t, "the notification", func() bool { return len(sub.notifications()) > 0 })
	if m := sub.notifications()[0]; m["MessageId"] != id || m["Message"] != `{"eventType":"Delivery"}` || m["SignatureVersion"] != "2" ||
		m["Subject"] != "Amazon SES Email Event Notification" {
		t.Errorf("notification = %v, want MessageId %s", m, id)
	}
}
