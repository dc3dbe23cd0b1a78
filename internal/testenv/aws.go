package testenv

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ses"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	"github.com/aws/aws-sdk-go-v2/service/sns"
)

// APIURL is the endpoint URL clients are given (--endpoint-url, BaseEndpoint).
func (s *Server) APIURL() string { return "http://" + s.API }

// awsConfig is the one place the tests' SDK clients get their settings: the
// server's endpoint, the first account's static key, the first region, and
// one attempt per call so an error reaches the test as the server sent it
// (the SDK would otherwise retry 429 and 5xx three times).
func (s *Server) awsConfig() aws.Config {
	return aws.Config{
		Region:           s.Regions[0],
		BaseEndpoint:     aws.String(s.APIURL()),
		Credentials:      credentials.NewStaticCredentialsProvider(s.KeyID, s.Secret, ""),
		RetryMaxAttempts: 1,
	}
}

// SESv2Client is an aws-sdk-go-v2 SESv2 client for this server. Options
// adjust it per test (another region, key or signing clock).
func (s *Server) SESv2Client(t testing.TB, optFns ...func(*sesv2.Options)) *sesv2.Client {
	t.Helper()
	return sesv2.NewFromConfig(s.awsConfig(), optFns...)
}

// SESClient is an aws-sdk-go-v2 SES (v1, Query) client for this server.
func (s *Server) SESClient(t testing.TB, optFns ...func(*ses.Options)) *ses.Client {
	t.Helper()
	return ses.NewFromConfig(s.awsConfig(), optFns...)
}

// SNSClient is an aws-sdk-go-v2 SNS client for this server's SNS-compatible
// topics.
func (s *Server) SNSClient(t testing.TB, optFns ...func(*sns.Options)) *sns.Client {
	t.Helper()
	return sns.NewFromConfig(s.awsConfig(), optFns...)
}

// Env is the environment for a script driving this server through an AWS
// client (the aws CLI, boto3, the JavaScript SDK): the credentials and region
// in AWS's variables, the endpoint in SESAME_ENDPOINT (Debian's CLI v2 ignores
// AWS_ENDPOINT_URL, so scripts pass it as --endpoint-url), and empty config
// files so nothing from the machine's ~/.aws leaks in. PATH and HOME are kept.
func (s *Server) Env(t testing.TB) []string {
	t.Helper()
	dir := t.TempDir()
	empty := filepath.Join(dir, "aws-config")
	if err := os.WriteFile(empty, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	return []string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + dir,
		"LANG=C.UTF-8",
		"AWS_ACCESS_KEY_ID=" + s.KeyID,
		"AWS_SECRET_ACCESS_KEY=" + s.Secret,
		"AWS_REGION=" + s.Regions[0],
		"AWS_DEFAULT_REGION=" + s.Regions[0],
		"AWS_ENDPOINT_URL=" + s.APIURL(),
		"AWS_CONFIG_FILE=" + empty,
		"AWS_SHARED_CREDENTIALS_FILE=" + empty,
		"AWS_EC2_METADATA_DISABLED=true",
		"AWS_PAGER=",
		"AWS_MAX_ATTEMPTS=1",
		"SESAME_ENDPOINT=" + s.APIURL(),
		"SESAME_ACCOUNT=" + s.Account,
	}
}

// AWSCLI runs Debian's aws CLI against this server as its first account
// (Env): `aws ARGS --endpoint-url URL --output json`, within a minute. It
// returns what the CLI printed, stdout and stderr together.
func (s *Server) AWSCLI(t testing.TB, args ...string) (string, error) {
	t.Helper()
	aws := Tool(t, "/usr/bin/aws")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, aws, append(args, "--endpoint-url", s.APIURL(), "--output", "json")...)
	cmd.Env = s.Env(t)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// MustAWSCLI is AWSCLI failing the test when the CLI does.
func (s *Server) MustAWSCLI(t testing.TB, args ...string) string {
	t.Helper()
	out, err := s.AWSCLI(t, args...)
	if err != nil {
		t.Fatalf("aws %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

// VerificationConfig is Options.Extra for a server that verifies identities
// through d: DNS asked at d, records checked every interval, Easy DKIM
// CNAMEs pointing into cnameDomain.
func VerificationConfig(d *DNS, interval time.Duration, cnameDomain string) string {
	return fmt.Sprintf("[delivery]\nresolver = %q\n[verification]\ncheck_interval = %q\ndkim_cname_domain = %q\n",
		d.Addr, interval.String(), cnameDomain)
}
