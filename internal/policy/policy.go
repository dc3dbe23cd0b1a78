// Package policy reads, validates and evaluates IAM-style policy documents:
// the grammar of SES's sending-authorization (identity) policies, which
// sesame also uses to scope access keys the way IAM scopes a user. It knows
// nothing of the store, of accounts or of protocols: callers hand it the
// document and, at evaluation, a Request that says who does what to which
// resource under which circumstances; it answers Allow, Deny or NoMatch.
//
// Evaluation follows IAM: an explicit Deny in any statement wins, else an
// Allow, else nothing matched (an implicit deny). Conditions: the string,
// date, IP address, Bool and Null operators, the ForAllValues:/ForAnyValue:
// set qualifiers and the IfExists suffix, over SES's keys (ses:Recipients,
// ses:FromAddress, ses:FromDisplayName, ses:FeedbackAddress, ses:ApiVersion)
// and the global aws:CurrentTime, aws:EpochTime, aws:SourceIp,
// aws:SecureTransport and aws:PrincipalAccount.
package policy

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"strings"
	"time"
)

// MaxBytes is SES's limit on a policy document (4 KB).
const MaxBytes = 4096

// Kind selects the rules a document is validated by.
type Kind int

const (
	// Identity is an SES identity (sending-authorization) policy: every
	// statement names a Principal, its actions are SES's send actions and
	// its resource is the identity's ARN.
	Identity Kind = iota
	// Key is an access key's policy, as an IAM policy attached to a user:
	// no Principal (the key is the principal), any ses: action, resources
	// as ARN patterns or "*".
	Key
)

// sendActions are the actions an identity policy may grant (SES's guide).
var sendActions = []string{"ses:SendEmail", "ses:SendRawEmail", "ses:SendTemplatedEmail", "ses:SendBulkTemplatedEmail", "ses:SendBulkEmail"}

// Error is a refused document; its text says what is wrong, for
// InvalidPolicy (v1) and BadRequestException (v2) and the admin CLI.
type Error struct{ Why string }

func (e *Error) Error() string { return e.Why }

func invalid(format string, args ...any) error {
	return &Error{Why: fmt.Sprintf(format, args...)}
}

// notJSON says what is wrong with a document the JSON decoder refused,
// without the decoder's own words ("invalid character 'b' looking for
// beginning of object key string"), which name Go's parser, not the policy.
func notJSON(err error) error {
	var syntax *json.SyntaxError
	switch {
	case errors.As(err, &syntax):
		return invalid("Policy is not valid JSON (at byte %d)", syntax.Offset)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return invalid("Policy is not valid JSON (it ends too early)")
	}
	return invalid("Policy is not a JSON object")
}

// Document is a validated policy.
type Document struct {
	raw        string
	statements []statement
}

// String returns the document as it was given.
func (d *Document) String() string { return d.raw }

type statement struct {
	sid          string
	deny         bool
	principals   []string // "*", 12-digit account ids, IAM ARNs; nil: any (Key documents)
	notPrincipal bool
	actions      []string // patterns, lower-cased
	notAction    bool
	resources    []string // patterns
	notResource  bool
	conditions   []condition
}

// Parse validates doc as a policy of kind. For an Identity policy resource
// is the identity's ARN, which every statement's Resource must cover.
func Parse(doc string, kind Kind, resource string) (*Document, error) {
	if strings.TrimSpace(doc) == "" {
		return nil, invalid("Policy is empty")
	}
	if len(doc) > MaxBytes {
		return nil, invalid("Policy is %d bytes; the limit is %d (4 KB)", len(doc), MaxBytes)
	}
	var top map[string]json.RawMessage
	dec := json.NewDecoder(strings.NewReader(doc))
	dec.UseNumber()
	if err := dec.Decode(&top); err != nil {
		return nil, notJSON(err)
	}
	if dec.More() {
		return nil, invalid("Policy has text after its JSON object")
	}
	d := &Document{raw: doc}
	for k, v := range top {
		switch k {
		case "Version":
			var ver string
			if json.Unmarshal(v, &ver) != nil || (ver != "2012-10-17" && ver != "2008-10-17") {
				return nil, invalid("Policy Version must be \"2012-10-17\" or \"2008-10-17\", got %s", v)
			}
		case "Id":
			var id string
			if json.Unmarshal(v, &id) != nil {
				return nil, invalid("Policy Id must be a string")
			}
		case "Statement":
			raws, err := oneOrMany(v)
			if err != nil {
				return nil, invalid("Policy Statement must be an object or a list of objects")
			}
			for i, raw := range raws {
				st, err := parseStatement(raw, kind, resource)
				if err != nil {
					return nil, invalid("Statement %d: %s", i+1, err.(*Error).Why)
				}
				d.statements = append(d.statements, st)
			}
		default:
			return nil, invalid("Policy has an unknown element %q", k)
		}
	}
	if len(d.statements) == 0 {
		return nil, invalid("Policy has no Statement")
	}
	seen := map[string]bool{}
	for _, st := range d.statements {
		if st.sid == "" {
			continue
		}
		if seen[st.sid] {
			return nil, invalid("Statement ids must be unique: %q appears twice", st.sid)
		}
		seen[st.sid] = true
	}
	return d, nil
}

