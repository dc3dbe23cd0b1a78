package config

import (
	"strings"
	"testing"
)

// The outbound TLS authentication keys: defaults, and bad values named.
func TestDeliveryTLSAuthKeys(t *testing.T) {
	t.Parallel()
	d := Default().Delivery
	if !d.MTASTS || d.DANE || d.MTASTSPort != 443 || d.MTASTSCAFile != "" || d.AllowPrivateDestinations {
		t.Errorf("defaults: mta_sts %v, dane %v, mta_sts_port %d, mta_sts_ca_file %q, allow_private_destinations %v",
			d.MTASTS, d.DANE, d.MTASTSPort, d.MTASTSCAFile, d.AllowPrivateDestinations)
	}
	c := Default()
	if err := Parse(&c, "[delivery]\nmta_sts = false\ndane = true\nmta_sts_port = 8443\nallow_private_destinations = true\n"); err != nil {
		t.Fatal(err)
	}
	if c.Delivery.MTASTS || !c.Delivery.DANE || c.Delivery.MTASTSPort != 8443 || !c.Delivery.AllowPrivateDestinations {
		t.Errorf("parsed: %+v", c.Delivery)
	}
	for _, tc := range []struct{ text, want string }{
		{"[delivery]\nmta_sts_port = 0", "delivery.mta_sts_port"},
		{"[delivery]\nmta_sts_ca_file = \"/nonexistent/ca.pem\"", "delivery.mta_sts_ca_file"},
		{"[delivery]\ndane = \"yes\"", "dane"},
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
