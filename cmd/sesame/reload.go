package main

import (
	"context"
	"crypto/tls"
	"encoding"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"reflect"
	"slices"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"sesame/internal/config"
	"sesame/internal/sdnotify"
	"sesame/internal/smtpd"
)

// Signals: SIGHUP reloads (reloader), SIGTERM and SIGINT drain (serve).
// What a reload applies without a restart: log.level, and the certificate
// files of the SMTP listeners (and the feedback MX, which shares them) and
// of an HTTPS API listener and of an HTTPS console. Every other key needs a restart; a reload that
// finds one changed says so in the log. docs/configuration.md, "Signals",
// is the operator's side of this list.

// reloadableKeys are the config keys a reload applies.
var reloadableKeys = []string{"log.level", "tls.cert_file", "tls.key_file", "api.cert_file", "api.key_file",
	"console.cert_file", "console.key_file"}

// certSource is a server certificate replaced while serving: every new
// TLS handshake takes the current one (tls.Config.GetCertificate), those
// under way keep theirs.
type certSource struct {
	p atomic.Pointer[tls.Certificate]
}

func newCertSource(c tls.Certificate) *certSource {
	s := &certSource{}
	s.p.Store(&c)
	return s
}

func (s *certSource) set(c tls.Certificate) { s.p.Store(&c) }

func (s *certSource) getCertificate(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	return s.p.Load(), nil
}

// loadSMTPCert is the SMTP listeners' certificate: [tls] cert_file and
// key_file, else the self-signed one in the data dir.
func loadSMTPCert(cfg config.Config) (tls.Certificate, error) {
	return smtpd.LoadOrCreateCert(cfg.TLS.CertFile, cfg.TLS.KeyFile, cfg.DataDir, cfg.Hostname)
}

// loadAPICert is the HTTPS API listener's certificate ([api] cert_file, key_file).
func loadAPICert(cfg config.Config) (tls.Certificate, error) {
	c, err := tls.LoadX509KeyPair(cfg.API.CertFile, cfg.API.KeyFile)
	if err != nil {
		return c, fmt.Errorf("api: load [api] cert_file/key_file: %w", err)
	}
	return c, nil
}

// newServeLogger is serve's logger, whose level a reload may change.
func newServeLogger(c config.Log, w io.Writer) (*slog.Logger, *slog.LevelVar) {
	level := new(slog.LevelVar)
	setLevel(level, c.Level)
	opts := &slog.HandlerOptions{Level: level}
	if c.Format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts)), level
	}
	return slog.New(slog.NewTextHandler(w, opts)), level
}

func setLevel(v *slog.LevelVar, name string) {
	var level slog.Level
	_ = level.UnmarshalText([]byte(name)) // config validated it
	v.Set(level)
}

// reloadSignals starts catching SIGHUP, so that from the start of serve
// a reload request never kills the process (the default action); the
// requests wait in the channel until the server serves.
func reloadSignals() (<-chan os.Signal, func()) {
	c := make(chan os.Signal, 1)
	signal.Notify(c, syscall.SIGHUP)
	return c, func() { signal.Stop(c) }
}

// reloader applies a changed config file to the running server.
type reloader struct {
	flags    configFlags
	cur      config.Config // what runs: the start's config plus what reloads applied
	level    *slog.LevelVar
	smtpCert *certSource
	apiCert  *certSource // nil: the API serves plain HTTP (or not at all)
	// consoleCert is nil when the console serves plain HTTP (or not at all).
	consoleCert *certSource
	notify      *sdnotify.Notifier
	log         *slog.Logger
}

// wait serves reload requests until ctx ends (SIGTERM, SIGINT) or a
// server stops with an error, which it returns.
func (r *reloader) wait(ctx context.Context, hup <-chan os.Signal, errc <-chan error) error {
	for {
		select {
		case <-ctx.Done():
			r.log.Info("shutting down: draining", "bound", r.cur.ShutdownTimeout.Duration)
			return nil
		case err := <-errc:
			r.log.Error("a server stopped", "err", err)
			return err
		case <-hup:
			r.notifyErr(r.notify.Reloading())
			r.reload()
			r.notifyErr(r.notify.Ready())
		}
	}
}