// oneOrMany reads a JSON value that IAM allows as one item or a list.
func oneOrMany(v json.RawMessage) ([]json.RawMessage, error) {
	v = bytes.TrimSpace(v)
	if len(v) > 0 && v[0] == '[' {
		var list []json.RawMessage
		if err := json.Unmarshal(v, &list); err != nil {
			return nil, err
		}
		return list, nil
	}
	return []json.RawMessage{v}, nil
}

// stringList reads a string or a list of strings.
func stringList(v json.RawMessage) ([]string, bool) {
	items, err := oneOrMany(v)
	if err != nil || len(items) == 0 {
		return nil, false
	}
	out := make([]string, 0, len(items))
	for _, it := range items {
		var s string
		if json.Unmarshal(it, &s) != nil {
			return nil, false
		}
		out = append(out, s)
	}
	return out, true
}

func parseStatement(raw json.RawMessage, kind Kind, resource string) (statement, error) {
	var st statement
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		return st, invalid("not a JSON object")
	}
	has := func(a, b string) (json.RawMessage, bool, error) {
		va, oka := m[a]
		vb, okb := m[b]
		switch {
		case oka && okb:
			return nil, false, invalid("has both %s and %s", a, b)
		case oka:
			return va, false, nil
		case okb:
			return vb, true, nil
		}
		return nil, false, nil
	}
	for k := range m {
		switch k {
		case "Sid", "Effect", "Principal", "NotPrincipal", "Action", "NotAction", "Resource", "NotResource", "Condition":
		default:
			return st, invalid("unknown element %q", k)
		}
	}
	if v, ok := m["Sid"]; ok {
		if json.Unmarshal(v, &st.sid) != nil {
			return st, invalid("Sid must be a string")
		}
	}
	var effect string
	if v, ok := m["Effect"]; !ok || json.Unmarshal(v, &effect) != nil || (effect != "Allow" && effect != "Deny") {
		return st, invalid("Effect must be \"Allow\" or \"Deny\"")
	}
	st.deny = effect == "Deny"

	pv, notP, err := has("Principal", "NotPrincipal")
	if err != nil {
		return st, err
	}
	switch {
	case kind == Key && pv != nil:
		return st, invalid("an access key's policy names no Principal: the key is the principal")
	case kind == Identity && pv == nil:
		return st, invalid("Principal is required: whom does the statement allow or deny?")
	case pv != nil:
		st.notPrincipal = notP
		if st.principals, err = parsePrincipal(pv); err != nil {
			return st, err
		}
	}

	av, notA, err := has("Action", "NotAction")
	if err != nil {
		return st, err
	}
	if av == nil {
		return st, invalid("Action is required")
	}
	acts, ok := stringList(av)
	if !ok {
		return st, invalid("Action must be a string or a list of strings")
	}
	st.notAction = notA
	for _, a := range acts {
		if err := checkAction(a, kind); err != nil {
			return st, err
		}
		st.actions = append(st.actions, strings.ToLower(a))
	}

	rv, notR, err := has("Resource", "NotResource")
	if err != nil {
		return st, err
	}
	if rv == nil {
		return st, invalid("Resource is required")
	}
	if st.resources, ok = stringList(rv); !ok {
		return st, invalid("Resource must be a string or a list of strings")
	}
	st.notResource = notR
	for _, r := range st.resources {
		if r != "*" && !strings.HasPrefix(r, "arn:") {
			return st, invalid("Resource %q is not an ARN", r)
		}
		if kind == Identity && (notR || !wildcardMatch(r, resource, false)) {
			return st, invalid("Resource %q is not this identity (%s)", r, resource)
		}
	}

	if v, ok := m["Condition"]; ok {
		if st.conditions, err = parseConditions(v); err != nil {
			return st, err
		}
	}
	return st, nil
}

func parsePrincipal(v json.RawMessage) ([]string, error) {
	var star string
	if json.Unmarshal(v, &star) == nil {
		if star != "*" {
			return nil, invalid("Principal must be \"*\" or an object like {\"AWS\": \"123456789012\"}")
		}
		return []string{"*"}, nil
	}
	var m map[string]json.RawMessage
	if json.Unmarshal(v, &m) != nil || len(m) == 0 {
		return nil, invalid("Principal must be \"*\" or an object like {\"AWS\": \"123456789012\"}")
	}
	var out []string
	for k, raw := range m {
		list, ok := stringList(raw)
		if !ok {
			return nil, invalid("Principal %s must be a string or a list of strings", k)
		}
		switch k {
		case "AWS":
			for _, p := range list {
				if p != "*" && !IsAccountID(p) && !strings.HasPrefix(p, "arn:aws:iam::") {
					return nil, invalid("Principal AWS %q is neither an account id nor an IAM ARN", p)
				}
				out = append(out, p)
			}
		case "Service":
			// Services are valid principals in SES; none of them sends
			// through sesame, so they match nothing.
			for _, p := range list {
				out = append(out, "service:"+p)
			}
		default:
			return nil, invalid("Principal type %q is not AWS or Service", k)
		}
	}
	return out, nil
}

