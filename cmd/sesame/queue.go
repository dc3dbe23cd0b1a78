package main

import (
	"context"
	"log/slog"
	"os"

	"sesame/internal/config"
	"sesame/internal/queuectl"
	"sesame/internal/store"
)

// queueOpener opens the queue for `sesame admin queue` and `spool adopt`:
// the running server's, through its control socket, or the spool directory
// itself when no server runs. Spool warnings (recovery) go to stderr.
//
// These commands open no store, so they check the schema themselves: a data
// dir a newer sesame wrote is refused by every admin command, and one whose
// spool that newer sesame owns must not be changed by this one.
func queueOpener(cfg config.Config) func(ctx context.Context) (queuectl.Queue, error) {
	return func(ctx context.Context) (queuectl.Queue, error) {
		if cfg.Store.URL == "" {
			if err := store.CheckSchema(cfg.DataDir); err != nil {
				return nil, err
			}
		}
		log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
		return queuectl.Open(ctx, cfg.DataDir, log)
	}
}

// authFailures maps [smtp] auth_failures_per_ip to smtpd's setting: 0 (no
// lockout) is smtpd's negative, its 0 being "the default".
func authFailures(n int) int {
	if n == 0 {
		return -1
	}
	return n
}
