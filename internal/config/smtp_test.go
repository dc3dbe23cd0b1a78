package config

import (
	"strings"
	"testing"
	"time"
)

// The [smtp] hardening keys: their defaults, and bad values named.
func TestSMTPHardeningKeys(t *testing.T) {
	t.Parallel()
	c := Default()
	if c.SMTP.MaxConnectionsPerIP != 50 || c.SMTP.CommandTimeout.Duration != 30*time.Second ||
		c.SMTP.PreAuthTimeout.Duration != time.Minute || c.SMTP.BareLF != "normalize" {
		t.Errorf("defaults: %+v", c.SMTP)
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if err := Parse(&c, "[smtp]\nmax_connections_per_ip = 5\ncommand_timeout = \"2s\"\npre_auth_timeout = \"3s\"\nbare_lf = \"reject\""); err != nil {
		t.Fatal(err)
	}
	if c.SMTP.MaxConnectionsPerIP != 5 || c.SMTP.CommandTimeout.Duration != 2*time.Second ||
		c.SMTP.PreAuthTimeout.Duration != 3*time.Second || c.SMTP.BareLF != "reject" {
		t.Errorf("overrides: %+v", c.SMTP)
	}
	for _, tc := range []struct{ text, want string }{
		{"[smtp]\nmax_connections_per_ip = 0", "smtp.max_connections_per_ip"},
		{"[smtp]\ncommand_timeout = \"10ms\"", "smtp.command_timeout"},
		{"[smtp]\npre_auth_timeout = \"0s\"", "smtp.pre_auth_timeout"},
		{"[smtp]\nbare_lf = \"yes\"", "smtp.bare_lf"},
		{"[smtp]\nauth_failures_per_ip = -1", "smtp.auth_failures_per_ip"},
	} {
		c := Default()
		err := Parse(&c, tc.text)
		if err == nil {
			err = c.Validate()
		}
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: %v, want an error naming %q", tc.text, err, tc.want)
		}
	}
}

// auth_failures_per_ip = 0 turns the lockout off: valid, and kept as 0
// (not replaced by the default of 10).
func TestAuthFailuresZero(t *testing.T) {
	t.Parallel()
	c := Default()
	if c.SMTP.AuthFailuresPerIP != 10 {
		t.Errorf("default auth_failures_per_ip = %d, want 10", c.SMTP.AuthFailuresPerIP)
	}
	if err := Parse(&c, "[smtp]\nauth_failures_per_ip = 0"); err != nil {
		t.Fatal(err)
	}
	if err := c.Validate(); err != nil || c.SMTP.AuthFailuresPerIP != 0 {
		t.Errorf("auth_failures_per_ip = 0: %v, value %d", err, c.SMTP.AuthFailuresPerIP)
	}
}
