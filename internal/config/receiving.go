package config

import (
	"net"
	"net/url"
	"strings"
)

// Receiving is the [receiving] section: the inbound MX that takes mail for
// the accounts' verified domains and runs their receipt rules
// (docs/receiving.md). The same listener also serves the feedback
// addresses ([feedback]) when delivery.mode is "mx".
type Receiving struct {
	// Listen are the inbound MX's addresses (host:port each; port 25 in
	// production); empty = sesame does not receive mail.
	Listen []string `toml:"listen"`
	// Region is the region whose accounts, identities and rule sets the
	// listener serves ("" = the first of regions).
	Region string `toml:"region"`
	// MaxMessageBytes bounds one received message (default 40 MiB, SES's
	// receiving limit).
	MaxMessageBytes int64 `toml:"max_message_bytes"`
	// MaxRecipients bounds the recipients of one transaction (default 100).
	MaxRecipients int `toml:"max_recipients"`
	// MaxConnections bounds the open sessions (default 500).
	MaxConnections int `toml:"max_connections"`
	// RspamdURL is rspamd's HTTP API (its controller or normal worker),
	// e.g. "http://127.0.0.1:11333"; "" = no spam scanner (verdict
	// DISABLED).
	RspamdURL string `toml:"rspamd_url"`
	// ClamdAddress is clamd's socket: "unix:/run/clamav/clamd.ctl" or
	// "tcp:127.0.0.1:3310"; "" = no virus scanner (verdict DISABLED).
	ClamdAddress string `toml:"clamd_address"`
	// Functions maps a receipt rule's LambdaAction FunctionArn to where
	// sesame delivers it: an http(s) URL that gets Lambda's SES event as a
	// POST, or "lmtp://host:port" / "smtp://host:port" to forward the
	// message itself (to a mailbox server such as Dovecot).
	Functions map[string]string `toml:"functions"`
}

func defaultReceiving() Receiving {
	return Receiving{MaxMessageBytes: 40 << 20, MaxRecipients: 100, MaxConnections: 500}
}

// Enabled: the inbound MX listens.
func (r *Receiving) Enabled() bool { return len(r.Listen) > 0 }

// validate checks the [receiving] keys.
func (r *Receiving) validate(regions []string, bad func(key, format string, args ...any) error) error {
	for _, addr := range r.Listen {
		if _, _, err := net.SplitHostPort(addr); err != nil {
			return bad("receiving.listen", "%q is not host:port", addr)
		}
	}
	if r.Region != "" && len(regions) > 0 {
		found := false
		for _, g := range regions {
			found = found || g == r.Region
		}
		if !found {
			return bad("receiving.region", "%q is not one of regions %v", r.Region, regions)
		}
	}
	if r.MaxMessageBytes <= 0 {
		return bad("receiving.max_message_bytes", "must be positive, got %d", r.MaxMessageBytes)
	}
	if r.MaxRecipients <= 0 {
		return bad("receiving.max_recipients", "must be positive, got %d", r.MaxRecipients)
	}
	if r.MaxConnections <= 0 {
		return bad("receiving.max_connections", "must be positive, got %d", r.MaxConnections)
	}
	if u := r.RspamdURL; u != "" {
		if p, err := url.Parse(u); err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" {
			return bad("receiving.rspamd_url", "must be an http(s) URL like \"http://127.0.0.1:11333\", got %q", u)
		}
	}
	if a := r.ClamdAddress; a != "" {
		network, addr, ok := strings.Cut(a, ":")
		if !ok || addr == "" || (network != "unix" && network != "tcp") {
			return bad("receiving.clamd_address", "must be \"unix:/path\" or \"tcp:host:port\", got %q", a)
		}
	}
	for arn, target := range r.Functions {
		if !strings.HasPrefix(arn, "arn:aws:lambda:") || strings.Count(arn, ":") < 6 {
			return bad("receiving.functions", "%q is not a Lambda function ARN (arn:aws:lambda:REGION:ACCOUNT:function:NAME)", arn)
		}
		p, err := url.Parse(target)
		if err != nil || p.Host == "" {
			return bad("receiving.functions", "%q: %q is not a URL", arn, target)
		}
		switch p.Scheme {
		case "http", "https", "lmtp", "smtp":
		default:
			return bad("receiving.functions", "%q: %q must be an http(s), lmtp or smtp URL", arn, target)
		}
	}
	return nil
}
