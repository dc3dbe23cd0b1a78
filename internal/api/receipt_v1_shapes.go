package api

import (
	"strings"

	"sesame/internal/receipt"
)

// The Query/XML shapes of SES v1's receipt rules (botocore ses 2010-12-01:
// ReceiptRule, ReceiptAction and its members, ReceiptRuleSetMetadata). A
// member that is not set is left out, as SES leaves it out, rather than
// sent empty.

// ruleFromQuery reads a ReceiptRule from its flattened parameters ("Name",
// "Enabled", "Recipients.member.N", "Actions.member.N.S3Action.BucketName").
func ruleFromQuery(q queryArgs) (receipt.Rule, error) {
	r := receipt.Rule{Name: q.Get("Name"), TLSPolicy: q.Get("TlsPolicy"), Recipients: q.List("Recipients")}
	var err error
	if r.Enabled, _, err = q.Bool("Enabled"); err != nil {
		return r, err
	}
	if r.ScanEnabled, _, err = q.Bool("ScanEnabled"); err != nil {
		return r, err
	}
	for _, m := range q.Members("Actions") {
		r.Actions = append(r.Actions, actionFromQuery(q.Sub(m)))
	}
	return r, nil
}

// actionFromQuery reads one ReceiptAction: each member present sets its
// type (receipt.ValidateRule refuses none or several).
func actionFromQuery(q queryArgs) receipt.Action {
	has := func(member string) bool {
		for k := range q.v {
			if strings.HasPrefix(k, member+".") || k == member {
				return true
			}
		}
		return false
	}
	var a receipt.Action
	if has("S3Action") {
		a.S3Action = &receipt.S3Action{TopicArn: q.Get("S3Action.TopicArn"), BucketName: q.Get("S3Action.BucketName"),
			ObjectKeyPrefix: q.Get("S3Action.ObjectKeyPrefix"), KmsKeyArn: q.Get("S3Action.KmsKeyArn"),
			IamRoleArn: q.Get("S3Action.IamRoleArn")}
	}
	if has("BounceAction") {
		a.BounceAction = &receipt.BounceAction{TopicArn: q.Get("BounceAction.TopicArn"),
			SmtpReplyCode: q.Get("BounceAction.SmtpReplyCode"), StatusCode: q.Get("BounceAction.StatusCode"),
			Message: q.Get("BounceAction.Message"), Sender: q.Get("BounceAction.Sender")}
	}
	if has("WorkmailAction") {
		a.WorkmailAction = &receipt.WorkmailAction{TopicArn: q.Get("WorkmailAction.TopicArn"),
			OrganizationArn: q.Get("WorkmailAction.OrganizationArn")}
	}
	if has("LambdaAction") {
		a.LambdaAction = &receipt.LambdaAction{TopicArn: q.Get("LambdaAction.TopicArn"),
			FunctionArn: q.Get("LambdaAction.FunctionArn"), InvocationType: q.Get("LambdaAction.InvocationType")}
	}
	if has("StopAction") {
		a.StopAction = &receipt.StopAction{Scope: q.Get("StopAction.Scope"), TopicArn: q.Get("StopAction.TopicArn")}
	}
	if has("AddHeaderAction") {
		a.AddHeaderAction = &receipt.AddHeaderAction{HeaderName: q.Get("AddHeaderAction.HeaderName"),
			HeaderValue: q.Get("AddHeaderAction.HeaderValue")}
	}
	if has("SNSAction") {
		a.SNSAction = &receipt.SNSAction{TopicArn: q.Get("SNSAction.TopicArn"), Encoding: q.Get("SNSAction.Encoding")}
	}
	if has("ConnectAction") {
		a.ConnectAction = &receipt.ConnectAction{InstanceARN: q.Get("ConnectAction.InstanceARN"),
			IAMRoleARN: q.Get("ConnectAction.IAMRoleARN")}
	}
	return a
}

// ruleSetMetaXML is ReceiptRuleSetMetadata.
type ruleSetMetaXML struct {
	Name             string
	CreatedTimestamp string
}

// ruleSetResultXML is Describe(Active)ReceiptRuleSet's result.
type ruleSetResultXML struct {
	Metadata ruleSetMetaXML
	Rules    struct {
		Member []ruleXML `xml:"member"`
	}
}

