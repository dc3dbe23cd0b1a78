package receipt

import (
	"net/netip"
	"testing"
)

func TestRuleMatches(t *testing.T) {
	r := Rule{Recipients: []string{"Boss@Example.com", "example.org", ".sub.example.net"}}
	for rcpt, want := range map[string]bool{
		"boss@example.com":      true, // an address, in any case
		"other@example.com":     false,
		"x@EXAMPLE.org":         true, // a domain
		"x@mail.example.org":    false,
		"x@a.sub.example.net":   true, // a subdomain
		"x@b.a.sub.example.net": true,
		"x@sub.example.net":     false, // not the domain itself
		"x@xsub.example.net":    false,
		"no-at-sign":            false,
	} {
		if got := r.Matches(rcpt); got != want {
			t.Errorf("%s: %v, want %v", rcpt, got, want)
		}
	}
	if !(&Rule{}).Matches("anyone@anywhere.test") {
		t.Error("a rule without recipients must match every recipient")
	}
	set := RuleSet{Rules: []Rule{{Name: "off", Recipients: []string{"example.org"}}, {Name: "on", Enabled: true}}}
	if m := set.Matching("x@example.org"); len(m) != 1 || m[0].Name != "on" {
		t.Errorf("Matching: %v (a disabled rule never matches)", m)
	}
}

func TestAllowed(t *testing.T) {
	filters := []Filter{
		{Name: "all", IPFilter: IPFilter{Policy: PolicyBlock, Cidr: "0.0.0.0/0"}},
		{Name: "v6", IPFilter: IPFilter{Policy: PolicyBlock, Cidr: "2001:db8::/32"}},
		{Name: "office", IPFilter: IPFilter{Policy: PolicyAllow, Cidr: "192.0.2.0/24"}},
		{Name: "host", IPFilter: IPFilter{Policy: PolicyAllow, Cidr: "2001:db8::25"}},
	}
	for ip, want := range map[string]bool{
		"192.0.2.7":        true,  // Allow beats the overlapping Block
		"198.51.100.1":     false, // blocked
		"::ffff:192.0.2.7": true,  // a mapped IPv4 address is its IPv4 address
		"2001:db8::25":     true,
		"2001:db8::26":     false,
		"2001:db9::1":      true, // no filter covers it
	} {
		if got := Allowed(filters, netip.MustParseAddr(ip)); got != want {
			t.Errorf("%s: %v, want %v", ip, got, want)
		}
	}
	if !Allowed(nil, netip.MustParseAddr("203.0.113.1")) {
		t.Error("no filters must allow everyone")
	}
}
