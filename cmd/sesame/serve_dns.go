package main

import (
	"context"
	"log/slog"
	"net"

	"sesame/internal/clock"
	"sesame/internal/config"
	"sesame/internal/dnsserve"
	"sesame/internal/store"
)

// dnsListener is the optional authoritative DNS server for the Easy DKIM
// zone ([dns] listen), bound before anything serves.
type dnsListener struct {
	srv *dnsserve.Server
	pc  net.PacketConn
	ln  net.Listener
}

// bindDNS binds [dns] listen; nil when it is not set.
func bindDNS(cfg config.Config, st *store.Store, clk clock.Clock, log *slog.Logger) (*dnsListener, error) {
	if cfg.DNS.Listen == "" {
		return nil, nil
	}
	pc, ln, err := dnsserve.Listen(cfg.DNS.Listen)
	if err != nil {
		return nil, err
	}
	srv := dnsserve.New(dnsserve.Config{Store: st, Zone: cfg.Verification.DKIMCNAMEDomain,
		Nameservers: cfg.DNS.Nameservers, Clock: clk, Logger: log.With("component", "dns"),
		RateLimit: cfg.DNS.RateLimit, RateLimitSlip: cfg.DNS.RateLimitSlip})
	return &dnsListener{srv: srv, pc: pc, ln: ln}, nil
}

// serve runs the server, reporting its end on errc.
func (d *dnsListener) serve(errc chan<- error) {
	if d != nil {
		go func() { errc <- d.srv.Serve(d.pc, d.ln) }()
	}
}

// close releases the sockets of a listener that never served.
func (d *dnsListener) close() {
	if d != nil {
		d.pc.Close()
		d.ln.Close()
	}
}

func (d *dnsListener) shutdown(ctx context.Context, log *slog.Logger) {
	if d == nil {
		return
	}
	if err := d.srv.Shutdown(ctx); err != nil {
		log.Warn("dns shutdown", "err", err)
	}
}
