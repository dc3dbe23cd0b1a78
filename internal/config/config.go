// Package config reads sesame's TOML configuration (the operator's contract in
// DESIGN.md), fills in defaults and validates every value, so a bad key or
// value stops sesame at start with a message naming the key. It only parses
// and checks; it opens no files other than the config file itself.
package config

import (
	"errors"
	"fmt"
	"net"
	"net/mail"
	"net/url"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/BurntSushi/toml"
)

// Config is the whole configuration. Every key is optional.
type Config struct {
	DataDir  string   `toml:"data_dir"`
	Hostname string   `toml:"hostname"`
	Regions  []string `toml:"regions"`
	// ShutdownTimeout bounds the drain on SIGTERM/SIGINT: SMTP
	// transactions and API requests in flight get this long to finish,
	// then the rest are cut (what was acknowledged is in the spool).
	ShutdownTimeout Duration `toml:"shutdown_timeout"`

	SMTP     SMTP     `toml:"smtp"`
	TLS      TLS      `toml:"tls"`
	API      API      `toml:"api"`
	Delivery Delivery `toml:"delivery"`
	Log      Log      `toml:"log"`

	Verification Verification `toml:"verification"`
	DNS          DNS          `toml:"dns"`
	Feedback     Feedback     `toml:"feedback"`
	Reputation   Reputation   `toml:"reputation"`
	Metrics      Metrics      `toml:"metrics"`
	Tracking     Tracking     `toml:"tracking"`
	SNS          SNS          `toml:"sns"`
	Accounts     Accounts     `toml:"accounts"`
	S3           S3           `toml:"s3"`
	Receiving    Receiving    `toml:"receiving"`
	Console      Console      `toml:"console"`
	Store        Store        `toml:"store"`
	Cluster      Cluster      `toml:"cluster"`
}

// Store says where sesame's state (not its queue) lives.
type Store struct {
	// URL is "" for the embedded SQLite database in data_dir, or a
	// postgres:// URL of the database the nodes of a cluster share.
	URL string `toml:"url"`
	// SecretKeyFile is the key that seals secrets (access key secrets, DKIM
	// keys) in the database; "" means data_dir/secret.key. Every node of a
	// cluster needs the same key.
	SecretKeyFile string `toml:"secret_key_file"`
}

// SMTP configures the SES SMTP endpoint.
type SMTP struct {
	StartTLSListen           []string `toml:"starttls_listen"`
	TLSListen                []string `toml:"tls_listen"`
	MaxConnections           int      `toml:"max_connections"`
	MaxMessageBytes          int64    `toml:"max_message_bytes"`
	IdleTimeout              Duration `toml:"idle_timeout"`
	MaxMessagesPerConnection int      `toml:"max_messages_per_connection"`
	MaxConnectionAge         Duration `toml:"max_connection_age"`
	AuthFailuresPerIP        int      `toml:"auth_failures_per_ip"`
	// MaxConnectionsPerIP caps one client address's sessions (IPv6: its
	// /64), as Postfix's smtpd_client_connection_count_limit.
	MaxConnectionsPerIP int `toml:"max_connections_per_ip"`
	// CommandTimeout bounds one whole command line (or AUTH response, or
	// TLS handshake) however slowly it is sent; PreAuthTimeout bounds the
	// time from connecting to a successful AUTH.
	CommandTimeout Duration `toml:"command_timeout"`
	PreAuthTimeout Duration `toml:"pre_auth_timeout"`
	// BareLF is what a bare LF in message content becomes, over SMTP and
	// in raw API content: "normalize" (CRLF) or "reject".
	BareLF string `toml:"bare_lf"`
}

// TLS names the server certificate; empty means a self-signed one in data_dir.
type TLS struct {
	CertFile string `toml:"cert_file"`
	KeyFile  string `toml:"key_file"`
}

// API configures the HTTP listener (SES API, /_aws/ses).
type API struct {
	Listen string `toml:"listen"`
	// ReadTimeout bounds reading a whole request, body included, and
	// writing its answer; IdleTimeout closes keep-alive connections that
	// send nothing.
	ReadTimeout Duration `toml:"read_timeout"`
	IdleTimeout Duration `toml:"idle_timeout"`
	// MaxConnections bounds open connections (beyond it they wait to be
	// accepted); MaxInflight bounds SES/SNS requests in progress (beyond
	// it they are answered with throttling).
	MaxConnections int `toml:"max_connections"`
	MaxInflight    int `toml:"max_inflight"`
	// CapturedMail is "auto" (/_aws/ses on in capture mode only), "on" or
	// "off"; CapturedMailListen, when set, serves it there and not on the
	// API listener.
	CapturedMail       string `toml:"captured_mail"`
	CapturedMailListen string `toml:"captured_mail_listen"`
	// CertFile and KeyFile, both set, make the API listener HTTPS only.
	CertFile string `toml:"cert_file"`
	KeyFile  string `toml:"key_file"`
}

// CapturedMailOn says whether /_aws/ses is served at all.
func (c *Config) CapturedMailOn() bool {
	switch c.API.CapturedMail {
	case "on":
		return true
	case "off":
		return false
	}
	return c.Delivery.Mode == "capture"
}

