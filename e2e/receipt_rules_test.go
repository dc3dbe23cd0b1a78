package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"sesame/internal/testenv"
)

// receiptFunction is the Lambda function the test config maps.
const receiptFunction = "arn:aws:lambda:us-east-1:123456789012:function:inbound"

// TestReceiptRulesWithBoto3AndCLI manages SES v1 receipt filters, rule sets
// and rules on the real binary with python3-boto3's ses client
// (e2e/scripts/receipt_rules_boto3.py) and with Debian's aws CLI: the whole
// lifecycle and SES's errors on the way. sesame has an [s3] endpoint (S3
// actions are accepted; nothing is written until mail arrives) and maps one
// Lambda function.
func TestReceiptRulesWithBoto3AndCLI(t *testing.T) {
	s := startProduction(t, testenv.Options{Extra: "[s3]\nendpoint = \"http://127.0.0.1:9\"\n" +
		"[receiving]\nfunctions = { \"" + receiptFunction + "\" = \"http://127.0.0.1:9/inbound\" }\n"})

	// The two clients share the account (and its one active rule set): one
	// after the other.
	t.Run("boto3", func(t *testing.T) {
		pythonModule(t, "boto3")
		script, err := filepath.Abs(filepath.Join("scripts", "receipt_rules_boto3.py"))
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, "/usr/bin/python3", script)
		cmd.Env = append(s.Env(t), "FUNCTION="+receiptFunction)
		out, err := cmd.CombinedOutput()
		if err != nil || !strings.HasSuffix(strings.TrimSpace(string(out)), "ok") {
			t.Fatalf("%s: %v\n%s", script, err, out)
		}
	})
	t.Run("awscli", func(t *testing.T) { receiptRulesCLI(t, s) })
}

