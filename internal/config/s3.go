package config

import "net/url"

// S3 is the [s3] section: the S3-compatible object store that SES v2
// import jobs read from and export jobs write to (MinIO, Garage, Ceph,
// AWS S3 …). There is no default endpoint: without one, sesame never
// reaches out, and CreateImportJob/CreateExportJob say it is not
// configured.
type S3 struct {
	// Endpoint is the S3 API's base URL, e.g. "http://127.0.0.1:9000";
	// "" = import and export jobs are off.
	Endpoint string `toml:"endpoint"`
	// Region signs the requests (SigV4's credential scope).
	Region string `toml:"region"`
	// AccessKeyID and SecretAccessKey sign the requests; both empty =
	// unsigned (anonymous) requests, for a bucket that allows them.
	AccessKeyID     string `toml:"access_key_id"`
	SecretAccessKey string `toml:"secret_access_key"`
	// PathStyle addresses objects as <endpoint>/<bucket>/<key> (what most
	// self-hosted servers expect); false uses <bucket>.<endpoint host>.
	PathStyle bool `toml:"path_style"`
}

func defaultS3() S3 { return S3{Region: "us-east-1", PathStyle: true} }

// Enabled: an endpoint is configured.
func (s *S3) Enabled() bool { return s.Endpoint != "" }

// validate checks the [s3] keys.
func (s *S3) validate(bad func(key, format string, args ...any) error) error {
	if u := s.Endpoint; u != "" {
		if p, err := url.Parse(u); err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" ||
			p.RawQuery != "" || p.User != nil {
			return bad("s3.endpoint", "must be an http(s) URL like \"http://127.0.0.1:9000\", got %q", u)
		}
	}
	if !validRegion(s.Region) {
		return bad("s3.region", "must be a region name like \"us-east-1\", got %q", s.Region)
	}
	if (s.AccessKeyID == "") != (s.SecretAccessKey == "") {
		return bad("s3.access_key_id", "s3.access_key_id and s3.secret_access_key go together")
	}
	return nil
}
