package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestDefaultsAreValid(t *testing.T) {
	t.Parallel()
	c, err := Load("")
	if err != nil {
		t.Fatal(err)
	}
	if c.SMTP.MaxMessageBytes != 41943040 || c.Regions[0] != "us-east-1" || c.API.Listen != "127.0.0.1:8787" ||
		c.Delivery.Mode != "capture" || c.SMTP.IdleTimeout.Duration != 10*time.Second ||
		c.Verification.CheckInterval.Duration != 5*time.Minute || c.Verification.DKIMCNAMEDomain != "dkim.localhost" ||
		c.Verification.MailFromMXDomain != "localhost" {
		t.Errorf("unexpected defaults: %+v", c)
	}
}

func TestLoadOverridesAndKeepsDefaults(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "sesame.toml")
	text := `
data_dir = "/tmp/x"
regions = ["eu-west-1", "us-east-1"]
[smtp]
starttls_listen = ["127.0.0.1:3587"]
idle_timeout = "30s"
[log]
level = "warn"
[metrics]
listen = "127.0.0.1:9090"
[verification]
check_interval = "30s"
dkim_cname_domain = "dkim.mail.example.net"
`
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	c, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if c.DataDir != "/tmp/x" || c.Regions[0] != "eu-west-1" || c.SMTP.StartTLSListen[0] != "127.0.0.1:3587" ||
		c.SMTP.IdleTimeout.Duration != 30*time.Second || c.Log.Level != "warn" ||
		c.Verification.CheckInterval.Duration != 30*time.Second || c.Verification.DKIMCNAMEDomain != "dkim.mail.example.net" ||
		c.Metrics.Listen != "127.0.0.1:9090" {
		t.Errorf("overrides not applied: %+v", c)
	}
	if c.SMTP.TLSListen[0] != "127.0.0.1:2465" || c.Hostname != "localhost" || c.Verification.MailFromMXDomain != "localhost" ||
		!c.Metrics.APIListener {
		t.Errorf("defaults lost: %+v", c)
	}
}

// The Easy DKIM zone and the MAIL FROM MX follow hostname, wherever in the
// file it is set, and never name Amazon's hosts; an explicit value wins.
func TestVerificationDomainsDeriveFromHostname(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ text, dkim, mx string }{
		{"[verification]\ncheck_interval = \"1m\"\n", "dkim.localhost", "localhost"},
		{"hostname = \"ses.example.net\"\n", "dkim.ses.example.net", "ses.example.net"},
		{"hostname = \"ses.example.net\"\n[verification]\nmail_from_mx_domain = \"mx.example.org\"\n",
			"dkim.ses.example.net", "mx.example.org"},
		{"[verification]\ndkim_cname_domain = \"dkim.example.org\"\n", "dkim.example.org", "localhost"},
	} {
		path := filepath.Join(t.TempDir(), "sesame.toml")
		if err := os.WriteFile(path, []byte(tc.text), 0o644); err != nil {
			t.Fatal(err)
		}
		c, err := Load(path)
		if err != nil {
			t.Fatalf("%q: %v", tc.text, err)
		}
		if c.Verification.DKIMCNAMEDomain != tc.dkim || c.Verification.MailFromMXDomain != tc.mx {
			t.Errorf("%q: dkim_cname_domain %q, mail_from_mx_domain %q; want %q, %q", tc.text,
				c.Verification.DKIMCNAMEDomain, c.Verification.MailFromMXDomain, tc.dkim, tc.mx)
		}
	}
}

