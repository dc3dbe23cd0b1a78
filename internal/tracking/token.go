package tracking

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"net/url"
	"sort"
	"strings"
)

// Kind is what a tracking URL records.
type Kind int

// The kinds of hit.
const (
	Open Kind = iota + 1
	Click
)

// Hit is what a valid tracking URL says.
type Hit struct {
	Kind      Kind
	MessageID string
	// Link is the click's target, as the message had it.
	Link string
	// Tags are the link's ses:tags (click only; nil when none).
	Tags map[string][]string
}

// ErrInvalid is returned for a URL that is not a tracking URL sesame made:
// malformed, edited or forged.
var ErrInvalid = errors.New("tracking: not a valid tracking URL")

// Links makes tracking URLs and checks them. The key must stay the same
// for as long as sent links should work (store.TrackingKey keeps one).
type Links struct {
	key []byte
}

// NewLinks returns Links signing with key.
func NewLinks(key []byte) *Links { return &Links{key: append([]byte(nil), key...)} }

// The URL shapes are SES's (spec §6): /I0/<messageId>/<sig> for the pixel
// and /L0/<percent-encoded target>/1/<messageId>/<sig> for a link; a link
// with ses:tags carries them as one more segment before the signature
// (SES keeps them on its side).
const (
	openPrefix  = "/I0/"
	clickPrefix = "/L0/"
	sigBytes    = 16 // 128 bits of HMAC-SHA256
)

// IsTrackingPath reports whether an HTTP path is one of the two tracking
// routes (whether it is valid is Parse's to say).
func IsTrackingPath(path string) bool {
	return strings.HasPrefix(path, openPrefix) || strings.HasPrefix(path, clickPrefix)
}

// OpenURL is the pixel's URL for messageID under base (scheme://host[:port]).
func (l *Links) OpenURL(base, messageID string) string {
	return strings.TrimSuffix(base, "/") + openPrefix + messageID + "/" + l.sign("I0", messageID, "", "")
}

// ClickURL is the redirect URL of target for messageID under base; tags
// are the link's ses:tags in their canonical form (see ParseTags).
func (l *Links) ClickURL(base, messageID, target, tags string) string {
	var b strings.Builder
	b.WriteString(strings.TrimSuffix(base, "/"))
	b.WriteString(clickPrefix)
	b.WriteString(escapeTarget(target))
	b.WriteString("/1/")
	b.WriteString(messageID)
	b.WriteByte('/')
	if tags != "" {
		b.WriteString(tags)
		b.WriteByte('/')
	}
	b.WriteString(l.sign("L0", messageID, target, tags))
	return b.String()
}

// escapeTarget percent-encodes a URL into one path segment: everything
// but RFC 3986's unreserved characters (so "/" and "%" too).
func escapeTarget(s string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	b.Grow(len(s) * 2)
	for i := 0; i < len(s); i++ {
		c := s[i]
		if isUnreserved(c) {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hex[c>>4])
		b.WriteByte(hex[c&15])
	}
	return b.String()
}

func isUnreserved(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '.' || c == '_' || c == '~'
}

// sign is the HMAC of everything a URL carries, length-free fields joined
// by NUL (none of them can hold one).
func (l *Links) sign(kind, messageID, target, tags string) string {
	m := hmac.New(sha256.New, l.key)
	m.Write([]byte(kind))
	m.Write([]byte{0})
	m.Write([]byte(messageID))
	m.Write([]byte{0})
	m.Write([]byte(target))
	m.Write([]byte{0})
	m.Write([]byte(tags))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil)[:sigBytes])
}

func (l *Links) verify(sig, kind, messageID, target, tags string) bool {
	return hmac.Equal([]byte(sig), []byte(l.sign(kind, messageID, target, tags)))
}

