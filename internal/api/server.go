// Package api is sesame's HTTP face: the SES v2 (REST-JSON) and v1 (Query/XML)
// APIs behind SigV4, the captured-mail endpoint `/_aws/ses` in LocalStack's
// format (so tools written for LocalStack work against sesame), the email
// verification links, and a health check.
//
// Each operation group (sending, identities, templates, account, suppression,
// configuration sets) has one file whose handlers both protocols call; the
// protocols differ only in decoding and encoding (v2.go, v1.go). The api
// package never decides sending policy: sending does.
package api

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/google/uuid"

	"sesame/internal/awsauth"
	"sesame/internal/clock"
	"sesame/internal/dnsx"
	"sesame/internal/importexport"
	"sesame/internal/listmgmt"
	"sesame/internal/quota"
	"sesame/internal/receiving/bounce"
	"sesame/internal/sending"
	"sesame/internal/seserr"
	"sesame/internal/sns"
	"sesame/internal/store"
	"sesame/internal/verify"
)

// Config wires a Server.
type Config struct {
	Store   Store
	Sender  *sending.Sender // nil: sending operations answer 500 (tests of other groups)
	Quota   *quota.Limiter  // for SentLast24Hours (GetAccount, GetSendQuota)
	Regions []string        // configured regions; a request signed for another is refused
	Clock   clock.Clock
	Logger  *slog.Logger
	// BaseURL is how users reach this listener (e.g. "http://127.0.0.1:8787"),
	// for links sesame mails out (email identity verification).
	BaseURL string
	// Verifier runs identity verification; nil makes one without DNS
	// checks on a timer (tests of other groups).
	Verifier *verify.Verifier
	// Router answers GetEmailAddressInsights' MX and address lookups (the
	// configured delivery.resolver); nil asks the system's resolver.
	Router dnsx.Router
	// Topics answers whether an SNS topic exists, for event destinations and
	// identity notification topics (*sns.Service does). nil accepts any
	// topic ARN of the caller's account (tests of other groups).
	Topics Topics
	// SNS serves the SNS-compatible topics API (requests signed for "sns");
	// nil: such requests are refused.
	SNS *sns.Service
	// Metrics serves GET /metrics, unauthenticated (metrics.Handler); nil:
	// no such route.
	Metrics http.Handler
	// Tracking serves open and click tracking URLs (/I0/…, /L0/…) on this
	// listener, unsigned; nil: they are not served here.
	Tracking http.Handler
	// Unsubscribe serves unsubscribe links (listmgmt.Path: the one-click
	// POST and the preference page), unauthenticated; nil: not served.
	Unsubscribe http.Handler
	// ReadTimeout bounds reading a whole request, body included, and
	// writing its answer (default 60 s): a client that trickles a body
	// holds a connection no longer. IdleTimeout closes a keep-alive
	// connection that sends nothing (default 60 s).
	ReadTimeout, IdleTimeout time.Duration
	// MaxMessageBytes is the v2 send operations' message limit (sending's;
	// default 40 MiB): their bodies may be its base64 encoding.
	MaxMessageBytes int64
	// MaxConnections bounds open connections (default 512); MaxInflight
	// bounds SES/SNS requests in progress (default 256), beyond which they
	// are answered with throttling.
	MaxConnections, MaxInflight int
	// HideCapturedMail keeps /_aws/ses off this listener: captured mail is
	// off (mx mode), or CapturedMailHandler serves it on a listener of its
	// own. The zero value serves it, as capture mode wants.
	HideCapturedMail bool
	// FlushCaptured, when set, is called before /_aws/ses is read or
	// cleared: it returns once every message acknowledged so far is in the
	// captured mail (delivery.Capture.Flush), so a send's reply is enough
	// for the message to be listed.
	FlushCaptured func(context.Context) error
	// TLS, when set, makes Serve answer HTTPS only.
	TLS *tls.Config
	// Jobs creates and runs import and export jobs; nil: a runner without
	// an object store, which refuses to create any (tests of other groups).
	Jobs *importexport.Runner
	// Bouncer sends SendBounce's DSNs; nil: SendBounce answers a
	// temporary failure (tests of other groups).
	Bouncer *bounce.Bouncer
	// DedicatedIPs are the machine's sending addresses
	// ([[delivery.source_addresses]]), every account's dedicated IPs.
	DedicatedIPs []string
	// ReceivingFunctions are the Lambda function ARNs a receipt rule's
	// LambdaAction may name ([receiving] functions: ARN → where sesame
	// delivers it); another ARN is InvalidLambdaFunction.
	ReceivingFunctions map[string]string
	// ReceivingS3 says sesame has an object store ([s3] endpoint), so a
	// receipt rule may have an S3Action; without one it is
	// InvalidS3Configuration.
	ReceivingS3 bool
}

