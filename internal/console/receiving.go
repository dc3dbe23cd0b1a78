package console

import (
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ses"
	"github.com/aws/aws-sdk-go-v2/service/ses/types"
)

// Email receiving: the SES v1 receipt API as the AWS console's "Email
// receiving" pages show it — rule sets (one active), their rules in order,
// and the IP address filters. Everything goes through the API (v.SES()),
// so its checks and its error texts are SES's.

func init() {
	accountPages = append(accountPages, func(s *Server) map[string]handler {
		return map[string]handler{
			"GET /receiving":                                       s.receiving,
			"POST /receiving/rule-sets":                            s.createRuleSet,
			"POST /receiving/active":                               s.setActiveRuleSet,
			"POST /receiving/rule-sets/{name}/delete":              s.deleteRuleSet,
			"GET /receiving/rule-sets/{name}":                      s.ruleSet,
			"POST /receiving/rule-sets/{name}/rules":               s.createRule,
			"POST /receiving/rule-sets/{name}/rules/{rule}/delete": s.deleteRule,
			"POST /receiving/filters":                              s.createFilter,
			"POST /receiving/filters/{name}/delete":                s.deleteFilter,
		}
	})
}

// receivingData fills receiving.html.
type receivingData struct {
	Tab       string // "rule-sets" or "filters"
	Receiving bool   // [receiving] listen is set: the rules act on mail
	Active    string // the active rule set, "" when none
	RuleSets  []types.ReceiptRuleSetMetadata
	Filters   []types.ReceiptFilter
	// What the forms held when they failed, shown again.
	SetName, FilterName, FilterPolicy, FilterCidr string
}

// receiving lists the rule sets (which one is active) or, on the filters
// tab, the IP address filters.
func (s *Server) receiving(w http.ResponseWriter, r *http.Request, v *view) error {
	d := receivingData{Tab: r.URL.Query().Get("tab"), FilterPolicy: "Block"}
	return s.showReceiving(w, r, v, http.StatusOK, d)
}

func (s *Server) showReceiving(w http.ResponseWriter, r *http.Request, v *view, status int, d receivingData) error {
	ctx, c := r.Context(), v.SES()
	if d.Tab != "filters" {
		d.Tab = "rule-sets"
	}
	d.Receiving = s.cfg.Receiving
	if d.Tab == "filters" {
		out, err := c.ListReceiptFilters(ctx, &ses.ListReceiptFiltersInput{})
		if err != nil {
			return err
		}
		d.Filters = out.Filters
	} else {
		active, err := c.DescribeActiveReceiptRuleSet(ctx, &ses.DescribeActiveReceiptRuleSetInput{})
		if err != nil {
			return err
		}
		if active.Metadata != nil {
			d.Active = aws.ToString(active.Metadata.Name)
		}
		var token *string
		for {
			out, err := c.ListReceiptRuleSets(ctx, &ses.ListReceiptRuleSetsInput{NextToken: token})
			if err != nil {
				return err
			}
			d.RuleSets = append(d.RuleSets, out.RuleSets...)
			if token = out.NextToken; token == nil {
				break
			}
		}
	}
	v.Nav = "receiving"
	return v.RenderStatus(w, status, "receiving", "Email receiving", d)
}

func (s *Server) createRuleSet(w http.ResponseWriter, r *http.Request, v *view) error {
	name := strings.TrimSpace(r.PostFormValue("name"))
	_, err := v.SES().CreateReceiptRuleSet(r.Context(), &ses.CreateReceiptRuleSetInput{RuleSetName: aws.String(name)})
	if err != nil {
		v.Error = errorText(err)
		return s.showReceiving(w, r, v, errorStatus(err), receivingData{SetName: name, FilterPolicy: "Block"})
	}
	return v.Redirect(w, r, "/receiving/rule-sets/"+name, "Rule set "+name+" created. Add its rules, then make it active.")
}

