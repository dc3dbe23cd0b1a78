package mtasts

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

func TestParseRecord(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		txt   string
		id    string
		isSTS bool
		bad   bool
	}{
		{"v=STSv1; id=20160831085700Z;", "20160831085700Z", true, false},
		{"v=STSv1;id=abc", "abc", true, false},
		{"v=STSv1 ; id=abc ;", "abc", true, false},
		{"v=STSv1; id=first; id=second", "first", true, false},
		{"v=STSv1; ext=val; id=x1", "x1", true, false},
		{"v=spf1 -all", "", false, false},
		{"V=STSv1; id=abc", "", false, false}, // case-sensitive (§3.1)
		{"v=STSv1", "", true, true},
		{"v=STSv1;", "", true, true},
		{"v=STSv1; id=", "", true, true},
		{"v=STSv1; id=a-b", "", true, true},
		{"v=STSv1; id=" + strings.Repeat("a", 33), "", true, true},
		{"v=STSv1;; id=abc", "", true, true},
		{"v=STSv10; id=abc", "", true, true},
		{"v=STSv1; id=abc; junk", "", true, true},
		{"v=STSv1; id=abc; e=a b", "", true, true},
	} {
		rec, isSTS, err := ParseRecord(tc.txt)
		if isSTS != tc.isSTS || (err != nil) != tc.bad || rec.ID != tc.id {
			t.Errorf("ParseRecord(%q) = %+v, %v, %v; want id %q, isSTS %v, bad %v", tc.txt, rec, isSTS, err, tc.id, tc.isSTS, tc.bad)
		}
		if err != nil && !errors.Is(err, ErrRecordSyntax) {
			t.Errorf("ParseRecord(%q): error %v is not ErrRecordSyntax", tc.txt, err)
		}
	}
}

func TestParsePolicy(t *testing.T) {
	t.Parallel()
	good := []struct {
		in   string
		want Policy
	}{
		{"version: STSv1\nmode: enforce\nmx: mail.example.com\nmx: *.example.net\nmax_age: 604800\n",
			Policy{Mode: ModeEnforce, MX: []string{"mail.example.com", "*.example.net"}, MaxAge: 604800}},
		{"version: STSv1\r\nmode: testing\r\nmx: MX.Example.COM\r\nmax_age: 86400\r\n",
			Policy{Mode: ModeTesting, MX: []string{"mx.example.com"}, MaxAge: 86400}},
		{"version: STSv1\nmode: none\nmax_age: 0", Policy{Mode: ModeNone, MaxAge: 0}},
		{"mode: enforce\nmax_age: 9999999999\nversion: STSv1\nmx: a.b\next_key: some value\n",
			Policy{Mode: ModeEnforce, MX: []string{"a.b"}, MaxAge: MaxAgeLimit}},
		{"version:STSv1\nmode:\tenforce \nmode: none\nmx: a.b.\nmax_age: 5\nmax_age: 7\n",
			Policy{Mode: ModeEnforce, MX: []string{"a.b"}, MaxAge: 5}},
	}
	for _, tc := range good {
		p, err := ParsePolicy(tc.in)
		if err != nil {
			t.Errorf("ParsePolicy(%q): %v", tc.in, err)
			continue
		}
		if !reflect.DeepEqual(*p, tc.want) {
			t.Errorf("ParsePolicy(%q) = %+v, want %+v", tc.in, *p, tc.want)
		}
		// What String renders parses back to the same policy.
		again, err := ParsePolicy(p.String())
		if err != nil || !reflect.DeepEqual(again, p) {
			t.Errorf("round trip of %+v: %+v, %v", p, again, err)
		}
	}
	bad := []string{
		"",
		"version: STSv1\nmode: enforce\nmax_age: 10\n",                      // no mx
		"version: STSv2\nmode: enforce\nmx: a.b\nmax_age: 10\n",             // version
		"mode: enforce\nmx: a.b\nmax_age: 10\n",                             // no version
		"version: STSv1\nmx: a.b\nmax_age: 10\n",                            // no mode
		"version: STSv1\nmode: enforce\nmx: a.b\n",                          // no max_age
		"version: STSv1\nmode: Enforce\nmx: a.b\nmax_age: 10\n",             // mode is case-sensitive
		"version: STSv1\nmode: enforce\nmx: a.b\nmax_age: -1\n",             // negative
		"version: STSv1\nmode: enforce\nmx: a.b\nmax_age: 12345678901\n",    // 11 digits
		"version: STSv1\nmode: enforce\nmx: a..b\nmax_age: 10\n",            // empty label
		"version: STSv1\nmode: enforce\nmx: *.*.b\nmax_age: 10\n",           // double wildcard
		"version: STSv1\nmode: enforce\nmx: a*.b\nmax_age: 10\n",            // inner wildcard
		"version: STSv1\nmode: enforce\nmx: bücher.de\nmax_age: 10\n",       // U-label
		"version: STSv1\nmode: enforce\nmx: a.b\nmax_age: 10\n\n",           // empty line
		"version: STSv1\nmode: enforce\nmx: a.b\nmax_age: 10\nfoo\n",        // not key: value
		"version: STSv1\nmode: enforce\rmx: a.b\nmax_age: 10\n",             // bare CR
		"version: STSv1\nmode: enforce\nmx: a.b\nmax_age: 10\n_x: y\n",      // key must start alnum
		"version: STSv1\nmode: enforce\nmx: a.b\nmax_age: 10\next:\n",       // empty extension
		"version: STSv1\nmode: enforce\nmx: a.b\nmax_age: 10\next: a\x01\n", // control char
	}
	for _, in := range bad {
		if p, err := ParsePolicy(in); err == nil || !errors.Is(err, ErrPolicySyntax) {
			t.Errorf("ParsePolicy(%q) = %+v, %v; want ErrPolicySyntax", in, p, err)
		}
	}
}

