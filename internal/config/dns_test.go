package config

import (
	"slices"
	"strings"
	"testing"
)

// The [dns] section: off by default, listen and nameservers checked.
func TestDNS(t *testing.T) {
	t.Parallel()
	if d := Default().DNS; d.Listen != "" || len(d.Nameservers) != 0 {
		t.Errorf("default [dns] = %+v, want no listener", d)
	}
	for _, tc := range []struct {
		text    string
		want    DNS
		wantErr string
	}{
		{"[dns]\nlisten = \"127.0.0.1:5353\"", DNS{Listen: "127.0.0.1:5353"}, ""},
		{"[dns]\nlisten = \"[::1]:53\"\nnameservers = [\"ns1.example.net\", \"ns2.example.net\"]",
			DNS{Listen: "[::1]:53", Nameservers: []string{"ns1.example.net", "ns2.example.net"}}, ""},
		{"[dns]\nlisten = \"5353\"", DNS{}, "dns.listen"},
		{"[dns]\nnameservers = [\"ns1\"]", DNS{}, "dns.nameservers"},
		{"[dns]\nport = 53", DNS{}, "unknown key dns.port"},
	} {
		c := Default()
		err := Parse(&c, tc.text)
		if err == nil {
			err = c.Validate()
		}
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("%q: err = %v, want %q", tc.text, err, tc.wantErr)
			}
			continue
		}
		if err != nil {
			t.Errorf("%q: %v", tc.text, err)
			continue
		}
		if c.DNS.Listen != tc.want.Listen || !slices.Equal(c.DNS.Nameservers, tc.want.Nameservers) {
			t.Errorf("%q: dns = %+v, want %+v", tc.text, c.DNS, tc.want)
		}
	}
}
