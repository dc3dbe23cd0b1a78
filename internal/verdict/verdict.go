// Package verdict computes the verdicts SES gives one received message —
// SPF, DKIM, DMARC, spam and virus — and renders the headers SES prepends
// to the stored message (X-SES-Spam-Verdict, X-SES-Virus-Verdict,
// Received-SPF).
//
// Every DNS question goes through the resolver sesame is configured with
// (`delivery.resolver`, see internal/dnsx); spam and virus verdicts come
// from real scanners the operator runs: rspamd's HTTP API and clamd's
// socket.
//
// It never refuses, loses or holds back mail: Check has no error. A check
// that cannot finish (a DNS server that does not answer, a scanner that is
// down or too slow) is PROCESSING_FAILED, and the receiving pipeline goes
// on with the message. It decides nothing about the message either: what a
// verdict leads to is the receipt rules' business.
//
// # SES's statuses
//
//   - SPF (RFC 7208 result → SES): pass → PASS; fail, softfail → FAIL;
//     neutral, none → GRAY; temperror, permerror → PROCESSING_FAILED.
//   - DKIM: PASS when any signature verifies; FAIL when signatures are there
//     and none verifies; GRAY when the message is not signed;
//     PROCESSING_FAILED when no signature verifies and a key could not be
//     fetched (a temporary DNS failure), or the header cannot be read.
//   - DMARC (RFC 7489): the From domain's policy (or its organizational
//     domain's, by the public suffix list) is looked up. GRAY when there is
//     none (as SES's announcement of DMARC verdicts defines it); PASS when
//     SPF passed for an aligned MAIL FROM domain (HELO for the null sender)
//     or a DKIM signature of an aligned d= domain verified (relaxed or
//     strict per aspf/adkim); FAIL otherwise, with DMARCPolicy set to the
//     policy the domain asks for (p, or sp for a subdomain);
//     PROCESSING_FAILED when the policy lookup failed, or when nothing
//     passed and SPF or a DKIM key lookup failed temporarily (the verdict
//     might have been PASS). A message with several author domains gets
//     the worst of their outcomes (RFC 7489 §6.6.1), so a second From
//     address cannot hide a spoofed one.
//   - Spam and virus: DISABLED when the matching rule does not scan
//     (Input.Scan false) or no scanner is configured; PROCESSING_FAILED when
//     the scanner cannot be reached, errs or times out.
//
// # rspamd's answer as a spam verdict
//
// rspamd (POST /checkv2 on its normal worker) answers an action computed
// from its score and the operator's thresholds. The operator has already
// said there what they take for spam, so the verdict follows the action,
// not a threshold of our own:
//
//   - "no action" → PASS.
//   - "greylist", "soft reject" → GRAY: suspicious but not sure (rspamd would
//     only ask the sender to try again; soft reject also comes from rate
//     limits, which say nothing about the content).
//   - "add header", "rewrite subject", "reject" → FAIL: rspamd would mark or
//     refuse the message as spam.
//   - any other action, an unreadable answer, an HTTP error → PROCESSING_FAILED.
//
// # clamd's answer as a virus verdict
//
// INSTREAM (zINSTREAM, 4-byte big-endian length-prefixed chunks, a zero
// length to end): "stream: OK" → PASS, "stream: <name> FOUND" → FAIL,
// anything else (e.g. "INSTREAM size limit exceeded. ERROR" for a message
// over clamd's StreamMaxLength) → PROCESSING_FAILED.
package verdict

import (
	"context"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"sync"
	"time"

	"sesame/internal/dnsx"
)

// SES's verdict statuses (receipt.*Verdict.status).
const (
	Pass             = "PASS"
	Fail             = "FAIL"
	Gray             = "GRAY"
	ProcessingFailed = "PROCESSING_FAILED"
	Disabled         = "DISABLED"
)

// Input is one received message and what the SMTP session knew about it.
type Input struct {
	IP       netip.Addr // the SMTP client's address
	Helo     string     // EHLO/HELO name
	MailFrom string     // envelope sender ("" for the null sender)
	Message  []byte     // the message as received (CRLF lines)
	Scan     bool       // a matching rule has ScanEnabled: run spam and virus scanners
	// Rcpt are the envelope recipients, told to the spam scanner (rspamd
	// uses them in its rules); optional.
	Rcpt []string
}

// Verdicts are SES's receipt verdicts for one message.
type Verdicts struct {
	SPF, DKIM, DMARC, Spam, Virus string // PASS | FAIL | GRAY | PROCESSING_FAILED | DISABLED
	// DMARCPolicy is none | quarantine | reject; set only when DMARC is
	// FAIL (SES).
	DMARCPolicy string
	// SPFResult is the SPF result as RFC 7208 names it (pass, fail,
	// softfail, neutral, none, temperror, permerror), for Received-SPF.
	SPFResult string
	// SPFDomain is the domain SPF checked: the MAIL FROM domain, or the
	// HELO name for the null sender.
	SPFDomain string
	// SPFDecidedBy is the domain whose SPF record decided the result: an
	// include's for a pass through one, else SPFDomain. Received-SPF names
	// it, as SES does.
	SPFDecidedBy string
	// DKIMDomains are the d= domains of the signatures that verified, in
	// the message's order.
	DKIMDomains []string
	// FromDomain is the author (From) domain whose DMARC outcome is the
	// verdict ("" when the message has no usable From).
	FromDomain string
}

