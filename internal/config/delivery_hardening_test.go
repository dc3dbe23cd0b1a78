package config

import (
	"strings"
	"testing"
	"time"
)

// delivery.allow_private_destinations is off unless set (mail to internal
// addresses bounces); delivery.dns_min_ttl floors routing answers' TTLs.
func TestDeliveryHardeningKeys(t *testing.T) {
	t.Parallel()
	def := Default().Delivery
	if def.AllowPrivateDestinations || def.DNSMinTTL.Duration != 5*time.Second {
		t.Errorf("defaults: allow_private_destinations = %v, dns_min_ttl = %s", def.AllowPrivateDestinations, def.DNSMinTTL.Duration)
	}
	c := Default()
	if err := Parse(&c, "[delivery]\nmode = \"mx\"\nallow_private_destinations = true\ndns_min_ttl = \"30s\"\n"); err != nil {
		t.Fatal(err)
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if !c.Delivery.AllowPrivateDestinations || c.Delivery.DNSMinTTL.Duration != 30*time.Second {
		t.Errorf("delivery = %+v", c.Delivery)
	}
	for _, bad := range []string{"0s", "500ms", "2h"} {
		c := Default()
		if err := Parse(&c, "[delivery]\ndns_min_ttl = \""+bad+"\"\n"); err != nil {
			t.Fatal(err)
		}
		if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "delivery.dns_min_ttl") {
			t.Errorf("dns_min_ttl = %s: %v, want an error naming the key", bad, err)
		}
	}
}
