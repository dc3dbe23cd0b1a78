package awsauth

import (
	"net/http"
	"sort"
	"strconv"
	"strings"
)

// canonicalRequest appends SigV4's canonical request to buf:
//
//	METHOD \n URI \n QUERY \n HEADERS (each line ending in \n) \n SIGNEDHEADERS \n PAYLOADHASH
//
// uri is the still-escaped request path; it is URI-encoded once more, as
// every non-S3 service signs it.
func (s *signature) canonicalRequest(buf []byte, r *http.Request, body []byte, uri string, payload *payloadHash) []byte {
	buf = append(buf, r.Method...)
	buf = append(buf, '\n')
	buf = appendURIEncoded(buf, uri, true)
	buf = append(buf, '\n')
	buf = s.appendCanonicalQuery(buf)
	buf = append(buf, '\n')
	buf = s.appendCanonicalHeaders(buf, r, body)
	buf = append(buf, '\n')
	buf = append(buf, s.signedHeaders...)
	buf = append(buf, '\n')
	return payload.appendTo(buf)
}

// rawPath is the request path exactly as the client sent it, still escaped
// (r.URL.Path is decoded: "a%40b.com" and "a@b.com" would look alike).
func rawPath(r *http.Request) string {
	if u := r.RequestURI; strings.HasPrefix(u, "/") {
		p, _, _ := strings.Cut(u, "?")
		return p
	}
	if p := r.URL.EscapedPath(); p != "" {
		return p
	}
	return "/"
}

// normalizePath removes dot segments and empty segments from a path, as
// botocore's remove_dot_segments and the JS SDK do (AWS also wants
// consecutive slashes collapsed). It works on the escaped form, so "%2E" is
// not a dot.
func normalizePath(p string) string {
	if p == "" {
		return "/"
	}
	if p[0] == '/' && !strings.Contains(p, "//") && !strings.Contains(p, "/.") {
		return p // the common case: nothing to do
	}
	var out []string
	for seg := range strings.SplitSeq(p, "/") {
		switch seg {
		case "", ".":
		case "..":
			if len(out) > 0 {
				out = out[:len(out)-1]
			}
		default:
			out = append(out, seg)
		}
	}
	var b strings.Builder
	if p[0] == '/' {
		b.WriteByte('/')
	}
	b.WriteString(strings.Join(out, "/"))
	if p[len(p)-1] == '/' && len(out) > 0 {
		b.WriteByte('/')
	}
	return b.String()
}

// appendURIEncoded percent-encodes every byte but RFC 3986's unreserved
// characters (and '/' when keepSlash), upper-case hex.
func appendURIEncoded(buf []byte, s string, keepSlash bool) []byte {
	const hexDigits = "0123456789ABCDEF"
	for i := 0; i < len(s); i++ {
		c := s[i]
		if isUnreserved(c) || (keepSlash && c == '/') {
			buf = append(buf, c)
			continue
		}
		buf = append(buf, '%', hexDigits[c>>4], hexDigits[c&15])
	}
	return buf
}

func isUnreserved(c byte) bool {
	return 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' ||
		c == '-' || c == '_' || c == '.' || c == '~'
}

// appendCanonicalQuery encodes each key and value strictly, sorts by key then
// value (on the encoded forms, as signers do) and joins them with '&'. A
// presigned request's own X-Amz-Signature is not part of what it signed.
func (s *signature) appendCanonicalQuery(buf []byte) []byte {
	if len(s.query) == 0 {
		return buf
	}
	pairs := make([]queryParam, 0, len(s.query))
	for _, p := range s.query {
		if s.presigned && p.key == "X-Amz-Signature" {
			continue
		}
		pairs = append(pairs, queryParam{
			key:   string(appendURIEncoded(nil, p.key, false)),
			value: string(appendURIEncoded(nil, p.value, false)),
		})
	}
	sort.Slice(pairs, func(i, j int) bool {
		if pairs[i].key != pairs[j].key {
			return pairs[i].key < pairs[j].key
		}
		return pairs[i].value < pairs[j].value
	})
	for i, p := range pairs {
		if i > 0 {
			buf = append(buf, '&')
		}
		buf = append(buf, p.key...)
		buf = append(buf, '=')
		buf = append(buf, p.value...)
	}
	return buf
}

// appendCanonicalHeaders writes "name:value\n" for each header the client
// says it signed, in its order. Values are trimmed with inner runs of spaces
// collapsed; repeated headers are joined by ','. net/http keeps Host, and
// sometimes Content-Length and Transfer-Encoding, out of r.Header, so those
// come from the request's fields.
func (s *signature) appendCanonicalHeaders(buf []byte, r *http.Request, body []byte) []byte {
	list := s.signedHeaders
	for list != "" {
		var name string
		name, list, _ = strings.Cut(list, ";")
		buf = append(buf, name...)
		buf = append(buf, ':')
		if name == "host" {
			host := r.Host
			if host == "" {
				host = r.URL.Host
			}
			buf = appendHeaderValue(buf, host)
			buf = append(buf, '\n')
			continue
		}
		n := 0
		for k, vs := range r.Header {
			if !strings.EqualFold(k, name) {
				continue
			}
			for _, v := range vs {
				if n > 0 {
					buf = append(buf, ',')
				}
				buf = appendHeaderValue(buf, v)
				n++
			}
		}
		if n == 0 {
			switch name {
			case "content-length":
				length := r.ContentLength
				if length <= 0 {
					length = int64(len(body))
				}
				buf = strconv.AppendInt(buf, length, 10)
			case "transfer-encoding":
				buf = append(buf, strings.Join(r.TransferEncoding, ",")...)
			}
		}
		buf = append(buf, '\n')
	}
	return buf
}

// appendHeaderValue trims v and collapses inner runs of spaces to one.
func appendHeaderValue(buf []byte, v string) []byte {
	v = strings.TrimSpace(v)
	space := false
	for i := 0; i < len(v); i++ {
		c := v[i]
		if c == ' ' {
			if space {
				continue
			}
			space = true
		} else {
			space = false
		}
		buf = append(buf, c)
	}
	return buf
}