// Config is what the checks need from sesame.
type Config struct {
	// LookupTXT returns each TXT record's strings joined (dnsx.Resolver's
	// TXT). Errors: dnsx.ErrNotFound (wrapped) for "no such record", any
	// other error is a failed lookup.
	LookupTXT func(ctx context.Context, name string) ([]string, error)
	// CacheTXT, when set, keeps TXT answers (SPF, DKIM keys, DMARC
	// policies), "no such record" included, this long: a busy MX asks
	// once per sender domain, not three times per message. Temporary
	// failures are not kept.
	CacheTXT time.Duration
	// LookupMX and LookupIP are dnsx.Router's, for SPF's mx and a
	// mechanisms.
	LookupMX func(ctx context.Context, name string) ([]dnsx.MX, time.Duration, error)
	LookupIP func(ctx context.Context, host string) ([]net.IP, time.Duration, error)
	// LookupAddr returns the PTR names of an address, for SPF's ptr
	// mechanism (which RFC 7208 §5.5 says not to publish); nil = no names,
	// so ptr never matches.
	LookupAddr func(ctx context.Context, addr string) ([]string, error)
	// RspamdURL is rspamd's normal worker, e.g. "http://127.0.0.1:11333";
	// "" = no spam scanner.
	RspamdURL string
	// ClamdAddress is "unix:/path" or "tcp:host:port"; "" = no virus
	// scanner.
	ClamdAddress string
	// Hostname is sesame's hostname, kept for the caller's Headers and
	// AuthenticationResults (the authserv-id); Check does not use it.
	Hostname string
	// Timeout bounds SPF, DKIM and DMARC together (default 10 s): past it
	// what has not finished is PROCESSING_FAILED.
	Timeout time.Duration
	// ScanTimeout bounds each scanner (default 30 s).
	ScanTimeout time.Duration
	// HTTPClient talks to rspamd (default: a client of its own).
	HTTPClient *http.Client
	// Log gets why a check failed (default slog.Default()).
	Log *slog.Logger
}

// WithResolver returns cfg with its lookups going to the DNS server sesame
// is configured with (`delivery.resolver`, host:port; "" = the system's
// resolver), through dnsx.
func (cfg Config) WithResolver(server string) Config {
	r := dnsx.New(server)
	rt := dnsx.NewRouter(server)
	cfg.LookupTXT = r.TXT
	cfg.LookupMX = rt.LookupMX
	cfg.LookupIP = rt.LookupIP
	if server == "" {
		cfg.LookupAddr = net.DefaultResolver.LookupAddr
	}
	return cfg
}

// Checker computes verdicts; safe for concurrent use.
type Checker struct {
	cfg Config
	dns resolver
}

// New returns a Checker for cfg. Lookups left nil go to the system's
// resolver.
func New(cfg Config) *Checker {
	if cfg.LookupTXT == nil || cfg.LookupMX == nil || cfg.LookupIP == nil {
		sys := Config{}.WithResolver("")
		if cfg.LookupTXT == nil {
			cfg.LookupTXT = sys.LookupTXT
		}
		if cfg.LookupMX == nil {
			cfg.LookupMX = sys.LookupMX
		}
		if cfg.LookupIP == nil {
			cfg.LookupIP = sys.LookupIP
		}
	}
	if cfg.CacheTXT > 0 {
		cfg.LookupTXT = cachedTXT(cfg.LookupTXT, cfg.CacheTXT)
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 10 * time.Second
	}
	if cfg.ScanTimeout <= 0 {
		cfg.ScanTimeout = 30 * time.Second
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{}
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	c := &Checker{cfg: cfg}
	c.dns = resolver{cfg: &c.cfg}
	return c
}

// Check computes the message's verdicts. It never fails: a check that
// cannot finish is PROCESSING_FAILED, and Check returns within the
// configured timeouts (Timeout for SPF, DKIM and DMARC; ScanTimeout for
// the scanners, which run side by side with them).
func (c *Checker) Check(ctx context.Context, in Input) Verdicts {
	v := Verdicts{Spam: Disabled, Virus: Disabled}
	var wg sync.WaitGroup
	if in.Scan && c.cfg.RspamdURL != "" {
		wg.Go(func() { v.Spam = c.spam(ctx, in) })
	}
	if in.Scan && c.cfg.ClamdAddress != "" {
		wg.Go(func() { v.Virus = c.virus(ctx, in) })
	}
	c.authenticate(ctx, in, &v)
	wg.Wait()
	return v
}

// authenticate fills SPF, DKIM and DMARC: SPF and DKIM side by side, then
// DMARC, which needs both.
func (c *Checker) authenticate(ctx context.Context, in Input, v *Verdicts) {
	ctx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
	defer cancel()
	var (
		wg  sync.WaitGroup
		spf spfOutcome
		dk  dkimOutcome
	)
	wg.Go(func() { spf = c.checkSPF(ctx, in) })
	wg.Go(func() { dk = c.checkDKIM(ctx, in.Message) })
	wg.Wait()
	v.SPF, v.SPFResult, v.SPFDomain, v.SPFDecidedBy = spf.status, spf.result, spf.domain, spf.decidedBy
	v.DKIM, v.DKIMDomains = dk.status, dk.passed
	dm := c.checkDMARC(ctx, in.Message, spf, dk)
	v.DMARC, v.DMARCPolicy, v.FromDomain = dm.status, dm.policy, dm.fromDomain
}
