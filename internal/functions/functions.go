// Package functions runs a receipt rule's LambdaAction. sesame has no
// Lambda: [receiving] functions maps each FunctionArn to where it runs — an
// http(s) URL that gets Lambda's SES event as a POST, as a Lambda function
// would, or a mailbox server (lmtp:// or smtp://, e.g. Dovecot) that sesame
// hands the message itself to (a sesame extension for self-hosters).
//
// functions only invokes: it never builds the event payload (the receiving
// pipeline does), never decides what a disposition or a failure means for
// the rule set, and never logs a message body or a function's answer.
package functions

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"sesame/internal/clock"
	"sesame/internal/receipt"
)

// Dispositions a RequestResponse function may answer (SES's Lambda
// action: {"disposition":"STOP_RULE"|"STOP_RULE_SET"|"CONTINUE"}).
const (
	DispositionContinue    = "CONTINUE"
	DispositionStopRule    = "STOP_RULE"
	DispositionStopRuleSet = "STOP_RULE_SET"
)

// Defaults of Options.
const (
	DefaultConnectTimeout  = 10 * time.Second
	DefaultFunctionTimeout = 30 * time.Second // SES waits 30 s for a RequestResponse function
	DefaultDeliveryTimeout = 5 * time.Minute  // RFC 5321 §4.5.3.2's per-command figure, for a whole delivery
)

// ErrUnknownFunction: no target is configured for the FunctionArn.
var ErrUnknownFunction = errors.New("no [receiving] functions entry for this function ARN")

// Options tune an Invoker; the zero value works.
type Options struct {
	// Hostname is the name sesame gives in LHLO/EHLO ("localhost" if empty).
	Hostname string
	// HTTPClient posts to http(s) functions; nil = a client that dials
	// within ConnectTimeout and follows no redirect. Its own Timeout, if
	// any, applies on top of FunctionTimeout.
	HTTPClient *http.Client
	// ConnectTimeout bounds the TCP connect (and a STARTTLS handshake) to
	// any target. Default 10 s.
	ConnectTimeout time.Duration
	// FunctionTimeout bounds a whole http(s) invocation, answer included.
	// Default 30 s, SES's limit for RequestResponse.
	FunctionTimeout time.Duration
	// DeliveryTimeout bounds a whole lmtp/smtp delivery, from the connect
	// to the last reply. Default 5 min.
	DeliveryTimeout time.Duration
	// TLSConfig is used for STARTTLS to smtp:// targets; nil =
	// opportunistic and unauthenticated (RFC 7435), as MTAs do on port 25.
	TLSConfig *tls.Config
	// Logger gets one line per invocation (never a body); nil = slog.Default().
	Logger *slog.Logger
	// Clock times invocations for the log; nil = the wall clock.
	Clock clock.Clock
}

// Message is the received message a mailbox target gets.
type Message struct {
	// MailFrom is the envelope sender (MAIL FROM), "" for a null sender.
	MailFrom string
	// Recipients are the rule's matched recipients (RCPT TO each).
	Recipients []string
	// Message is the raw MIME message, CRLF line endings.
	Message []byte
}

// Invoker runs LambdaActions against the configured targets. It is safe
// for concurrent use.
type Invoker struct {
	targets map[string]*url.URL
	opt     Options
	http    *http.Client
}

// New checks targets (FunctionArn → URL, as [receiving] functions) and
// returns an Invoker for them.
func New(targets map[string]string, opts Options) (*Invoker, error) {
	iv := &Invoker{targets: make(map[string]*url.URL, len(targets)), opt: opts}
	for arn, raw := range targets {
		u, err := parseTarget(raw)
		if err != nil {
			return nil, fmt.Errorf("functions: %s: %w", arn, err)
		}
		iv.targets[arn] = u
	}
	if iv.opt.Hostname == "" {
		iv.opt.Hostname = "localhost"
	}
	if iv.opt.ConnectTimeout <= 0 {
		iv.opt.ConnectTimeout = DefaultConnectTimeout
	}
	if iv.opt.FunctionTimeout <= 0 {
		iv.opt.FunctionTimeout = DefaultFunctionTimeout
	}
	if iv.opt.DeliveryTimeout <= 0 {
		iv.opt.DeliveryTimeout = DefaultDeliveryTimeout
	}
	if iv.opt.Logger == nil {
		iv.opt.Logger = slog.Default()
	}
	if iv.opt.Clock == nil {
		iv.opt.Clock = clock.Real{}
	}
	iv.http = iv.opt.HTTPClient
	if iv.http == nil {
		iv.http = newHTTPClient(iv.opt.ConnectTimeout)
	}
	return iv, nil
}