// Topics is what the API asks of SNS.
type Topics interface {
	TopicExists(ctx context.Context, topicArn string) (bool, error)
}

// Server serves the HTTP API.
type Server struct {
	cfg  Config
	log  *slog.Logger
	clk  clock.Clock
	http *http.Server
	auth awsauth.Verifier // SigV4, with its signing-key cache

	open     *http.ServeMux // unauthenticated: /_aws/ses, /_sesame/...
	captured *http.ServeMux // /_aws/ses, wherever it is served
	inflight inflight       // SES/SNS requests in progress
	ln       atomic.Pointer[limitListener]
	v2       *http.ServeMux       // /v2/email/... after SigV4
	v1       map[string]v1Handler // Action → handler, after SigV4
	sns      map[string]snsHandler
}

// New returns a server.
func New(cfg Config) *Server {
	if cfg.Jobs == nil {
		cfg.Jobs = importexport.New(importexport.Config{Store: cfg.Store, Clock: cfg.Clock, Logger: cfg.Logger})
	}
	if cfg.Topics == nil && cfg.SNS != nil {
		cfg.Topics = cfg.SNS
	}
	s := &Server{cfg: cfg, log: cfg.Logger, clk: cfg.Clock,
		open: http.NewServeMux(), v2: http.NewServeMux(), v1: map[string]v1Handler{}}
	if s.log == nil {
		s.log = slog.Default()
	}
	if s.clk == nil {
		s.clk = clock.Real{}
	}
	s.captured = http.NewServeMux()
	s.captured.HandleFunc("GET /_aws/ses", s.listCaptured)
	s.captured.HandleFunc("DELETE /_aws/ses", s.deleteCaptured)
	if !cfg.HideCapturedMail {
		s.open.Handle("/_aws/ses", s.captured)
	}
	maxInflight := cfg.MaxInflight
	if maxInflight <= 0 {
		maxInflight = DefaultMaxInflight
	}
	s.inflight = make(inflight, maxInflight)
	if cfg.Unsubscribe != nil {
		s.open.Handle(listmgmt.Path, cfg.Unsubscribe)
	}
	s.open.HandleFunc("GET /_sesame/health", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	s.v2.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		s.writeV2Error(w, r, unknownOperation())
	})
	s.registerAccount()
	s.registerSending()
	s.registerIdentities()
	s.registerTemplates()
	s.registerCustomVerification()
	s.registerContactLists()
	s.registerSuppression()
	s.registerConfigurationSets()
	s.registerTracking()
	s.registerEventDestinations()
	s.registerNotifications()
	s.registerSNS()
	s.registerInsights()
	s.registerAddressInsights()
	s.registerTags()
	s.registerDedicatedIPs()
	s.registerDeliverability()
	s.registerImportExportJobs()
	s.registerNotSelfHosted()
	s.registerAWSOnly()
	s.registerReceiptV1()
	read, idle := cfg.ReadTimeout, cfg.IdleTimeout
	if read <= 0 {
		read = 60 * time.Second
	}
	if idle <= 0 {
		idle = 60 * time.Second
	}
	s.http = &http.Server{Handler: s, ReadHeaderTimeout: min(10*time.Second, read), ReadTimeout: read,
		WriteTimeout: read, IdleTimeout: idle, TLSConfig: cfg.TLS}
	return s
}

// CapturedMailHandler serves /_aws/ses (GET lists, DELETE deletes), for a
// listener of its own ([api] captured_mail_listen).
func (s *Server) CapturedMailHandler() http.Handler { return s.captured }

// listener is the capped listener Serve serves (nil before Serve).
func (s *Server) listener() *limitListener { return s.ln.Load() }

// Handler is the server's routes, for tests.
func (s *Server) Handler() http.Handler { return s }

// Serve answers on l until Shutdown.
func (s *Server) Serve(l net.Listener) error {
	max := s.cfg.MaxConnections
	if max <= 0 {
		max = DefaultMaxConnections
	}
	ll := newLimitListener(l, max)
	s.ln.Store(ll)
	l = ll
	var err error
	if s.cfg.TLS != nil {
		err = s.http.ServeTLS(l, "", "")
	} else {
		err = s.http.Serve(l)
	}
	if err == http.ErrServerClosed {
		return nil
	}
	return err
}

