package sending

import (
	"slices"
	"testing"

	"sesame/internal/store"
)

func TestIdentityMatching(t *testing.T) {
	t.Parallel()
	ids := newIdentitySet([]store.Identity{
		{Name: "Alice@example.com", Type: store.EmailAddress, Status: store.StatusSuccess},
		{Name: "bob@Mixed.Example.org", Type: store.EmailAddress, Status: store.StatusSuccess},
		{Name: "verified.net", Type: store.Domain, Status: store.StatusSuccess},
		{Name: "pending.net", Type: store.Domain, Status: store.StatusPending},
		{Name: "carol@pending.org", Type: store.EmailAddress, Status: store.StatusFailed},
		{Name: "a+b@plus.com", Type: store.EmailAddress, Status: store.StatusSuccess},
	}, false)
	tests := []struct {
		addr string
		want bool
	}{
		{"Alice@example.com", true},
		{"Alice@EXAMPLE.com", true},        // domains are case-insensitive
		{"alice@example.com", false},       // local parts are not
		{"Alice+news@example.com", true},   // +label needs no extra verification
		{"Alice+a+b@example.com", true},    // everything after the first '+'
		{"+news@example.com", false},       // no local part before the label
		{"Alicex@example.com", false},      // no prefix matching
		{"other@example.com", false},       // address identity does not verify its domain
		{"bob@mixed.example.org", true},    // identity domain stored mixed-case
		{"anyone@verified.net", true},      // domain identity
		{"anyone@VERIFIED.NET", true},      // ... case-insensitive
		{"x@mail.verified.net", true},      // subdomain
		{"x@a.b.c.verified.net", true},     // deep subdomain
		{"x@notverified.net", false},       // suffix is not a parent domain
		{"x@verified.net.evil.com", false}, // nor is a prefix
		{"x@net", false},                   // nor a child's parent's parent
		{"x@pending.net", false},           // pending domain
		{"carol@pending.org", false},       // failed address
		{"a+b@plus.com", true},             // exact match on an identity with '+'
		{"a+b+c@plus.com", false},          // ... stripping gives "a", not verified
		{"noat", false},
	}
	for _, tc := range tests {
		if got := ids.verified(tc.addr); got != tc.want {
			t.Errorf("verified(%q) = %v, want %v", tc.addr, got, tc.want)
		}
	}
}

func TestUnverifiedOrder(t *testing.T) {
	t.Parallel()
	ids := newIdentitySet([]store.Identity{
		{Name: "ok.com", Type: store.Domain, Status: store.StatusSuccess},
	}, false)
	tests := []struct {
		name       string
		mailFrom   string
		senders    []string
		recipients []string
		sandbox    bool
		want       []string
	}{
		{name: "all verified, sandbox", mailFrom: "a@ok.com", senders: []string{"b@ok.com"},
			recipients: []string{"c@ok.com", "success@simulator.amazonses.com", "bounce+x@simulator.amazonses.com"}, sandbox: true},
		{name: "production ignores recipients", mailFrom: "a@ok.com", senders: []string{"a@ok.com"},
			recipients: []string{"x@elsewhere.com"}},
		{name: "senders first, no repeats", mailFrom: "m@bad.com", senders: []string{"f@bad.com", "m@bad.com", "s@ok.com", "r@bad.com"},
			recipients: []string{"x@bad.com", "f@bad.com", "x@bad.com", "success@simulator.amazonses.com", "y@ok.com"}, sandbox: true,
			want: []string{"m@bad.com", "f@bad.com", "r@bad.com", "x@bad.com"}},
		{name: "empty mail from is not listed", senders: []string{"f@bad.com"}, want: []string{"f@bad.com"}},
	}
	for _, tc := range tests {
		got := unverified(ids, tc.mailFrom, tc.senders, tc.recipients, tc.sandbox)
		if !slices.Equal(got, tc.want) {
			t.Errorf("%s: got %q, want %q", tc.name, got, tc.want)
		}
	}
}

func TestVerifiedDoesNotAllocate(t *testing.T) {
	ids := newIdentitySet([]store.Identity{
		{Name: "a@example.com", Type: store.EmailAddress, Status: store.StatusSuccess},
		{Name: "example.org", Type: store.Domain, Status: store.StatusSuccess},
	}, false)
	allocs := testing.AllocsPerRun(100, func() {
		ids.verified("a+x@example.com")
		ids.verified("b@mail.example.org")
		ids.verified("c@nowhere.example.net")
	})
	if allocs != 0 {
		t.Errorf("verified allocates %v times", allocs)
	}
}
