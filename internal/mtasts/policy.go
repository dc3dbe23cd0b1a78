// Package mtasts implements the sending side of SMTP MTA Strict Transport
// Security (RFC 8461): the `_mta-sts.<domain>` TXT record, the policy file
// served at https://mta-sts.<domain>/.well-known/mta-sts.txt, and a cache
// that keeps policies for their max_age and refreshes them as §5.1 says.
//
// It only finds out what a recipient domain asks for; delivery decides
// what to do with it (which MX hosts to use, whether to verify).
// It never fetches a policy over anything but HTTPS with a verified
// certificate, and it never follows redirects (§3.3).
package mtasts

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Mode is a policy's mode (RFC 8461 §3.2).
type Mode string

const (
	ModeEnforce Mode = "enforce"
	ModeTesting Mode = "testing"
	ModeNone    Mode = "none"
)

// MaxAgeLimit is the largest max_age RFC 8461 §3.2 allows (about a year).
const MaxAgeLimit = 31557600

// Errors a parse returns (wrapped).
var (
	ErrRecordSyntax = errors.New("mtasts: bad TXT record")
	ErrPolicySyntax = errors.New("mtasts: bad policy")
)

// Record is a `_mta-sts` TXT record: "v=STSv1; id=20160831085700Z;".
type Record struct {
	ID string
}

// ParseRecord parses a TXT record's text. isSTS is false when the text
// does not start with "v=STSv1" (RFC 8461 §3.1: such records are not
// MTA-STS records and are ignored); err is set when it does but is
// malformed.
func ParseRecord(txt string) (rec Record, isSTS bool, err error) {
	rest, ok := strings.CutPrefix(txt, "v=STSv1")
	if !ok {
		return Record{}, false, nil
	}
	// sts-text-record = sts-version 1*(sts-field-delim sts-field) [sts-field-delim]
	fields := strings.Split(rest, ";")
	if strings.TrimLeft(fields[0], " \t") != "" {
		return Record{}, true, fmt.Errorf("%w: %q after the version", ErrRecordSyntax, fields[0])
	}
	fields = fields[1:]
	seen := map[string]bool{}
	for i, f := range fields {
		f = strings.Trim(f, " \t")
		if f == "" {
			// Only a trailing delimiter may leave an empty field.
			if i == len(fields)-1 && i > 0 {
				continue
			}
			return Record{}, true, fmt.Errorf("%w: empty field", ErrRecordSyntax)
		}
		k, v, ok := strings.Cut(f, "=")
		if !ok || !validKey(k) {
			return Record{}, true, fmt.Errorf("%w: field %q", ErrRecordSyntax, f)
		}
		switch k {
		case "id":
			if !validID(v) {
				return Record{}, true, fmt.Errorf("%w: id %q is not 1 to 32 letters and digits", ErrRecordSyntax, v)
			}
			// RFC 8461 §3.2 (which §3.1 follows): the first of a repeated
			// field counts.
			if !seen[k] {
				rec.ID = v
			}
		default:
			// sts-ext-value = 1*(%x21-3A / %x3C / %x3E-7E)
			if v == "" || strings.ContainsFunc(v, func(r rune) bool { return r < 0x21 || r > 0x7e || r == ';' || r == '=' }) {
				return Record{}, true, fmt.Errorf("%w: extension value %q", ErrRecordSyntax, v)
			}
		}
		seen[k] = true
	}
	if rec.ID == "" {
		return Record{}, true, fmt.Errorf("%w: no id", ErrRecordSyntax)
	}
	return rec, true, nil
}

// validKey is sts-ext-name / sts-policy-ext-name: 1*32(ALPHA / DIGIT /
// "_" / "-" / "."), starting with a letter or digit.
func validKey(k string) bool {
	if k == "" || len(k) > 32 {
		return false
	}
	for i := 0; i < len(k); i++ {
		c := k[i]
		switch {
		case isAlnum(c):
		case i > 0 && (c == '_' || c == '-' || c == '.'):
		default:
			return false
		}
	}
	return true
}

func validID(id string) bool {
	if id == "" || len(id) > 32 {
		return false
	}
	for i := 0; i < len(id); i++ {
		if !isAlnum(id[i]) {
			return false
		}
	}
	return true
}