// Shutdown stops the server: the listener closes at once, requests in
// flight finish (until ctx ends), idle keep-alive connections close.
func (s *Server) Shutdown(ctx context.Context) error { return s.http.Shutdown(ctx) }

// InFlight is how many SES/SNS requests are in progress, for the log of a drain.
func (s *Server) InFlight() int { return len(s.inflight) }

// ServeHTTP routes: sesame's own endpoints first, then the SES APIs, which
// need a valid signature.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	reqID := uuid.NewString()
	w.Header().Set("x-amzn-RequestId", reqID)
	// SDKs correct their clock skew from the response's Date header.
	w.Header().Set("Date", s.clk.Now().UTC().Format(http.TimeFormat))
	r = r.WithContext(context.WithValue(r.Context(), requestIDKey{}, reqID))
	if host, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		r = r.WithContext(context.WithValue(r.Context(), clientIPKey{}, host))
	}

	path := r.URL.Path
	if path == "/metrics" && s.cfg.Metrics != nil && (r.Method == http.MethodGet || r.Method == http.MethodHead) {
		s.cfg.Metrics.ServeHTTP(w, r)
		return
	}
	if s.cfg.Tracking != nil && (strings.HasPrefix(path, "/I0/") || strings.HasPrefix(path, "/L0/")) {
		s.cfg.Tracking.ServeHTTP(w, r)
		return
	}
	if strings.HasPrefix(path, "/_aws/") || strings.HasPrefix(path, "/_sesame/") {
		s.open.ServeHTTP(w, r)
		return
	}
	if s.isSNSLink(r) {
		s.serveSNSLink(w, r)
		return
	}
	// Old aws CLI v2 builds (2.9.x) send PutEmailIdentityDkimSigningAttributes
	// to /v1/email/…: REST-JSON too.
	isV2 := strings.HasPrefix(path, "/v2/") || strings.HasPrefix(path, "/v1/email/")
	s.serveSigned(w, r, isV2)
}

// serveSigned serves the SES and SNS APIs. Everything that needs no body is
// checked before any of it is read: a slot among the requests in flight,
// the signature's form and time, the key, the region, the operation. Then
// at most the operation's own limit is read, and the signature checked
// over it.
func (s *Server) serveSigned(w http.ResponseWriter, r *http.Request, isV2 bool) {
	e := s.newExchange(w, r, isV2)
	if !s.inflight.tryAcquire() {
		e.refuse(seserr.TooManyRequests())
		return
	}
	defer s.inflight.release()
	pending, err := s.auth.Check(r.Context(), r, s.lookupKey, s.clk.Now())
	if err != nil {
		e.refuse(err)
		return
	}
	op, body, ok := e.admit(pending.Principal())
	if !ok {
		return
	}
	p, err := s.auth.Finish(pending, r, body)
	if err != nil {
		e.fail(err)
		return
	}
	e.dispatch(op, p, body)
}

// ServeAs serves one SES request (v2 REST-JSON or v1 Query) as p without a
// signature: the web console's way in, for a user it signed in with that
// access key's secret. Everything after the signature holds as for a
// signed request: the slot among requests in flight, the region, the
// operation and its body limit, the key's policy, and the operation's own
// rules (sandbox, quotas, sending authorization).
func (s *Server) ServeAs(w http.ResponseWriter, r *http.Request, p awsauth.Principal) {
	reqID := uuid.NewString()
	w.Header().Set("x-amzn-RequestId", reqID)
	r = r.WithContext(context.WithValue(r.Context(), requestIDKey{}, reqID))
	if host, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		r = r.WithContext(context.WithValue(r.Context(), clientIPKey{}, host))
	}
	path := r.URL.Path
	e := s.newExchange(w, r, strings.HasPrefix(path, "/v2/") || strings.HasPrefix(path, "/v1/email/"))
	if !s.inflight.tryAcquire() {
		e.refuse(seserr.TooManyRequests())
		return
	}
	defer s.inflight.release()
	if p.Service == "" {
		p.Service = awsauth.Service
	}
	// The key is looked up as a signed request's is: a key deactivated or
	// deleted since the sign-in acts no more.
	_, account, err := s.lookupKey(r.Context(), p.AccessKeyID)
	switch {
	case errors.Is(err, awsauth.ErrUnknownKey) || (err == nil && account != p.AccountID):
		e.refuse(seserr.InvalidCredentials().Wrap(fmt.Errorf("api: access key %q: %w", p.AccessKeyID, awsauth.ErrUnknownKey)))
		return
	case err != nil:
		e.refuse(seserr.TemporaryFailure().Wrap(fmt.Errorf("api: look up access key %q: %w", p.AccessKeyID, err)))
		return
	}
	if op, body, ok := e.admit(p); ok {
		e.dispatch(op, p, body)
	}
}

