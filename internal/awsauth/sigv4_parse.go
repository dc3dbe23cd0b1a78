package awsauth

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"sesame/internal/seserr"
)

// signature is what a request claims about its signing: the parts of the
// Authorization header (or of the presigned query) and the signing time.
type signature struct {
	presigned     bool
	accessKeyID   string
	scope         string // date/region/service/aws4_request, as sent
	scopeDate     string
	region        string
	service       string
	signedHeaders string // as sent, ';'-separated
	signature     string // hex, as sent
	amzDate       string // the StringToSign's timestamp (ISO 8601 basic)
	signedAt      time.Time
	expires       time.Duration // presigned only; 0: none given
	query         queryParams   // the request's query, decoded
}

// maxPresignExpiry is SigV4's cap on X-Amz-Expires: a week.
const maxPresignExpiry = 7 * 24 * time.Hour

// parseSignature reads the header form, or else the presigned form, and
// checks everything that needs no secret: completeness and the credential
// scope. AWS's texts are kept because SDKs and people search for them.
func parseSignature(r *http.Request) (signature, error) {
	s := signature{query: parseQuery(r.URL.RawQuery)}
	if auth := r.Header.Get("Authorization"); auth != "" {
		if err := s.parseHeader(r, auth); err != nil {
			return s, err
		}
	} else if s.query.has("X-Amz-Algorithm") || s.query.has("X-Amz-Credential") || s.query.has("X-Amz-Signature") {
		if err := s.parsePresigned(); err != nil {
			return s, err
		}
	} else {
		return s, seserr.MissingAuthenticationToken()
	}
	if err := s.parseCredential(); err != nil {
		return s, err
	}
	if !hasSignedHeader(s.signedHeaders, "host") {
		return s, seserr.IncompleteSignature("'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.")
	}
	return s, nil
}

// parseHeader reads "AWS4-HMAC-SHA256 Credential=…, SignedHeaders=…,
// Signature=…". Real signers differ in the separators (", " or "," or " "),
// so the parts are split on any of them; the values never contain them.
func (s *signature) parseHeader(r *http.Request, auth string) error {
	auth = strings.TrimSpace(auth)
	alg, rest := auth, ""
	if i := strings.IndexAny(auth, " \t"); i >= 0 {
		alg, rest = auth[:i], auth[i+1:]
	}
	if alg != sigAlgorithm && strings.HasPrefix(alg, "AWS4-") {
		return seserr.UnsupportedAlgorithm(alg)
	}
	if alg != sigAlgorithm {
		rest = "" // not SigV4 at all (SigV2, a bearer token): every part is missing
	}
	for rest != "" {
		var part string
		if i := strings.IndexAny(rest, ", \t"); i >= 0 {
			part, rest = rest[:i], rest[i+1:]
		} else {
			part, rest = rest, ""
		}
		name, value, ok := strings.Cut(part, "=")
		if !ok {
			continue
		}
		switch name {
		case "Credential":
			s.scope = value // split by parseCredential
		case "SignedHeaders":
			s.signedHeaders = value
		case "Signature":
			s.signature = value
		}
	}
	date := r.Header.Get("X-Amz-Date")
	if date == "" {
		date = r.Header.Get("Date")
	}
	if s.scope == "" || s.signature == "" || s.signedHeaders == "" || date == "" {
		return seserr.IncompleteSignature(missingAuthParts(auth, s.scope, s.signature, s.signedHeaders, date))
	}
	return s.parseDate(date, r.Header.Get("X-Amz-Date") == "")
}

// missingAuthParts is AWS's text for an incomplete Authorization header:
// one sentence per missing part, then the header itself.
func missingAuthParts(auth, credential, sig, signedHeaders, date string) string {
	var b strings.Builder
	for _, p := range [...]struct{ name, value string }{
		{"Credential", credential}, {"Signature", sig}, {"SignedHeaders", signedHeaders},
	} {
		if p.value == "" {
			fmt.Fprintf(&b, "Authorization header requires '%s' parameter. ", p.name)
		}
	}
	if date == "" {
		b.WriteString("Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. ")
	}
	return b.String() + "Authorization=" + auth
}

// parsePresigned reads the X-Amz-* query parameters of a presigned URL.
func (s *signature) parsePresigned() error {
	s.presigned = true
	presignParams := [...]string{"X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Signature", "X-Amz-SignedHeaders", "X-Amz-Date"}
	for _, name := range presignParams {
		if s.query.get(name) != "" {
			continue
		}
		var missing strings.Builder
		for _, name := range presignParams {
			if s.query.get(name) == "" {
				fmt.Fprintf(&missing, "AWS query-string parameters must include '%s'. ", name)
			}
		}
		return seserr.IncompleteSignature(missing.String() + "Re-examine the query-string parameters.")
	}
	if alg := s.query.get("X-Amz-Algorithm"); alg != sigAlgorithm {
		return seserr.UnsupportedAlgorithm(alg)
	}
	s.scope = s.query.get("X-Amz-Credential")
	s.signature = s.query.get("X-Amz-Signature")
	s.signedHeaders = s.query.get("X-Amz-SignedHeaders")
	if exp := s.query.get("X-Amz-Expires"); exp != "" {
		n, err := strconv.ParseInt(exp, 10, 64)
		switch {
		case err != nil || n < 0:
			return seserr.InvalidPresignExpires(exp)
		case time.Duration(n)*time.Second > maxPresignExpiry:
			return seserr.IncompleteSignature("X-Amz-Expires must be less than a week (in seconds) that is 604800")
		}
		s.expires = time.Duration(n) * time.Second
	}
	return s.parseDate(s.query.get("X-Amz-Date"), false)
}