// APIBaseURL is how the API listener is reached: https when it has a
// certificate. A wildcard listener is reached by the server's hostname:
// this URL starts links in mail (verification, SNS confirmation,
// unsubscribe) that recipients on other machines open.
func (c *Config) APIBaseURL() string {
	addr := DialAddr(c.API.Listen, c.Hostname)
	if c.API.CertFile != "" {
		return "https://" + addr
	}
	return "http://" + addr
}

// DialAddr is listen with a wildcard host (0.0.0.0, [::], none) replaced
// by host: no client can connect to a wildcard address everywhere.
func DialAddr(listen, host string) string {
	h, port, err := net.SplitHostPort(listen)
	if err != nil {
		return listen
	}
	if ip := net.ParseIP(h); h == "" || (ip != nil && ip.IsUnspecified()) {
		return net.JoinHostPort(host, port)
	}
	return listen
}

// Delivery configures what happens to accepted mail.
type Delivery struct {
	Mode     string `toml:"mode"`     // "capture" or "mx"
	Resolver string `toml:"resolver"` // host:port; empty = the system's

	// The keys below apply to mode "mx".

	// BounceDomain is the domain of the per-message MAIL FROM address
	// (<message id>@<bounce_domain>) when the sender has no verified custom
	// MAIL FROM domain; "" = hostname.
	BounceDomain string `toml:"bounce_domain"`
	// MaxAttemptAge is how long after acceptance delivery is retried
	// before the remaining recipients bounce (SES: about 14 h).
	MaxAttemptAge Duration `toml:"max_attempt_age"`
	// RetryMin and RetryMax bound the backoff between attempts.
	RetryMin Duration `toml:"retry_min"`
	RetryMax Duration `toml:"retry_max"`
	// ConnectTimeout, CommandTimeout and DataTimeout are the SMTP client's
	// timeouts (RFC 5321 §4.5.3.2).
	ConnectTimeout Duration `toml:"connect_timeout"`
	CommandTimeout Duration `toml:"command_timeout"`
	DataTimeout    Duration `toml:"data_timeout"`
	// MaxConnectionsPerDomain caps simultaneous connections to one
	// destination: the recipient domains that share the same MX hosts.
	MaxConnectionsPerDomain int `toml:"max_connections_per_domain"`
	// MaxMessagesPerConnection is how many messages one connection carries.
	MaxMessagesPerConnection int `toml:"max_messages_per_connection"`
	// ConnectionIdleTimeout is how long an unused connection to an MX is
	// kept for the next message (Postfix: smtp_connection_cache_time_limit).
	ConnectionIdleTimeout Duration `toml:"connection_idle_timeout"`
	// Concurrency is how many messages are delivered at once.
	Concurrency int `toml:"concurrency"`
	// MXPort is the receivers' SMTP port: 25 on the internet; tests and
	// closed networks use others.
	MXPort int `toml:"mx_port"`
	// DKIMRSA chooses the RSA implementation that signs: "auto" (OpenSSL's
	// libcrypto when it loads, else Go's), "openssl" (fail to start
	// without it) or "go".
	DKIMRSA string `toml:"dkim_rsa"`
	// AllowPrivateDestinations lets delivery connect to loopback, private
	// (RFC 1918, ULA), link-local, CGNAT and the other special-purpose
	// addresses a recipient domain's MX or address records may name. Off,
	// such a domain's mail bounces: its DNS is the tenant's, and would
	// otherwise make sesame speak SMTP to internal hosts. For test setups
	// whose MXes are on 127.0.0.x or a private network.
	AllowPrivateDestinations bool `toml:"allow_private_destinations"`
	// DNSMinTTL is the least time a routing answer (MX, A, AAAA) is
	// cached, whatever its TTL: a TTL of 0 (dnsmasq's default for local
	// records) would otherwise cost a lookup per message.
	DNSMinTTL Duration `toml:"dns_min_ttl"`
	// Destinations shape traffic to particular recipient domains (big
	// receivers throttle senders that open too many connections or send
	// too fast), as Postfix's per-transport limits and KumoMTA's shaping do.
	Destinations map[string]Destination `toml:"destinations"`

	// Outbound TLS authentication (docs/delivery-tls.md).
	// MTASTS applies recipient domains' MTA-STS policies (RFC 8461).
	MTASTS bool `toml:"mta_sts"`
	// MTASTSCAFile is a PEM file of CA certificates trusted, besides the
	// system's roots, for MTA-STS policy hosts and MX certificates
	// (private CAs; tests).
	MTASTSCAFile string `toml:"mta_sts_ca_file"`
	// MTASTSPort is the port policies are fetched from: 443 on the
	// internet; tests use others.
	MTASTSPort int `toml:"mta_sts_port"`
	// DANE applies TLSA records (RFC 7672). It declares the resolver
	// (resolver, or the first nameserver of /etc/resolv.conf) a DNSSEC
	// validator whose AD bit is trusted: turn it on only for one that
	// validates and is reached over a trusted path (loopback).
	DANE bool `toml:"dane"`

	// SourceAddresses are the machine's sending addresses
	// ([[delivery.source_addresses]]), shown by the API as dedicated IPs;
	// delivery binds to them (pools, warm-up: docs/configuration.md).
	SourceAddresses []SourceAddress `toml:"source_addresses"`
	// WarmupFullDailyVolume is a source address's full daily volume, in
	// recipients a UTC day: an address in warm-up at P% sends at most P%
	// of it (SES's automatic warm-up plan ends at 50,000 a day).
	WarmupFullDailyVolume int `toml:"warmup_full_daily_volume"`
}