// setActiveRuleSet makes a set the active one, or (no name) deactivates
// whichever is: SetActiveReceiptRuleSet with or without RuleSetName.
func (s *Server) setActiveRuleSet(w http.ResponseWriter, r *http.Request, v *view) error {
	name := r.PostFormValue("name")
	in := &ses.SetActiveReceiptRuleSetInput{}
	if name != "" {
		in.RuleSetName = aws.String(name)
	}
	if _, err := v.SES().SetActiveReceiptRuleSet(r.Context(), in); err != nil {
		v.Error = errorText(err)
		return s.showReceiving(w, r, v, errorStatus(err), receivingData{FilterPolicy: "Block"})
	}
	back := "/receiving"
	if r.PostFormValue("from") == "set" && name != "" {
		back = "/receiving/rule-sets/" + name
	}
	if name == "" {
		return v.Redirect(w, r, back, "No rule set is active now: received mail is not acted on.")
	}
	return v.Redirect(w, r, back, "Rule set "+name+" is active.")
}

func (s *Server) deleteRuleSet(w http.ResponseWriter, r *http.Request, v *view) error {
	name := r.PathValue("name")
	if _, err := v.SES().DeleteReceiptRuleSet(r.Context(), &ses.DeleteReceiptRuleSetInput{RuleSetName: aws.String(name)}); err != nil {
		v.Error = errorText(err)
		return s.showReceiving(w, r, v, errorStatus(err), receivingData{FilterPolicy: "Block"})
	}
	return v.Redirect(w, r, "/receiving", "Rule set "+name+" deleted.")
}

func (s *Server) createFilter(w http.ResponseWriter, r *http.Request, v *view) error {
	d := receivingData{Tab: "filters", FilterName: strings.TrimSpace(r.PostFormValue("name")),
		FilterPolicy: r.PostFormValue("policy"), FilterCidr: strings.TrimSpace(r.PostFormValue("cidr"))}
	_, err := v.SES().CreateReceiptFilter(r.Context(), &ses.CreateReceiptFilterInput{Filter: &types.ReceiptFilter{
		Name: aws.String(d.FilterName), IpFilter: &types.ReceiptIpFilter{Policy: types.ReceiptFilterPolicy(d.FilterPolicy),
			Cidr: aws.String(d.FilterCidr)}}})
	if err != nil {
		v.Error = errorText(err)
		return s.showReceiving(w, r, v, errorStatus(err), d)
	}
	return v.Redirect(w, r, "/receiving?tab=filters", "IP address filter "+d.FilterName+" created.")
}

func (s *Server) deleteFilter(w http.ResponseWriter, r *http.Request, v *view) error {
	name := r.PathValue("name")
	if _, err := v.SES().DeleteReceiptFilter(r.Context(), &ses.DeleteReceiptFilterInput{FilterName: aws.String(name)}); err != nil {
		v.Error = errorText(err)
		return s.showReceiving(w, r, v, errorStatus(err), receivingData{Tab: "filters", FilterPolicy: "Block"})
	}
	return v.Redirect(w, r, "/receiving?tab=filters", "IP address filter "+name+" deleted.")
}

// ruleSetData fills ruleset.html.
type ruleSetData struct {
	Name      string
	Created   *time.Time
	Active    bool
	Receiving bool
	Rules     []ruleRow
	Form      ruleForm
}

// ruleRow is one rule as the table shows it.
type ruleRow struct {
	Position    int // 1 for the first rule
	Name        string
	Enabled     bool
	TLSPolicy   string
	ScanEnabled bool
	Recipients  []string
	Actions     []string
}

// ruleForm is the new rule's form: the rule and its first action (and
// optionally a Stop after it).
type ruleForm struct {
	Name, Recipients, TLSPolicy, After, Action string
	Enabled, ScanEnabled, ThenStop             bool
	S3Bucket, S3Prefix                         string
	SNSTopic, SNSEncoding                      string
	BounceCode, BounceStatus, BounceMessage    string
	BounceSender                               string
	HeaderName, HeaderValue                    string
	LambdaARN, LambdaInvocation                string
}

func defaultRuleForm() ruleForm {
	return ruleForm{TLSPolicy: "Optional", Action: "s3", Enabled: true, ScanEnabled: true, SNSEncoding: "UTF-8",
		BounceCode: "550", BounceStatus: "5.1.1", BounceMessage: "Mailbox does not exist", LambdaInvocation: "Event"}
}

// ruleSet shows one rule set's rules in order and the form for another.
func (s *Server) ruleSet(w http.ResponseWriter, r *http.Request, v *view) error {
	return s.showRuleSet(w, r, v, http.StatusOK, defaultRuleForm())
}

