package sending

import (
	"strings"
	"testing"
)

func TestCheckAddress(t *testing.T) {
	t.Parallel()
	long := func(n int) string { return strings.Repeat("a", n) }
	tests := []struct {
		addr string
		ok   bool
	}{
		{"user@example.com", true},
		{"User.Name+tag@Example.COM", true},
		{"a@b", true},
		{"!#$%&'*+-/=?^_`{|}~@example.com", true},
		{`"quoted"@example.com`, true},
		{`"a@b"@example.com`, true},
		{`"a\"b"@example.com`, true},
		{"user@xn--bcher-kva.example", true},
		{"user@my_host.example.com", true},
		{"user@sub-domain.example.com", true},
		{long(64) + "@example.com", true},
		{"a@" + strings.Repeat(long(63)+".", 3) + long(60), true}, // 254 octets
		{"", false},
		{"example.com", false},
		{"@example.com", false},
		{"user@", false},
		{"user@@example.com", false},
		{".user@example.com", false},
		{"user.@example.com", false},
		{"us..er@example.com", false},
		{"us er@example.com", false},
		{`"us er"@example.com`, false},
		{`""@example.com`, false},
		{`"unterminated@example.com`, false},
		{`"a"b"@example.com`, false},
		{`"a\"@example.com`, false},
		{"user\x00@example.com", false},
		{"user\t@example.com", false},
		{"<user@example.com>", false},
		{"user@[127.0.0.1]", false},
		{"user(comment)@example.com", false},
		{"usér@example.com", false},
		{"user@exämple.com", false},
		{"user@example..com", false},
		{"user@.example.com", false},
		{"user@example.com.", false},
		{"user@-example.com", false},
		{"user@example-.com", false},
		{"user@exa mple.com", false},
		{long(65) + "@example.com", false},
		{"a@" + long(64) + ".com", false},
		{"a@" + strings.Repeat(long(63)+".", 3) + long(61), false}, // 255 octets
	}
	for _, tc := range tests {
		err := CheckAddress(tc.addr)
		if (err == nil) != tc.ok {
			t.Errorf("CheckAddress(%q) = %v, want ok=%v", tc.addr, err, tc.ok)
		}
	}
}

func TestCheckAddressDoesNotAllocate(t *testing.T) {
	allocs := testing.AllocsPerRun(100, func() {
		_ = CheckAddress("some.user+tag@mail.example.com")
		_ = CheckAddress("bad address@example.com")
	})
	if allocs != 0 {
		t.Errorf("CheckAddress allocates %v times per call", allocs)
	}
}

func TestIsSimulator(t *testing.T) {
	t.Parallel()
	tests := []struct {
		addr string
		want bool
	}{
		{"success@simulator.amazonses.com", true},
		{"bounce+run42@simulator.amazonses.com", true},
		{"ooto@SIMULATOR.amazonses.com", true},
		{"success@amazonses.com", false},
		{"success@x.simulator.amazonses.com", false},
		{"simulator.amazonses.com@example.com", false},
	}
	for _, tc := range tests {
		if got := isSimulator(tc.addr); got != tc.want {
			t.Errorf("isSimulator(%q) = %v, want %v", tc.addr, got, tc.want)
		}
	}
}

// FuzzCheckAddress checks that whatever CheckAddress accepts has the shape
// the rest of sesame relies on: 7-bit, no spaces or controls or brackets,
// a non-empty local part and domain around the last '@', ≤ 254 octets.
func FuzzCheckAddress(f *testing.F) {
	for _, s := range []string{"user@example.com", `"a b"@x`, "a@b.c", "@", "a@[1.2.3.4]", "é@x", `"\"@x`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, addr string) {
		if CheckAddress(addr) != nil {
			return
		}
		if len(addr) > maxAddressLen {
			t.Fatalf("accepted %d octets", len(addr))
		}
		for i := 0; i < len(addr); i++ {
			c := addr[i]
			if c <= ' ' || c > '~' || c == '<' || c == '>' || c == '[' || c == ']' {
				t.Fatalf("accepted %q with octet %#x", addr, c)
			}
		}
		local, domain := splitAddress(addr)
		if local == "" || domain == "" || strings.Contains(domain, "@") {
			t.Fatalf("accepted %q: local %q domain %q", addr, local, domain)
		}
	})
}
