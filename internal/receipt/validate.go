package receipt

import (
	"context"
	"fmt"
	"strings"

	"sesame/internal/seserr"
)

// SES's receiving limits (the SES quotas page; the per-rule recipient
// quota is the documented 100).
const (
	MaxRuleSets    = 40  // rule sets per account and region
	MaxRules       = 200 // rules per rule set
	MaxRecipients  = 100 // recipient conditions per rule
	MaxActions     = 10  // actions per rule
	MaxFilters     = 100 // IP filters per account and region
	maxNameLen     = 64  // rule, rule set and filter names
	maxHeaderName  = 50  // AddHeaderAction HeaderName
	maxHeaderValue = 2048
)

// ValidateRuleSetName checks a rule set name as SES does: empty, then the
// model's pattern, then length and alphanumeric ends.
func ValidateRuleSetName(name string) error {
	return validateName("ruleSetName", "ruleSetName", name)
}

// ValidateRuleName checks a rule name; path is the wire member it came in
// ("ruleName", "rule.name", "after"), for the validation error.
func ValidateRuleName(name, path string) error {
	return validateName("ruleName", path, name)
}

func validateName(kind, path, name string) error {
	if name == "" {
		return seserr.EmptyReceiptName(kind)
	}
	for i := 0; i < len(name); i++ {
		if c := name[i]; !isAlnum(c) && c != '_' && c != '.' && c != '-' {
			return seserr.ReceiptValidation(seserr.ViolationPattern(path))
		}
	}
	if len(name) > maxNameLen || !isAlnum(name[0]) || !isAlnum(name[len(name)-1]) {
		return seserr.InvalidReceiptName(kind, name)
	}
	return nil
}