// Destination overrides delivery limits for one recipient domain.
type Destination struct {
	// MaxConnections overrides delivery.max_connections_per_domain.
	MaxConnections int `toml:"max_connections"`
	// MessagesPerSecond paces transactions to the domain (0 = unpaced).
	MessagesPerSecond float64 `toml:"messages_per_second"`
}

// Verification configures identity verification: how often DNS records
// are checked and what they must point to. Lookups go through
// delivery.resolver.
type Verification struct {
	CheckInterval Duration `toml:"check_interval"`
	// DKIMCNAMEDomain: Easy DKIM's <token>._domainkey.<domain> must be a
	// CNAME of <token>.<DKIMCNAMEDomain>.
	DKIMCNAMEDomain string `toml:"dkim_cname_domain"`
	// MailFromMXDomain: a custom MAIL FROM domain must have one MX,
	// feedback-smtp.<region>.<MailFromMXDomain>.
	MailFromMXDomain string `toml:"mail_from_mx_domain"`
	// LinkBaseURL is how users reach the API listener, for the links in
	// verification mail, SNS confirmations and unsubscribe links (the
	// one-click endpoint and the preference page); "" = http://<api.listen>
	// (https with api.cert_file).
	LinkBaseURL string `toml:"link_base_url"`
	// Verification mail per account and region: a rate per second with a
	// burst, and a cap over a rolling 24 hours (docs/api.md).
	MailPerSecond float64 `toml:"mail_per_second"`
	MailBurst     int     `toml:"mail_burst"`
	MailPerDay    int     `toml:"mail_per_day"`
}

// DNS configures the optional authoritative DNS listener for the Easy DKIM
// zone (verification.dkim_cname_domain), which an operator can delegate
// to sesame instead of publishing `sesame admin dkim zone`.
type DNS struct {
	Listen string `toml:"listen"` // host:port, UDP and TCP; "" = no listener
	// Nameservers are the zone's NS names (the first is the SOA's
	// primary); empty = ns.<dkim_cname_domain>.
	Nameservers []string `toml:"nameservers"`
	// RateLimit is response rate limiting: answers per second to one
	// client network (/24, /56); 0 = off. RateLimitSlip: every n-th
	// answer past it goes out truncated (TC=1, so a real client retries
	// over TCP), the rest are dropped; 0 = drop all.
	RateLimit     int `toml:"rate_limit"`
	RateLimitSlip int `toml:"rate_limit_slip"`
}

// Feedback configures the feedback MX: the inbound SMTP listener that
// receives what receivers send back to sesame's per-message bounce
// addresses after delivery (asynchronous DSNs, ARF complaints, auto-replies).
// It is what the MX records of delivery.bounce_domain and of
// feedback-smtp.<region>.<verification.mail_from_mx_domain> point at.
type Feedback struct {
	Listen []string `toml:"listen"` // host:port each, e.g. "0.0.0.0:25"; empty = off
	// MaxMessageBytes bounds one feedback message (default 10 MiB).
	MaxMessageBytes int64 `toml:"max_message_bytes"`
	// MaxBufferedBytes bounds the feedback messages held in memory by all
	// connections together (default 64 MiB); past it, 452.
	MaxBufferedBytes int64 `toml:"max_buffered_bytes"`
}

// Metrics configures the Prometheus endpoint, GET /metrics
// (docs/metrics.md).
type Metrics struct {
	// Listen is a listener of its own for /metrics (host:port); "" = none.
	Listen string `toml:"listen"`
	// APIListener serves /metrics on the API listener too (unauthenticated,
	// like /_sesame/health).
	APIListener bool `toml:"api_listener"`
}

// Tracking configures where open and click tracking URLs point and who
// answers them (configuration sets without a custom redirect domain).
type Tracking struct {
	// Listen is a listener of its own for the tracking URLs; "" serves
	// them on api.listen under the same paths (/I0/…, /L0/…).
	Listen string `toml:"listen"`
	// BaseURL is how recipients reach that listener, the start of every
	// tracking URL ("https://track.example.com", no path); "" =
	// http://<tracking.listen>, or http://<api.listen> without one.
	BaseURL string `toml:"base_url"`
}

// Console configures the web console's listener.
type Console struct {
	// Listen is its address; "" turns the console off.
	Listen string `toml:"listen"`
	// CertFile and KeyFile, both set, make it HTTPS only (and its session
	// cookie Secure).
	CertFile string `toml:"cert_file"`
	KeyFile  string `toml:"key_file"`
	// SessionTimeout is how long a sign-in lasts (the AWS console's 12
	// hours); a session idle for an hour ends sooner.
	SessionTimeout Duration `toml:"session_timeout"`
}

