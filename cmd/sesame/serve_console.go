package main

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"log/slog"
	"time"

	adminpkg "sesame/internal/admin"
	"sesame/internal/api"
	"sesame/internal/clock"
	"sesame/internal/config"
	"sesame/internal/console"
	"sesame/internal/queuectl"
	"sesame/internal/reputation"
	"sesame/internal/store"
)

// newConsole is the web console's wiring: account pages call the API
// server in process, the operator's pages run the admin commands on the
// server's own store. nil when [console] listen is empty.
func newConsole(cfg config.Config, st *store.Store, apiServer *api.Server, flush func(context.Context) error,
	clk clock.Clock, log *slog.Logger) (*console.Server, error) {
	if cfg.Console.Listen == "" {
		return nil, nil
	}
	opt := adminpkg.Options{Regions: cfg.Regions, DKIMCNAMEDomain: cfg.Verification.DKIMCNAMEDomain,
		MailFromMXDomain: cfg.Verification.MailFromMXDomain, Hostname: cfg.Hostname, ConsoleURL: cfg.ConsoleBaseURL(),
		SourceAddresses: cfg.Delivery.SourceIPs(),
		Queue:           queueOpener(cfg),
		Server: func(ctx context.Context) (queuectl.AuthControl, error) {
			return queuectl.DialServer(ctx, cfg.DataDir)
		},
	}
	return console.New(console.Config{
		API: apiServer, Store: st, Regions: cfg.Regions,
		Capture: cfg.Delivery.Mode == "capture", FlushCaptured: flush, Receiving: cfg.Receiving.Enabled(),
		Admin: func(ctx context.Context, args []string, out io.Writer) error {
			return adminpkg.RunWith(ctx, st, opt, args, out)
		},
		Secure: cfg.Console.CertFile != "", SessionTimeout: cfg.Console.SessionTimeout.Duration,
		DKIMCNAMEDomain: cfg.Verification.DKIMCNAMEDomain, MailFromMXDomain: cfg.Verification.MailFromMXDomain,
		Hostname: cfg.Hostname, SourceAddresses: cfg.Delivery.SourceIPs(), APIEndpoint: cfg.APIBaseURL(),
		Thresholds: reputation.Thresholds{BounceReview: cfg.Reputation.BounceReview, BouncePause: cfg.Reputation.BouncePause,
			ComplaintReview: cfg.Reputation.ComplaintReview, ComplaintPause: cfg.Reputation.ComplaintPause},
		Clock: clk, Logger: log.With("component", "console"),
	})
}

// bindConsole binds [console] listen for c (HTTPS with [console]
// cert_file and key_file, from the returned source, which a reload
// replaces); nil when the console is off.
func bindConsole(cfg config.Config, c *console.Server) (*httpListener, *certSource, error) {
	if c == nil {
		return nil, nil, nil
	}
	l, err := bindHTTP("console", cfg.Console.Listen, c.Handler(), 0)
	if err != nil {
		return nil, nil, err
	}
	l.srv.ReadTimeout, l.srv.WriteTimeout, l.srv.IdleTimeout = time.Minute, time.Minute, 2*time.Minute
	if cfg.Console.CertFile == "" {
		return l, nil, nil
	}
	cert, err := loadConsoleCert(cfg)
	if err != nil {
		l.close()
		return nil, nil, err
	}
	src := newCertSource(cert)
	l.ln = tls.NewListener(l.ln, &tls.Config{GetCertificate: src.getCertificate, MinVersion: tls.VersionTLS12})
	return l, src, nil
}

// loadConsoleCert is the HTTPS console's certificate ([console] cert_file, key_file).
func loadConsoleCert(cfg config.Config) (tls.Certificate, error) {
	c, err := tls.LoadX509KeyPair(cfg.Console.CertFile, cfg.Console.KeyFile)
	if err != nil {
		return c, fmt.Errorf("console: load [console] cert_file/key_file: %w", err)
	}
	return c, nil
}
