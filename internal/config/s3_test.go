package config

import (
	"strings"
	"testing"
)

func TestS3Keys(t *testing.T) {
	t.Parallel()
	c := Default()
	if c.S3.Enabled() || c.S3.Region != "us-east-1" || !c.S3.PathStyle {
		t.Errorf("s3 defaults: %+v (want no endpoint, us-east-1, path style)", c.S3)
	}
	if err := Parse(&c, "[s3]\nendpoint = \"http://127.0.0.1:9000\"\nregion = \"eu-west-1\"\n"+
		"access_key_id = \"AK\"\nsecret_access_key = \"SK\"\npath_style = false\n"); err != nil {
		t.Fatal(err)
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if !c.S3.Enabled() || c.S3.Endpoint != "http://127.0.0.1:9000" || c.S3.Region != "eu-west-1" ||
		c.S3.AccessKeyID != "AK" || c.S3.SecretAccessKey != "SK" || c.S3.PathStyle {
		t.Errorf("s3: %+v", c.S3)
	}
	for _, tc := range []struct{ text, want string }{
		{"[s3]\nendpoint = \"127.0.0.1:9000\"\n", "s3.endpoint: must be an http(s) URL"},
		{"[s3]\nendpoint = \"ftp://x\"\n", "s3.endpoint: must be an http(s) URL"},
		{"[s3]\nregion = \"\"\n", "s3.region: must be a region name"},
		{"[s3]\naccess_key_id = \"AK\"\n", "s3.access_key_id: s3.access_key_id and s3.secret_access_key go together"},
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