// Every bad input names the key that is wrong.
func TestBadConfigNamesTheKey(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ text, want string }{
		{`datadir = "x"`, "unknown key datadir"},
		{"[smtp]\nmax_conections = 5", "unknown key smtp.max_conections"},
		{"[smtp]\nmax_connections = 0", "smtp.max_connections"},
		{"[smtp]\nmax_connections = \"many\"", "max_connections"},
		{"[smtp]\nidle_timeout = \"soon\"", "idle_timeout"},
		{"[smtp]\nstarttls_listen = [\"nope\"]", "smtp.starttls_listen"},
		{"regions = []", "regions"},
		{"regions = [\"US East\"]", "regions"},
		{"regions = [\"us-east-1\", \"us-east-1\"]", "listed twice"},
		{"[delivery]\nmode = \"pigeon\"", "delivery.mode"},
		{"[delivery]\nmax_attempt_age = \"0s\"", "delivery.max_attempt_age"},
		{"[delivery]\nretry_min = \"2h\"", "delivery.retry_max"},
		{"[delivery]\nmx_port = 0", "delivery.mx_port"},
		{"[delivery]\ndkim_rsa = \"boringssl\"", "delivery.dkim_rsa"},
		{"[delivery]\nmode = \"mx\"\n[feedback]\nlisten = [\"127.0.0.1\"]", "feedback.listen"},
		{"[feedback]\nlisten = [\"127.0.0.1:2525\"]", "feedback.listen"}, // capture mode: nothing comes back
		{"[delivery]\nconnection_idle_timeout = \"0s\"", "delivery.connection_idle_timeout"},
		{"[delivery]\nconcurrency = 0", "delivery.concurrency"},
		{"[delivery]\nbounce_domain = \"bounces\"", "delivery.bounce_domain"},
		{"[delivery]\ncommand_timeout = \"1ms\"", "delivery.command_timeout"},
		{"[delivery.destinations.\"Gmail.com\"]\nmax_connections = 5", "delivery.destinations"},
		{"[delivery.destinations.\"gmail.com\"]\nmessages_per_second = -1", "messages_per_second"},
		{"[delivery.destinations.\"gmail.com\"]\nmax_conns = 1", "unknown key"},
		{"[tls]\ncert_file = \"a.pem\"", "tls.cert_file"},
		{"[api]\nlisten = \"8787\"", "api.listen"},
		{"[metrics]\nlisten = \"9090\"", "metrics.listen"},
		{"[metrics]\nlistn = \"127.0.0.1:9090\"", "unknown key metrics.listn"},
		{"[log]\nlevel = \"loud\"", "log.level"},
		{"hostname = \"a b\"", "hostname"},
		{"[smtp\n", "toml"},
		{"[verification]\ncheck_interval = \"1ms\"", "verification.check_interval"},
		{"[verification]\nlink_base_url = \"ses.example.net\"", "verification.link_base_url"},
		{"[verification]\ndkim_cname_domain = \"no dots\"", "verification.dkim_cname_domain"},
		{"[verification]\nmail_from_mx_domain = \"example.com.\"", "verification.mail_from_mx_domain"},
		{"[verification]\nmail_per_second = 0", "verification.mail_per_second"},
		{"[verification]\nmail_burst = 0", "verification.mail_burst"},
		{"[verification]\nmail_per_day = 0", "verification.mail_per_day"},
		{"[feedback]\nmax_buffered_bytes = 1048576", "feedback.max_buffered_bytes"},
		{"[dns]\nrate_limit = -1", "dns.rate_limit"},
		{"[dns]\nrate_limit_slip = 11", "dns.rate_limit_slip"},
		{"[tracking]\nlisten = \"8790\"", "tracking.listen"},
		{"[tracking]\nbase_url = \"track.example.net\"", "tracking.base_url"},
		{"[tracking]\nbase_url = \"https://example.net/track\"", "tracking.base_url"},
		{"[sns]\nemail_from = \"AWS <no-reply@example.net>\"", "sns.email_from"},
		{"[sns]\nsqs_endpoint = \"127.0.0.1:9324\"", "sns.sqs_endpoint"},
		{"[sns]\nsqs_access_key_id = \"x\"", "sns.sqs_access_key_id"},
		{"[sns]\nsqs_key = \"x\"", "unknown key sns.sqs_key"},
		{"[sns]\ndefer_when_busy = 1.5", "sns.defer_when_busy"},
		{"[sns]\ndefer_max = \"0s\"", "sns.defer_max"},
		{"[sns]\ninline = \"yes\"", "inline"},
		{"[api]\nread_timeout = \"100ms\"", "api.read_timeout"},
		{"[api]\nidle_timeout = \"2h\"", "api.idle_timeout"},
		{"[api]\nmax_connections = 0", "api.max_connections"},
		{"[api]\nmax_inflight = -1", "api.max_inflight"},
		{"[api]\ncaptured_mail = \"yes\"", "api.captured_mail"},
		{"[api]\ncaptured_mail_listen = \"8789\"", "api.captured_mail_listen"},
		{"[api]\ncaptured_mail_listen = \"127.0.0.1:8789\"\n[delivery]\nmode = \"mx\"", "api.captured_mail_listen"},
		{"[api]\ncert_file = \"a.pem\"", "api.cert_file"},
	} {
		path := filepath.Join(t.TempDir(), "sesame.toml")
		if err := os.WriteFile(path, []byte(tc.text), 0o644); err != nil {
			t.Fatal(err)
		}
		_, err := Load(path)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Load(%q) = %v, want an error containing %q", tc.text, err, tc.want)
		}
	}
}

