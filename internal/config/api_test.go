package config

import "testing"

// /_aws/ses is on in capture mode, off in mx mode, unless said otherwise.
func TestCapturedMailOn(t *testing.T) {
	for _, tc := range []struct {
		mode, setting string
		want          bool
	}{
		{"capture", "auto", true}, {"mx", "auto", false},
		{"mx", "on", true}, {"capture", "off", false},
	} {
		c := Default()
		c.Delivery.Mode, c.API.CapturedMail = tc.mode, tc.setting
		if got := c.CapturedMailOn(); got != tc.want {
			t.Errorf("mode %s, captured_mail %s: on = %v, want %v", tc.mode, tc.setting, got, tc.want)
		}
	}
	c := Default()
	c.API.CertFile, c.API.KeyFile = "a.pem", "a.key"
	if got := c.APIBaseURL(); got != "https://127.0.0.1:8787" {
		t.Errorf("APIBaseURL with a certificate = %q", got)
	}
}