func (r *reloader) notifyErr(err error) {
	if err != nil {
		r.log.Warn("sd_notify", "err", err)
	}
}

// reload re-reads the config file and the certificate files. Nothing is
// applied unless all of it loads: a bad config or an unreadable
// certificate is logged and the server goes on with what it had.
func (r *reloader) reload() {
	start := time.Now()
	next, err := r.flags.load()
	if err != nil {
		r.log.Error("reload failed: still serving with the previous configuration and certificates", "err", err)
		return
	}
	// The self-signed certificate belongs to the running data dir and
	// hostname: those two need a restart.
	smtpCfg := next
	smtpCfg.DataDir, smtpCfg.Hostname = r.cur.DataDir, r.cur.Hostname
	smtpCert, err := loadSMTPCert(smtpCfg)
	if err != nil {
		r.log.Error("reload failed: still serving with the previous configuration and certificates", "err", err)
		return
	}
	// HTTP and HTTPS are different servers: switching needs a restart;
	// new files for an HTTPS listener do not.
	var apiCert tls.Certificate
	apiFiles := r.apiCert != nil && next.API.CertFile != ""
	if apiFiles {
		if apiCert, err = loadAPICert(next); err != nil {
			r.log.Error("reload failed: still serving with the previous configuration and certificates", "err", err)
			return
		}
	}
	var consoleCert tls.Certificate
	consoleFiles := r.consoleCert != nil && next.Console.CertFile != ""
	if consoleFiles {
		if consoleCert, err = loadConsoleCert(next); err != nil {
			r.log.Error("reload failed: still serving with the previous configuration and certificates", "err", err)
			return
		}
	}

	applied := r.cur
	applied.Log.Level = next.Log.Level
	applied.TLS = next.TLS
	if apiFiles {
		applied.API.CertFile, applied.API.KeyFile = next.API.CertFile, next.API.KeyFile
	}
	if consoleFiles {
		applied.Console.CertFile, applied.Console.KeyFile = next.Console.CertFile, next.Console.KeyFile
	}
	changed := changedKeys(r.cur, applied)
	setLevel(r.level, applied.Log.Level)
	r.smtpCert.set(smtpCert)
	if apiFiles {
		r.apiCert.set(apiCert)
	}
	if consoleFiles {
		r.consoleCert.set(consoleCert)
	}
	r.cur = applied
	if rest := changedKeys(applied, next); len(rest) > 0 {
		r.log.Warn("reload: changed keys not applied; they need a restart",
			"keys", strings.Join(rest, ","), "reloadable", strings.Join(reloadableKeys, ","))
	}
	attrs := []any{"changed", strings.Join(changed, ","), "smtp_cert", certSummary(smtpCert)}
	if apiFiles {
		attrs = append(attrs, "api_cert", certSummary(apiCert))
	}
	if consoleFiles {
		attrs = append(attrs, "console_cert", certSummary(consoleCert))
	}
	r.log.Info("reloaded", append(attrs, "duration", time.Since(start))...)
}

// certSummary names a certificate in the log: its subject and expiry.
func certSummary(c tls.Certificate) string {
	if c.Leaf == nil {
		return ""
	}
	return fmt.Sprintf("%s (serial %s, expires %s)", c.Leaf.Subject.CommonName,
		c.Leaf.SerialNumber.Text(16), c.Leaf.NotAfter.UTC().Format(time.RFC3339))
}

// changedKeys lists the config keys (dotted, as in the file) whose values
// differ between a and b.
func changedKeys(a, b config.Config) []string {
	var keys []string
	diffValues(reflect.ValueOf(a), reflect.ValueOf(b), "", &keys)
	slices.Sort(keys)
	return keys
}

var textMarshaler = reflect.TypeFor[encoding.TextMarshaler]()

func diffValues(a, b reflect.Value, prefix string, keys *[]string) {
	t := a.Type()
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("toml"), ",")
		if name == "" || name == "-" {
			continue
		}
		key := prefix + name
		fa, fb := a.Field(i), b.Field(i)
		if f.Type.Kind() == reflect.Struct && !f.Type.Implements(textMarshaler) {
			diffValues(fa, fb, key+".", keys)
			continue
		}
		if !reflect.DeepEqual(fa.Interface(), fb.Interface()) {
			*keys = append(*keys, key)
		}
	}
}
