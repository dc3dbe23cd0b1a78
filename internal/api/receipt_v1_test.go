package api

import (
	"context"
	"fmt"
	"html"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ses"
	v1types "github.com/aws/aws-sdk-go-v2/service/ses/types"

	"sesame/internal/clock"
	"sesame/internal/sending"
	"sesame/internal/store"
)

const (
	testTopic    = "arn:aws:sns:eu-west-1:%s:inbound"
	testFunction = "arn:aws:lambda:eu-west-1:123456789012:function:inbound"
)

// topicSet is the SNS topics that exist (Config.Topics).
type topicSet map[string]bool

func (t topicSet) TopicExists(ctx context.Context, arn string) (bool, error) { return t[arn], nil }

// newReceiptEnv is an acctEnv whose server knows one SNS topic, one
// Lambda function and has an object store.
func newReceiptEnv(t *testing.T) (*acctEnv, string) {
	t.Helper()
	st, err := store.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	acct, key, err := st.CreateAccount(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	// Bounce actions send as example.com: a verified identity.
	if err := st.PutIdentity(context.Background(), store.Identity{AccountID: acct.ID, Region: "eu-west-1",
		Name: "example.com", Status: store.StatusSuccess}); err != nil {
		t.Fatal(err)
	}
	topic := fmt.Sprintf(testTopic, acct.ID)
	clk := clock.NewFake(time.Now())
	// The sender decides whether a bounce action's Sender is verified.
	sender := sending.New(sending.Config{Store: st, Clock: clk, Logger: quiet()})
	t.Cleanup(func() { sender.Close() })
	srv := New(Config{Store: st, Sender: sender, Regions: []string{"eu-west-1", "us-east-1"}, Clock: clk,
		Topics:             topicSet{topic: true},
		ReceivingFunctions: map[string]string{testFunction: "http://127.0.0.1:9/"},
		ReceivingS3:        true})
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(hs.Close)
	e := &acctEnv{st: st, srv: srv, url: hs.URL, clk: clk, acct: acct.ID, region: "eu-west-1",
		creds: aws.Credentials{AccessKeyID: key.ID, SecretAccessKey: key.Secret}}
	e.v2, e.v1 = e.clients(e.region)
	return e, topic
}

func TestReceiptFiltersV1(t *testing.T) {
	t.Parallel()
	e, _ := newReceiptEnv(t)
	ctx := context.Background()
	filter := func(name string, policy v1types.ReceiptFilterPolicy, cidr string) error {
		_, err := e.v1.CreateReceiptFilter(ctx, &ses.CreateReceiptFilterInput{Filter: &v1types.ReceiptFilter{
			Name: aws.String(name), IpFilter: &v1types.ReceiptIpFilter{Policy: policy, Cidr: aws.String(cidr)}}})
		return err
	}
	if err := filter("block-all", v1types.ReceiptFilterPolicyBlock, "0.0.0.0/0"); err != nil {
		t.Fatal(err)
	}
	if err := filter("allow-local", v1types.ReceiptFilterPolicyAllow, "127.0.0.1"); err != nil {
		t.Fatal(err)
	}
	list, err := e.v1.ListReceiptFilters(ctx, &ses.ListReceiptFiltersInput{})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, f := range list.Filters {
		got = append(got, aws.ToString(f.Name)+" "+string(f.IpFilter.Policy)+" "+aws.ToString(f.IpFilter.Cidr))
	}
	if want := []string{"allow-local Allow 127.0.0.1", "block-all Block 0.0.0.0/0"}; !reflect.DeepEqual(got, want) {
		t.Errorf("ListReceiptFilters = %q, want %q", got, want)
	}
	checkRefusals(t, []refusal{
		{"duplicate", func() error { return filter("block-all", v1types.ReceiptFilterPolicyAllow, "10.0.0.0/8") },
			"AlreadyExists", "Filter already exists: block-all"},
		{"bad CIDR", func() error { return filter("f1", v1types.ReceiptFilterPolicyAllow, "10.0.0.0/33") },
			"InvalidParameterValue", "Invalid CIDR block: 10.0.0.0/33"},
		{"mapped IPv6", func() error { return filter("f1", v1types.ReceiptFilterPolicyAllow, "::ffff:10.0.0.1") },
			"InvalidParameterValue", "Invalid CIDR block"},
		{"bad policy", func() error { return filter("f1", "Deny", "10.0.0.1") },
			"ValidationError", "Member must satisfy enum value set: [Allow, Block]"},
		{"bad name", func() error { return filter("-f1", v1types.ReceiptFilterPolicyAllow, "10.0.0.1") },
			"InvalidParameterValue", "Not a valid filterName: -f1"},
	})
	for i := range 98 {
		if err := filter(fmt.Sprintf("f%d", i), v1types.ReceiptFilterPolicyAllow, "2001:db8::/32"); err != nil {
			t.Fatal(err)
		}
	}
	checkRefusals(t, []refusal{{"the 101st", func() error { return filter("one-more", v1types.ReceiptFilterPolicyAllow, "10.0.0.1") },
		"LimitExceeded", "Too many filters"}})
	for range 2 { // deleting what is not there succeeds, as SES answers
		if _, err := e.v1.DeleteReceiptFilter(ctx, &ses.DeleteReceiptFilterInput{FilterName: aws.String("block-all")}); err != nil {
			t.Fatal(err)
		}
	}
	if list, err := e.v1.ListReceiptFilters(ctx, &ses.ListReceiptFiltersInput{}); err != nil || len(list.Filters) != 99 {
		t.Errorf("after delete: %d filters, %v; want 99", len(list.Filters), err)
	}
}

func TestReceiptRuleSetsV1(t *testing.T) {
	t.Parallel()
	e, _ := newReceiptEnv(t)
	ctx := context.Background()
	create := func(name string) error {
		_, err := e.v1.CreateReceiptRuleSet(ctx, &ses.CreateReceiptRuleSetInput{RuleSetName: aws.String(name)})
		return err
	}
	if err := create("main"); err != nil {
		t.Fatal(err)
	}
	created := e.clk.Now()
	if _, err := e.v1.CreateReceiptRule(ctx, &ses.CreateReceiptRuleInput{RuleSetName: aws.String("main"),
		Rule: &v1types.ReceiptRule{Name: aws.String("r1"), Enabled: true}}); err != nil {
		t.Fatal(err)
	}
	active, err := e.v1.DescribeActiveReceiptRuleSet(ctx, &ses.DescribeActiveReceiptRuleSetInput{})
	if err != nil || active.Metadata != nil || active.Rules != nil {
		t.Errorf("DescribeActiveReceiptRuleSet with none active = %+v, %v; want an empty result", active, err)
	}
	e.clk.Advance(time.Minute)
	if _, err := e.v1.CloneReceiptRuleSet(ctx, &ses.CloneReceiptRuleSetInput{RuleSetName: aws.String("copy"),
		OriginalRuleSetName: aws.String("main")}); err != nil {
		t.Fatal(err)
	}
	d, err := e.v1.DescribeReceiptRuleSet(ctx, &ses.DescribeReceiptRuleSetInput{RuleSetName: aws.String("copy")})
	if err != nil || aws.ToString(d.Metadata.Name) != "copy" || !d.Metadata.CreatedTimestamp.Equal(created.Add(time.Minute).Truncate(time.Millisecond)) ||
		len(d.Rules) != 1 || aws.ToString(d.Rules[0].Name) != "r1" || !d.Rules[0].Enabled || d.Rules[0].TlsPolicy != v1types.TlsPolicyOptional {
		t.Errorf("DescribeReceiptRuleSet(copy) = %+v, %v; want r1 copied, created a minute later", d, err)
	}
	list, err := e.v1.ListReceiptRuleSets(ctx, &ses.ListReceiptRuleSetsInput{})
	if err != nil || len(list.RuleSets) != 2 || aws.ToString(list.RuleSets[0].Name) != "copy" ||
		aws.ToString(list.RuleSets[1].Name) != "main" || list.NextToken != nil {
		t.Errorf("ListReceiptRuleSets = %+v, %v", list, err)
	}

	if _, err := e.v1.SetActiveReceiptRuleSet(ctx, &ses.SetActiveReceiptRuleSetInput{RuleSetName: aws.String("main")}); err != nil {
		t.Fatal(err)
	}
	active, err = e.v1.DescribeActiveReceiptRuleSet(ctx, &ses.DescribeActiveReceiptRuleSetInput{})
	if err != nil || aws.ToString(active.Metadata.Name) != "main" || len(active.Rules) != 1 {
		t.Errorf("DescribeActiveReceiptRuleSet = %+v, %v; want main with r1", active, err)
	}
	for i := range 38 {
		if err := create(fmt.Sprintf("set-%02d", i)); err != nil {
			t.Fatal(err)
		}
	}
	checkRefusals(t, []refusal{
		{"41st set", func() error { return create("one-more") }, "LimitExceeded", "Too many rule sets"},
		{"41st by clone", func() error {
			_, err := e.v1.CloneReceiptRuleSet(ctx, &ses.CloneReceiptRuleSetInput{RuleSetName: aws.String("one-more"), OriginalRuleSetName: aws.String("main")})
			return err
		}, "LimitExceeded", "Too many rule sets"},
		{"duplicate", func() error { return create("main") }, "AlreadyExists", "Rule set already exists: main"},
		{"clone onto a taken name", func() error {
			_, err := e.v1.CloneReceiptRuleSet(ctx, &ses.CloneReceiptRuleSetInput{RuleSetName: aws.String("copy"), OriginalRuleSetName: aws.String("none")})
			return err
		}, "AlreadyExists", "Rule set already exists: copy"},
		{"clone of a missing set", func() error {
			_, err := e.v1.CloneReceiptRuleSet(ctx, &ses.CloneReceiptRuleSetInput{RuleSetName: aws.String("new"), OriginalRuleSetName: aws.String("none")})
			return err
		}, "RuleSetDoesNotExist", "Rule set does not exist: none"},
		{"bad characters", func() error { return create("a b") }, "ValidationError", "Member must satisfy regular expression pattern: ^[a-zA-Z0-9_.-]+$"},
		{"bad end", func() error { return create("ends-") }, "InvalidParameterValue", "Not a valid ruleSetName: ends-"},
		{"too long", func() error { return create(strings.Repeat("a", 65)) }, "InvalidParameterValue", "Not a valid ruleSetName"},
		{"delete active", func() error {
			_, err := e.v1.DeleteReceiptRuleSet(ctx, &ses.DeleteReceiptRuleSetInput{RuleSetName: aws.String("main")})
			return err
		}, "CannotDelete", "Cannot delete active rule set: main"},
		{"activate missing", func() error {
			_, err := e.v1.SetActiveReceiptRuleSet(ctx, &ses.SetActiveReceiptRuleSetInput{RuleSetName: aws.String("none")})
			return err
		}, "RuleSetDoesNotExist", "Rule set does not exist: none"},
		{"activate empty name", func() error {
			_, err := e.v1.SetActiveReceiptRuleSet(ctx, &ses.SetActiveReceiptRuleSetInput{RuleSetName: aws.String("")})
			return err
		}, "InvalidParameterValue", "ruleSetName must not be empty"},
		{"describe missing", func() error {
			_, err := e.v1.DescribeReceiptRuleSet(ctx, &ses.DescribeReceiptRuleSetInput{RuleSetName: aws.String("none")})
			return err
		}, "RuleSetDoesNotExist", "Rule set does not exist: none"},
		{"bad NextToken", func() error {
			_, err := e.v1.ListReceiptRuleSets(ctx, &ses.ListReceiptRuleSetsInput{NextToken: aws.String("x")})
			return err
		}, "InvalidParameterValue", "NextToken"},
	})
	// Deactivating (no name) lets the set go; deleting again succeeds.
	if _, err := e.v1.SetActiveReceiptRuleSet(ctx, &ses.SetActiveReceiptRuleSetInput{}); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if _, err := e.v1.DeleteReceiptRuleSet(ctx, &ses.DeleteReceiptRuleSetInput{RuleSetName: aws.String("main")}); err != nil {
			t.Fatal(err)
		}
	}
	if active, err := e.v1.DescribeActiveReceiptRuleSet(ctx, &ses.DescribeActiveReceiptRuleSetInput{}); err != nil || active.Metadata != nil {
		t.Errorf("after deactivation = %+v, %v", active, err)
	}
}

