package e2e

import (
	"context"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"sesame/internal/testenv"
)

// TestEventDestinationsScript configures event destinations and identity
// notifications with boto3 against the real binary, reading them back
// through v1 and v2 (e2e/scripts/event_destinations.py).
func TestEventDestinationsScript(t *testing.T) {
	pythonModule(t, "boto3")
	s := startProduction(t, testenv.Options{})
	script, err := filepath.Abs(filepath.Join("scripts", "event_destinations.py"))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "/usr/bin/python3", script)
	cmd.Env = append(s.Env(t), "TAG=boto3")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s: %v\n%s", script, err, out)
	}
	t.Logf("%s", out)
}