func isAlnum(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// ValidateFilter checks an IP filter: its shape (Policy and Cidr present,
// Policy Block or Allow), then its name, then its range.
func ValidateFilter(f Filter) error {
	var v []string
	switch f.IPFilter.Policy {
	case PolicyAllow, PolicyBlock:
	case "":
		v = append(v, seserr.ViolationNull("filter.ipFilter.policy"))
	default:
		v = append(v, seserr.ViolationEnum("filter.ipFilter.policy", "[Allow, Block]"))
	}
	if f.IPFilter.Cidr == "" {
		v = append(v, seserr.ViolationNull("filter.ipFilter.cidr"))
	}
	if len(v) > 0 {
		return seserr.ReceiptValidation(v...)
	}
	if f.Name == "" {
		return seserr.EmptyReceiptName("filterName")
	}
	ok := len(f.Name) <= maxNameLen && isAlnum(f.Name[0]) && isAlnum(f.Name[len(f.Name)-1])
	for i := 0; ok && i < len(f.Name); i++ {
		c := f.Name[i]
		ok = isAlnum(c) || c == '_' || c == '.' || c == '-'
	}
	if !ok {
		return seserr.InvalidReceiptName("filterName", f.Name)
	}
	// SES takes a plain address or a CIDR block, not a zone, brackets or
	// an IPv4-mapped IPv6 spelling.
	c := f.IPFilter.Cidr
	if _, valid := parseCidr(c); !valid || strings.ContainsAny(c, "%[]") || (strings.Contains(c, ":") && strings.Contains(c, ".")) {
		return seserr.InvalidCidr(c)
	}
	return nil
}

// ValidateRule checks a rule as SES does before it looks anything up —
// the model's constraints (one ValidationError listing them), then the
// service's: the name, the limits, each action's members — and fills in
// SES's defaults (TlsPolicy Optional, an SNS action's Encoding UTF-8).
// sesame refuses WorkmailAction and ConnectAction: it cannot reach them.
func ValidateRule(r *Rule) error {
	var v []string
	if r.Name == "" {
		v = append(v, seserr.ViolationNull("rule.name"))
	}
	switch r.TLSPolicy {
	case "", TLSOptional, TLSRequire:
	default:
		v = append(v, seserr.ViolationEnum("rule.tlsPolicy", "[Optional, Require]"))
	}
	for i, a := range r.Actions {
		v = append(v, actionShape(a, fmt.Sprintf("rule.actions.%d.member.", i+1))...)
	}
	if len(v) > 0 {
		return seserr.ReceiptValidation(v...)
	}
	if err := ValidateRuleName(r.Name, "rule.name"); err != nil {
		return err
	}
	if len(r.Recipients) > MaxRecipients {
		return seserr.TooManyRecipients(MaxRecipients)
	}
	if len(r.Actions) > MaxActions {
		return seserr.TooManyActions()
	}
	for i, a := range r.Actions {
		if err := checkAction(a, i+1, i == len(r.Actions)-1); err != nil {
			return err
		}
	}
	if r.TLSPolicy == "" {
		r.TLSPolicy = TLSOptional
	}
	for _, a := range r.Actions {
		if a.SNSAction != nil && a.SNSAction.Encoding == "" {
			a.SNSAction.Encoding = EncodingUTF8
		}
	}
	return nil
}

// actionShape lists the model's violations of one action: required
// members absent, enums out of their sets (in SES's order per action).
func actionShape(a Action, at string) []string {
	var v []string
	null := func(ok bool, member string) {
		if !ok {
			v = append(v, seserr.ViolationNull(at+member))
		}
	}
	switch {
	case a.AddHeaderAction != nil:
		null(a.AddHeaderAction.HeaderName != "", "addHeaderAction.headerName")
		null(a.AddHeaderAction.HeaderValue != "", "addHeaderAction.headerValue")
	case a.BounceAction != nil:
		null(a.BounceAction.SmtpReplyCode != "", "bounceAction.smtpReplyCode")
		null(a.BounceAction.Sender != "", "bounceAction.sender")
		null(a.BounceAction.Message != "", "bounceAction.message")
	case a.LambdaAction != nil:
		null(a.LambdaAction.FunctionArn != "", "lambdaAction.functionArn")
		switch a.LambdaAction.InvocationType {
		case "", InvocationEvent, InvocationRequestResponse:
		default:
			v = append(v, seserr.ViolationEnum(at+"lambdaAction.invocationType", "[RequestResponse, Event]"))
		}
	case a.SNSAction != nil:
		switch a.SNSAction.Encoding {
		case "", EncodingUTF8, EncodingBase64:
		default:
			v = append(v, seserr.ViolationEnum(at+"sNSAction.encoding", "[Base64, UTF-8]"))
		}
		null(a.SNSAction.TopicArn != "", "sNSAction.topicArn")
	case a.S3Action != nil:
		null(a.S3Action.BucketName != "", "s3Action.bucketName")
	case a.StopAction != nil:
		null(a.StopAction.Scope != "", "stopAction.scope")
		if s := a.StopAction.Scope; s != "" && s != "RuleSet" {
			v = append(v, seserr.ViolationEnum(at+"stopAction.scope", "[RuleSet]"))
		}
	}
	return v
}

// checkAction is the service's check of one action (n counts from 1).
func checkAction(a Action, n int, last bool) error {
	if members(a) != 1 {
		return seserr.ActionMembers(n)
	}
	switch {
	case a.WorkmailAction != nil:
		return seserr.UnsupportedReceiptAction("WorkmailAction")
	case a.ConnectAction != nil:
		return seserr.UnsupportedReceiptAction("ConnectAction")
	case a.StopAction != nil && !last:
		return seserr.StopActionNotLast()
	case a.AddHeaderAction != nil:
		h := a.AddHeaderAction
		if !validHeaderName(h.HeaderName) {
			return seserr.InvalidAddHeaderName(h.HeaderName)
		}
		if len(h.HeaderValue) >= maxHeaderValue || strings.ContainsAny(h.HeaderValue, "\r\n") {
			return seserr.InvalidAddHeaderValue()
		}
	case a.BounceAction != nil:
		b := a.BounceAction
		if !validReplyCode(b.SmtpReplyCode) {
			return seserr.InvalidBounceField("SMTP reply code", b.SmtpReplyCode)
		}
		if b.StatusCode != "" && !validStatusCode(b.StatusCode) {
			return seserr.InvalidBounceField("SMTP status code", b.StatusCode)
		}
	}
	return nil
}

// members counts the action's set members (a union: exactly one).
func members(a Action) int {
	n := 0
	for _, set := range []bool{a.S3Action != nil, a.BounceAction != nil, a.WorkmailAction != nil,
		a.LambdaAction != nil, a.StopAction != nil, a.AddHeaderAction != nil, a.SNSAction != nil,
		a.ConnectAction != nil} {
		if set {
			n++
		}
	}
	return n
}

// validHeaderName: 1 to 50 letters, digits and dashes (the model's
// HeaderName documentation).
func validHeaderName(s string) bool {
	if s == "" || len(s) > maxHeaderName {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isAlnum(s[i]) && s[i] != '-' {
			return false
		}
	}
	return true
}

// validReplyCode: a permanent or transient SMTP reply code, e.g. "550"
// (RFC 5321 §4.2: three digits, the first 4 or 5 for a failure).
func validReplyCode(s string) bool {
	if len(s) != 3 || (s[0] != '4' && s[0] != '5') {
		return false
	}
	return isDigit(s[1]) && isDigit(s[2])
}

// validStatusCode: an enhanced status code class.subject.detail, e.g.
// "5.1.1" (RFC 3463 §2).
func validStatusCode(s string) bool {
	parts := strings.Split(s, ".")
	if len(parts) != 3 || (parts[0] != "4" && parts[0] != "5") {
		return false
	}
	for _, p := range parts[1:] {
		if p == "" || len(p) > 3 {
			return false
		}
		for i := 0; i < len(p); i++ {
			if !isDigit(p[i]) {
				return false
			}
		}
	}
	return true
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// Targets is what sesame can reach from a rule's actions, for the checks
// SES makes against the account's resources.
type Targets struct {
	// TopicExists reports whether an SNS topic of the caller exists.
	TopicExists func(ctx context.Context, arn string) (bool, error)
	// Functions are the mapped Lambda function ARNs ([receiving] functions).
	Functions map[string]string
	// S3 reports whether sesame has an object store ([s3] endpoint).
	S3 bool
	// SenderVerified reports whether an address may send as the caller: it
	// or its domain is a verified identity of the account.
	SenderVerified func(ctx context.Context, addr string) (bool, error)
}

// Check verifies, per action in order, that its TopicArn is an existing
// topic (InvalidSnsTopic), its S3 bucket can be written (sesame: an [s3]
// endpoint is configured; the bucket itself is not probed), its function
// is mapped (InvalidLambdaFunction), and a bounce's Sender is a verified
// identity of the account (the bounce is mail sent as it). A nil lookup
// finds nothing.
func (t Targets) Check(ctx context.Context, r *Rule) error {
	for _, a := range r.Actions {
		if arn := a.topicArn(); arn != "" {
			ok := false
			if t.TopicExists != nil {
				var err error
				if ok, err = t.TopicExists(ctx, arn); err != nil {
					return fmt.Errorf("receipt: rule %s: %w", r.Name, err)
				}
			}
			if !ok {
				return seserr.InvalidSnsTopic(arn)
			}
		}
		if a.S3Action != nil && !t.S3 {
			return seserr.InvalidS3Configuration(a.S3Action.BucketName)
		}
		if a.LambdaAction != nil {
			if _, ok := t.Functions[a.LambdaAction.FunctionArn]; !ok {
				return seserr.InvalidLambdaFunction(a.LambdaAction.FunctionArn)
			}
		}
		if a.BounceAction != nil {
			ok := false
			if t.SenderVerified != nil {
				var err error
				if ok, err = t.SenderVerified(ctx, a.BounceAction.Sender); err != nil {
					return fmt.Errorf("receipt: rule %s: %w", r.Name, err)
				}
			}
			if !ok {
				return seserr.BounceSenderNotVerified(a.BounceAction.Sender)
			}
		}
	}
	return nil
}

// topicArn is the SNS topic an action notifies or publishes to ("" if none).
func (a Action) topicArn() string {
	switch {
	case a.S3Action != nil:
		return a.S3Action.TopicArn
	case a.BounceAction != nil:
		return a.BounceAction.TopicArn
	case a.WorkmailAction != nil:
		return a.WorkmailAction.TopicArn
	case a.LambdaAction != nil:
		return a.LambdaAction.TopicArn
	case a.StopAction != nil:
		return a.StopAction.TopicArn
	case a.SNSAction != nil:
		return a.SNSAction.TopicArn
	}
	return ""
}
