package receipt

import (
	"context"
	"strings"
	"testing"

	"sesame/internal/seserr"
)

// code is the v1 error code of err and its message ("" when nil).
func code(err error) (string, string) {
	if err == nil {
		return "", ""
	}
	e := seserr.As(err)
	return e.QueryCode, e.Message
}

func TestValidateNames(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, code, say string
	}{
		{"inbound", "", ""},
		{"a.b_c-9", "", ""},
		{strings.Repeat("a", 64), "", ""},
		{"", "InvalidParameterValue", "ruleSetName must not be empty"},
		{"a b", "ValidationError", "Value at 'ruleSetName' failed to satisfy constraint"},
		{"ünï", "ValidationError", "regular expression pattern"},
		{"-a", "InvalidParameterValue", "Not a valid ruleSetName: -a"},
		{"a.", "InvalidParameterValue", "Not a valid ruleSetName: a."},
		{strings.Repeat("a", 65), "InvalidParameterValue", "Not a valid ruleSetName"},
	} {
		c, msg := code(ValidateRuleSetName(tc.name))
		if c != tc.code || !strings.Contains(msg, tc.say) {
			t.Errorf("ValidateRuleSetName(%q) = %s %q, want %s %q", tc.name, c, msg, tc.code, tc.say)
		}
	}
	if c, msg := code(ValidateRuleName("x y", "after")); c != "ValidationError" || !strings.Contains(msg, "'after'") {
		t.Errorf("ValidateRuleName with a path = %s %q", c, msg)
	}
}

func TestValidateFilter(t *testing.T) {
	t.Parallel()
	f := func(name, policy, cidr string) Filter {
		return Filter{Name: name, IPFilter: IPFilter{Policy: policy, Cidr: cidr}}
	}
	for _, tc := range []struct {
		f         Filter
		code, say string
	}{
		{f("all", "Block", "0.0.0.0/0"), "", ""},
		{f("one", "Allow", "127.0.0.1"), "", ""},
		{f("v6", "Allow", "2001:db8::/32"), "", ""},
		{f("v6one", "Allow", "::1"), "", ""},
		{f("x", "", ""), "ValidationError", "2 validation errors detected: Value at 'filter.ipFilter.policy'"},
		{f("x", "Deny", "10.0.0.1"), "ValidationError", "enum value set: [Allow, Block]"},
		{f("", "Allow", "10.0.0.1"), "InvalidParameterValue", "filterName must not be empty"},
		{f("a b", "Allow", "10.0.0.1"), "InvalidParameterValue", "Not a valid filterName: a b"},
		{f("x", "Allow", "10.0.0.0/33"), "InvalidParameterValue", "Invalid CIDR block: 10.0.0.0/33"},
		{f("x", "Allow", "10.0.0"), "InvalidParameterValue", "Invalid CIDR block"},
		{f("x", "Allow", "fe80::1%eth0"), "InvalidParameterValue", "Invalid CIDR block"},
		{f("x", "Allow", "::ffff:10.0.0.1"), "InvalidParameterValue", "Invalid CIDR block"},
	} {
		c, msg := code(ValidateFilter(tc.f))
		if c != tc.code || !strings.Contains(msg, tc.say) {
			t.Errorf("ValidateFilter(%+v) = %s %q, want %s %q", tc.f, c, msg, tc.code, tc.say)
		}
	}
}

func TestValidateRule(t *testing.T) {
	t.Parallel()
	header := Action{AddHeaderAction: &AddHeaderAction{HeaderName: "X-A", HeaderValue: "1"}}
	for _, tc := range []struct {
		name      string
		r         Rule
		code, say string
	}{
		{"bare", Rule{Name: "r"}, "", ""},
		{"no name", Rule{}, "ValidationError", "rule.name"},
		{"TLS", Rule{Name: "r", TLSPolicy: "Always"}, "ValidationError", "[Optional, Require]"},
		{"stop scope", Rule{Name: "r", Actions: []Action{{StopAction: &StopAction{Scope: "Rule"}}}}, "ValidationError", "[RuleSet]"},
		{"invocation", Rule{Name: "r", Actions: []Action{{LambdaAction: &LambdaAction{FunctionArn: "f", InvocationType: "Sync"}}}},
			"ValidationError", "[RequestResponse, Event]"},
		{"no bucket", Rule{Name: "r", Actions: []Action{{S3Action: &S3Action{}}}}, "ValidationError", "s3Action.bucketName"},
		{"no member", Rule{Name: "r", Actions: []Action{{}}}, "InvalidParameterValue", "exactly one action type"},
		{"workmail", Rule{Name: "r", Actions: []Action{{WorkmailAction: &WorkmailAction{OrganizationArn: "o"}}}},
			"InvalidParameterValue", "sesame does not support WorkmailAction"},
		{"header 51", Rule{Name: "r", Actions: []Action{{AddHeaderAction: &AddHeaderAction{HeaderName: strings.Repeat("x", 51), HeaderValue: "1"}}}},
			"InvalidParameterValue", "Invalid header name"},
		{"value 2048", Rule{Name: "r", Actions: []Action{{AddHeaderAction: &AddHeaderAction{HeaderName: "X", HeaderValue: strings.Repeat("v", 2048)}}}},
			"InvalidParameterValue", "Invalid header value"},
		{"value 2047", Rule{Name: "r", Actions: []Action{{AddHeaderAction: &AddHeaderAction{HeaderName: "X", HeaderValue: strings.Repeat("v", 2047)}}}}, "", ""},
		{"status code", Rule{Name: "r", Actions: []Action{{BounceAction: &BounceAction{SmtpReplyCode: "550", StatusCode: "5.1", Message: "m", Sender: "s@x"}}}},
			"InvalidParameterValue", "Invalid SMTP status code: 5.1"},
		{"ten actions", Rule{Name: "r", Actions: []Action{header, header, header, header, header, header, header, header, header, header}}, "", ""},
	} {
		c, msg := code(ValidateRule(&tc.r))
		if c != tc.code || !strings.Contains(msg, tc.say) {
			t.Errorf("%s: ValidateRule = %s %q, want %s %q", tc.name, c, msg, tc.code, tc.say)
		}
	}
	r := Rule{Name: "r", Actions: []Action{{SNSAction: &SNSAction{TopicArn: "t"}}}}
	if err := ValidateRule(&r); err != nil || r.TLSPolicy != TLSOptional || r.Actions[0].SNSAction.Encoding != EncodingUTF8 {
		t.Errorf("defaults: %+v, %v; want TlsPolicy Optional, Encoding UTF-8", r, err)
	}
}