// exchange is one SES/SNS request on its way through serveSigned or
// ServeAs, with the protocol its errors are answered in.
type exchange struct {
	s       *Server
	w       http.ResponseWriter
	r       *http.Request
	isV2    bool
	service string
}

func (s *Server) newExchange(w http.ResponseWriter, r *http.Request, isV2 bool) *exchange {
	return &exchange{s: s, w: w, r: r, isV2: isV2}
}

// fail answers err in the request's protocol.
func (e *exchange) fail(err error) {
	switch {
	case e.service == awsauth.ServiceSNS:
		e.s.writeSNSError(e.w, e.r, err)
	case e.isV2:
		e.s.writeV2Error(e.w, e.r, err)
	default:
		e.s.writeV1Error(e.w, e.r, err)
	}
}

// refuse answers err before the body is read.
func (e *exchange) refuse(err error) {
	refuseBody(e.w, e.r)
	e.fail(err)
}

// admit checks the claimed principal's region and the operation, then
// reads at most the operation's limit of body; ok is false when it has
// answered with an error.
func (e *exchange) admit(claimed awsauth.Principal) (op operation, body []byte, ok bool) {
	s, r := e.s, e.r
	if !s.regionConfigured(claimed.Region) {
		e.refuse(unknownRegion(claimed.Region))
		return op, nil, false
	}
	e.service = claimed.Service
	op, err := s.operationOf(r, claimed, e.isV2)
	if err != nil {
		e.refuse(err)
		return op, nil, false
	}
	switch {
	case op.api == "v2" || op.action != "":
		body, err = readBody(r, nil, op.limit.bytes)
	case op.api == "sns":
		body, op.limit, err = readQueryBody(r, snsBodyLimit)
	default:
		body, op.limit, err = readQueryBody(r, v1BodyLimit)
	}
	if errors.Is(err, errBodyTooLarge) {
		e.refuse(op.limit.refusal())
		return op, nil, false
	}
	if err != nil {
		e.refuse(seserr.UnreadableBody().Wrap(err))
		return op, nil, false
	}
	return op, body, true
}

// dispatch checks the key's policy and runs the operation as p.
func (e *exchange) dispatch(op operation, p awsauth.Principal, body []byte) {
	s, w, r := e.s, e.w, e.r
	r = r.WithContext(context.WithValue(r.Context(), principalKey{}, p))
	r = r.WithContext(context.WithValue(r.Context(), bodyKey{}, body))
	r = r.WithContext(context.WithValue(r.Context(), apiVersionKey{}, strings.TrimPrefix(op.api, "v")))
	e.r = r
	if err := s.checkKeyPolicy(r, op, p, body); err != nil { // keypolicy.go
		e.fail(err)
		return
	}
	switch op.api {
	case "sns":
		s.serveSNS(w, r, body)
	case "v2":
		s.v2.ServeHTTP(w, r)
	default:
		s.serveV1(w, r, body)
	}
}

func (s *Server) lookupKey(ctx context.Context, id string) (string, string, error) {
	var k store.AccessKey
	var err error
	if s.cfg.Sender != nil {
		k, err = s.cfg.Sender.AccessKey(ctx, id) // cached, as for SMTP AUTH
	} else {
		k, err = s.cfg.Store.AccessKey(ctx, id)
	}
	if errors.Is(err, store.ErrNotFound) {
		return "", "", awsauth.ErrUnknownKey
	}
	if err != nil {
		return "", "", err
	}
	if !k.Active {
		return "", "", awsauth.ErrUnknownKey
	}
	return k.Secret, k.AccountID, nil
}

func (s *Server) regionConfigured(region string) bool {
	for _, r := range s.cfg.Regions {
		if r == region {
			return true
		}
	}
	return false
}

type (
	principalKey struct{}
	bodyKey      struct{}
	requestIDKey struct{}
	clientIPKey  struct{}
)

// clientIP is the address the request came from (ses:source-ip).
func clientIP(ctx context.Context) string {
	ip, _ := ctx.Value(clientIPKey{}).(string)
	return ip
}

// principal is the verified signer of the request in ctx.
func principal(ctx context.Context) awsauth.Principal {
	p, _ := ctx.Value(principalKey{}).(awsauth.Principal)
	return p
}

func requestID(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey{}).(string)
	return id
}

func requestBody(ctx context.Context) []byte {
	b, _ := ctx.Value(bodyKey{}).([]byte)
	return b
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}
