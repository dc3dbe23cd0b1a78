package api

import (
	"context"
	"encoding/xml"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"sesame/internal/seserr"
)

// v1Namespace is SES v1's XML namespace.
const v1Namespace = "http://ses.amazonaws.com/doc/2010-12-01/"

// v1Handler handles one SES v1 (Query) action and returns its Result
// element's content: a struct with xml tags (nil = an empty Result).
type v1Handler func(ctx context.Context, q queryArgs) (any, error)

// handleV1 registers an Action.
func (s *Server) handleV1(action string, h v1Handler) { s.v1[action] = h }

// queryForm reads a Query-protocol request's parameters: the form body and
// the URL's query (SES v1 and SNS). A parameter in both is refused rather
// than one of them chosen: neither may override the other.
func queryForm(r *http.Request, body []byte) (url.Values, error) {
	form, err := url.ParseQuery(string(body))
	if err != nil {
		return nil, seserr.BadRequest("Could not parse the request body.").Wrap(err)
	}
	for k, v := range r.URL.Query() {
		if _, ok := form[k]; ok {
			return nil, seserr.ParameterInQueryAndBody(k)
		}
		form[k] = v
	}
	return form, nil
}

// v1WithoutResult are the actions whose model has no output: SES answers
// them with ResponseMetadata alone, no (empty) Result element.
var v1WithoutResult = map[string]bool{
	"CreateCustomVerificationEmailTemplate": true, "DeleteCustomVerificationEmailTemplate": true,
	"DeleteVerifiedEmailAddress": true, "UpdateAccountSendingEnabled": true,
	"UpdateConfigurationSetReputationMetricsEnabled": true, "UpdateConfigurationSetSendingEnabled": true,
	"UpdateCustomVerificationEmailTemplate": true, "VerifyEmailAddress": true,
}

func (s *Server) serveV1(w http.ResponseWriter, r *http.Request, body []byte) {
	form, err := queryForm(r, body)
	if err != nil {
		s.writeV1Error(w, r, err)
		return
	}
	action := form.Get("Action")
	h, ok := s.v1[action]
	if !ok {
		s.writeV1Error(w, r, unknownAction(action))
		return
	}
	out, err := h(r.Context(), queryArgs{form})
	if err != nil {
		s.writeV1Error(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "text/xml")
	w.WriteHeader(http.StatusOK)
	enc := xml.NewEncoder(w)
	start := xml.StartElement{Name: xml.Name{Local: action + "Response"},
		Attr: []xml.Attr{{Name: xml.Name{Local: "xmlns"}, Value: v1Namespace}}}
	_ = enc.EncodeToken(start)
	result := xml.StartElement{Name: xml.Name{Local: action + "Result"}}
	switch {
	case v1WithoutResult[action]:
	case out == nil:
		_ = enc.EncodeToken(result)
		_ = enc.EncodeToken(result.End())
	default:
		_ = enc.EncodeElement(out, result)
	}
	meta := struct {
		RequestID string `xml:"RequestId"`
	}{requestID(r.Context())}
	_ = enc.EncodeElement(meta, xml.StartElement{Name: xml.Name{Local: "ResponseMetadata"}})
	_ = enc.EncodeToken(start.End())
	_ = enc.Flush()
}

// queryArgs reads the Query protocol's flattened parameters:
// "Destination.ToAddresses.member.1", "Tags.member.2.Name",
// "TemplateData.entry.1.key".
type queryArgs struct{ v url.Values }

// Get returns a parameter ("" when absent).
func (q queryArgs) Get(name string) string { return q.v.Get(name) }

// Has reports whether a parameter is present.
func (q queryArgs) Has(name string) bool { _, ok := q.v[name]; return ok }

// Required returns a parameter or a MissingParameter error.
func (q queryArgs) Required(name string) (string, error) {
	if !q.Has(name) {
		return "", seserr.MissingParameter(name)
	}
	return q.Get(name), nil
}

// Members returns the prefixes of a list's members in order:
// "X.member.1", "X.member.2", … (for lists of structures, read each with Sub).
func (q queryArgs) Members(list string) []string {
	head := list + ".member."
	seen := map[int]bool{}
	for k := range q.v {
		if !strings.HasPrefix(k, head) {
			continue
		}
		rest := k[len(head):]
		if i := strings.IndexByte(rest, '.'); i >= 0 {
			rest = rest[:i]
		}
		if n, err := strconv.Atoi(rest); err == nil && n > 0 {
			seen[n] = true
		}
	}
	idx := make([]int, 0, len(seen))
	for n := range seen {
		idx = append(idx, n)
	}
	sort.Ints(idx)
	out := make([]string, len(idx))
	for i, n := range idx {
		out[i] = head + strconv.Itoa(n)
	}
	return out
}

// List returns a list of strings: X.member.1, X.member.2, …
func (q queryArgs) List(list string) []string {
	var out []string
	for _, m := range q.Members(list) {
		out = append(out, q.Get(m))
	}
	return out
}

// Sub returns the parameters under prefix ("X.member.1") with "prefix." cut.
func (q queryArgs) Sub(prefix string) queryArgs {
	sub := url.Values{}
	head := prefix + "."
	for k, v := range q.v {
		if strings.HasPrefix(k, head) {
			sub[k[len(head):]] = v
		}
	}
	return queryArgs{sub}
}

// Map returns a map: X.entry.N.key / X.entry.N.value.
func (q queryArgs) Map(name string) map[string]string {
	out := map[string]string{}
	head := name + ".entry."
	for k, v := range q.v {
		if strings.HasPrefix(k, head) && strings.HasSuffix(k, ".key") && len(v) > 0 {
			n := strings.TrimSuffix(k[len(head):], ".key")
			out[v[0]] = q.Get(head + n + ".value")
		}
	}
	return out
}

// Bool reads "true"/"false"; ok is false when absent.
func (q queryArgs) Bool(name string) (value, ok bool, err error) {
	if !q.Has(name) {
		return false, false, nil
	}
	switch strings.ToLower(q.Get(name)) {
	case "true":
		return true, true, nil
	case "false":
		return false, true, nil
	}
	return false, false, seserr.NotABoolean(name)
}

// Int reads an optional integer.
func (q queryArgs) Int(name string) (int, bool, error) {
	if !q.Has(name) {
		return 0, false, nil
	}
	n, err := strconv.Atoi(q.Get(name))
	if err != nil {
		return 0, false, seserr.NotAnInteger(name)
	}
	return n, true, nil
}

// isoTime formats a v1 timestamp (ISO-8601, UTC, milliseconds).
func isoTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }
