package config

import (
	"strings"
	"testing"
)

func TestReceivingKeys(t *testing.T) {
	t.Parallel()
	c := Default()
	if c.Receiving.Enabled() || c.Receiving.MaxMessageBytes != 40<<20 || c.Receiving.MaxRecipients != 100 {
		t.Errorf("receiving defaults: %+v", c.Receiving)
	}
	if err := Parse(&c, "regions = [\"us-east-1\", \"eu-west-1\"]\n[receiving]\nlisten = [\"127.0.0.1:2525\", \"[::1]:2525\"]\n"+
		"region = \"eu-west-1\"\nrspamd_url = \"http://127.0.0.1:11333\"\nclamd_address = \"unix:/run/clamav/clamd.ctl\"\n"+
		"[receiving.functions]\n\"arn:aws:lambda:eu-west-1:111122223333:function:f\" = \"lmtp://127.0.0.1:24\"\n"); err != nil {
		t.Fatal(err)
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if !c.Receiving.Enabled() || c.Receiving.Region != "eu-west-1" || len(c.Receiving.Functions) != 1 {
		t.Errorf("receiving: %+v", c.Receiving)
	}
	for _, tc := range []struct{ text, want string }{
		{"[receiving]\nlisten = [\"2525\"]\n", "receiving.listen: \"2525\" is not host:port"},
		{"[receiving]\nregion = \"mars-1\"\n", "receiving.region: \"mars-1\" is not one of regions"},
		{"[receiving]\nmax_message_bytes = 0\n", "receiving.max_message_bytes: must be positive"},
		{"[receiving]\nrspamd_url = \"127.0.0.1:11333\"\n", "receiving.rspamd_url: must be an http(s) URL"},
		{"[receiving]\nclamd_address = \"/run/clamd.ctl\"\n", "receiving.clamd_address: must be \"unix:/path\""},
		{"[receiving.functions]\n\"f\" = \"http://x\"\n", "is not a Lambda function ARN"},
		{"[receiving.functions]\n\"arn:aws:lambda:us-east-1:1:function:f\" = \"ftp://x\"\n", "must be an http(s), lmtp or smtp URL"},
	} {
		c := Default()
		err := Parse(&c, tc.text)
		if err == nil {
			err = c.Validate()
		}
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: err = %v, want %q", tc.text, err, tc.want)
		}
	}
}
