package main

import (
	"context"
	"log/slog"
	"os"

	"sesame/internal/config"
	"sesame/internal/queuectl"
)

// queueOpener opens the queue for `sesame admin queue`: the running
// server's, through its control socket, or the spool directory itself when
// no server runs. Spool warnings (recovery) go to stderr.
func queueOpener(cfg config.Config) func(ctx context.Context) (queuectl.Queue, error) {
	return func(ctx context.Context) (queuectl.Queue, error) {
		log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
		return queuectl.Open(ctx, cfg.DataDir, log)
	}
}