// parseDate reads the signing time. X-Amz-Date is ISO 8601 basic; a Date
// header may also be an HTTP date, and is then restated in the basic form
// for the StringToSign.
func (s *signature) parseDate(v string, fromDateHeader bool) error {
	t, err := time.Parse(amzDateFormat, v)
	if err == nil {
		s.signedAt, s.amzDate = t, v
		return nil
	}
	if fromDateHeader {
		if t, herr := http.ParseTime(v); herr == nil {
			s.signedAt, s.amzDate = t.UTC(), t.UTC().Format(amzDateFormat)
			return nil
		}
	}
	return seserr.InvalidSigningDate(v).Wrap(err)
}

// parseCredential splits AKID/date/region/service/aws4_request and checks
// the scope against the signing time and this service. A wrong scope is
// SignatureDoesNotMatch, as AWS answers it; a malformed one is
// IncompleteSignature.
func (s *signature) parseCredential() error {
	cred := s.scope
	var parts [5]string
	rest := cred
	n := 0
	for n < 5 {
		var ok bool
		parts[n], rest, ok = strings.Cut(rest, "/")
		n++
		if !ok {
			break
		}
	}
	if n != 5 || rest != "" {
		return seserr.MalformedCredential(cred)
	}
	s.accessKeyID = parts[0]
	s.scopeDate, s.region, s.service = parts[1], parts[2], parts[3]
	s.scope = cred[len(parts[0])+1:]
	switch {
	case parts[4] != scopeEnd:
		return seserr.WrongScopeTerminator(parts[4])
	case s.service != Service && s.service != ServiceSNS:
		return seserr.WrongScopeService(Service)
	case s.scopeDate != s.amzDate[:8]:
		return seserr.ScopeDateMismatch(s.scopeDate, s.amzDate[:8], s.amzDate)
	}
	return nil
}

// checkTime applies the ±MaxSkew window (and a presigned URL's expiry).
func (s *signature) checkTime(now time.Time) error {
	now = now.UTC()
	stamp := func(t time.Time) string { return t.UTC().Format(amzDateFormat) }
	if s.signedAt.After(now.Add(MaxSkew)) {
		return seserr.SignatureNotYetCurrent(s.amzDate, stamp(now.Add(MaxSkew)), stamp(now))
	}
	if s.presigned && s.expires > 0 {
		if deadline := s.signedAt.Add(s.expires); now.After(deadline) {
			return seserr.PresignedURLExpired(s.amzDate, stamp(now.Add(-s.expires)), stamp(now), int64(s.expires/time.Second))
		}
		return nil
	}
	if s.signedAt.Before(now.Add(-MaxSkew)) {
		return seserr.SignatureExpired(s.amzDate, stamp(now.Add(-MaxSkew)), stamp(now))
	}
	return nil
}

// hasSignedHeader reports whether the ';'-list names name.
func hasSignedHeader(list, name string) bool {
	for list != "" {
		var h string
		h, list, _ = strings.Cut(list, ";")
		if h == name {
			return true
		}
	}
	return false
}

// queryParams is the query string as (decoded key, decoded value) pairs, in
// the order sent. SES requests rarely have a query (v2 list calls, presigned
// URLs), so a slice beats a map.
type queryParams []queryParam

type queryParam struct{ key, value string }

// parseQuery splits a raw query. '+' decodes to a space, as the SDKs that
// build queries from url.Values mean it; a malformed escape is kept as sent,
// which then simply fails to match.
func parseQuery(raw string) queryParams {
	if raw == "" {
		return nil
	}
	q := make(queryParams, 0, strings.Count(raw, "&")+1)
	for raw != "" {
		var pair string
		pair, raw, _ = strings.Cut(raw, "&")
		if pair == "" {
			continue
		}
		k, v, _ := strings.Cut(pair, "=")
		if dk, err := url.QueryUnescape(k); err == nil {
			k = dk
		}
		if dv, err := url.QueryUnescape(v); err == nil {
			v = dv
		}
		q = append(q, queryParam{k, v})
	}
	return q
}

func (q queryParams) get(key string) string {
	for _, p := range q {
		if p.key == key {
			return p.value
		}
	}
	return ""
}

func (q queryParams) has(key string) bool {
	for _, p := range q {
		if p.key == key {
			return true
		}
	}
	return false
}