// ConsoleBaseURL is how the console is reached: https when it has a
// certificate; "" when it is off. A wildcard listener (0.0.0.0, [::], no
// host: the container image's) is reached as localhost — a browser cannot
// open http://0.0.0.0:8788 everywhere, and the URL is printed for people
// (the first-start banner, `admin console-token`).
func (c *Config) ConsoleBaseURL() string {
	if c.Console.Listen == "" {
		return ""
	}
	addr := DialAddr(c.Console.Listen, "localhost")
	if c.Console.CertFile != "" {
		return "https://" + addr
	}
	return "http://" + addr
}

// LinkBaseURL is verification.link_base_url with its default filled in:
// how users reach the API listener, the start of every link sesame puts in
// mail that leads back to it (identity verification, SNS confirmation and
// unsubscribe links, the preference page).
func (c *Config) LinkBaseURL() string {
	if c.Verification.LinkBaseURL != "" {
		return strings.TrimSuffix(c.Verification.LinkBaseURL, "/")
	}
	return c.APIBaseURL()
}

// TrackingBaseURL is tracking.base_url with its default filled in.
func (c *Config) TrackingBaseURL() string {
	switch {
	case c.Tracking.BaseURL != "":
		return strings.TrimSuffix(c.Tracking.BaseURL, "/")
	case c.Tracking.Listen != "":
		return "http://" + DialAddr(c.Tracking.Listen, c.Hostname)
	}
	return c.APIBaseURL()
}

// SNS configures the SNS-compatible topics' deliveries to email and sqs
// subscribers.
type SNS struct {
	// Inline signs and POSTs notifications in the server process itself.
	// By default (false) a helper process at the lowest CPU priority does
	// (RSA costs about a quarter of a millisecond a notification), so that
	// publishing only takes CPU that mail leaves idle.
	Inline bool `toml:"inline"`
	// DeferWhenBusy: once sesame's server process uses at least this
	// fraction (0–1) of the CPUs it may use, and until it has used less
	// than 0.6 of that for half a second, event notifications wait in the
	// outbox — at most DeferMax — so a burst of mail is not slowed by
	// publishing its events; 0 never defers.
	DeferWhenBusy float64  `toml:"defer_when_busy"`
	DeferMax      Duration `toml:"defer_max"`
	// EmailFrom is the address email and email-json subscribers get mail
	// from (shown as "AWS Notifications" or the topic's DisplayName); "" =
	// no-reply@<hostname>.
	EmailFrom string `toml:"email_from"`
	// SQSEndpoint is the SQS API that sqs subscriptions' queues live in
	// (e.g. "http://127.0.0.1:9324" for ElasticMQ); "" = none: sqs
	// subscriptions are refused. Never AWS's by default: with the AWS
	// SDK's default credentials (an instance role) an API user could
	// otherwise make sesame write to the operator's AWS queues.
	SQSEndpoint string `toml:"sqs_endpoint"`
	// SQSAccessKeyID and SQSSecretAccessKey sign the SQS requests; empty =
	// the AWS SDK's default chain (AWS_* environment, ~/.aws files, an
	// instance or task role).
	SQSAccessKeyID     string `toml:"sqs_access_key_id"`
	SQSSecretAccessKey string `toml:"sqs_secret_access_key"`
}

// Log configures logging.
type Log struct {
	Level  string `toml:"level"`  // debug, info, warn, error
	Format string `toml:"format"` // text or json
}

// Duration is a time.Duration written as a Go duration string ("10s").
type Duration struct{ time.Duration }

// UnmarshalText parses "10s", "1h30m".
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	if err != nil {
		return fmt.Errorf("not a duration like \"10s\": %q", b)
	}
	d.Duration = v
	return nil
}

// MarshalText writes the Go duration string.
func (d Duration) MarshalText() ([]byte, error) { return []byte(d.Duration.String()), nil }

// Default returns the configuration used when a key is absent.
func Default() Config {
	return Config{
		DataDir:         "sesame-data",
		Hostname:        "localhost",
		Regions:         []string{"us-east-1"},
		ShutdownTimeout: Duration{30 * time.Second},
		SMTP: SMTP{
			StartTLSListen:           []string{"127.0.0.1:2587"},
			TLSListen:                []string{"127.0.0.1:2465"},
			MaxConnections:           1000,
			MaxMessageBytes:          40 << 20, // 40 MiB, as SES
			IdleTimeout:              Duration{10 * time.Second},
			MaxMessagesPerConnection: 10000,
			MaxConnectionAge:         Duration{time.Hour},
			AuthFailuresPerIP:        10,
			MaxConnectionsPerIP:      50,
			CommandTimeout:           Duration{30 * time.Second},
			PreAuthTimeout:           Duration{time.Minute},
			BareLF:                   "normalize",
		},
		API: API{Listen: "127.0.0.1:8787", ReadTimeout: Duration{time.Minute}, IdleTimeout: Duration{time.Minute},
			MaxConnections: 512, MaxInflight: 256, CapturedMail: "auto"},
		Delivery: Delivery{
			Mode:                     "capture",
			MaxAttemptAge:            Duration{14 * time.Hour},
			RetryMin:                 Duration{time.Minute},
			RetryMax:                 Duration{time.Hour},
			ConnectTimeout:           Duration{30 * time.Second},
			CommandTimeout:           Duration{5 * time.Minute},
			DataTimeout:              Duration{10 * time.Minute},
			MaxConnectionsPerDomain:  20,
			MaxMessagesPerConnection: 100,
			ConnectionIdleTimeout:    Duration{10 * time.Second},
			Concurrency:              64,
			MXPort:                   25,
			DKIMRSA:                  "auto",
			DNSMinTTL:                Duration{5 * time.Second},
			MTASTS:                   true,
			MTASTSPort:               443,
			WarmupFullDailyVolume:    50000,
		},
		Log:      Log{Level: "info", Format: "text"},
		Feedback: Feedback{MaxMessageBytes: 10 << 20, MaxBufferedBytes: 64 << 20},
		DNS:      DNS{RateLimit: 20, RateLimitSlip: 2},
		Metrics:  Metrics{APIListener: true},
		Verification: Verification{
			// DKIMCNAMEDomain and MailFromMXDomain are derived from
			// hostname by Validate (derive), so a file may set hostname alone.
			CheckInterval: Duration{5 * time.Minute},
			MailPerSecond: 1,
			MailBurst:     5,
			MailPerDay:    1000,
		},
		Reputation: defaultReputation(),
		S3:         defaultS3(),
		Receiving:  defaultReceiving(),
		SNS:        SNS{DeferWhenBusy: 0.4, DeferMax: Duration{10 * time.Second}},
		Console:    Console{Listen: "127.0.0.1:8788", SessionTimeout: Duration{12 * time.Hour}},
		Cluster:    defaultCluster(),
	}
}