// parseTarget checks one target URL; lmtp/smtp get their usual port when
// none is given (24, Dovecot's LMTP listener in its examples; 25).
func parseTarget(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return nil, fmt.Errorf("%q is not a URL", raw)
	}
	switch u.Scheme {
	case "http", "https":
	case "lmtp", "smtp":
		if u.Port() == "" {
			port := map[string]string{"lmtp": "24", "smtp": "25"}[u.Scheme]
			u.Host = net.JoinHostPort(u.Hostname(), port)
		}
	default:
		return nil, fmt.Errorf("%q must be an http(s), lmtp or smtp URL", raw)
	}
	return u, nil
}

// Known reports whether functionArn has a target.
func (iv *Invoker) Known(functionArn string) bool {
	_, ok := iv.targets[functionArn]
	return ok
}

// Invoke runs the function functionArn for one received message.
//
// An http(s) target gets payload (Lambda's SES event JSON) as a POST. For
// invocationType "Event" (or "") any 2xx is success and the answer is
// ignored; for "RequestResponse" the answer's disposition is returned,
// upper-cased ("CONTINUE" when it names none).
//
// An lmtp/smtp target gets msg, and payload and invocationType are not
// used; the disposition is "".
//
// A failure is an *Error; IsTemporary says whether a retry could help.
func (iv *Invoker) Invoke(ctx context.Context, functionArn, invocationType string, payload []byte, msg Message) (string, error) {
	u, ok := iv.targets[functionArn]
	if !ok {
		return "", &Error{FunctionArn: functionArn, Err: ErrUnknownFunction}
	}
	start := iv.opt.Clock.Now()
	log := iv.opt.Logger.With("function_arn", functionArn, "target", redact(u))
	var disposition string
	var err error
	switch u.Scheme {
	case "http", "https":
		if invocationType == "" {
			invocationType = receipt.InvocationEvent
		}
		log = log.With("invocation_type", invocationType)
		disposition, err = iv.post(ctx, u, invocationType, payload)
	default:
		log = log.With("recipients", len(msg.Recipients), "size", len(msg.Message))
		err = iv.deliver(ctx, u, msg)
	}
	took := iv.opt.Clock.Now().Sub(start)
	if err != nil {
		var e *Error
		if !errors.As(err, &e) {
			e = &Error{Err: err}
		}
		e.FunctionArn, e.Target = functionArn, redact(u)
		log.Warn("function failed", "temporary", e.Temporary, "took", took, "err", e.Err)
		return "", e
	}
	log.Info("function invoked", "disposition", disposition, "took", took)
	return disposition, nil
}

// redact is the target as logs and errors show it: no user info, no query
// (either may hold a secret token).
func redact(u *url.URL) string {
	c := *u
	c.User, c.RawQuery, c.ForceQuery, c.Fragment = nil, "", false, ""
	return c.String()
}

// Error is a failed invocation.
type Error struct {
	FunctionArn string
	Target      string // the target URL, without user info or query
	// Temporary: a retry could succeed (a timeout, a refused connection, a
	// 5xx/429 answer, a 4xx reply from a mailbox server).
	Temporary bool
	// Delivered are the recipients a mailbox target accepted before the
	// failure: a retry should leave them out.
	Delivered []string
	// Failed are the recipients a mailbox target refused, with its reply.
	Failed []RecipientError
	Err    error
}

func (e *Error) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "function %s", e.FunctionArn)
	if e.Target != "" {
		fmt.Fprintf(&b, " (%s)", e.Target)
	}
	if e.Temporary {
		b.WriteString(": temporary")
	}
	if e.Err != nil {
		fmt.Fprintf(&b, ": %v", e.Err)
	}
	return b.String()
}

func (e *Error) Unwrap() error { return e.Err }

// IsTemporary reports whether err is an invocation failure a retry could
// cure.
func IsTemporary(err error) bool {
	var e *Error
	return errors.As(err, &e) && e.Temporary
}

// RecipientError is a mailbox server's refusal of one recipient.
type RecipientError struct {
	Recipient    string
	Code         int    // 450, 550, …
	EnhancedCode string // "5.1.1", "" if the server gave none
	Message      string
}

// Temporary: a 4xx.
func (r RecipientError) Temporary() bool { return r.Code/100 == 4 }

func (r RecipientError) String() string {
	s := fmt.Sprintf("<%s> %d", r.Recipient, r.Code)
	if r.EnhancedCode != "" {
		s += " " + r.EnhancedCode
	}
	return s + " " + r.Message
}
