package api

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/netip"
	"net/url"
	"strings"

	"sesame/internal/awsauth"
	"sesame/internal/policy"
	"sesame/internal/sending"
	"sesame/internal/seserr"
)

// Access keys scoped by a policy (`sesame admin key create --policy`):
// every call a key with a policy signs is decided by that policy as IAM
// decides for a user with it attached. Action is "ses:" + the operation's
// name (IAM's SES actions are the operation names, v1 and v2 alike);
// Resource the ARN of what the operation acts on, or "*" for an operation
// on no one resource (lists, account settings); the request's context
// fills aws:SourceIp, aws:CurrentTime, aws:SecureTransport and
// ses:ApiVersion. The sends are decided where the sending identity is
// known, by sending (keypolicy.go there), with SES's send condition keys.

// sentBySending are the operations sending decides (their Resource is
// the sending identity, known once the message is read).
var sentBySending = map[string]bool{
	"SendEmail": true, "SendRawEmail": true, "SendTemplatedEmail": true,
	"SendBulkTemplatedEmail": true, "SendBulkEmail": true,
}

// checkKeyPolicy refuses a call its key's policy does not allow
// (seserr.KeyNotAuthorized; SNS's AuthorizationError for the SNS API).
// Keys without a policy pass: they may do whatever their account may.
func (s *Server) checkKeyPolicy(r *http.Request, op operation, p awsauth.Principal, body []byte) error {
	k, err := s.key(r.Context(), p.AccessKeyID)
	if err != nil {
		return seserr.TemporaryFailure().Wrap(fmt.Errorf("api: access key %s: %w", p.AccessKeyID, err))
	}
	if !k.Scoped() {
		return nil
	}
	var name, resource string
	switch op.api {
	case "sns":
		// A key's policy grants SES's actions only: SNS is closed to it.
		form, _ := queryForm(r, body)
		topic := form.Get("TopicArn")
		if topic == "" {
			topic = "*"
		}
		return seserr.SNSKeyNotAuthorized(k.UserARN(), form.Get("Action"), topic)
	case "v2":
		name, resource = s.v2Call(r, body, p)
	default:
		form, err := queryForm(r, body)
		if err != nil {
			return nil // the handler refuses it, having done nothing
		}
		name, resource = v1Call(form, p)
	}
	if sentBySending[name] {
		return nil
	}
	req := s.callRequest(r, p, k, name, resource)
	if err := k.Authorize(req); err != nil {
		return err
	}
	// A v2 create with Tags tags what it makes: IAM asks for
	// ses:TagResource on it too.
	if op.api == "v2" && strings.HasPrefix(name, "Create") && hasTags(body) {
		req.Action = "ses:TagResource"
		return k.Authorize(req)
	}
	return nil
}

// hasTags reports whether a v2 body carries a non-empty Tags list.
func hasTags(body []byte) bool {
	var in struct{ Tags []json.RawMessage }
	return json.Unmarshal(body, &in) == nil && len(in.Tags) > 0
}

// key is the signer's key with its parsed policy: the Sender's cache, or
// the store when the server has no Sender (tests of other groups).
func (s *Server) key(ctx context.Context, id string) (sending.Key, error) {
	if s.cfg.Sender != nil {
		return s.cfg.Sender.Key(ctx, id)
	}
	k, err := s.cfg.Store.AccessKey(ctx, id)
	if err != nil {
		return sending.Key{}, err
	}
	return sending.NewKey(k), nil
}

// callRequest is an API call as IAM sees it.
func (s *Server) callRequest(r *http.Request, p awsauth.Principal, k sending.Key, name, resource string) policy.Request {
	ip, _ := netip.ParseAddr(clientIP(r.Context()))
	return policy.Request{
		Principal: p.AccountID, PrincipalARN: k.UserARN(),
		Action: "ses:" + name, Resource: resource,
		APIVersion: apiVersion(r.Context()), SourceIP: ip.Unmap(),
		Time: s.clk.Now(), SecureTransport: s.secure(),
	}
}

// secure is aws:SecureTransport: the listener answers HTTPS only.
func (s *Server) secure() bool { return s.cfg.TLS != nil }

type apiVersionKey struct{}

// apiVersion is ses:ApiVersion of the call in ctx: "2" or "1".
func apiVersion(ctx context.Context) string {
	v, _ := ctx.Value(apiVersionKey{}).(string)
	return v
}

// resourceARN is an SES resource's ARN in the caller's account and region.
func resourceARN(p awsauth.Principal, typ, name string) string {
	return "arn:aws:ses:" + p.Region + ":" + p.AccountID + ":" + typ + "/" + name
}

// v2Collections are the v2 paths' collections whose members are IAM
// resources: /v2/email/COLLECTION/{name}/… acts on TYPE/name, and a POST
// to /v2/email/COLLECTION creates the one its body's FIELD names.
var v2Collections = map[string]struct{ typ, field string }{
	"identities":                          {"identity", "EmailIdentity"},
	"configuration-sets":                  {"configuration-set", "ConfigurationSetName"},
	"templates":                           {"template", "TemplateName"},
	"contact-lists":                       {"contact-list", "ContactListName"},
	"dedicated-ip-pools":                  {"dedicated-ip-pool", "PoolName"},
	"custom-verification-email-templates": {"custom-verification-email-template", "TemplateName"},
}