// Load reads the file at path over the defaults (path "" = defaults only)
// and validates the result.
func Load(path string) (Config, error) {
	c := Default()
	if path != "" {
		b, err := os.ReadFile(path)
		if err != nil {
			return c, fmt.Errorf("config: %w", err)
		}
		if err := Parse(&c, string(b)); err != nil {
			return c, fmt.Errorf("config: %s: %w", path, err)
		}
	}
	if err := c.Validate(); err != nil {
		if path != "" {
			return c, fmt.Errorf("config: %s: %w", path, err)
		}
		return c, fmt.Errorf("config: %w", err)
	}
	return c, nil
}

// derive fills the defaults that depend on other keys, once the whole file
// has been read (hostname may come after [verification]): the Easy DKIM zone and the custom MAIL FROM MX live under the
// operator's own hostname (served by [dns] and [feedback]), never under
// Amazon's, so a user following sesame's records sends nothing to Amazon.
func (c *Config) derive() {
	if c.Verification.DKIMCNAMEDomain == "" {
		c.Verification.DKIMCNAMEDomain = "dkim." + c.Hostname
	}
	if c.Verification.MailFromMXDomain == "" {
		c.Verification.MailFromMXDomain = c.Hostname
	}
	c.Cluster.deriveNodeName()
}

// Parse decodes TOML text over c, refusing keys sesame does not know.
func Parse(c *Config, text string) error {
	md, err := toml.Decode(text, c)
	if err != nil {
		var perr toml.ParseError
		if errors.As(err, &perr) {
			return fmt.Errorf("%s", perr.Error())
		}
		return err
	}
	if und := md.Undecoded(); len(und) > 0 {
		keys := make([]string, len(und))
		for i, k := range und {
			keys[i] = k.String()
		}
		return fmt.Errorf("unknown key %s", strings.Join(keys, ", "))
	}
	return nil
}