// Mode "mx" is accepted with its keys; the defaults are SES's and Postfix's.
func TestDeliveryMX(t *testing.T) {
	t.Parallel()
	c := Default()
	if err := Parse(&c, "[delivery]\nmode = \"mx\"\nmax_attempt_age = \"2h\"\nmx_port = 2525\nbounce_domain = \"bounces.example.net\"\n"+
		"[delivery.destinations.\"gmail.com\"]\nmax_connections = 5\nmessages_per_second = 12.5"); err != nil {
		t.Fatal(err)
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	d := c.Delivery
	if d.MaxAttemptAge.Duration != 2*time.Hour || d.MXPort != 2525 || d.BounceDomain != "bounces.example.net" ||
		d.Destinations["gmail.com"] != (Destination{MaxConnections: 5, MessagesPerSecond: 12.5}) {
		t.Errorf("delivery = %+v", d)
	}
	def := Default().Delivery
	if def.Mode != "capture" || def.MaxAttemptAge.Duration != 14*time.Hour || def.MaxConnectionsPerDomain != 20 || def.MXPort != 25 {
		t.Errorf("defaults = %+v", def)
	}
}

func TestTrackingBaseURL(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ text, want string }{
		{"", "http://127.0.0.1:8787"},
		{"[tracking]\nlisten = \"0.0.0.0:8790\"", "http://localhost:8790"},
		{"[tracking]\nlisten = \"0.0.0.0:8790\"\nbase_url = \"https://track.example.net/\"", "https://track.example.net"},
	} {
		c := Default()
		if err := Parse(&c, tc.text); err != nil {
			t.Fatal(err)
		}
		if got := c.TrackingBaseURL(); got != tc.want {
			t.Errorf("%q: TrackingBaseURL() = %q, want %q", tc.text, got, tc.want)
		}
	}
}

// The console's URL is one a person can open: a wildcard listener (the
// container image's 0.0.0.0) is reached as localhost.
// Links in mail start at the API (or tracking) listener; a wildcard one is
// reached by the server's hostname, as recipients elsewhere must.
func TestLinkBaseURLWildcard(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ text, link, tracking string }{
		{"", "http://127.0.0.1:8787", "http://127.0.0.1:8787"},
		{"hostname = \"mail.example.net\"\n[api]\nlisten = \"0.0.0.0:8787\"", "http://mail.example.net:8787", "http://mail.example.net:8787"},
		{"hostname = \"mail.example.net\"\n[api]\nlisten = \":8787\"\n[tracking]\nlisten = \"[::]:8790\"", "http://mail.example.net:8787", "http://mail.example.net:8790"},
		{"hostname = \"mail.example.net\"\n[api]\nlisten = \"0.0.0.0:8787\"\n[verification]\nlink_base_url = \"https://ses.example.net/\"", "https://ses.example.net", "http://mail.example.net:8787"},
	} {
		c := Default()
		if err := Parse(&c, tc.text); err != nil {
			t.Fatal(err)
		}
		if got := c.LinkBaseURL(); got != tc.link {
			t.Errorf("%q: LinkBaseURL() = %q, want %q", tc.text, got, tc.link)
		}
		if got := c.TrackingBaseURL(); got != tc.tracking {
			t.Errorf("%q: TrackingBaseURL() = %q, want %q", tc.text, got, tc.tracking)
		}
	}
}

func TestConsoleBaseURL(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ text, want string }{
		{"", "http://127.0.0.1:8788"},
		{"[console]\nlisten = \"\"", ""},
		{"[console]\nlisten = \"0.0.0.0:8788\"", "http://localhost:8788"},
		{"[console]\nlisten = \"[::]:8788\"", "http://localhost:8788"},
		{"[console]\nlisten = \":8788\"", "http://localhost:8788"},
		{"[console]\nlisten = \"[::1]:8788\"", "http://[::1]:8788"},
		{"[console]\nlisten = \"0.0.0.0:8788\"\ncert_file = \"c.pem\"\nkey_file = \"k.pem\"", "https://localhost:8788"},
	} {
		c := Default()
		if err := Parse(&c, tc.text); err != nil {
			t.Fatal(err)
		}
		if got := c.ConsoleBaseURL(); got != tc.want {
			t.Errorf("%q: ConsoleBaseURL() = %q, want %q", tc.text, got, tc.want)
		}
	}
}