func (s *Server) showRuleSet(w http.ResponseWriter, r *http.Request, v *view, status int, f ruleForm) error {
	name := r.PathValue("name")
	ctx, c := r.Context(), v.SES()
	out, err := c.DescribeReceiptRuleSet(ctx, &ses.DescribeReceiptRuleSetInput{RuleSetName: aws.String(name)})
	if err != nil {
		return err
	}
	active, err := c.DescribeActiveReceiptRuleSet(ctx, &ses.DescribeActiveReceiptRuleSetInput{})
	if err != nil {
		return err
	}
	d := ruleSetData{Name: name, Receiving: s.cfg.Receiving, Form: f,
		Active: active.Metadata != nil && aws.ToString(active.Metadata.Name) == name}
	if out.Metadata != nil {
		d.Created = out.Metadata.CreatedTimestamp
	}
	for i, rule := range out.Rules {
		row := ruleRow{Position: i + 1, Name: aws.ToString(rule.Name), Enabled: rule.Enabled, TLSPolicy: string(rule.TlsPolicy),
			ScanEnabled: rule.ScanEnabled, Recipients: rule.Recipients}
		for _, a := range rule.Actions {
			row.Actions = append(row.Actions, actionSummary(a))
		}
		d.Rules = append(d.Rules, row)
	}
	v.Nav = "receiving"
	return v.RenderStatus(w, status, "ruleset", "Rule set "+name, d)
}

// actionSummary is one receipt action in a line.
func actionSummary(a types.ReceiptAction) string {
	withTopic := func(s string, topic *string) string {
		if t := aws.ToString(topic); t != "" {
			return s + ", then notify " + t
		}
		return s
	}
	switch {
	case a.S3Action != nil:
		s := "S3: deliver to bucket " + aws.ToString(a.S3Action.BucketName)
		if p := aws.ToString(a.S3Action.ObjectKeyPrefix); p != "" {
			s += " under " + p
		}
		return withTopic(s, a.S3Action.TopicArn)
	case a.SNSAction != nil:
		enc := string(a.SNSAction.Encoding)
		if enc == "" {
			enc = "UTF-8"
		}
		return fmt.Sprintf("SNS: publish to %s (%s)", aws.ToString(a.SNSAction.TopicArn), enc)
	case a.BounceAction != nil:
		b := a.BounceAction
		code := aws.ToString(b.SmtpReplyCode)
		if st := aws.ToString(b.StatusCode); st != "" {
			code += " " + st
		}
		return withTopic(fmt.Sprintf("Bounce: %s %q from %s", code, aws.ToString(b.Message), aws.ToString(b.Sender)), b.TopicArn)
	case a.AddHeaderAction != nil:
		return fmt.Sprintf("Add header: %s: %s", aws.ToString(a.AddHeaderAction.HeaderName), aws.ToString(a.AddHeaderAction.HeaderValue))
	case a.StopAction != nil:
		return withTopic("Stop: evaluate no further rules", a.StopAction.TopicArn)
	case a.LambdaAction != nil:
		inv := string(a.LambdaAction.InvocationType)
		if inv == "" {
			inv = "Event"
		}
		return withTopic(fmt.Sprintf("Lambda: invoke %s (%s)", aws.ToString(a.LambdaAction.FunctionArn), inv), a.LambdaAction.TopicArn)
	case a.WorkmailAction != nil:
		return "WorkMail: " + aws.ToString(a.WorkmailAction.OrganizationArn)
	case a.ConnectAction != nil:
		return "Connect: " + aws.ToString(a.ConnectAction.InstanceARN)
	}
	return "(unknown action)"
}

