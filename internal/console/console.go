// Package console is sesame's web console: what SES users do in the AWS
// console (identities and their DNS records, statistics, templates, the
// suppression list, a test send, receipt rules, message search), the
// captured-mail mailbox of capture mode, and the operator's views of what
// `sesame admin` does. It serves server-rendered HTML (html/template) with
// one small embedded library, htmx, for partial updates; everything works
// without JavaScript.
//
// The console decides nothing itself: an account's pages call the SES API
// in process (api.Server.ServeAs) as the signed-in access key, through the
// AWS SDK's own clients, so every rule of the API holds (sandbox, quotas,
// key policies, validation, SES's error texts); the operator's pages run
// the admin commands. It reads the store only for what the API has no
// operation for (captured mail, message search by recipient).
package console

import (
	"context"
	"embed"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"time"

	"sesame/internal/awsauth"
	"sesame/internal/clock"
	"sesame/internal/reputation"
	"sesame/internal/store"
)

//go:embed web/static all:web/templates
var webFS embed.FS

// API is what the console asks of the SES API: to serve a request as a
// principal, after the point where a signature would have been checked.
type API interface {
	ServeAs(w http.ResponseWriter, r *http.Request, p awsauth.Principal)
}

// Store is what the console reads and writes itself.
type Store interface {
	AccessKey(ctx context.Context, keyID string) (store.AccessKey, error)
	Captured(ctx context.Context, f store.CaptureFilter) ([]store.Captured, error)
	DeleteCaptured(ctx context.Context, f store.CaptureFilter) (int, error)
	// MessagesTo: message search by recipient, which SES has no operation for.
	MessagesTo(ctx context.Context, accountID, region, address string, scan, limit int) ([]string, error)
	ConsoleTokenValid(ctx context.Context, token string, now time.Time) (bool, error)
}

// Config wires a Server.
type Config struct {
	API     API
	Store   Store
	Regions []string // the first is the default
	// Capture says delivery keeps mail (capture mode): the mailbox pages.
	Capture bool
	// Receiving says the inbound MX listens ([receiving] listen): receipt
	// rules act on mail only then, which the receiving pages say.
	Receiving bool
	// FlushCaptured, when set, returns once every acknowledged message is
	// in the captured mail (delivery.Capture.Flush).
	FlushCaptured func(context.Context) error
	// Admin runs a `sesame admin` command (the words after "admin") for
	// the operator's pages, writing its JSON to out; nil: no operator view.
	Admin func(ctx context.Context, args []string, out io.Writer) error
	// Secure marks the session cookie Secure (the console serves HTTPS).
	Secure bool
	// SessionTimeout is how long a sign-in lasts (default 12 hours).
	SessionTimeout time.Duration
	// DKIMCNAMEDomain, MailFromMXDomain and Hostname are what a domain's
	// DNS records point at (verification.dkim_cname_domain,
	// verification.mail_from_mx_domain, hostname), as `sesame admin
	// identity records` prints them.
	DKIMCNAMEDomain, MailFromMXDomain, Hostname string
	// SourceAddresses ([[delivery.source_addresses]]) go in the MAIL FROM
	// domain's SPF record.
	SourceAddresses []string
	// APIEndpoint is the SES API's address, shown to users for their SDKs.
	APIEndpoint string
	Clock       clock.Clock
	Logger      *slog.Logger

	// Thresholds are the bounce and complaint rates the statistics page
	// draws ([reputation]; zero: SES's published ones).
	Thresholds reputation.Thresholds
}

// Server serves the console.
type Server struct {
	cfg      Config
	log      *slog.Logger
	clk      clock.Clock
	mux      *http.ServeMux
	sessions *sessions
	throttle *throttle
	pages    *pages
	static   http.Handler
	cross    *http.CrossOriginProtection
}

// New returns a console server.
func New(cfg Config) (*Server, error) {
	if cfg.Clock == nil {
		cfg.Clock = clock.Real{}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.SessionTimeout <= 0 {
		cfg.SessionTimeout = 12 * time.Hour
	}
	if cfg.Thresholds == (reputation.Thresholds{}) {
		cfg.Thresholds = reputation.SESThresholds
	}
	if len(cfg.Regions) == 0 {
		cfg.Regions = []string{"us-east-1"}
	}
	pg, err := parsePages()
	if err != nil {
		return nil, err
	}
	static, err := fs.Sub(webFS, "web/static")
	if err != nil {
		return nil, err
	}
	s := &Server{cfg: cfg, log: cfg.Logger, clk: cfg.Clock, mux: http.NewServeMux(),
		sessions: newSessions(cfg.Clock, cfg.SessionTimeout), throttle: newThrottle(cfg.Clock), pages: pg,
		static: http.StripPrefix("/assets/", http.FileServerFS(static)), cross: http.NewCrossOriginProtection()}
	s.routes()
	return s, nil
}

// Handler is the console's routes.
func (s *Server) Handler() http.Handler { return s }

// ServeHTTP answers one request: safety headers on every answer, and no
// state-changing request from another site (CSRF tokens are checked too).
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("X-Frame-Options", "DENY")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "same-origin")
	// Scripts only from the console itself (htmx, console.js): no inline
	// script, nothing from elsewhere. Captured HTML is shown in a
	// sandboxed frame of its own (mailbox pages), never inline.
	h.Set("Content-Security-Policy", "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "+
		"img-src 'self' data:; frame-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'")
	if err := s.cross.Check(r); err != nil {
		s.renderError(w, r, http.StatusForbidden, errCrossSite)
		return
	}
	if f, ok := strings.CutPrefix(r.URL.Path, "/assets/"); ok && f != "" && !strings.Contains(f, "/") &&
		(r.Method == http.MethodGet || r.Method == http.MethodHead) {
		s.cacheable(s.static).ServeHTTP(w, r)
		return
	}
	s.mux.ServeHTTP(w, r)
}

