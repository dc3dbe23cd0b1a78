package sending

import (
	"errors"
	"strings"
)

// Envelope address limits: RFC 5321 §4.5.3.1.1 (local part ≤ 64 octets),
// §4.5.3.1.2 (domain ≤ 255) and the 254-octet path limit of RFC 3696's
// erratum, which is what SES and most MTAs apply to a whole address.
const (
	maxAddressLen = 254
	maxLocalLen   = 64
	maxLabelLen   = 63
)

// Reasons an envelope address is refused; protocol servers map them all to
// SES's one reply for the command (501 Invalid MAIL FROM / RCPT TO address).
var (
	errAddrEmpty     = errors.New("sending: empty address")
	errAddrTooLong   = errors.New("sending: address longer than 254 octets")
	errAddrNoAt      = errors.New("sending: address has no '@domain'")
	errAddrLocal     = errors.New("sending: invalid local part")
	errAddrLocalLong = errors.New("sending: local part longer than 64 octets")
	errAddrDomain    = errors.New("sending: invalid domain")
)

// CheckAddress checks envelope address syntax (MAIL FROM / RCPT TO / API
// Destination): a 7-bit addr-spec with a local part and a domain.
//
// The local part is a dot-atom or a quoted string (RFC 5322 §3.4.1) without
// spaces; the domain is dot-separated LDH labels (RFC 5321 §4.1.2; an IDN
// domain comes as punycode). Domain literals, 8-bit octets (no SMTPUTF8, as
// SES) and control characters are refused. It does not allocate.
func CheckAddress(addr string) error {
	if addr == "" {
		return errAddrEmpty
	}
	if len(addr) > maxAddressLen {
		return errAddrTooLong
	}
	at := strings.LastIndexByte(addr, '@')
	if at < 0 {
		return errAddrNoAt
	}
	local, domain := addr[:at], addr[at+1:]
	if err := checkLocalPart(local); err != nil {
		return err
	}
	return checkDomain(domain)
}

func checkLocalPart(local string) error {
	if local == "" {
		return errAddrLocal
	}
	if len(local) > maxLocalLen {
		return errAddrLocalLong
	}
	if local[0] == '"' {
		return checkQuotedLocal(local)
	}
	// dot-atom: atoms of atext separated by single dots.
	prevDot := true // a leading dot is refused
	for i := 0; i < len(local); i++ {
		c := local[i]
		if c == '.' {
			if prevDot {
				return errAddrLocal
			}
			prevDot = true
			continue
		}
		if !isAtext(c) {
			return errAddrLocal
		}
		prevDot = false
	}
	if prevDot {
		return errAddrLocal // trailing dot
	}
	return nil
}

// checkQuotedLocal accepts `"..."` with printable qtext and quoted-pairs
// (RFC 5322 §3.2.4), spaces excepted.
func checkQuotedLocal(local string) error {
	if len(local) < 3 || local[len(local)-1] != '"' {
		return errAddrLocal
	}
	body := local[1 : len(local)-1]
	for i := 0; i < len(body); i++ {
		c := body[i]
		switch {
		case c == '\\':
			i++
			if i == len(body) || body[i] <= ' ' || body[i] > '~' || isBracket(body[i]) {
				return errAddrLocal
			}
		case c == '"':
			return errAddrLocal
		case c <= ' ' || c > '~' || isBracket(c):
			return errAddrLocal
		}
	}
	return nil
}

// isBracket tells the octets RFC 5322 allows in a quoted local part that
// sesame refuses anyway: angle brackets end or start a path in SMTP
// commands and headers, square ones a domain literal, and a parser that
// forgets a quote (sesame's own or a receiver's) would split the address
// there. No real mailbox needs them.
func isBracket(c byte) bool { return c == '<' || c == '>' || c == '[' || c == ']' }

func checkDomain(domain string) error {
	if domain == "" || len(domain) > 253 {
		return errAddrDomain
	}
	label := 0 // length of the current label
	for i := 0; i < len(domain); i++ {
		c := domain[i]
		switch {
		case c == '.':
			if label == 0 || domain[i-1] == '-' {
				return errAddrDomain
			}
			label = 0
		case c == '-':
			if label == 0 {
				return errAddrDomain
			}
			label++
		case isLetDig(c) || c == '_':
			// '_' is not LDH, but appears in real host names (and SES
			// accepts it); refusing it would only break senders.
			label++
		default:
			return errAddrDomain
		}
		if label > maxLabelLen {
			return errAddrDomain
		}
	}
	if label == 0 || domain[len(domain)-1] == '-' {
		return errAddrDomain // trailing dot or hyphen
	}
	return nil
}

func isLetDig(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
}

// isAtext is RFC 5322 §3.2.3 atext.
func isAtext(c byte) bool {
	if isLetDig(c) {
		return true
	}
	switch c {
	case '!', '#', '$', '%', '&', '\'', '*', '+', '-', '/', '=', '?', '^', '_', '`', '{', '|', '}', '~':
		return true
	}
	return false
}

// splitAddress splits a checked address at its last '@'.
func splitAddress(addr string) (local, domain string) {
	at := strings.LastIndexByte(addr, '@')
	if at < 0 {
		return addr, ""
	}
	return addr[:at], addr[at+1:]
}

// simulatorDomain is SES's mailbox simulator; its addresses may be used
// unverified in the sandbox and do not count toward the daily quota.
const simulatorDomain = "simulator.amazonses.com"

// isSimulator reports whether addr is a mailbox-simulator address
// (success@, bounce@, name+label@ ... of simulator.amazonses.com).
func isSimulator(addr string) bool {
	_, domain := splitAddress(addr)
	return strings.EqualFold(domain, simulatorDomain)
}
