package main

import (
	"context"
	"crypto/tls"
	"fmt"
	"log/slog"
	"net"
	"sync"

	"sesame/internal/config"
	"sesame/internal/feedback"
	"sesame/internal/inbound"
)

// inboundListeners are the inbound MX's listeners: [feedback] listen
// (bounce addresses only) and [receiving] listen (the accounts' domains,
// and the bounce addresses too in mx mode), bound before anything serves.
type inboundListeners struct {
	servers []*inbound.Server
	lns     [][]net.Listener // per server
}

// bindInbound binds what is configured; nil when nothing is. fb is where
// feedback goes (nil in capture mode: nothing is sent, nothing comes
// back); recv is the receiving side (nil when [receiving] listen is
// empty).
func bindInbound(cfg config.Config, fb feedback.Handler, recv inbound.Receiver, tlsConf *tls.Config, log *slog.Logger) (*inboundListeners, error) {
	var intake *feedback.Intake
	if fb != nil {
		intake = feedback.NewIntake(fb, log.With("component", "feedback"))
	}
	l := &inboundListeners{}
	add := func(addrs []string, c inbound.Config) error {
		var lns []net.Listener
		for _, addr := range addrs {
			ln, err := net.Listen("tcp", addr)
			if err != nil {
				for _, ln := range lns {
					ln.Close()
				}
				return err
			}
			lns = append(lns, ln)
		}
		l.servers = append(l.servers, inbound.NewServer(c))
		l.lns = append(l.lns, lns)
		return nil
	}
	if len(cfg.Feedback.Listen) > 0 && intake != nil {
		err := add(cfg.Feedback.Listen, inbound.Config{Hostname: cfg.Hostname, TLS: tlsConf,
			MaxMessageBytes: cfg.Feedback.MaxMessageBytes, MaxBufferedBytes: cfg.Feedback.MaxBufferedBytes,
			Feedback: intake, Logger: log.With("component", "feedback")})
		if err != nil {
			return nil, fmt.Errorf("feedback listener: %w", err)
		}
	}
	if len(cfg.Receiving.Listen) > 0 && recv != nil {
		r := cfg.Receiving
		err := add(r.Listen, inbound.Config{Hostname: cfg.Hostname, TLS: tlsConf,
			MaxMessageBytes: r.MaxMessageBytes, FeedbackMaxBytes: cfg.Feedback.MaxMessageBytes,
			MaxBufferedBytes: cfg.Feedback.MaxBufferedBytes, MaxConnections: r.MaxConnections,
			MaxRecipients: r.MaxRecipients, Feedback: intake, Receiver: recv, Logger: log.With("component", "inbound")})
		if err != nil {
			l.close()
			return nil, fmt.Errorf("receiving listener: %w", err)
		}
	}
	if len(l.servers) == 0 {
		return nil, nil
	}
	return l, nil
}

func (l *inboundListeners) close() {
	if l == nil {
		return
	}
	for _, lns := range l.lns {
		for _, ln := range lns {
			ln.Close()
		}
	}
}

// count is how many listeners report their ends.
func (l *inboundListeners) count() int {
	n := 0
	if l != nil {
		for _, lns := range l.lns {
			n += len(lns)
		}
	}
	return n
}

// serve runs the servers on their listeners, reporting their ends on errc.
func (l *inboundListeners) serve(errc chan<- error) {
	if l == nil {
		return
	}
	for i, srv := range l.servers {
		for _, ln := range l.lns[i] {
			go func() { errc <- srv.Serve(ln) }()
		}
	}
}

// shutdown drains the servers at once, within ctx, and sums their reports.
func (l *inboundListeners) shutdown(ctx context.Context, log *slog.Logger) inbound.DrainReport {
	var sum inbound.DrainReport
	if l == nil {
		return sum
	}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, srv := range l.servers {
		wg.Go(func() {
			rep, err := srv.Shutdown(ctx)
			if err != nil {
				log.Warn("inbound MX shutdown", "err", err)
			}
			mu.Lock()
			sum.Sessions += rep.Sessions
			sum.Idle += rep.Idle
			sum.Messages += rep.Messages
			sum.Cut += rep.Cut
			mu.Unlock()
		})
	}
	wg.Wait()
	return sum
}
