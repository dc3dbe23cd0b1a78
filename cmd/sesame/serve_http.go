package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"sesame/internal/config"
)

// httpListener is an optional HTTP listener of its own beside the API's
// ([metrics] listen, [tracking] listen), bound before anything serves; nil
// when its key is empty, and every method is then a no-op.
type httpListener struct {
	name string
	srv  *http.Server
	ln   net.Listener
}

// bindHTTP binds addr for h; nil when addr is empty.
func bindHTTP(name, addr string, h http.Handler, maxHeaderBytes int) (*httpListener, error) {
	if addr == "" {
		return nil, nil
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("%s listener: %w", name, err)
	}
	return &httpListener{name: name, ln: ln,
		srv: &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, MaxHeaderBytes: maxHeaderBytes}}, nil
}

// serve runs the server, reporting its end on errc.
func (l *httpListener) serve(errc chan<- error) {
	if l != nil {
		go func() {
			if err := l.srv.Serve(l.ln); !errors.Is(err, http.ErrServerClosed) {
				errc <- err
			}
		}()
	}
}

// close releases the socket of a listener that never served.
func (l *httpListener) close() {
	if l != nil {
		l.ln.Close()
	}
}

func (l *httpListener) shutdown(ctx context.Context, log *slog.Logger) {
	if l == nil {
		return
	}
	if err := l.srv.Shutdown(ctx); err != nil {
		log.Warn(l.name+" shutdown", "err", err)
	}
}

// apiTLS is the API listener's TLS ([api] cert_file, key_file), nil when
// it serves plain HTTP: TLS 1.2 and up, and for 1.2 only forward-secret
// AEAD suites (TLS 1.3's are all good and not configurable). The
// certificate comes from the returned source, which a reload replaces.
func apiTLS(cfg config.Config) (*tls.Config, *certSource, error) {
	if cfg.API.CertFile == "" {
		return nil, nil, nil
	}
	cert, err := loadAPICert(cfg)
	if err != nil {
		return nil, nil, err
	}
	src := newCertSource(cert)
	return &tls.Config{
		GetCertificate: src.getCertificate,
		MinVersion:     tls.VersionTLS12,
		CipherSuites: []uint16{
			tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
			tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384, tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
			tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256, tls.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
		},
	}, src, nil
}

// bindCapturedMail binds [api] captured_mail_listen for /_aws/ses; nil
// when it is not set (or captured mail is off).
func bindCapturedMail(cfg config.Config, h http.Handler) (*httpListener, error) {
	if !cfg.CapturedMailOn() {
		return nil, nil
	}
	return bindHTTP("captured mail", cfg.API.CapturedMailListen, h, 0)
}
