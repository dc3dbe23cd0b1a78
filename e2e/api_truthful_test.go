package e2e

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/sesv2"

	"sesame/internal/testenv"
)

// The operations a self-hosted SES cannot make real answer as they are,
// through the aws CLI against the real binary: the Deliverability dashboard
// is disabled, there are no receipt rule sets until one is made (which
// TestReceiptRulesWithBoto3AndCLI does), enabling the dashboard says why it
// cannot be. Debian's CLI (2.9.19) predates
// export jobs, so ListExportJobs goes through the Go SDK.
func TestAPITruthfulAnswers(t *testing.T) {
	testenv.Tool(t, "/usr/bin/aws")
	s := startProduction(t, testenv.Options{})
	run := func(args ...string) (string, error) { return s.AWSCLI(t, args...) }
	decode := func(out string, v any) {
		t.Helper()
		if err := json.Unmarshal([]byte(out), v); err != nil {
			t.Fatalf("%v: %s", err, out)
		}
	}

	out, err := run("sesv2", "get-deliverability-dashboard-options")
	if err != nil {
		t.Fatalf("get-deliverability-dashboard-options: %v\n%s", err, out)
	}
	var dash map[string]any
	decode(out, &dash)
	if dash["DashboardEnabled"] != false || dash["AccountStatus"] != nil {
		t.Errorf("get-deliverability-dashboard-options = %s, want DashboardEnabled false and no AccountStatus", out)
	}

	out, err = run("ses", "list-receipt-rule-sets")
	if err != nil {
		t.Fatalf("list-receipt-rule-sets: %v\n%s", err, out)
	}
	var sets struct{ RuleSets []any }
	decode(out, &sets)
	if len(sets.RuleSets) != 0 {
		t.Errorf("list-receipt-rule-sets = %s, want none", out)
	}

	for _, tc := range []struct {
		args       []string
		code, text string
	}{
		{[]string{"sesv2", "put-deliverability-dashboard-option", "--dashboard-enabled"},
			"(BadRequestException)", ": sesame has no Deliverability dashboard"},
		{[]string{"ses", "describe-receipt-rule-set", "--rule-set-name", "inbound"},
			"(RuleSetDoesNotExist)", ": Rule set does not exist: inbound\n"},
	} {
		out, err := run(tc.args...)
		if err == nil || !strings.Contains(out, tc.code) || !strings.Contains(out, tc.text) {
			t.Errorf("aws %s: %v\n%s\nwant %s and %q", strings.Join(tc.args, " "), err, out, tc.code, tc.text)
		}
	}

	jobs, err := s.SESv2Client(t).ListExportJobs(context.Background(), &sesv2.ListExportJobsInput{})
	if err != nil || len(jobs.ExportJobs) != 0 {
		t.Errorf("ListExportJobs = %+v, %v; want an empty list", jobs, err)
	}
}
