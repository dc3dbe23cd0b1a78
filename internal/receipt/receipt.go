// Package receipt is SES's model of receiving: receipt rule sets, their
// rules and actions, and IP address filters. It says which rules a
// recipient matches and whether a client address may send to an account;
// it never touches a message (internal/receiving runs the actions) and
// never stores anything (internal/store keeps the sets and filters).
//
// The types carry SES's member names as JSON so the store keeps them as
// SES shows them and the API layer maps them one to one.
package receipt

import (
	"net/netip"
	"strings"
	"time"
)

// Filter is one IP address filter of an account (v1 ReceiptFilter).
type Filter struct {
	Name     string   `json:"Name"`
	IPFilter IPFilter `json:"IpFilter"`
}

// IPFilter is a filter's policy and range.
type IPFilter struct {
	Policy string `json:"Policy"` // PolicyBlock or PolicyAllow
	Cidr   string `json:"Cidr"`   // an address or a CIDR range, IPv4 or IPv6
}

// Filter policies.
const (
	PolicyBlock = "Block"
	PolicyAllow = "Allow"
)

// Allowed reports whether an account's filters let ip send to it. An Allow
// filter covering ip beats any Block covering it: SES's guide has users
// block 0.0.0.0/0 and allow the addresses they trust. Filters that do not
// parse are ignored (the API refuses them before they are stored).
func Allowed(filters []Filter, ip netip.Addr) bool {
	ip = ip.Unmap()
	blocked := false
	for _, f := range filters {
		p, ok := parseCidr(f.IPFilter.Cidr)
		if !ok || !p.Contains(ip) {
			continue
		}
		switch f.IPFilter.Policy {
		case PolicyAllow:
			return true
		case PolicyBlock:
			blocked = true
		}
	}
	return !blocked
}

// parseCidr reads "a.b.c.d/n", "a.b.c.d" or their IPv6 forms.
func parseCidr(s string) (netip.Prefix, bool) {
	if p, err := netip.ParsePrefix(s); err == nil {
		return p.Masked(), true
	}
	if a, err := netip.ParseAddr(s); err == nil {
		a = a.Unmap()
		return netip.PrefixFrom(a, a.BitLen()), true
	}
	return netip.Prefix{}, false
}

// RuleSet is a named, ordered list of rules; one set per account and
// region is active.
type RuleSet struct {
	Name    string    `json:"Name"`
	Created time.Time `json:"CreatedTimestamp"`
	Rules   []Rule    `json:"Rules,omitempty"`
}

// Rule is one receipt rule (v1 ReceiptRule).
type Rule struct {
	Name        string   `json:"Name"`
	Enabled     bool     `json:"Enabled"`
	TLSPolicy   string   `json:"TlsPolicy"` // TLSRequire or TLSOptional
	Recipients  []string `json:"Recipients,omitempty"`
	Actions     []Action `json:"Actions,omitempty"`
	ScanEnabled bool     `json:"ScanEnabled"`
}

// TLS policies of a rule.
const (
	TLSRequire  = "Require"
	TLSOptional = "Optional"
)

// Action is one receipt action: exactly one member is set (v1
// ReceiptAction).
type Action struct {
	S3Action        *S3Action        `json:"S3Action,omitempty"`
	BounceAction    *BounceAction    `json:"BounceAction,omitempty"`
	WorkmailAction  *WorkmailAction  `json:"WorkmailAction,omitempty"`
	LambdaAction    *LambdaAction    `json:"LambdaAction,omitempty"`
	StopAction      *StopAction      `json:"StopAction,omitempty"`
	AddHeaderAction *AddHeaderAction `json:"AddHeaderAction,omitempty"`
	SNSAction       *SNSAction       `json:"SNSAction,omitempty"`
	ConnectAction   *ConnectAction   `json:"ConnectAction,omitempty"`
}

// Type is the action's name as the Received notification's
// receipt.action.type spells it ("" for an action with no member set).
func (a Action) Type() string {
	switch {
	case a.S3Action != nil:
		return "S3"
	case a.BounceAction != nil:
		return "Bounce"
	case a.WorkmailAction != nil:
		return "WorkMail"
	case a.LambdaAction != nil:
		return "Lambda"
	case a.StopAction != nil:
		return "Stop"
	case a.AddHeaderAction != nil:
		return "AddHeader"
	case a.SNSAction != nil:
		return "SNS"
	case a.ConnectAction != nil:
		return "Connect"
	}
	return ""
}