// Parse checks a request's escaped path (URL.EscapedPath, so an encoded
// "/" in the target stays one segment) and returns what it says, or
// ErrInvalid.
func (l *Links) Parse(escapedPath string) (Hit, error) {
	switch {
	case strings.HasPrefix(escapedPath, openPrefix):
		seg := strings.Split(escapedPath[len(openPrefix):], "/")
		if len(seg) != 2 || !validMessageID(seg[0]) || !l.verify(seg[1], "I0", seg[0], "", "") {
			return Hit{}, ErrInvalid
		}
		return Hit{Kind: Open, MessageID: seg[0]}, nil
	case strings.HasPrefix(escapedPath, clickPrefix):
		seg := strings.Split(escapedPath[len(clickPrefix):], "/")
		if (len(seg) != 4 && len(seg) != 5) || seg[1] != "1" || !validMessageID(seg[2]) {
			return Hit{}, ErrInvalid
		}
		target, err := url.PathUnescape(seg[0])
		if err != nil || !Trackable(target) {
			return Hit{}, ErrInvalid
		}
		tags := ""
		if len(seg) == 5 {
			tags = seg[3]
		}
		parsed, ok := ParseTags(tags)
		if !ok || CanonicalTags(parsed) != tags || !l.verify(seg[len(seg)-1], "L0", seg[2], target, tags) {
			return Hit{}, ErrInvalid
		}
		return Hit{Kind: Click, MessageID: seg[2], Link: target, Tags: parsed}, nil
	}
	return Hit{}, ErrInvalid
}

// validMessageID: SES message ids are lower-case hex digits and dashes.
func validMessageID(id string) bool {
	if id == "" || len(id) > 128 {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'z' || c == '-') {
			return false
		}
	}
	return true
}

// ParseTags reads a ses:tags value, "k:v;k2:v2;" (SES: names and values of
// letters, digits, "_" and "-"; the last ";" optional). ok is false when
// the value breaks those rules. A name given twice keeps every value.
func ParseTags(s string) (map[string][]string, bool) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, true
	}
	tags := map[string][]string{}
	for _, pair := range strings.Split(strings.TrimSuffix(s, ";"), ";") {
		k, v, found := strings.Cut(strings.TrimSpace(pair), ":")
		if !found || !validTagPart(k) || !validTagPart(v) {
			return nil, false
		}
		tags[k] = append(tags[k], v)
	}
	return tags, true
}

func validTagPart(s string) bool {
	if s == "" || len(s) > 256 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// CanonicalTags writes tags as a URL carries them: "k:v;k2:v2", names in
// order, values in the order given; "" for none.
func CanonicalTags(tags map[string][]string) string {
	if len(tags) == 0 {
		return ""
	}
	names := make([]string, 0, len(tags))
	for k := range tags {
		names = append(names, k)
	}
	sort.Strings(names)
	var b strings.Builder
	for _, k := range names {
		for _, v := range tags[k] {
			if b.Len() > 0 {
				b.WriteByte(';')
			}
			b.WriteString(k)
			b.WriteByte(':')
			b.WriteString(v)
		}
	}
	return b.String()
}

// Trackable reports whether a link's URL may be tracked: an absolute http
// or https URL with a host, every character one RFC 3986 allows (a
// percent sign only before two hex digits). Anything else is left as it
// is, as SES does.
func Trackable(u string) bool {
	if len(u) > 8192 {
		return false
	}
	lower := strings.ToLower(u)
	if !strings.HasPrefix(lower, "http://") && !strings.HasPrefix(lower, "https://") {
		return false
	}
	for i := 0; i < len(u); i++ {
		c := u[i]
		switch {
		case isUnreserved(c), strings.IndexByte(":/?#[]@!$&'()*+,;=", c) >= 0:
		case c == '%':
			if i+2 >= len(u) || !isHex(u[i+1]) || !isHex(u[i+2]) {
				return false
			}
			i += 2
		default:
			return false
		}
	}
	p, err := url.Parse(u)
	return err == nil && p.Host != ""
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}
