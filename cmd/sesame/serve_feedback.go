package main

import (
	"context"
	"crypto/tls"
	"fmt"
	"log/slog"
	"net"

	"sesame/internal/config"
	"sesame/internal/feedback"
)

// feedbackListener is the optional feedback MX ([feedback] listen), bound
// before anything serves.
type feedbackListener struct {
	srv *feedback.Server
	lns []net.Listener
}

// bindFeedback binds [feedback] listen; nil when it is not set. Reports go
// to h (events; config validation makes sure the delivery mode is mx).
func bindFeedback(cfg config.Config, h feedback.Handler, tlsConf *tls.Config, log *slog.Logger) (*feedbackListener, error) {
	if len(cfg.Feedback.Listen) == 0 {
		return nil, nil
	}
	f := &feedbackListener{srv: feedback.NewServer(feedback.ListenConfig{
		Hostname: cfg.Hostname, TLS: tlsConf, MaxMessageBytes: cfg.Feedback.MaxMessageBytes,
		MaxBufferedBytes: cfg.Feedback.MaxBufferedBytes,
		Handler:          h, Logger: log.With("component", "feedback"),
	})}
	for _, addr := range cfg.Feedback.Listen {
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			f.close()
			return nil, fmt.Errorf("feedback listener: %w", err)
		}
		f.lns = append(f.lns, ln)
	}
	return f, nil
}

func (f *feedbackListener) close() {
	for _, ln := range f.lns {
		ln.Close()
	}
}

// serve runs the server on every listener, reporting their ends on errc.
func (f *feedbackListener) serve(errc chan<- error) {
	if f == nil {
		return
	}
	for _, ln := range f.lns {
		go func() { errc <- f.srv.Serve(ln) }()
	}
}

func (f *feedbackListener) shutdown(ctx context.Context, log *slog.Logger) {
	if f == nil {
		return
	}
	if err := f.srv.Shutdown(ctx); err != nil {
		log.Warn("feedback shutdown", "err", err)
	}
}