func isAlnum(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// Policy is a parsed policy file (RFC 8461 §3.2).
type Policy struct {
	Mode   Mode
	MX     []string // patterns, lower-case: "mail.example.com" or "*.example.net"
	MaxAge int      // seconds
}

// ParsePolicy parses a policy file strictly: "key: value" lines ended by
// LF or CRLF; version STSv1, mode and max_age required (the first of a
// repeated one counts), one or more mx unless mode is none; unknown keys
// with well-formed values are ignored (extensions). A max_age over
// MaxAgeLimit is taken as MaxAgeLimit rather than throwing the policy away.
func ParsePolicy(s string) (*Policy, error) {
	p := &Policy{}
	seen := map[string]bool{}
	lines := strings.Split(s, "\n")
	for i, line := range lines {
		line = strings.TrimSuffix(line, "\r")
		if line == "" && i == len(lines)-1 {
			break // the last line's end
		}
		if strings.ContainsRune(line, '\r') {
			return nil, fmt.Errorf("%w: line %d: bare CR", ErrPolicySyntax, i+1)
		}
		k, v, ok := strings.Cut(line, ":")
		if !ok || !validKey(k) {
			return nil, fmt.Errorf("%w: line %d: %q is not \"key: value\"", ErrPolicySyntax, i+1, line)
		}
		v = strings.Trim(v, " \t")
		first := !seen[k]
		seen[k] = true
		switch k {
		case "version":
			if v != "STSv1" {
				return nil, fmt.Errorf("%w: version %q", ErrPolicySyntax, v)
			}
		case "mode":
			m := Mode(v)
			if m != ModeEnforce && m != ModeTesting && m != ModeNone {
				return nil, fmt.Errorf("%w: mode %q", ErrPolicySyntax, v)
			}
			if first {
				p.Mode = m
			}
		case "max_age":
			n, err := parseMaxAge(v)
			if err != nil {
				return nil, err
			}
			if first {
				p.MaxAge = n
			}
		case "mx":
			pat, err := parseMXPattern(v)
			if err != nil {
				return nil, err
			}
			p.MX = append(p.MX, pat)
		default:
			// sts-policy-ext-value = sts-policy-vchar *(*WSP sts-policy-vchar)
			if v == "" || strings.ContainsFunc(v, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
				return nil, fmt.Errorf("%w: line %d: extension value %q", ErrPolicySyntax, i+1, v)
			}
		}
	}
	for _, k := range []string{"version", "mode", "max_age"} {
		if !seen[k] {
			return nil, fmt.Errorf("%w: no %s", ErrPolicySyntax, k)
		}
	}
	if len(p.MX) == 0 && p.Mode != ModeNone {
		return nil, fmt.Errorf("%w: mode %s without mx", ErrPolicySyntax, p.Mode)
	}
	return p, nil
}

func parseMaxAge(v string) (int, error) {
	// sts-policy-max-age-value = 1*10(DIGIT)
	if v == "" || len(v) > 10 || strings.ContainsFunc(v, func(r rune) bool { return r < '0' || r > '9' }) {
		return 0, fmt.Errorf("%w: max_age %q", ErrPolicySyntax, v)
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%w: max_age %q", ErrPolicySyntax, v)
	}
	return int(min(n, MaxAgeLimit)), nil
}

// parseMXPattern checks sts-policy-mx-value = ["*."] Domain, with A-labels
// only (RFC 8461 §3.2: U-labels are not allowed).
func parseMXPattern(v string) (string, error) {
	host := strings.TrimPrefix(v, "*.")
	host = strings.TrimSuffix(host, ".")
	if !validDomain(host) {
		return "", fmt.Errorf("%w: mx %q", ErrPolicySyntax, v)
	}
	if strings.HasPrefix(v, "*.") {
		return "*." + strings.ToLower(host), nil
	}
	return strings.ToLower(host), nil
}

// validDomain is RFC 5321's Domain: dot-separated labels of letters,
// digits and inner hyphens.
func validDomain(d string) bool {
	if d == "" || len(d) > 253 {
		return false
	}
	for _, l := range strings.Split(d, ".") {
		if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return false
		}
		for i := 0; i < len(l); i++ {
			if !isAlnum(l[i]) && l[i] != '-' {
				return false
			}
		}
	}
	return true
}

// Matches reports whether host (an MX host name) is one the policy names
// (RFC 8461 §4.1): equal ignoring case, or "*.example.net" matching
// exactly one more leftmost label.
func (p *Policy) Matches(host string) bool {
	host = strings.ToLower(strings.TrimSuffix(host, "."))
	for _, pat := range p.MX {
		if suffix, ok := strings.CutPrefix(pat, "*."); ok {
			label, rest, found := strings.Cut(host, ".")
			if found && label != "" && rest == suffix {
				return true
			}
		} else if host == pat {
			return true
		}
	}
	return false
}

// String renders the policy as a policy file.
func (p *Policy) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "version: STSv1\nmode: %s\n", p.Mode)
	for _, mx := range p.MX {
		fmt.Fprintf(&b, "mx: %s\n", mx)
	}
	fmt.Fprintf(&b, "max_age: %d\n", p.MaxAge)
	return b.String()
}