func TestTargetsCheck(t *testing.T) {
	t.Parallel()
	topics := func(ctx context.Context, arn string) (bool, error) { return arn == "arn:topic", nil }
	verified := func(ctx context.Context, addr string) (bool, error) {
		return strings.HasSuffix(addr, "@example.com"), nil
	}
	targets := Targets{TopicExists: topics, Functions: map[string]string{"arn:fn": "http://x"}, S3: true, SenderVerified: verified}
	bounce := func(sender string) Action {
		return Action{BounceAction: &BounceAction{SmtpReplyCode: "550", Message: "m", Sender: sender}}
	}
	for _, tc := range []struct {
		name      string
		a         Action
		t         Targets
		code, say string
	}{
		{"sns", Action{SNSAction: &SNSAction{TopicArn: "arn:topic"}}, targets, "", ""},
		{"sns missing", Action{SNSAction: &SNSAction{TopicArn: "arn:other"}}, targets, "InvalidSnsTopic", "Could not publish to SNS topic: arn:other"},
		{"stop topic", Action{StopAction: &StopAction{Scope: "RuleSet", TopicArn: "arn:other"}}, targets, "InvalidSnsTopic", "arn:other"},
		{"lambda", Action{LambdaAction: &LambdaAction{FunctionArn: "arn:fn"}}, targets, "", ""},
		{"lambda unmapped", Action{LambdaAction: &LambdaAction{FunctionArn: "arn:fn2"}}, targets, "InvalidLambdaFunction", "[receiving] functions"},
		{"s3", Action{S3Action: &S3Action{BucketName: "b"}}, targets, "", ""},
		{"s3 without a store", Action{S3Action: &S3Action{BucketName: "b"}}, Targets{TopicExists: topics}, "InvalidS3Configuration", "Could not write to bucket: b"},
		{"bounce", bounce("b@example.com"), targets, "", ""},
		{"bounce unverified", bounce("b@example.net"), targets, "InvalidParameterValue", "Identity is not verified: b@example.net"},
		{"bounce without a lookup", bounce("b@example.com"), Targets{}, "InvalidParameterValue", "Identity is not verified"},
		{"s3 topic first", Action{S3Action: &S3Action{BucketName: "b", TopicArn: "arn:x"}}, Targets{}, "InvalidSnsTopic", "arn:x"},
	} {
		r := Rule{Name: "r", Actions: []Action{tc.a}}
		c, msg := code(tc.t.Check(context.Background(), &r))
		if c != tc.code || !strings.Contains(msg, tc.say) {
			t.Errorf("%s: Check = %s %q, want %s %q", tc.name, c, msg, tc.code, tc.say)
		}
	}
}

// FuzzValidateFilter: any filter is either refused with an SES error or
// has a range Allowed can use.
func FuzzValidateFilter(f *testing.F) {
	f.Add("all", "Block", "0.0.0.0/0")
	f.Add("v6", "Allow", "2001:db8::/32")
	f.Add("x", "Allow", "::ffff:1.2.3.4")
	f.Fuzz(func(t *testing.T, name, policy, cidr string) {
		flt := Filter{Name: name, IPFilter: IPFilter{Policy: policy, Cidr: cidr}}
		if err := ValidateFilter(flt); err != nil {
			if seserr.As(err).QueryCode == "" {
				t.Fatalf("%+v: %v has no SES code", flt, err)
			}
			return
		}
		if _, ok := parseCidr(cidr); !ok {
			t.Fatalf("accepted %q, which Allowed cannot read", cidr)
		}
	})
}