// Validate fills the defaults derived from other keys (derive), then checks
// every value and names the key of the first bad one.
func (c *Config) Validate() error {
	c.derive()
	bad := func(key, format string, args ...any) error {
		return fmt.Errorf("%s: %s", key, fmt.Sprintf(format, args...))
	}
	if c.DataDir == "" {
		return bad("data_dir", "must not be empty")
	}
	if c.Hostname == "" || strings.ContainsAny(c.Hostname, " \t\r\n") {
		return bad("hostname", "must be a host name, got %q", c.Hostname)
	}
	if len(c.Regions) == 0 {
		return bad("regions", "needs at least one region")
	}
	for i, r := range c.Regions {
		if !validRegion(r) {
			return bad("regions", "%q is not a region name like \"us-east-1\"", r)
		}
		if slices.Contains(c.Regions[:i], r) {
			return bad("regions", "%q is listed twice", r)
		}
	}
	if u := c.Store.URL; u != "" {
		p, err := url.Parse(u)
		if err != nil || (p.Scheme != "postgres" && p.Scheme != "postgresql") {
			return bad("store.url", "must be empty (the embedded database in data_dir) or a URL like postgres://user@host:5432/sesame")
		}
	}
	if d := c.ShutdownTimeout.Duration; d <= 0 || d > time.Hour {
		return bad("shutdown_timeout", "must be more than 0 and at most 1h, got %v", d)
	}
	for _, l := range []struct {
		key   string
		addrs []string
	}{{"smtp.starttls_listen", c.SMTP.StartTLSListen}, {"smtp.tls_listen", c.SMTP.TLSListen}} {
		for _, a := range l.addrs {
			if _, _, err := net.SplitHostPort(a); err != nil {
				return bad(l.key, "%q is not host:port", a)
			}
		}
	}
	if len(c.SMTP.StartTLSListen)+len(c.SMTP.TLSListen) == 0 {
		return bad("smtp.starttls_listen", "no SMTP listener configured (also smtp.tls_listen is empty)")
	}
	if c.SMTP.MaxConnections < 1 {
		return bad("smtp.max_connections", "must be at least 1, got %d", c.SMTP.MaxConnections)
	}
	if c.SMTP.MaxMessageBytes < 1024 {
		return bad("smtp.max_message_bytes", "must be at least 1024, got %d", c.SMTP.MaxMessageBytes)
	}
	if c.SMTP.IdleTimeout.Duration < time.Second {
		return bad("smtp.idle_timeout", "must be at least 1s, got %s", c.SMTP.IdleTimeout.Duration)
	}
	if c.SMTP.MaxMessagesPerConnection < 1 {
		return bad("smtp.max_messages_per_connection", "must be at least 1, got %d", c.SMTP.MaxMessagesPerConnection)
	}
	if c.SMTP.MaxConnectionAge.Duration < time.Second {
		return bad("smtp.max_connection_age", "must be at least 1s, got %s", c.SMTP.MaxConnectionAge.Duration)
	}
	if c.SMTP.AuthFailuresPerIP < 0 {
		return bad("smtp.auth_failures_per_ip", "must be 0 (no lockout) or more, got %d", c.SMTP.AuthFailuresPerIP)
	}
	if c.SMTP.MaxConnectionsPerIP < 1 {
		return bad("smtp.max_connections_per_ip", "must be at least 1, got %d", c.SMTP.MaxConnectionsPerIP)
	}
	if c.SMTP.CommandTimeout.Duration < time.Second {
		return bad("smtp.command_timeout", "must be at least 1s, got %s", c.SMTP.CommandTimeout.Duration)
	}
	if c.SMTP.PreAuthTimeout.Duration < time.Second {
		return bad("smtp.pre_auth_timeout", "must be at least 1s, got %s", c.SMTP.PreAuthTimeout.Duration)
	}
	if c.SMTP.BareLF != "normalize" && c.SMTP.BareLF != "reject" {
		return bad("smtp.bare_lf", "must be \"normalize\" or \"reject\", got %q", c.SMTP.BareLF)
	}
	if (c.TLS.CertFile == "") != (c.TLS.KeyFile == "") {
		return bad("tls.cert_file", "tls.cert_file and tls.key_file go together")
	}
	if c.API.Listen != "" {
		if _, _, err := net.SplitHostPort(c.API.Listen); err != nil {
			return bad("api.listen", "%q is not host:port", c.API.Listen)
		}
	}
	switch c.Delivery.Mode {
	case "capture", "mx":
	default:
		return bad("delivery.mode", "must be \"capture\" or \"mx\", got %q", c.Delivery.Mode)
	}
	if err := c.Delivery.validate(bad); err != nil {
		return err
	}
	if c.Delivery.Resolver != "" {
		if _, _, err := net.SplitHostPort(c.Delivery.Resolver); err != nil {
			return bad("delivery.resolver", "%q is not host:port", c.Delivery.Resolver)
		}
	}
	if c.Verification.CheckInterval.Duration < 10*time.Millisecond {
		return bad("verification.check_interval", "must be at least 10ms, got %s", c.Verification.CheckInterval.Duration)
	}
	for _, d := range []struct{ key, name, derived string }{
		{"verification.dkim_cname_domain", c.Verification.DKIMCNAMEDomain, "dkim." + c.Hostname},
		{"verification.mail_from_mx_domain", c.Verification.MailFromMXDomain, c.Hostname},
	} {
		// A value derived from hostname is as good as hostname, which may
		// be one label ("localhost") on a development machine.
		if d.name != d.derived && !validDomain(d.name) {
			return bad(d.key, "must be a domain name like \"dkim.mail.example.net\", got %q", d.name)
		}
	}
	if u := c.Verification.LinkBaseURL; u != "" {
		if p, err := url.Parse(u); err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" || p.RawQuery != "" {
			return bad("verification.link_base_url", "must be an http(s) URL like \"https://ses.example.net\", got %q", u)
		}
	}
	if c.Verification.MailPerSecond <= 0 {
		return bad("verification.mail_per_second", "must be positive, got %g", c.Verification.MailPerSecond)
	}
	if c.Verification.MailBurst < 1 {
		return bad("verification.mail_burst", "must be at least 1, got %d", c.Verification.MailBurst)
	}
	if c.Verification.MailPerDay < 1 {
		return bad("verification.mail_per_day", "must be at least 1, got %d", c.Verification.MailPerDay)
	}
	if c.Metrics.Listen != "" {
		if _, _, err := net.SplitHostPort(c.Metrics.Listen); err != nil {
			return bad("metrics.listen", "%q is not host:port", c.Metrics.Listen)
		}
	}
	if c.Tracking.Listen != "" {
		if _, _, err := net.SplitHostPort(c.Tracking.Listen); err != nil {
			return bad("tracking.listen", "%q is not host:port", c.Tracking.Listen)
		}
	}
	if c.Console.Listen != "" {
		if _, _, err := net.SplitHostPort(c.Console.Listen); err != nil {
			return bad("console.listen", "%q is not host:port", c.Console.Listen)
		}
	}
	if (c.Console.CertFile == "") != (c.Console.KeyFile == "") {
		return bad("console.cert_file", "console.cert_file and console.key_file go together")
	}
	if d := c.Console.SessionTimeout.Duration; d < time.Minute || d > 7*24*time.Hour {
		return bad("console.session_timeout", "must be between 1m and 168h, got %s", d)
	}
	if u := c.Tracking.BaseURL; u != "" {
		if p, err := url.Parse(u); err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" ||
			(p.Path != "" && p.Path != "/") || p.RawQuery != "" || p.Fragment != "" {
			return bad("tracking.base_url", "must be an http(s) URL without a path like \"https://track.example.net\", got %q", u)
		}
	}
	if c.DNS.Listen != "" {
		if _, _, err := net.SplitHostPort(c.DNS.Listen); err != nil {
			return bad("dns.listen", "%q is not host:port", c.DNS.Listen)
		}
	}
	for _, addr := range c.Feedback.Listen {
		if _, _, err := net.SplitHostPort(addr); err != nil {
			return bad("feedback.listen", "%q is not host:port", addr)
		}
	}
	if len(c.Feedback.Listen) > 0 && c.Delivery.Mode != "mx" {
		return bad("feedback.listen", "needs delivery.mode = \"mx\" (nothing is sent in %q mode, so no feedback comes back)", c.Delivery.Mode)
	}
	if c.Feedback.MaxMessageBytes < 0 {
		return bad("feedback.max_message_bytes", "must be positive, got %d", c.Feedback.MaxMessageBytes)
	}
	if c.Feedback.MaxBufferedBytes < 2*c.Feedback.MaxMessageBytes {
		return bad("feedback.max_buffered_bytes", "must be at least twice feedback.max_message_bytes (%d), got %d",
			c.Feedback.MaxMessageBytes, c.Feedback.MaxBufferedBytes)
	}
	if c.DNS.RateLimit < 0 {
		return bad("dns.rate_limit", "must be 0 (off) or more, got %d", c.DNS.RateLimit)
	}
	if c.DNS.RateLimitSlip < 0 || c.DNS.RateLimitSlip > 10 {
		return bad("dns.rate_limit_slip", "must be 0 to 10 (BIND's range), got %d", c.DNS.RateLimitSlip)
	}
	for _, ns := range c.DNS.Nameservers {
		if !validDomain(ns) {
			return bad("dns.nameservers", "%q is not a host name like \"ns1.example.net\"", ns)
		}
	}
	if err := c.Receiving.validate(c.Regions, bad); err != nil {
		return err
	}
	if err := c.S3.validate(bad); err != nil {
		return err
	}
	if err := c.Reputation.validate(bad); err != nil {
		return err
	}
	if err := c.Cluster.validate(bad); err != nil {
		return err
	}
	if d := c.API.ReadTimeout.Duration; d < time.Second || d > time.Hour {
		return bad("api.read_timeout", "must be from 1s to 1h, got %v", d)
	}
	if d := c.API.IdleTimeout.Duration; d < time.Second || d > time.Hour {
		return bad("api.idle_timeout", "must be from 1s to 1h, got %v", d)
	}
	if c.API.MaxConnections < 1 {
		return bad("api.max_connections", "must be at least 1, got %d", c.API.MaxConnections)
	}
	if c.API.MaxInflight < 1 {
		return bad("api.max_inflight", "must be at least 1, got %d", c.API.MaxInflight)
	}
	switch c.API.CapturedMail {
	case "auto", "on", "off":
	default:
		return bad("api.captured_mail", "must be \"auto\", \"on\" or \"off\", got %q", c.API.CapturedMail)
	}
	if l := c.API.CapturedMailListen; l != "" {
		if _, _, err := net.SplitHostPort(l); err != nil {
			return bad("api.captured_mail_listen", "%q is not host:port", l)
		}
		if !c.CapturedMailOn() {
			return bad("api.captured_mail_listen", "is set but captured mail is off (delivery.mode %q): set api.captured_mail = \"on\"", c.Delivery.Mode)
		}
	}
	if (c.API.CertFile == "") != (c.API.KeyFile == "") {
		return bad("api.cert_file", "api.cert_file and api.key_file go together")
	}
	if f := c.SNS.DeferWhenBusy; f < 0 || f > 1 {
		return bad("sns.defer_when_busy", "must be a fraction from 0 to 1, got %v", f)
	}
	if d := c.SNS.DeferMax.Duration; d <= 0 || d > time.Hour {
		return bad("sns.defer_max", "must be more than 0 and at most 1h, got %v", d)
	}
	if a := c.SNS.EmailFrom; a != "" {
		if m, err := mail.ParseAddress(a); err != nil || m.Address != a {
			return bad("sns.email_from", "must be a bare address like \"no-reply@example.net\", got %q", a)
		}
	}
	if u := c.SNS.SQSEndpoint; u != "" {
		if p, err := url.Parse(u); err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" || p.RawQuery != "" {
			return bad("sns.sqs_endpoint", "must be an http(s) URL like \"http://127.0.0.1:9324\", got %q", u)
		}
	}
	if (c.SNS.SQSAccessKeyID == "") != (c.SNS.SQSSecretAccessKey == "") {
		return bad("sns.sqs_access_key_id", "sns.sqs_access_key_id and sns.sqs_secret_access_key go together")
	}
	switch c.Log.Level {
	case "debug", "info", "warn", "error":
	default:
		return bad("log.level", "must be debug, info, warn or error, got %q", c.Log.Level)
	}
	switch c.Log.Format {
	case "text", "json":
	default:
		return bad("log.format", "must be text or json, got %q", c.Log.Format)
	}
	return nil
}

