package main

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"

	"sesame/internal/config"
	"sesame/internal/store"
)

// The first-start banner suggests admin commands with the -c and --data
// the server was started with, and fits the delivery mode (where mail
// goes, whether /_aws/ses shows it) and development mode (no sandbox
// steps).
func TestFirstStartBanner(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		flags   configFlags
		cfg     func(*config.Config)
		want    []string
		notWant []string
	}{
		{name: "defaults", want: []string{
			"every region starts in the sandbox",
			"    sesame admin identity verify --region us-east-1 sender@example.com\n",
			"swaks --server 127.0.0.1:2587 --tls --auth LOGIN",
			"--from sender@example.com --to success@simulator.amazonses.com",
			"curl -s http://127.0.0.1:8787/_aws/ses",
			"Leave the sandbox: sesame admin account set --region us-east-1 --production\n",
		}, notWant: []string{" -c ", "--data", "internet", "development", "WARNING"}},
		{name: "-c given", flags: configFlags{file: "/etc/sesame/sesame.toml"}, want: []string{
			"    sesame admin -c /etc/sesame/sesame.toml identity verify --region us-east-1 sender@example.com\n",
			"Leave the sandbox: sesame admin -c /etc/sesame/sesame.toml account set --region us-east-1 --production\n",
		}, notWant: []string{"--data"}},
		{name: "--data given", flags: configFlags{data: "/srv/mail data"}, want: []string{
			"    sesame admin --data '/srv/mail data' identity verify --region us-east-1 sender@example.com\n",
			"Leave the sandbox: sesame admin --data '/srv/mail data' account set",
		}, notWant: []string{" -c "}},
		{name: "both given", flags: configFlags{file: "dev.toml", data: "/tmp/d"}, want: []string{
			"    sesame admin -c dev.toml --data /tmp/d identity verify",
			"Leave the sandbox: sesame admin -c dev.toml --data /tmp/d account set",
		}},
		{name: "in the container image", flags: configFlags{file: "/etc/sesame/sesame.toml", container: true}, cfg: func(c *config.Config) {
			c.SMTP.StartTLSListen, c.API.Listen, c.Console.Listen = []string{"0.0.0.0:2587"}, "[::]:8787", "0.0.0.0:8788"
		}, want: []string{
			"    docker exec CONTAINER /sesame admin -c /etc/sesame/sesame.toml identity verify --region us-east-1 sender@example.com\n",
			"swaks --server localhost:2587 --tls",
			"curl -s http://localhost:8787/_aws/ses",
			"Web console: http://localhost:8788 — sign in",
		}, notWant: []string{"0.0.0.0", "[::]"}},
		{name: "tls listener only", cfg: func(c *config.Config) { c.SMTP.StartTLSListen = nil }, want: []string{
			"swaks --server 127.0.0.1:2465 --tls-on-connect --auth LOGIN",
		}},
		{name: "mx mode", cfg: func(c *config.Config) { c.Delivery.Mode = "mx"; c.Regions = []string{"eu-west-1"} }, want: []string{
			"Delivery mode mx: accepted mail goes out to the recipients' mail servers on the internet.",
			"In the sandbox the sender and every recipient must be verified identities",
			"    sesame admin identity verify --region eu-west-1 sender@example.com\n",
			"--to success@simulator.amazonses.com",
			"Leave the sandbox: sesame admin account set --region eu-west-1 --production\n",
		}, notWant: []string{"/_aws/ses", "captured"}},
		{name: "mx mode, captured mail on", cfg: func(c *config.Config) {
			c.Delivery.Mode, c.API.CapturedMail, c.API.CapturedMailListen = "mx", "on", "127.0.0.1:9999"
		}, want: []string{"goes out to the recipients' mail servers", "curl -s http://127.0.0.1:9999/_aws/ses"}},
		{name: "development", flags: configFlags{file: "dev.toml"}, cfg: func(c *config.Config) { c.Accounts.Development = true }, want: []string{
			"WARNING: " + DevelopmentWarning,
			"Try it (any sender, any recipient):",
			"swaks --server 127.0.0.1:2587",
			"--from sender@example.com --to someone@example.com\n",
			"curl -s http://127.0.0.1:8787/_aws/ses",
		}, notWant: []string{"identity verify", "sandbox", "--production", "internet."}},
		{name: "development, mx mode", cfg: func(c *config.Config) { c.Accounts.Development, c.Delivery.Mode = true, "mx" }, want: []string{
			"WARNING: " + DevelopmentWarning,
			"goes out to the recipients' mail servers on the internet,\n  from any sender to any recipient in development mode.",
			"--to success@simulator.amazonses.com\n",
		}, notWant: []string{"identity verify", "sandbox", "--production", "/_aws/ses"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			cfg := config.Default()
			cfg.DataDir = t.TempDir()
			if tc.cfg != nil {
				tc.cfg(&cfg)
			}
			st, err := store.Open(cfg.DataDir)
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			var out strings.Builder
			if err := firstStart(context.Background(), st, cfg, tc.flags, &out); err != nil {
				t.Fatal(err)
			}
			banner := out.String()
			if !strings.Contains(banner, "created account ") || !bannerSecret.MatchString(banner) {
				t.Errorf("no account or secret:\n%s", banner)
			}
			for _, w := range tc.want {
				if !strings.Contains(banner, w) {
					t.Errorf("banner lacks %q:\n%s", w, banner)
				}
			}
			for _, w := range tc.notWant {
				if strings.Contains(banner, w) {
					t.Errorf("banner has %q:\n%s", w, banner)
				}
			}
		})
	}
}

// Development mode is logged at warn level at every start, and not at all
// without it.
func TestWarnDevelopment(t *testing.T) {
	t.Parallel()
	for _, on := range []bool{false, true} {
		cfg := config.Default()
		cfg.Accounts.Development = on
		var logs bytes.Buffer
		warnDevelopment(cfg, slog.New(slog.NewTextHandler(&logs, nil)))
		if got := strings.Contains(logs.String(), "level=WARN") && strings.Contains(logs.String(), "do not use on the internet"); got != on {
			t.Errorf("development = %v: log %q", on, logs.String())
		}
	}
}

func TestShellQuote(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"/etc/sesame/sesame.toml": "/etc/sesame/sesame.toml",
		"a b":                     "'a b'",
		"it's":                    `'it'\''s'`,
		"":                        "''",
	} {
		if got := shellQuote(in); got != want {
			t.Errorf("shellQuote(%q) = %s, want %s", in, got, want)
		}
	}
}