// v2Call names a v2 call's operation and the resource it acts on.
func (s *Server) v2Call(r *http.Request, body []byte, p awsauth.Principal) (string, string) {
	_, pattern := s.v2.Handler(r)
	name, ok := v2Operations[normalizeRoute(pattern)]
	if !ok {
		// Every served route is in the table (TestV2OperationsTable);
		// one that is not is refused rather than let through.
		s.log.Error("api: a v2 route without an operation name; refused to scoped keys", "pattern", pattern)
		name = "UnknownOperation"
	}
	// segs: the path after /v2/email/ (or the old CLI's /v1/email/).
	rest, ok := strings.CutPrefix(r.URL.EscapedPath(), "/v2/email/")
	if !ok {
		rest, _ = strings.CutPrefix(r.URL.EscapedPath(), "/v1/email/")
	}
	var segs []string
	for _, seg := range strings.Split(rest, "/") {
		if u, err := url.PathUnescape(seg); err == nil {
			seg = u
		}
		segs = append(segs, seg)
	}
	switch {
	case name == "TagResource":
		return name, orStar(jsonField(body, "ResourceArn"))
	case name == "UntagResource" || name == "ListTagsForResource":
		return name, orStar(r.URL.Query().Get("ResourceArn"))
	case name == "SendCustomVerificationEmail":
		return name, named(p, "custom-verification-email-template", jsonField(body, "TemplateName"))
	case name == "PutDedicatedIpInPool":
		return name, named(p, "dedicated-ip-pool", jsonField(body, "DestinationPoolName"))
	}
	if len(segs) == 0 {
		return name, "*"
	}
	c, ok := v2Collections[segs[0]]
	switch {
	case !ok:
		return name, "*"
	case len(segs) >= 2 && segs[1] != "":
		return name, resourceARN(p, c.typ, segs[1])
	case r.Method == http.MethodPost:
		return name, named(p, c.typ, jsonField(body, c.field))
	}
	return name, "*"
}

// v1Resources are the v1 parameters that name the resource an action acts
// on, in the order they are looked for.
var v1Resources = []struct{ param, typ string }{
	{"Identity", "identity"},
	{"EmailAddress", "identity"},
	{"Domain", "identity"},
	{"BounceSender", "identity"},
	{"ConfigurationSetName", "configuration-set"},
	{"ConfigurationSet.Name", "configuration-set"},
	{"TemplateName", "template"},
	{"Template.TemplateName", "template"},
}

// v1Call names a v1 call's operation (its Action) and the resource it acts on.
func v1Call(form url.Values, p awsauth.Principal) (string, string) {
	action := form.Get("Action")
	if strings.Contains(action, "CustomVerificationEmail") {
		// The custom verification templates share TemplateName with the
		// others, and are their own resource type; their send acts on the
		// template too.
		return action, named(p, "custom-verification-email-template", form.Get("TemplateName"))
	}
	for _, res := range v1Resources {
		if v := form.Get(res.param); v != "" {
			return action, resourceARN(p, res.typ, v)
		}
	}
	return action, "*"
}

// named is TYPE/name's ARN, "*" when the call names none.
func named(p awsauth.Principal, typ, name string) string {
	if name == "" {
		return "*"
	}
	return resourceARN(p, typ, name)
}

func orStar(s string) string {
	if s == "" {
		return "*"
	}
	return s
}

// jsonField is a top-level string member of a JSON body ("" when the body
// or the member is not there: the handler refuses what does not parse).
func jsonField(body []byte, field string) string {
	var m map[string]json.RawMessage
	if json.Unmarshal(body, &m) != nil {
		return ""
	}
	var v string
	if json.Unmarshal(m[field], &v) != nil {
		return ""
	}
	return v
}

// normalizeRoute writes a mux pattern as v2Operations keys it: each
// wildcard as {}, without a trailing {$} or "/", and the /v1/email/ path
// old aws CLI builds send (PutEmailIdentityDkimSigningAttributes) as
// /v2/email/.
func normalizeRoute(pattern string) string {
	method, path, ok := strings.Cut(pattern, " ")
	if !ok {
		return pattern
	}
	path = strings.TrimSuffix(path, "{$}")
	path = strings.TrimSuffix(path, "/")
	if rest, ok := strings.CutPrefix(path, "/v1/email/"); ok {
		path = "/v2/email/" + rest
	}
	var b strings.Builder
	for {
		i := strings.IndexByte(path, '{')
		if i < 0 {
			b.WriteString(path)
			break
		}
		j := strings.IndexByte(path[i:], '}')
		if j < 0 {
			b.WriteString(path)
			break
		}
		b.WriteString(path[:i] + "{}")
		path = path[i+j+1:]
	}
	return method + " " + b.String()
}