func ruleSetXML(rs *receipt.RuleSet) ruleSetResultXML {
	out := ruleSetResultXML{Metadata: ruleSetMetaXML{rs.Name, isoTime(rs.Created)}}
	for _, r := range rs.Rules {
		out.Rules.Member = append(out.Rules.Member, toRuleXML(r))
	}
	return out
}

// stringsXML is a list of strings as <member> elements.
type stringsXML struct {
	Member []string `xml:"member"`
}

// ruleXML is ReceiptRule.
type ruleXML struct {
	Name        string
	Enabled     bool
	TlsPolicy   string      `xml:",omitempty"`
	Recipients  *stringsXML `xml:",omitempty"`
	Actions     *actionsXML `xml:",omitempty"`
	ScanEnabled bool
}

type actionsXML struct {
	Member []actionXML `xml:"member"`
}

// actionXML is ReceiptAction: one member set.
type actionXML struct {
	S3Action        *s3ActionXML        `xml:",omitempty"`
	BounceAction    *bounceActionXML    `xml:",omitempty"`
	WorkmailAction  *workmailActionXML  `xml:",omitempty"`
	LambdaAction    *lambdaActionXML    `xml:",omitempty"`
	StopAction      *stopActionXML      `xml:",omitempty"`
	AddHeaderAction *addHeaderActionXML `xml:",omitempty"`
	SNSAction       *snsActionXML       `xml:",omitempty"`
	ConnectAction   *connectActionXML   `xml:",omitempty"`
}

type s3ActionXML struct {
	TopicArn        string `xml:",omitempty"`
	BucketName      string
	ObjectKeyPrefix string `xml:",omitempty"`
	KmsKeyArn       string `xml:",omitempty"`
	IamRoleArn      string `xml:",omitempty"`
}

type bounceActionXML struct {
	TopicArn      string `xml:",omitempty"`
	SmtpReplyCode string
	StatusCode    string `xml:",omitempty"`
	Message       string
	Sender        string
}

type workmailActionXML struct {
	TopicArn        string `xml:",omitempty"`
	OrganizationArn string
}

type lambdaActionXML struct {
	TopicArn       string `xml:",omitempty"`
	FunctionArn    string
	InvocationType string `xml:",omitempty"`
}

type stopActionXML struct {
	Scope    string
	TopicArn string `xml:",omitempty"`
}

type addHeaderActionXML struct {
	HeaderName  string
	HeaderValue string
}

type snsActionXML struct {
	TopicArn string
	Encoding string `xml:",omitempty"`
}

type connectActionXML struct {
	InstanceARN string
	IAMRoleARN  string
}

func toRuleXML(r receipt.Rule) ruleXML {
	out := ruleXML{Name: r.Name, Enabled: r.Enabled, TlsPolicy: r.TLSPolicy, ScanEnabled: r.ScanEnabled}
	if len(r.Recipients) > 0 {
		out.Recipients = &stringsXML{Member: r.Recipients}
	}
	if len(r.Actions) > 0 {
		out.Actions = &actionsXML{}
		for _, a := range r.Actions {
			out.Actions.Member = append(out.Actions.Member, toActionXML(a))
		}
	}
	return out
}

func toActionXML(a receipt.Action) actionXML {
	var x actionXML
	if v := a.S3Action; v != nil {
		x.S3Action = &s3ActionXML{v.TopicArn, v.BucketName, v.ObjectKeyPrefix, v.KmsKeyArn, v.IamRoleArn}
	}
	if v := a.BounceAction; v != nil {
		x.BounceAction = &bounceActionXML{v.TopicArn, v.SmtpReplyCode, v.StatusCode, v.Message, v.Sender}
	}
	if v := a.WorkmailAction; v != nil {
		x.WorkmailAction = &workmailActionXML{v.TopicArn, v.OrganizationArn}
	}
	if v := a.LambdaAction; v != nil {
		x.LambdaAction = &lambdaActionXML{v.TopicArn, v.FunctionArn, v.InvocationType}
	}
	if v := a.StopAction; v != nil {
		x.StopAction = &stopActionXML{v.Scope, v.TopicArn}
	}
	if v := a.AddHeaderAction; v != nil {
		x.AddHeaderAction = &addHeaderActionXML{v.HeaderName, v.HeaderValue}
	}
	if v := a.SNSAction; v != nil {
		x.SNSAction = &snsActionXML{v.TopicArn, v.Encoding}
	}
	if v := a.ConnectAction; v != nil {
		x.ConnectAction = &connectActionXML{v.InstanceARN, v.IAMRoleARN}
	}
	return x
}
