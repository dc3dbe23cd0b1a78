package main

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"strconv"

	"sesame/internal/clock"
	"sesame/internal/config"
	"sesame/internal/delivery"
	"sesame/internal/dkim"
	"sesame/internal/dnsx"
	"sesame/internal/events"
	"sesame/internal/spool"
	"sesame/internal/store"
)

// deliverer is what serve runs to take spooled mail to its destination:
// delivery.Capture or delivery.MX, as delivery.mode says.
type deliverer interface {
	Run(ctx context.Context) error
}

// newDeliverer builds the configured delivery worker.
func newDeliverer(cfg config.Config, sp *spool.Spool, st *store.Store, ev *events.Recorder, clk clock.Clock, log *slog.Logger) (deliverer, error) {
	if cfg.Delivery.Mode != "mx" {
		return &delivery.Capture{Spool: sp, Store: st, Events: ev, Hostname: cfg.Hostname, Logger: log.With("component", "delivery")}, nil
	}
	d := cfg.Delivery
	shapes := make(map[string]delivery.Shape, len(d.Destinations))
	for name, dest := range d.Destinations {
		shapes[name] = delivery.Shape{MaxConns: dest.MaxConnections, Rate: dest.MessagesPerSecond}
	}
	signer := dkim.New(st, clk, log)
	engine, err := signer.UseRSA(d.DKIMRSA)
	if err != nil {
		return nil, fmt.Errorf("delivery.dkim_rsa: %w", err)
	}
	log.Info("DKIM RSA signing", "engine", engine)
	if d.AllowPrivateDestinations {
		log.Warn("delivery.allow_private_destinations is on: mail may go to loopback, private and other internal addresses")
	}
	var sources []delivery.Source
	for i, a := range d.SourceAddresses {
		sources = append(sources, delivery.Source{Addr: a.Addr(), EHLO: a.EHLOName})
		// An address that is not (yet) the machine's fails each connection
		// from it, temporarily: said once here rather than only in the
		// queue's errors. Not fatal: an IPv6 address still in duplicate
		// address detection at boot becomes usable moments later.
		if ln, err := net.ListenTCP("tcp", &net.TCPAddr{IP: a.Addr().AsSlice()}); err != nil {
			log.Warn("a source address cannot be bound; mail from it waits until it can", "key", fmt.Sprintf("delivery.source_addresses[%d]", i), "address", a.Addr(), "err", err)
		} else {
			ln.Close()
		}
	}
	tlsAuth, err := newTLSAuth(cfg, clk, log.With("component", "delivery"))
	if err != nil {
		return nil, err
	}
	return &delivery.MX{
		Spool: sp,
		Store: st,
		Router: &delivery.Router{Resolver: dnsx.NewRouter(d.Resolver), Clock: clk,
			MinTTL: d.DNSMinTTL.Duration, AllowPrivate: d.AllowPrivateDestinations},
		Signer:       signer,
		Events:       ev,
		Clock:        clk,
		Logger:       log.With("component", "delivery"),
		BounceDomain: d.BounceDomain,
		Client: delivery.ClientOptions{
			Hostname:           cfg.Hostname,
			Port:               strconv.Itoa(d.MXPort),
			ConnectTimeout:     d.ConnectTimeout.Duration,
			CommandTimeout:     d.CommandTimeout.Duration,
			DataTimeout:        d.DataTimeout.Duration,
			MaxConnsPerDomain:  d.MaxConnectionsPerDomain,
			MaxMessagesPerConn: d.MaxMessagesPerConnection,
			IdleTimeout:        d.ConnectionIdleTimeout.Duration,
			Shapes:             shapes,
		},
		Retry: delivery.RetryPolicy{
			First:  d.RetryMin.Duration,
			Max:    d.RetryMax.Duration,
			MaxAge: d.MaxAttemptAge.Duration,
		},
		Workers:               d.Concurrency,
		TLSAuth:               tlsAuth,
		Sources:               sources,
		WarmupFullDailyVolume: d.WarmupFullDailyVolume,
	}, nil
}
