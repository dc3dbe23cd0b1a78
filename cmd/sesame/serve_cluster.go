package main

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"sesame/internal/clock"
	"sesame/internal/config"
	"sesame/internal/store"
)

// heartbeat keeps this server's row in cluster_nodes fresh: written once at
// start (beat) and every Interval after (run), so `sesame admin cluster
// status` on any node sees which servers share the database and which have
// gone quiet.
type heartbeat struct {
	Store interface {
		ClusterHeartbeat(context.Context, store.ClusterNode) error
	}
	Clock    clock.Clock
	Interval time.Duration
	// Node is the row's fixed part (name, version, start, listeners);
	// Depth reads the spool's pending messages at each beat.
	Node   store.ClusterNode
	Depth  func() int
	Logger *slog.Logger
}

// newHeartbeat describes this server as cfg configures it.
func newHeartbeat(cfg config.Config, st *store.Store, depth func() int, clk clock.Clock, log *slog.Logger) *heartbeat {
	listen := []string{"smtp=" + strings.Join(append(append([]string{}, cfg.SMTP.StartTLSListen...), cfg.SMTP.TLSListen...), ",")}
	if cfg.API.Listen != "" {
		listen = append(listen, "api="+cfg.API.Listen)
	}
	if len(cfg.Receiving.Listen) > 0 {
		listen = append(listen, "receiving="+strings.Join(cfg.Receiving.Listen, ","))
	}
	return &heartbeat{Store: st, Clock: clk, Interval: cfg.Cluster.Heartbeat.Duration, Depth: depth,
		Logger: log.With("component", "cluster"),
		Node: store.ClusterNode{NodeName: cfg.Cluster.NodeName, Version: version(), StartedAt: clk.Now().UTC(),
			Listen: strings.Join(listen, " ")}}
}

// beat writes the row now.
func (h *heartbeat) beat(ctx context.Context) error {
	n := h.Node
	n.LastSeen = h.Clock.Now().UTC()
	n.SpoolDepth = int64(h.Depth())
	if err := h.Store.ClusterHeartbeat(ctx, n); err != nil {
		return fmt.Errorf("cluster heartbeat: %w", err)
	}
	return nil
}

// run beats every Interval until ctx ends. A failed beat is logged and the
// next one tried on time: a database that is briefly busy must not stop the
// server, and the other nodes see the gap as a late last_seen.
func (h *heartbeat) run(ctx context.Context) {
	t := time.NewTimer(h.Interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if err := h.beat(ctx); err != nil && ctx.Err() == nil {
			h.Logger.Warn("cluster heartbeat not written", "err", err)
		}
		t.Reset(h.Interval)
	}
}