// validRegion accepts AWS-style names: lower-case letters, digits and
// hyphens, starting with a letter and ending with a digit ("us-east-1",
// "us-gov-west-1").
func validRegion(r string) bool {
	if len(r) < 4 || len(r) > 32 || r[0] < 'a' || r[0] > 'z' || r[len(r)-1] < '0' || r[len(r)-1] > '9' {
		return false
	}
	for _, ch := range r {
		if !(ch >= 'a' && ch <= 'z' || ch >= '0' && ch <= '9' || ch == '-') {
			return false
		}
	}
	return strings.Contains(r, "-")
}

// validDomain accepts dot-separated LDH labels of 1–63 characters, at least
// two of them, without a trailing dot.
func validDomain(d string) bool {
	labels := strings.Split(d, ".")
	if len(d) > 253 || len(labels) < 2 {
		return false
	}
	for _, l := range labels {
		if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return false
		}
		for _, ch := range l {
			if !(ch >= 'a' && ch <= 'z' || ch >= 'A' && ch <= 'Z' || ch >= '0' && ch <= '9' || ch == '-') {
				return false
			}
		}
	}
	return true
}

// validate checks the MX delivery keys.
func (d *Delivery) validate(bad func(key, format string, args ...any) error) error {
	if d.BounceDomain != "" && !validDomain(d.BounceDomain) {
		return bad("delivery.bounce_domain", "must be a domain name like \"bounces.example.net\", got %q", d.BounceDomain)
	}
	for _, t := range []struct {
		key string
		v   time.Duration
		min time.Duration
	}{
		{"delivery.max_attempt_age", d.MaxAttemptAge.Duration, time.Second},
		{"delivery.retry_min", d.RetryMin.Duration, 10 * time.Millisecond},
		{"delivery.retry_max", d.RetryMax.Duration, 10 * time.Millisecond},
		{"delivery.connect_timeout", d.ConnectTimeout.Duration, 10 * time.Millisecond},
		{"delivery.command_timeout", d.CommandTimeout.Duration, 10 * time.Millisecond},
		{"delivery.data_timeout", d.DataTimeout.Duration, 10 * time.Millisecond},
		{"delivery.connection_idle_timeout", d.ConnectionIdleTimeout.Duration, 10 * time.Millisecond},
	} {
		if t.v < t.min {
			return bad(t.key, "must be at least %s, got %s", t.min, t.v)
		}
	}
	if d.RetryMax.Duration < d.RetryMin.Duration {
		return bad("delivery.retry_max", "must not be less than delivery.retry_min (%s), got %s", d.RetryMin.Duration, d.RetryMax.Duration)
	}
	for _, n := range []struct {
		key string
		v   int
	}{
		{"delivery.max_connections_per_domain", d.MaxConnectionsPerDomain},
		{"delivery.max_messages_per_connection", d.MaxMessagesPerConnection},
		{"delivery.concurrency", d.Concurrency},
		{"delivery.warmup_full_daily_volume", d.WarmupFullDailyVolume},
	} {
		if n.v < 1 {
			return bad(n.key, "must be at least 1, got %d", n.v)
		}
	}
	switch d.DKIMRSA {
	case "auto", "openssl", "go":
	default:
		return bad("delivery.dkim_rsa", "must be \"auto\", \"openssl\" or \"go\", got %q", d.DKIMRSA)
	}
	if d.MXPort < 1 || d.MXPort > 65535 {
		return bad("delivery.mx_port", "must be a port number, got %d", d.MXPort)
	}
	if d.DNSMinTTL.Duration < time.Second || d.DNSMinTTL.Duration > time.Hour {
		return bad("delivery.dns_min_ttl", "must be between 1s and 1h, got %s", d.DNSMinTTL.Duration)
	}
	if d.MTASTSPort < 1 || d.MTASTSPort > 65535 {
		return bad("delivery.mta_sts_port", "must be a port number, got %d", d.MTASTSPort)
	}
	if d.MTASTSCAFile != "" {
		if _, err := os.Stat(d.MTASTSCAFile); err != nil {
			return bad("delivery.mta_sts_ca_file", "%v", err)
		}
	}
	if err := validateSourceAddresses(d.SourceAddresses, bad); err != nil {
		return err
	}
	for name, dest := range d.Destinations {
		key := fmt.Sprintf("delivery.destinations.%q", name)
		if !validDomain(name) || strings.ToLower(name) != name {
			return bad(key, "must be a lower-case domain name like \"gmail.com\"")
		}
		if dest.MaxConnections < 0 {
			return bad(key+".max_connections", "must not be negative, got %d", dest.MaxConnections)
		}
		if dest.MessagesPerSecond < 0 {
			return bad(key+".messages_per_second", "must not be negative, got %g", dest.MessagesPerSecond)
		}
	}
	return nil
}
