package main

import (
	"crypto/x509"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"

	"sesame/internal/clock"
	"sesame/internal/config"
	"sesame/internal/dane"
	"sesame/internal/delivery"
	"sesame/internal/dnsx"
	"sesame/internal/mtasts"
)

// newTLSAuth builds outbound TLS authentication from [delivery]: MTA-STS
// (mta_sts, policies cached in <data_dir>/mta-sts.json) and DANE (dane,
// trusting the resolver's AD bit). nil when both are off.
func newTLSAuth(cfg config.Config, clk clock.Clock, log *slog.Logger) (*delivery.TLSAuth, error) {
	d := cfg.Delivery
	if !d.MTASTS && !d.DANE {
		return nil, nil
	}
	a := &delivery.TLSAuth{Logger: log}
	if d.MTASTSCAFile != "" {
		roots, err := x509.SystemCertPool()
		if err != nil || roots == nil {
			roots = x509.NewCertPool()
		}
		pem, err := os.ReadFile(d.MTASTSCAFile)
		if err != nil {
			return nil, fmt.Errorf("delivery.mta_sts_ca_file: %w", err)
		}
		if !roots.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("delivery.mta_sts_ca_file: %s holds no PEM certificate", d.MTASTSCAFile)
		}
		a.Roots = roots
	}
	if d.MTASTS {
		dialer := &mtasts.Dialer{Resolver: dnsx.NewRouter(d.Resolver), AllowPrivate: d.AllowPrivateDestinations, Timeout: d.ConnectTimeout.Duration}
		if d.MTASTSPort != 443 {
			dialer.Port = strconv.Itoa(d.MTASTSPort)
		}
		a.MTASTS = &mtasts.Cache{
			Resolver: dnsx.New(d.Resolver),
			Fetcher:  &mtasts.Fetcher{Client: mtasts.NewHTTPClient(a.Roots, dialer.DialContext)},
			Clock:    clk,
			Logger:   log,
			Path:     filepath.Join(cfg.DataDir, "mta-sts.json"),
		}
	}
	if d.DANE {
		server := d.Resolver
		if server == "" {
			var err error
			if server, err = dane.ServerFromResolvConf("/etc/resolv.conf"); err != nil {
				return nil, fmt.Errorf("delivery.dane: %w", err)
			}
		}
		a.DANE = &dane.Resolver{Server: server, Clock: clk, Port: strconv.Itoa(d.MXPort)}
		log.Info("DANE on: trusting the AD bit of the resolver", "resolver", server)
	}
	return a, nil
}