func receiptRulesCLI(t *testing.T, s *testenv.Server) {
	aws := func(out any, args ...string) {
		t.Helper()
		text, err := s.AWSCLI(t, append([]string{"ses"}, args...)...)
		if err != nil {
			t.Fatalf("aws ses %s: %v\n%s", strings.Join(args, " "), err, text)
		}
		if out != nil {
			if err := json.Unmarshal([]byte(text), out); err != nil {
				t.Fatalf("aws ses %s: %v\n%s", strings.Join(args, " "), err, text)
			}
		}
	}
	refused := func(code, say string, args ...string) {
		t.Helper()
		text, err := s.AWSCLI(t, append([]string{"ses"}, args...)...)
		if err == nil || !strings.Contains(text, "("+code+")") || !strings.Contains(text, say) {
			t.Errorf("aws ses %s: %v %s; want %s saying %q", strings.Join(args, " "), err, text, code, say)
		}
	}
	topicOut, err := s.AWSCLI(t, "sns", "create-topic", "--name", "cli-inbound")
	if err != nil {
		t.Fatalf("create-topic: %v\n%s", err, topicOut)
	}
	var topic struct{ TopicArn string }
	if err := json.Unmarshal([]byte(topicOut), &topic); err != nil {
		t.Fatal(err)
	}

	// A bounce action's Sender must be a verified identity.
	const bouncer = "bounces-cli@example.com"
	aws(nil, "verify-email-identity", "--email-address", bouncer)
	followVerificationLink(t, s, bouncer)

	aws(nil, "create-receipt-filter", "--filter", "Name=cli-block,IpFilter={Policy=Block,Cidr=0.0.0.0/0}")
	aws(nil, "create-receipt-filter", "--filter", "Name=cli-allow,IpFilter={Policy=Allow,Cidr=127.0.0.1}")
	var filters struct {
		Filters []struct {
			Name     string
			IpFilter struct{ Policy, Cidr string }
		}
	}
	aws(&filters, "list-receipt-filters")
	if len(filters.Filters) != 2 || filters.Filters[0].Name != "cli-allow" || filters.Filters[0].IpFilter.Cidr != "127.0.0.1" ||
		filters.Filters[1].IpFilter.Policy != "Block" {
		t.Errorf("list-receipt-filters = %+v", filters)
	}
	refused("AlreadyExists", "Filter already exists: cli-block", "create-receipt-filter", "--filter", "Name=cli-block,IpFilter={Policy=Allow,Cidr=10.0.0.1}")

	aws(nil, "create-receipt-rule-set", "--rule-set-name", "cli-set")
	refused("AlreadyExists", "Rule set already exists: cli-set", "create-receipt-rule-set", "--rule-set-name", "cli-set")
	refused("InvalidParameterValue", "Not a valid ruleSetName: cli-set.", "create-receipt-rule-set", "--rule-set-name", "cli-set.")

	every := fmt.Sprintf(`{"Name":"every","Enabled":true,"TlsPolicy":"Require","ScanEnabled":true,"Recipients":["info@example.com"],
		"Actions":[{"AddHeaderAction":{"HeaderName":"X-Via","HeaderValue":"cli"}},
		{"S3Action":{"BucketName":"mail","ObjectKeyPrefix":"cli/"}},
		{"SNSAction":{"TopicArn":%q}},
		{"LambdaAction":{"FunctionArn":%q,"InvocationType":"RequestResponse","TopicArn":%[1]q}},
		{"BounceAction":{"SmtpReplyCode":"550","StatusCode":"5.1.1","Message":"No such user","Sender":%[3]q}},
		{"StopAction":{"Scope":"RuleSet"}}]}`, topic.TopicArn, receiptFunction, bouncer)
	aws(nil, "create-receipt-rule", "--rule-set-name", "cli-set", "--rule", every)
	aws(nil, "create-receipt-rule", "--rule-set-name", "cli-set", "--rule", `{"Name":"a"}`)
	aws(nil, "create-receipt-rule", "--rule-set-name", "cli-set", "--after", "every", "--rule", `{"Name":"b","Enabled":true}`)
	order := func(set string) []string {
		t.Helper()
		var d struct {
			Metadata struct{ Name, CreatedTimestamp string }
			Rules    []struct{ Name string }
		}
		aws(&d, "describe-receipt-rule-set", "--rule-set-name", set)
		var names []string
		for _, r := range d.Rules {
			names = append(names, r.Name)
		}
		return names
	}
	if got, want := order("cli-set"), []string{"a", "every", "b"}; !reflect.DeepEqual(got, want) {
		t.Errorf("rules = %q, want %q", got, want)
	}
	var rule struct{ Rule map[string]any }
	aws(&rule, "describe-receipt-rule", "--rule-set-name", "cli-set", "--rule-name", "every")
	var want map[string]any
	if err := json.Unmarshal([]byte(every), &want); err != nil {
		t.Fatal(err)
	}
	want["Actions"].([]any)[2].(map[string]any)["SNSAction"].(map[string]any)["Encoding"] = "UTF-8"
	if !reflect.DeepEqual(rule.Rule, want) {
		t.Errorf("describe-receipt-rule = %v\nwant %v", rule.Rule, want)
	}
	refused("InvalidParameterValue", "sesame does not support WorkmailAction", "create-receipt-rule", "--rule-set-name", "cli-set",
		"--rule", `{"Name":"wm","Actions":[{"WorkmailAction":{"OrganizationArn":"arn:aws:workmail:us-east-1:123456789012:organization/m-1"}}]}`)
	// Debian's aws CLI model has no ConnectAction (internal/api's tests
	// refuse it with the Go SDK).
	refused("AlreadyExists", "Rule already exists: a", "create-receipt-rule", "--rule-set-name", "cli-set", "--rule", `{"Name":"a"}`)
	refused("ValidationError", "regular expression pattern", "create-receipt-rule", "--rule-set-name", "cli-set", "--rule", `{"Name":"a b"}`)

	aws(nil, "clone-receipt-rule-set", "--rule-set-name", "cli-copy", "--original-rule-set-name", "cli-set")
	aws(nil, "reorder-receipt-rule-set", "--rule-set-name", "cli-set", "--rule-names", "b", "a", "every")
	if got, want := order("cli-set"), []string{"b", "a", "every"}; !reflect.DeepEqual(got, want) {
		t.Errorf("after reorder: %q, want %q", got, want)
	}
	refused("InvalidParameterValue", "Positions for rules not found: every", "reorder-receipt-rule-set", "--rule-set-name", "cli-set", "--rule-names", "b", "a")
	aws(nil, "set-receipt-rule-position", "--rule-set-name", "cli-set", "--rule-name", "b", "--after", "every")
	if got, want := order("cli-set"), []string{"a", "every", "b"}; !reflect.DeepEqual(got, want) {
		t.Errorf("after set-receipt-rule-position: %q, want %q", got, want)
	}
	if got, want := order("cli-copy"), []string{"a", "every", "b"}; !reflect.DeepEqual(got, want) {
		t.Errorf("clone: %q, want %q", got, want)
	}

	aws(nil, "set-active-receipt-rule-set", "--rule-set-name", "cli-set")
	var active struct {
		Metadata struct{ Name string }
		Rules    []struct{ Name string }
	}
	aws(&active, "describe-active-receipt-rule-set")
	if active.Metadata.Name != "cli-set" || len(active.Rules) != 3 {
		t.Errorf("describe-active-receipt-rule-set = %+v", active)
	}
	refused("CannotDelete", "Cannot delete active rule set: cli-set", "delete-receipt-rule-set", "--rule-set-name", "cli-set")

	aws(nil, "update-receipt-rule", "--rule-set-name", "cli-set", "--rule", `{"Name":"a","Enabled":true,"TlsPolicy":"Require"}`)
	aws(&rule, "describe-receipt-rule", "--rule-set-name", "cli-set", "--rule-name", "a")
	if rule.Rule["Enabled"] != true || rule.Rule["TlsPolicy"] != "Require" {
		t.Errorf("after update: %v", rule.Rule)
	}
	aws(nil, "delete-receipt-rule", "--rule-set-name", "cli-set", "--rule-name", "b")
	aws(nil, "delete-receipt-rule", "--rule-set-name", "cli-set", "--rule-name", "b")
	refused("RuleDoesNotExist", "Rule does not exist: b", "describe-receipt-rule", "--rule-set-name", "cli-set", "--rule-name", "b")

	var sets struct {
		RuleSets []struct{ Name, CreatedTimestamp string }
	}
	aws(&sets, "list-receipt-rule-sets")
	if len(sets.RuleSets) != 2 || sets.RuleSets[0].Name != "cli-copy" || sets.RuleSets[1].CreatedTimestamp == "" {
		t.Errorf("list-receipt-rule-sets = %+v", sets)
	}

	// Deactivate (no name), then delete everything.
	aws(nil, "set-active-receipt-rule-set")
	text, err := s.AWSCLI(t, "ses", "describe-active-receipt-rule-set")
	if err != nil || strings.Contains(text, "Metadata") {
		t.Errorf("describe-active-receipt-rule-set after deactivation: %v %s", err, text)
	}
	for _, set := range []string{"cli-set", "cli-copy"} {
		aws(nil, "delete-receipt-rule-set", "--rule-set-name", set)
	}
	for _, f := range []string{"cli-block", "cli-allow"} {
		aws(nil, "delete-receipt-filter", "--filter-name", f)
	}
	aws(&sets, "list-receipt-rule-sets")
	if len(sets.RuleSets) != 0 {
		t.Errorf("after deletion: %+v", sets)
	}
}