func TestReceiptRulesV1(t *testing.T) {
	t.Parallel()
	e, topic := newReceiptEnv(t)
	ctx := context.Background()
	if _, err := e.v1.CreateReceiptRuleSet(ctx, &ses.CreateReceiptRuleSetInput{RuleSetName: aws.String("rs")}); err != nil {
		t.Fatal(err)
	}
	add := func(after string, r v1types.ReceiptRule) error {
		in := &ses.CreateReceiptRuleInput{RuleSetName: aws.String("rs"), Rule: &r}
		if after != "" {
			in.After = aws.String(after)
		}
		_, err := e.v1.CreateReceiptRule(ctx, in)
		return err
	}
	every := v1types.ReceiptRule{Name: aws.String("every"), Enabled: true, ScanEnabled: true, TlsPolicy: v1types.TlsPolicyRequire,
		Recipients: []string{"info@example.com", "example.org", ".example.net"},
		Actions: []v1types.ReceiptAction{
			{AddHeaderAction: &v1types.AddHeaderAction{HeaderName: aws.String("X-Routed"), HeaderValue: aws.String("yes")}},
			{S3Action: &v1types.S3Action{BucketName: aws.String("mail"), ObjectKeyPrefix: aws.String("in/"), TopicArn: aws.String(topic)}},
			{SNSAction: &v1types.SNSAction{TopicArn: aws.String(topic)}},
			{LambdaAction: &v1types.LambdaAction{FunctionArn: aws.String(testFunction), InvocationType: v1types.InvocationTypeRequestResponse}},
			{BounceAction: &v1types.BounceAction{SmtpReplyCode: aws.String("550"), StatusCode: aws.String("5.1.1"),
				Message: aws.String("Mailbox does not exist"), Sender: aws.String("mailer@example.com")}},
			{StopAction: &v1types.StopAction{Scope: v1types.StopScopeRuleSet, TopicArn: aws.String(topic)}},
		}}
	if err := add("", every); err != nil {
		t.Fatal(err)
	}
	if err := add("", v1types.ReceiptRule{Name: aws.String("first")}); err != nil { // no After: first
		t.Fatal(err)
	}
	if err := add("first", v1types.ReceiptRule{Name: aws.String("second")}); err != nil {
		t.Fatal(err)
	}
	order := func() []string {
		t.Helper()
		d, err := e.v1.DescribeReceiptRuleSet(ctx, &ses.DescribeReceiptRuleSetInput{RuleSetName: aws.String("rs")})
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, r := range d.Rules {
			names = append(names, aws.ToString(r.Name))
		}
		return names
	}
	if got, want := order(), []string{"first", "second", "every"}; !reflect.DeepEqual(got, want) {
		t.Errorf("order = %q, want %q", got, want)
	}

	// Describe gives the rule back as given, with SES's defaults filled in.
	d, err := e.v1.DescribeReceiptRule(ctx, &ses.DescribeReceiptRuleInput{RuleSetName: aws.String("rs"), RuleName: aws.String("every")})
	if err != nil {
		t.Fatal(err)
	}
	want := every
	want.Actions = append([]v1types.ReceiptAction(nil), every.Actions...)
	want.Actions[2] = v1types.ReceiptAction{SNSAction: &v1types.SNSAction{TopicArn: aws.String(topic), Encoding: v1types.SNSActionEncodingUtf8}}
	if !reflect.DeepEqual(*d.Rule, want) {
		t.Errorf("DescribeReceiptRule = %s, want %s", dump(*d.Rule), dump(want))
	}
	if d, err := e.v1.DescribeReceiptRule(ctx, &ses.DescribeReceiptRuleInput{RuleSetName: aws.String("rs"), RuleName: aws.String("first")}); err != nil ||
		d.Rule.Enabled || d.Rule.TlsPolicy != v1types.TlsPolicyOptional || d.Rule.Actions != nil || d.Rule.Recipients != nil {
		t.Errorf("a bare rule = %+v, %v; want disabled, Optional, no actions or recipients", d, err)
	}

	// Position and order.
	if _, err := e.v1.SetReceiptRulePosition(ctx, &ses.SetReceiptRulePositionInput{RuleSetName: aws.String("rs"),
		RuleName: aws.String("first"), After: aws.String("every")}); err != nil {
		t.Fatal(err)
	}
	if got, want := order(), []string{"second", "every", "first"}; !reflect.DeepEqual(got, want) {
		t.Errorf("after SetReceiptRulePosition: %q, want %q", got, want)
	}
	if _, err := e.v1.SetReceiptRulePosition(ctx, &ses.SetReceiptRulePositionInput{RuleSetName: aws.String("rs"),
		RuleName: aws.String("every")}); err != nil {
		t.Fatal(err)
	}
	if got, want := order(), []string{"every", "second", "first"}; !reflect.DeepEqual(got, want) {
		t.Errorf("after SetReceiptRulePosition without After: %q, want %q", got, want)
	}
	if _, err := e.v1.ReorderReceiptRuleSet(ctx, &ses.ReorderReceiptRuleSetInput{RuleSetName: aws.String("rs"),
		RuleNames: []string{"first", "second", "every"}}); err != nil {
		t.Fatal(err)
	}
	if got, want := order(), []string{"first", "second", "every"}; !reflect.DeepEqual(got, want) {
		t.Errorf("after ReorderReceiptRuleSet: %q, want %q", got, want)
	}

	// Update replaces the rule in place.
	if _, err := e.v1.UpdateReceiptRule(ctx, &ses.UpdateReceiptRuleInput{RuleSetName: aws.String("rs"),
		Rule: &v1types.ReceiptRule{Name: aws.String("second"), Enabled: true, Recipients: []string{"b@example.com"}}}); err != nil {
		t.Fatal(err)
	}
	if d, err := e.v1.DescribeReceiptRule(ctx, &ses.DescribeReceiptRuleInput{RuleSetName: aws.String("rs"), RuleName: aws.String("second")}); err != nil ||
		!d.Rule.Enabled || !reflect.DeepEqual(d.Rule.Recipients, []string{"b@example.com"}) {
		t.Errorf("after update: %+v, %v", d, err)
	}
	if got, want := order(), []string{"first", "second", "every"}; !reflect.DeepEqual(got, want) {
		t.Errorf("update moved the rule: %q", got)
	}

	rule := func(name string, actions ...v1types.ReceiptAction) v1types.ReceiptRule {
		return v1types.ReceiptRule{Name: aws.String(name), Actions: actions}
	}
	e.srv.cfg.ReceivingS3 = false // sesame without an object store
	checkRefusals(t, []refusal{
		{"duplicate rule", func() error { return add("", rule("every")) }, "AlreadyExists", "Rule already exists: every"},
		{"After a missing rule", func() error { return add("none", rule("x")) }, "RuleDoesNotExist", "Rule does not exist: none"},
		{"missing set", func() error {
			_, err := e.v1.CreateReceiptRule(ctx, &ses.CreateReceiptRuleInput{RuleSetName: aws.String("none"), Rule: &v1types.ReceiptRule{Name: aws.String("x")}})
			return err
		}, "RuleSetDoesNotExist", "Rule set does not exist: none"},
		{"bad rule name", func() error { return add("", rule(".x")) }, "InvalidParameterValue", "Not a valid ruleName: .x"},
		{"WorkMail", func() error {
			return add("", rule("x", v1types.ReceiptAction{WorkmailAction: &v1types.WorkmailAction{OrganizationArn: aws.String("arn:aws:workmail:eu-west-1:1:organization/m-1")}}))
		}, "InvalidParameterValue", "sesame does not support WorkmailAction"},
		{"Connect", func() error {
			return add("", rule("x", v1types.ReceiptAction{ConnectAction: &v1types.ConnectAction{InstanceARN: aws.String("arn:i"), IAMRoleARN: aws.String("arn:r")}}))
		}, "InvalidParameterValue", "sesame does not support ConnectAction"},
		{"unknown topic", func() error {
			return add("", rule("x", v1types.ReceiptAction{SNSAction: &v1types.SNSAction{TopicArn: aws.String(topic + "-not")}}))
		}, "InvalidSnsTopic", "Could not publish to SNS topic: " + topic + "-not"},
		{"unknown topic of a bounce", func() error {
			return add("", rule("x", v1types.ReceiptAction{BounceAction: &v1types.BounceAction{SmtpReplyCode: aws.String("550"),
				Message: aws.String("no"), Sender: aws.String("m@example.com"), TopicArn: aws.String("arn:aws:sns:eu-west-1:1:other")}}))
		}, "InvalidSnsTopic", "Could not publish to SNS topic"},
		{"unverified bounce sender", func() error {
			return add("", rule("x", v1types.ReceiptAction{BounceAction: &v1types.BounceAction{SmtpReplyCode: aws.String("550"),
				Message: aws.String("no"), Sender: aws.String("m@example.net")}}))
		}, "InvalidParameterValue", "Identity is not verified: m@example.net"},
		{"unmapped function", func() error {
			return add("", rule("x", v1types.ReceiptAction{LambdaAction: &v1types.LambdaAction{FunctionArn: aws.String(testFunction + "2")}}))
		}, "InvalidLambdaFunction", "Could not invoke Lambda function: " + testFunction + "2"},
		{"no object store", func() error {
			return add("", rule("x", v1types.ReceiptAction{S3Action: &v1types.S3Action{BucketName: aws.String("mail")}}))
		}, "InvalidS3Configuration", "Could not write to bucket: mail"},
		{"stop not last", func() error {
			return add("", rule("x", v1types.ReceiptAction{StopAction: &v1types.StopAction{Scope: v1types.StopScopeRuleSet}},
				v1types.ReceiptAction{AddHeaderAction: &v1types.AddHeaderAction{HeaderName: aws.String("X-A"), HeaderValue: aws.String("1")}}))
		}, "InvalidParameterValue", "Stop action, if any, must be placed at the end of the actions list"},
		{"bad header name", func() error {
			return add("", rule("x", v1types.ReceiptAction{AddHeaderAction: &v1types.AddHeaderAction{HeaderName: aws.String("X_A"), HeaderValue: aws.String("1")}}))
		}, "InvalidParameterValue", "Invalid header name: X_A"},
		{"header value with a newline", func() error {
			return add("", rule("x", v1types.ReceiptAction{AddHeaderAction: &v1types.AddHeaderAction{HeaderName: aws.String("X-A"), HeaderValue: aws.String("1\r\nBcc: x")}}))
		}, "InvalidParameterValue", "Invalid header value"},
		{"bad reply code", func() error {
			return add("", rule("x", v1types.ReceiptAction{BounceAction: &v1types.BounceAction{SmtpReplyCode: aws.String("250"),
				Message: aws.String("no"), Sender: aws.String("m@example.com")}}))
		}, "InvalidParameterValue", "Invalid SMTP reply code: 250"},
		{"bad TLS policy", func() error {
			return add("", v1types.ReceiptRule{Name: aws.String("x"), TlsPolicy: "Always"})
		}, "ValidationError", "Member must satisfy enum value set: [Optional, Require]"},
		{"bad encoding", func() error {
			return add("", rule("x", v1types.ReceiptAction{SNSAction: &v1types.SNSAction{TopicArn: aws.String(topic), Encoding: "UTF-16"}}))
		}, "ValidationError", "sNSAction.encoding"},
		{"11 actions", func() error {
			var actions []v1types.ReceiptAction
			for range 11 {
				actions = append(actions, v1types.ReceiptAction{AddHeaderAction: &v1types.AddHeaderAction{HeaderName: aws.String("X-A"), HeaderValue: aws.String("1")}})
			}
			return add("", rule("x", actions...))
		}, "LimitExceeded", "Too many actions"},
		{"101 recipients", func() error {
			r := rule("x")
			for i := range 101 {
				r.Recipients = append(r.Recipients, fmt.Sprintf("u%d@example.com", i))
			}
			return add("", r)
		}, "LimitExceeded", "Too many recipients"},
		{"update of a missing rule", func() error {
			_, err := e.v1.UpdateReceiptRule(ctx, &ses.UpdateReceiptRuleInput{RuleSetName: aws.String("rs"), Rule: &v1types.ReceiptRule{Name: aws.String("none")}})
			return err
		}, "RuleDoesNotExist", "Rule does not exist: none"},
		{"describe a missing rule", func() error {
			_, err := e.v1.DescribeReceiptRule(ctx, &ses.DescribeReceiptRuleInput{RuleSetName: aws.String("rs"), RuleName: aws.String("none")})
			return err
		}, "RuleDoesNotExist", "Rule does not exist: none"},
		{"reorder leaving one out", func() error {
			_, err := e.v1.ReorderReceiptRuleSet(ctx, &ses.ReorderReceiptRuleSetInput{RuleSetName: aws.String("rs"), RuleNames: []string{"first", "every"}})
			return err
		}, "InvalidParameterValue", "Positions for rules not found: second"},
		{"reorder naming one twice", func() error {
			_, err := e.v1.ReorderReceiptRuleSet(ctx, &ses.ReorderReceiptRuleSetInput{RuleSetName: aws.String("rs"), RuleNames: []string{"first", "first", "second", "every"}})
			return err
		}, "InvalidParameterValue", "Multiple positions found for rule: first"},
		{"reorder naming a stranger", func() error {
			_, err := e.v1.ReorderReceiptRuleSet(ctx, &ses.ReorderReceiptRuleSetInput{RuleSetName: aws.String("rs"), RuleNames: []string{"first", "second", "every", "none"}})
			return err
		}, "RuleDoesNotExist", "Rule does not exist: none"},
		{"position after a missing rule", func() error {
			_, err := e.v1.SetReceiptRulePosition(ctx, &ses.SetReceiptRulePositionInput{RuleSetName: aws.String("rs"), RuleName: aws.String("first"), After: aws.String("none")})
			return err
		}, "RuleDoesNotExist", "Rule does not exist: none"},
		{"delete a rule of a missing set", func() error {
			_, err := e.v1.DeleteReceiptRule(ctx, &ses.DeleteReceiptRuleInput{RuleSetName: aws.String("none"), RuleName: aws.String("first")})
			return err
		}, "RuleSetDoesNotExist", "Rule set does not exist: none"},
	})
	if got, want := order(), []string{"first", "second", "every"}; !reflect.DeepEqual(got, want) {
		t.Errorf("refusals changed the set: %q", got)
	}

	// The model's required members, which the SDKs check before sending.
	const form = "application/x-www-form-urlencoded"
	status, body := e.signedCall(t, "POST", "/", form, "Action=CreateReceiptRule&Version=2010-12-01&RuleSetName=rs&Rule.Name=x"+
		"&Rule.Actions.member.1.BounceAction.SmtpReplyCode=550")
	body = html.UnescapeString(body)
	if status != 400 || !strings.Contains(body, "<Code>ValidationError</Code>") ||
		!strings.Contains(body, "2 validation errors detected: Value at 'rule.actions.1.member.bounceAction.sender' failed to satisfy constraint: Member must not be null; "+
			"Value at 'rule.actions.1.member.bounceAction.message'") {
		t.Errorf("a bounce without Sender and Message: %d %s", status, body)
	}
	status, body = e.signedCall(t, "POST", "/", form, "Action=CreateReceiptRule&Version=2010-12-01&RuleSetName=rs&Rule.Name=x"+
		"&Rule.Actions.member.1.StopAction.Scope=RuleSet&Rule.Actions.member.1.AddHeaderAction.HeaderName=X"+
		"&Rule.Actions.member.1.AddHeaderAction.HeaderValue=1")
	if status != 400 || !strings.Contains(body, "exactly one action type") {
		t.Errorf("an action with two members: %d %s", status, body)
	}

	// Deleting: a missing rule is already deleted.
	for range 2 {
		if _, err := e.v1.DeleteReceiptRule(ctx, &ses.DeleteReceiptRuleInput{RuleSetName: aws.String("rs"), RuleName: aws.String("second")}); err != nil {
			t.Fatal(err)
		}
	}
	if got, want := order(), []string{"first", "every"}; !reflect.DeepEqual(got, want) {
		t.Errorf("after delete: %q, want %q", got, want)
	}
}

