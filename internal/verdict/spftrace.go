package verdict

import "strings"

// decidingDomain follows blitiri.com.ar/go/spf's trace of one evaluation
// to find the domain whose record decided the result: the include's for a
// pass through "include:_spf.provider.example", which is the domain SES's
// Received-SPF names ("domain of _spf.google.com designates …"). Each
// record's evaluation begins with a "check" trace and ends with exactly one
// of the terminal traces below; the mechanism that matched last is the one
// whose result propagated out (a match inside an include that did not pass
// is followed by the outer record's own match).
//
// The trace formats are the library's, pinned by its version in go.mod
// and by TestSPFMechanisms; should they change, the domain falls back to
// the one checked.
type decidingDomain struct {
	stack   []string
	decided string
}

func (d *decidingDomain) trace(f string, a ...any) {
	switch f {
	case "check %q %d %d":
		if s, ok := a[0].(string); ok {
			d.stack = append(d.stack, strings.ToLower(strings.TrimSuffix(s, ".")))
		}
	case "ip match: %v contains %v", "ip match: %v", "a match: %v, %v, %v",
		"mx match: %v, %v, %v", "ptr match: %q", "exists match: %v":
		d.mark()
	case "all: %v":
		d.mark()
		d.pop()
	case "dns record %q":
		if s, ok := a[0].(string); ok && s == "" {
			d.pop() // no SPF record: this evaluation ends with none
		}
	case "dns domain not found: %v", "dns temp error: %v", "multiple dns records",
		"dns perm error: %v", "too many redirects", "%q %v, %v", "%q: %v, %v",
		"unknown field, permerror", "fallback to neutral":
		d.pop()
	}
}

func (d *decidingDomain) mark() {
	if n := len(d.stack); n > 0 {
		d.decided = d.stack[n-1]
	}
}

func (d *decidingDomain) pop() {
	if n := len(d.stack); n > 0 {
		d.stack = d.stack[:n-1]
	}
}