// routes registers every page. A region's pages live under /{region}/,
// behind s.account (signed in as an access key, region configured); the
// operator's under /operator/, behind s.operator.
func (s *Server) routes() {
	m := s.mux
	// The assets are served before the mux (ServeHTTP).
	m.HandleFunc("GET /{$}", s.home)
	m.HandleFunc("GET /signin", s.signInPage)
	m.HandleFunc("POST /signin", s.signIn)
	m.HandleFunc("POST /signout", s.signOut)
	m.HandleFunc("GET /region", s.switchRegion)
	m.HandleFunc("GET /favicon.ico", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) })

	// A region's pages are on a mux of their own: on the main one,
	// "GET /{region}/statistics" and "GET /assets/{file}" would both match
	// /assets/statistics with neither more specific, which ServeMux refuses.
	regional := http.NewServeMux()
	regional.Handle("GET /{region}/{$}", s.account(s.dashboard))
	// Any other page: the console's own 404 (or the sign-in form), not
	// ServeMux's plain text; every registered pattern is more specific.
	regional.Handle("GET /{region}/{rest...}", s.account(func(http.ResponseWriter, *http.Request, *view) error { return errNoSuchPage }))
	for _, reg := range accountPages {
		for pattern, h := range reg(s) {
			method, path, _ := strings.Cut(pattern, " ")
			regional.Handle(method+" /{region}"+path, s.account(h))
		}
	}
	m.Handle("/{region}/", regional)
	for _, reg := range operatorPages {
		for pattern, h := range reg(s) {
			method, path, _ := strings.Cut(pattern, " ")
			m.Handle(method+" /operator"+path, s.operator(h))
		}
	}
}

// accountPages and operatorPages are the page groups: each returns its
// routes ("GET /identities" → handler) below /{region} or /operator. A
// group registers itself from its own file's init.
var (
	accountPages  []func(s *Server) map[string]handler
	operatorPages []func(s *Server) map[string]handler
)

// handler serves one page for a signed-in session; an error it returns is
// rendered in the page's place (SES's words for an API error).
type handler func(w http.ResponseWriter, r *http.Request, v *view) error

// cacheable lets browsers keep the embedded assets for an hour.
func (s *Server) cacheable(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=3600")
		h.ServeHTTP(w, r)
	})
}

// home sends a visitor to the default region's dashboard, the operator's
// accounts or the sign-in form.
func (s *Server) home(w http.ResponseWriter, r *http.Request) {
	sess := s.sessions.get(r)
	switch {
	case sess == nil:
		http.Redirect(w, r, "/signin", http.StatusSeeOther)
	case sess.Operator:
		http.Redirect(w, r, "/operator/accounts", http.StatusSeeOther)
	default:
		http.Redirect(w, r, "/"+s.cfg.Regions[0]+"/", http.StatusSeeOther)
	}
}

// account wraps an account page: a session of an access key, a configured
// region, and the CSRF token on every POST.
func (s *Server) account(h handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		region := r.PathValue("region")
		if !slices.Contains(s.cfg.Regions, region) {
			s.renderError(w, r, http.StatusNotFound, errNoSuchPage)
			return
		}
		sess := s.sessions.get(r)
		if sess == nil || sess.Operator {
			s.toSignIn(w, r)
			return
		}
		s.serve(w, r, h, sess, region)
	})
}

// operator wraps an operator page.
func (s *Server) operator(h handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sess := s.sessions.get(r)
		if sess == nil || !sess.Operator {
			s.toSignIn(w, r)
			return
		}
		s.serve(w, r, h, sess, "")
	})
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request, h handler, sess *session, region string) {
	if r.Method == http.MethodPost && !sess.validCSRF(r) {
		s.renderError(w, r, http.StatusForbidden, errBadCSRF)
		return
	}
	v := s.newView(r, sess, region)
	if err := h(w, r, v); err != nil {
		s.renderFailure(w, r, v, err)
	}
}

// toSignIn sends a visitor without a session to the sign-in form, back to
// where they were going afterwards (htmx requests follow HX-Redirect).
func (s *Server) toSignIn(w http.ResponseWriter, r *http.Request) {
	target := "/signin"
	if r.Method == http.MethodGet {
		target += "?next=" + urlQueryEscape(r.URL.RequestURI())
	}
	if r.Header.Get("HX-Request") != "" {
		w.Header().Set("HX-Redirect", target)
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	http.Redirect(w, r, target, http.StatusSeeOther)
}