// IsAccountID reports whether s is an AWS account id: twelve digits.
func IsAccountID(s string) bool {
	if len(s) != 12 {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

func checkAction(a string, kind Kind) error {
	if a == "*" {
		return nil
	}
	service, name, ok := strings.Cut(a, ":")
	if !ok || name == "" {
		return invalid("Action %q is not of the form ses:Name", a)
	}
	if !strings.EqualFold(service, "ses") {
		return invalid("Action %q is not an SES action", a)
	}
	if kind == Identity {
		for _, s := range sendActions {
			if wildcardMatch(strings.ToLower(a), strings.ToLower(s), false) {
				return nil
			}
		}
		return invalid("Action %q is not a sending action (ses:SendEmail, ses:SendRawEmail, ses:SendTemplatedEmail, ses:SendBulkTemplatedEmail, ses:SendBulkEmail)", a)
	}
	return nil
}

// Request is one action to decide on.
type Request struct {
	Principal       string // the calling account's id (12 digits)
	PrincipalARN    string // the caller as an IAM ARN, e.g. arn:aws:iam::ACCOUNT:user/NAME; optional
	Action          string // "ses:SendRawEmail", "ses:CreateEmailIdentity", …
	Resource        string // the ARN acted on; "*" when the action acts on none
	FromAddress     string // ses:FromAddress
	FromDisplayName string // ses:FromDisplayName
	Recipients      []string
	FeedbackAddress string // ses:FeedbackAddress: the Return-Path
	APIVersion      string // ses:ApiVersion: "1" or "2" ("" over SMTP)
	SourceIP        netip.Addr
	Time            time.Time
	SecureTransport bool
}

// Decision is the outcome of evaluating a request.
type Decision int

const (
	NoMatch Decision = iota // no statement applies: an implicit deny
	Allow
	Deny
)

func (d Decision) String() string {
	switch d {
	case Allow:
		return "Allow"
	case Deny:
		return "Deny"
	}
	return "NoMatch"
}

// Evaluate decides r against d alone.
func (d *Document) Evaluate(r Request) Decision {
	out := NoMatch
	for i := range d.statements {
		st := &d.statements[i]
		if !st.applies(&r) {
			continue
		}
		if st.deny {
			return Deny
		}
		out = Allow
	}
	return out
}

// Decide combines documents as IAM does: any Deny wins, else any Allow,
// else NoMatch.
func Decide(docs []*Document, r Request) Decision {
	out := NoMatch
	for _, d := range docs {
		switch d.Evaluate(r) {
		case Deny:
			return Deny
		case Allow:
			out = Allow
		}
	}
	return out
}

func (st *statement) applies(r *Request) bool {
	if st.principals != nil && matchesPrincipal(st.principals, r) == st.notPrincipal {
		return false
	}
	action := strings.ToLower(r.Action)
	if anyMatch(st.actions, action, false) == st.notAction {
		return false
	}
	if anyMatch(st.resources, r.Resource, false) == st.notResource {
		return false
	}
	for _, c := range st.conditions {
		if !c.holds(r) {
			return false
		}
	}
	return true
}

func matchesPrincipal(list []string, r *Request) bool {
	for _, p := range list {
		switch {
		case p == "*":
			return true
		case IsAccountID(p):
			if p == r.Principal {
				return true
			}
		case p == "arn:aws:iam::"+r.Principal+":root":
			return true
		case r.PrincipalARN != "" && p == r.PrincipalARN:
			return true
		}
	}
	return false
}

func anyMatch(patterns []string, s string, fold bool) bool {
	for _, p := range patterns {
		if wildcardMatch(p, s, fold) {
			return true
		}
	}
	return false
}

// wildcardMatch matches s against pattern, where * is any run of
// characters and ? any one character (IAM's StringLike, Action and
// Resource matching).
func wildcardMatch(pattern, s string, fold bool) bool {
	if fold {
		pattern, s = strings.ToLower(pattern), strings.ToLower(s)
	}
	// Iterative matching with backtracking to the last star: linear in
	// practice, never exponential.
	p, i := 0, 0
	star, mark := -1, 0
	for i < len(s) {
		switch {
		case p < len(pattern) && (pattern[p] == '?' || pattern[p] == s[i]):
			p++
			i++
		case p < len(pattern) && pattern[p] == '*':
			star, mark = p, i
			p++
		case star >= 0:
			p = star + 1
			mark++
			i = mark
		default:
			return false
		}
	}
	for p < len(pattern) && pattern[p] == '*' {
		p++
	}
	return p == len(pattern)
}
