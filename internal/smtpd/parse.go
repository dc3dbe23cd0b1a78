package smtpd

import (
	"strconv"
	"strings"

	"sesame/internal/seserr"
)

// parsePath parses the argument of MAIL ("FROM:<path> params") or RCPT
// ("TO:<path> params"), keyword being "FROM:" or "TO:". It is lenient where
// common clients are sloppy (a space after the colon, no angle brackets)
// and strict about the rest. addr is the path without brackets; params the
// text after it. Address syntax itself is the Backend's to judge.
func parsePath(arg, keyword string) (addr, params string, ok bool) {
	if len(arg) < len(keyword) || !strings.EqualFold(arg[:len(keyword)], keyword) {
		return "", "", false
	}
	rest := strings.TrimLeft(arg[len(keyword):], " ")
	if rest == "" {
		return "", "", false
	}
	if rest[0] != '<' {
		// RFC 5321 requires brackets; some clients omit them.
		addr, params, _ = strings.Cut(rest, " ")
		if strings.ContainsAny(addr, "<>") {
			return "", "", false
		}
		return addr, strings.TrimSpace(params), true
	}
	end := closingBracket(rest)
	if end < 0 {
		return "", "", false
	}
	addr, params = rest[1:end], rest[end+1:]
	if params != "" && params[0] != ' ' {
		return "", "", false
	}
	return addr, strings.TrimSpace(params), true
}

// closingBracket returns the index of the '>' closing the path that s
// opens, skipping quoted local parts ("a>b"@example.com), or -1.
func closingBracket(s string) int {
	quoted := false
	for i := 1; i < len(s); i++ {
		switch c := s[i]; {
		case quoted && c == '\\':
			i++
		case c == '"':
			quoted = !quoted
		case !quoted && c == '>':
			return i
		case !quoted && c == '<':
			return -1
		}
	}
	return -1
}

// checkMailParams checks MAIL FROM's ESMTP parameters: SIZE (RFC 1870,
// still accepted though SES no longer advertises it), BODY (RFC 6152) and
// AUTH (RFC 4954 §5, ignored: sesame knows who submits).
func checkMailParams(params string, maxBytes int64) *seserr.Error {
	for params != "" {
		var p string
		p, params, _ = strings.Cut(params, " ")
		if p == "" {
			continue
		}
		key, value, _ := strings.Cut(p, "=")
		switch strings.ToUpper(key) {
		case "SIZE":
			n, err := strconv.ParseUint(value, 10, 63)
			if err != nil {
				return seserr.ArgumentSyntax()
			}
			if int64(n) > maxBytes {
				return seserr.MessageTooLong()
			}
		case "BODY":
			if !strings.EqualFold(value, "8BITMIME") && !strings.EqualFold(value, "7BIT") {
				return seserr.ArgumentSyntax()
			}
		case "AUTH":
		default:
			return seserr.ParameterNotImplemented()
		}
	}
	return nil
}