// createRule adds a rule (after the chosen one, or first) with the action
// the form chose; the API checks it all (SES's errors: a bucket sesame
// cannot write, an unverified bounce sender, a name taken).
func (s *Server) createRule(w http.ResponseWriter, r *http.Request, v *view) error {
	f := ruleForm{Name: strings.TrimSpace(r.PostFormValue("name")), Recipients: r.PostFormValue("recipients"),
		TLSPolicy: r.PostFormValue("tls_policy"), After: r.PostFormValue("after"), Action: r.PostFormValue("action"),
		Enabled: r.PostFormValue("enabled") != "", ScanEnabled: r.PostFormValue("scan_enabled") != "",
		ThenStop: r.PostFormValue("then_stop") != "",
		S3Bucket: strings.TrimSpace(r.PostFormValue("s3_bucket")), S3Prefix: strings.TrimSpace(r.PostFormValue("s3_prefix")),
		SNSTopic: strings.TrimSpace(r.PostFormValue("sns_topic")), SNSEncoding: r.PostFormValue("sns_encoding"),
		BounceCode: strings.TrimSpace(r.PostFormValue("bounce_code")), BounceStatus: strings.TrimSpace(r.PostFormValue("bounce_status")),
		BounceMessage: strings.TrimSpace(r.PostFormValue("bounce_message")), BounceSender: strings.TrimSpace(r.PostFormValue("bounce_sender")),
		HeaderName: strings.TrimSpace(r.PostFormValue("header_name")), HeaderValue: r.PostFormValue("header_value"),
		LambdaARN: strings.TrimSpace(r.PostFormValue("lambda_arn")), LambdaInvocation: r.PostFormValue("lambda_invocation")}
	rule := &types.ReceiptRule{Name: aws.String(f.Name), Enabled: f.Enabled, ScanEnabled: f.ScanEnabled,
		TlsPolicy: types.TlsPolicy(f.TLSPolicy)}
	for _, line := range strings.FieldsFunc(f.Recipients, func(c rune) bool { return c == '\n' || c == '\r' || c == ',' }) {
		if line = strings.TrimSpace(line); line != "" {
			rule.Recipients = append(rule.Recipients, line)
		}
	}
	var first types.ReceiptAction
	switch f.Action {
	case "s3":
		first.S3Action = &types.S3Action{BucketName: aws.String(f.S3Bucket), ObjectKeyPrefix: receiptOptional(f.S3Prefix)}
	case "sns":
		first.SNSAction = &types.SNSAction{TopicArn: aws.String(f.SNSTopic), Encoding: types.SNSActionEncoding(f.SNSEncoding)}
	case "bounce":
		first.BounceAction = &types.BounceAction{SmtpReplyCode: aws.String(f.BounceCode), StatusCode: receiptOptional(f.BounceStatus),
			Message: aws.String(f.BounceMessage), Sender: aws.String(f.BounceSender)}
	case "add_header":
		first.AddHeaderAction = &types.AddHeaderAction{HeaderName: aws.String(f.HeaderName), HeaderValue: aws.String(f.HeaderValue)}
	case "stop":
		first.StopAction = &types.StopAction{Scope: types.StopScopeRuleSet}
	case "lambda":
		first.LambdaAction = &types.LambdaAction{FunctionArn: aws.String(f.LambdaARN), InvocationType: types.InvocationType(f.LambdaInvocation)}
	}
	if f.Action != "" {
		rule.Actions = append(rule.Actions, first)
	}
	if f.ThenStop && f.Action != "stop" {
		rule.Actions = append(rule.Actions, types.ReceiptAction{StopAction: &types.StopAction{Scope: types.StopScopeRuleSet}})
	}
	set := r.PathValue("name")
	_, err := v.SES().CreateReceiptRule(r.Context(), &ses.CreateReceiptRuleInput{RuleSetName: aws.String(set), Rule: rule,
		After: receiptOptional(f.After)})
	if err != nil {
		v.Error = errorText(err)
		return s.showRuleSet(w, r, v, errorStatus(err), f)
	}
	return v.Redirect(w, r, "/receiving/rule-sets/"+set, "Rule "+f.Name+" created.")
}

func (s *Server) deleteRule(w http.ResponseWriter, r *http.Request, v *view) error {
	set, rule := r.PathValue("name"), r.PathValue("rule")
	_, err := v.SES().DeleteReceiptRule(r.Context(), &ses.DeleteReceiptRuleInput{RuleSetName: aws.String(set), RuleName: aws.String(rule)})
	if err != nil {
		v.Error = errorText(err)
		return s.showRuleSet(w, r, v, errorStatus(err), defaultRuleForm())
	}
	return v.Redirect(w, r, "/receiving/rule-sets/"+set, "Rule "+rule+" deleted.")
}

// receiptOptional is nil for "": a parameter left out rather than sent empty.
func receiptOptional(s string) *string {
	if s == "" {
		return nil
	}
	return aws.String(s)
}
