package config

import (
	"strings"
	"testing"
)

// [[delivery.source_addresses]]: parsed in order, v4 and v6; bad entries
// refused with the key named.
func TestSourceAddresses(t *testing.T) {
	t.Parallel()
	c := Default()
	if len(c.Delivery.SourceAddresses) != 0 {
		t.Errorf("default: %+v, want none", c.Delivery.SourceAddresses)
	}
	text := `
[[delivery.source_addresses]]
address = "127.0.0.2"
ehlo_name = "mail1.example.net"

[[delivery.source_addresses]]
address = "2001:db8::25"
ehlo_name = "mail2.example.net"
`
	if err := Parse(&c, text); err != nil {
		t.Fatal(err)
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	got := c.Delivery.SourceAddresses
	if len(got) != 2 || got[0].Address != "127.0.0.2" || got[0].EHLOName != "mail1.example.net" ||
		got[1].Addr().String() != "2001:db8::25" || got[1].EHLOName != "mail2.example.net" {
		t.Errorf("parsed: %+v", got)
	}
	if l := c.Delivery.SourceIPs(); strings.Join(l, " ") != "127.0.0.2 2001:db8::25" {
		t.Errorf("SourceIPs = %v", l)
	}

	entry := func(addr, name string) string {
		return "[[delivery.source_addresses]]\naddress = \"" + addr + "\"\nehlo_name = \"" + name + "\"\n"
	}
	for _, tc := range []struct{ text, want string }{
		{entry("", "mail.example.net"), "delivery.source_addresses[0].address"},
		{entry("mail.example.net", "mail.example.net"), "delivery.source_addresses[0].address"},
		{entry("10.0.0.256", "mail.example.net"), "delivery.source_addresses[0].address"},
		{entry("fe80::1%eth0", "mail.example.net"), "delivery.source_addresses[0].address"},
		{entry("127.0.0.2", ""), "delivery.source_addresses[0].ehlo_name"},
		{entry("127.0.0.2", "not a name"), "delivery.source_addresses[0].ehlo_name"},
		{entry("127.0.0.2", "a.example.net") + entry("127.0.0.2", "b.example.net"), "delivery.source_addresses[1].address"},
		// The same address spelled twice (v4-mapped v6) is a duplicate.
		{entry("127.0.0.2", "a.example.net") + entry("::ffff:127.0.0.2", "b.example.net"), "delivery.source_addresses[1].address"},
		{"[[delivery.source_addresses]]\naddress = \"127.0.0.2\"\nehlo_name = \"a.example.net\"\nbind = true\n", "bind"},
	} {
		c := Default()
		err := Parse(&c, tc.text)
		if err == nil {
			err = c.Validate()
		}
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: %v, want an error naming %s", tc.text, err, tc.want)
		}
	}
}