// A set holds at most 200 rules.
func TestReceiptRuleLimitV1(t *testing.T) {
	t.Parallel()
	e, _ := newReceiptEnv(t)
	ctx := context.Background()
	if _, err := e.v1.CreateReceiptRuleSet(ctx, &ses.CreateReceiptRuleSetInput{RuleSetName: aws.String("rs")}); err != nil {
		t.Fatal(err)
	}
	add := func(name string) error {
		_, err := e.v1.CreateReceiptRule(ctx, &ses.CreateReceiptRuleInput{RuleSetName: aws.String("rs"), Rule: &v1types.ReceiptRule{Name: aws.String(name)}})
		return err
	}
	for i := range 200 {
		if err := add(fmt.Sprintf("r%d", i)); err != nil {
			t.Fatal(err)
		}
	}
	checkRefusals(t, []refusal{{"201st rule", func() error { return add("r200") }, "LimitExceeded", "Too many rules"}})
}

func dump(r v1types.ReceiptRule) string {
	var b strings.Builder
	fmt.Fprintf(&b, "{%s enabled=%v scan=%v tls=%s recipients=%q actions=[", aws.ToString(r.Name), r.Enabled, r.ScanEnabled, r.TlsPolicy, r.Recipients)
	for _, a := range r.Actions {
		switch {
		case a.S3Action != nil:
			fmt.Fprintf(&b, "S3%+v ", *a.S3Action)
		case a.SNSAction != nil:
			fmt.Fprintf(&b, "SNS{%s %s} ", aws.ToString(a.SNSAction.TopicArn), a.SNSAction.Encoding)
		case a.LambdaAction != nil:
			fmt.Fprintf(&b, "Lambda{%s %s} ", aws.ToString(a.LambdaAction.FunctionArn), a.LambdaAction.InvocationType)
		case a.BounceAction != nil:
			fmt.Fprintf(&b, "Bounce{%s %s} ", aws.ToString(a.BounceAction.SmtpReplyCode), aws.ToString(a.BounceAction.StatusCode))
		case a.StopAction != nil:
			fmt.Fprintf(&b, "Stop{%s %s} ", a.StopAction.Scope, aws.ToString(a.StopAction.TopicArn))
		case a.AddHeaderAction != nil:
			fmt.Fprintf(&b, "AddHeader{%s: %s} ", aws.ToString(a.AddHeaderAction.HeaderName), aws.ToString(a.AddHeaderAction.HeaderValue))
		}
	}
	b.WriteString("]}")
	return b.String()
}