func TestMatches(t *testing.T) {
	t.Parallel()
	p := &Policy{Mode: ModeEnforce, MX: []string{"mail.example.com", "*.example.net"}}
	for host, want := range map[string]bool{
		"mail.example.com":    true,
		"MAIL.example.com.":   true,
		"mx.example.com":      false,
		"example.com":         false,
		"mx1.example.net":     true,
		"example.net":         false,
		"a.mx1.example.net":   false, // one label only (§4.1)
		".example.net":        false,
		"mx1.example.network": false,
	} {
		if got := p.Matches(host); got != want {
			t.Errorf("Matches(%q) = %v, want %v", host, got, want)
		}
	}
}

func FuzzParsePolicy(f *testing.F) {
	f.Add("version: STSv1\nmode: enforce\nmx: mail.example.com\nmx: *.example.net\nmax_age: 604800\n")
	f.Add("version: STSv1\r\nmode: none\r\nmax_age: 0\r\n")
	f.Add("mode: testing\nmx: a\nversion: STSv1\nmax_age: 1\nx: y z\n")
	f.Fuzz(func(t *testing.T, s string) {
		p, err := ParsePolicy(s)
		if err != nil {
			return
		}
		if p.MaxAge < 0 || p.MaxAge > MaxAgeLimit {
			t.Fatalf("max_age %d out of range", p.MaxAge)
		}
		if p.Mode != ModeEnforce && p.Mode != ModeTesting && p.Mode != ModeNone {
			t.Fatalf("mode %q", p.Mode)
		}
		again, err := ParsePolicy(p.String())
		if err != nil || !reflect.DeepEqual(again, p) {
			t.Fatalf("round trip of %q: %+v → %+v, %v", s, p, again, err)
		}
		for _, mx := range p.MX {
			if !p.Matches(strings.TrimPrefix(mx, "*.")) && !strings.HasPrefix(mx, "*.") {
				t.Fatalf("%q does not match itself", mx)
			}
		}
	})
}

func FuzzParseRecord(f *testing.F) {
	f.Add("v=STSv1; id=20160831085700Z;")
	f.Add("v=STSv1;id=a;ext=b")
	f.Fuzz(func(t *testing.T, s string) {
		rec, isSTS, err := ParseRecord(s)
		if err == nil && isSTS && !validID(rec.ID) {
			t.Fatalf("accepted id %q", rec.ID)
		}
		if !isSTS && (err != nil || rec.ID != "") {
			t.Fatalf("not an STS record but %+v, %v", rec, err)
		}
	})
}