// S3Action stores the message as an object: key = ObjectKeyPrefix +
// messageId.
type S3Action struct {
	TopicArn        string `json:"TopicArn,omitempty"`
	BucketName      string `json:"BucketName"`
	ObjectKeyPrefix string `json:"ObjectKeyPrefix,omitempty"`
	KmsKeyArn       string `json:"KmsKeyArn,omitempty"`
	IamRoleArn      string `json:"IamRoleArn,omitempty"`
}

// BounceAction answers the sender with a DSN.
type BounceAction struct {
	TopicArn      string `json:"TopicArn,omitempty"`
	SmtpReplyCode string `json:"SmtpReplyCode"`
	StatusCode    string `json:"StatusCode,omitempty"`
	Message       string `json:"Message"`
	Sender        string `json:"Sender"`
}

// WorkmailAction hands the message to Amazon WorkMail (refused by sesame).
type WorkmailAction struct {
	TopicArn        string `json:"TopicArn,omitempty"`
	OrganizationArn string `json:"OrganizationArn"`
}

// LambdaAction calls a function; sesame maps FunctionArn to an endpoint in
// its configuration.
type LambdaAction struct {
	TopicArn       string `json:"TopicArn,omitempty"`
	FunctionArn    string `json:"FunctionArn"`
	InvocationType string `json:"InvocationType,omitempty"` // InvocationEvent (default) or InvocationRequestResponse
}

// Lambda invocation types.
const (
	InvocationEvent           = "Event"
	InvocationRequestResponse = "RequestResponse"
)

// StopAction ends the rule set's evaluation.
type StopAction struct {
	Scope    string `json:"Scope"` // "RuleSet"
	TopicArn string `json:"TopicArn,omitempty"`
}

// AddHeaderAction adds a header every later action sees.
type AddHeaderAction struct {
	HeaderName  string `json:"HeaderName"`
	HeaderValue string `json:"HeaderValue"`
}

// SNSAction publishes the whole message to a topic.
type SNSAction struct {
	TopicArn string `json:"TopicArn"`
	Encoding string `json:"Encoding,omitempty"` // EncodingUTF8 (default) or EncodingBase64
}

// SNS action encodings.
const (
	EncodingUTF8   = "UTF-8"
	EncodingBase64 = "Base64"
)

// ConnectAction hands the message to Amazon Connect (refused by sesame).
type ConnectAction struct {
	InstanceARN string `json:"InstanceARN"`
	IAMRoleARN  string `json:"IAMRoleARN"`
}

// Matches reports whether the rule applies to rcpt: with no Recipients it
// applies to every recipient (of the account's verified domains, which the
// caller has checked); else a condition matches an address exactly
// ("user@example.com", case-insensitively), every address of a domain
// ("example.com", not its subdomains), or every address of a domain's
// subdomains (".example.com", not the domain itself).
func (r *Rule) Matches(rcpt string) bool {
	if len(r.Recipients) == 0 {
		return true
	}
	at := strings.LastIndexByte(rcpt, '@')
	if at < 0 {
		return false
	}
	domain := strings.ToLower(rcpt[at+1:])
	for _, c := range r.Recipients {
		switch {
		case strings.Contains(c, "@"):
			if strings.EqualFold(c, rcpt) {
				return true
			}
		case strings.HasPrefix(c, "."):
			if strings.HasSuffix(domain, strings.ToLower(c)) && len(domain) > len(c) {
				return true
			}
		default:
			if strings.EqualFold(c, domain) {
				return true
			}
		}
	}
	return false
}

// Matching returns the enabled rules of the set that apply to rcpt, in
// order.
func (s *RuleSet) Matching(rcpt string) []*Rule {
	var out []*Rule
	for i := range s.Rules {
		if r := &s.Rules[i]; r.Enabled && r.Matches(rcpt) {
			out = append(out, r)
		}
	}
	return out
}
