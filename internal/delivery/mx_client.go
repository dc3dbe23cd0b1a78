package delivery

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/textproto"
	"strings"
	"sync"
	"time"

	"github.com/emersion/go-smtp"
)

// The SMTP client side of MX delivery: connections to receivers, reused
// across messages to the same address and capped per destination domain,
// and one mail transaction per (message, domain) that reports each
// recipient's outcome.

// ClientOptions tune the SMTP client; zero values mean defaults.
type ClientOptions struct {
	// Hostname is sesame's name in EHLO (config hostname).
	Hostname string
	// Port is the receivers' SMTP port (default "25"; tests use others).
	Port string
	// ConnectTimeout bounds the TCP connect (default 30 s).
	ConnectTimeout time.Duration
	// CommandTimeout bounds the wait for the greeting and each reply
	// (default 5 min, RFC 5321 §4.5.3.2.1–.2, .5).
	CommandTimeout time.Duration
	// DataTimeout bounds the wait for the reply to the final dot (default
	// 10 min, RFC 5321 §4.5.3.2.6).
	DataTimeout time.Duration
	// MaxConnsPerDomain caps simultaneous connections to one recipient
	// domain (default 20, Postfix's default_destination_concurrency_limit).
	MaxConnsPerDomain int
	// MaxMessagesPerConn is how many transactions one connection carries
	// before it is closed (default 100).
	MaxMessagesPerConn int
	// IdleTimeout is how long an unused connection is kept (default 10 s).
	IdleTimeout time.Duration
}

func (o ClientOptions) withDefaults() ClientOptions {
	if o.Hostname == "" {
		o.Hostname = "localhost"
	}
	if o.Port == "" {
		o.Port = "25"
	}
	if o.ConnectTimeout <= 0 {
		o.ConnectTimeout = 30 * time.Second
	}
	if o.CommandTimeout <= 0 {
		o.CommandTimeout = 5 * time.Minute
	}
	if o.DataTimeout <= 0 {
		o.DataTimeout = 10 * time.Minute
	}
	if o.MaxConnsPerDomain <= 0 {
		o.MaxConnsPerDomain = 20
	}
	if o.MaxMessagesPerConn <= 0 {
		o.MaxMessagesPerConn = 100
	}
	if o.IdleTimeout <= 0 {
		o.IdleTimeout = 10 * time.Second
	}
	return o
}

// Transaction is one message to some recipients of one domain.
type Transaction struct {
	Domain     string
	MailFrom   string // "" = the null reverse-path (DSNs)
	Recipients []string
	// Header is prepended to Body (the DKIM-Signature, Feedback-ID).
	Header []byte
	Body   []byte
	// RequireTLS: STARTTLS must succeed or nothing is sent (a
	// configuration set's TlsPolicy REQUIRE).
	RequireTLS bool
	// UTF8 asks for SMTPUTF8 (RFC 6531): an address is not ASCII.
	UTF8 bool
}

// Results of a transaction: per recipient, nil when delivered, else the
// failure (Permanent or not).
type Results map[string]*Failure

// client holds the connection pool.
type client struct {
	opt ClientOptions
	log *slog.Logger

	mu    sync.Mutex
	idle  map[string][]*conn       // by ip:port
	slots map[string]chan struct{} // by domain
}

type conn struct {
	c      *smtp.Client
	addr   string
	host   string
	tls    bool
	used   int
	idleAt time.Time
	reused bool
}

func newClient(opt ClientOptions, log *slog.Logger) *client {
	return &client{opt: opt.withDefaults(), log: log, idle: map[string][]*conn{}, slots: map[string]chan struct{}{}}
}

// slot takes one of the domain's connection slots.
func (cl *client) slot(ctx context.Context, domain string) (func(), error) {
	cl.mu.Lock()
	ch, ok := cl.slots[domain]
	if !ok {
		ch = make(chan struct{}, cl.opt.MaxConnsPerDomain)
		cl.slots[domain] = ch
	}
	cl.mu.Unlock()
	select {
	case ch <- struct{}{}:
		return func() { <-ch }, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// Send runs tx against hops in order, trying every address of a hop before
// the next, until one receiver gives a verdict. Recipients no receiver could
// be asked about get the last connection failure (temporary).
func (cl *client) Send(ctx context.Context, hops []Hop, tx *Transaction) Results {
	out := Results{}
	release, err := cl.slot(ctx, tx.Domain)
	if err != nil {
		return allFailed(tx.Recipients, &Failure{Code: 451, Enhanced: "4.4.5", Text: "delivery interrupted"})
	}
	defer release()
	var last *Failure
	for _, hop := range hops {
		for _, ip := range hop.Addrs {
			addr := net.JoinHostPort(ip.String(), cl.opt.Port)
			res, fail := cl.try(ctx, hop.Host, addr, tx)
			if fail == nil {
				return res
			}
			last = fail
			if fail.Permanent {
				// The receiver refused the whole transaction (MAIL FROM 5xx,
				// SIZE, SMTPUTF8): another MX of the same domain would too.
				return allFailed(tx.Recipients, fail)
			}
			if ctx.Err() != nil {
				return allFailed(tx.Recipients, last)
			}
		}
	}
	if last == nil {
		last = &Failure{Code: 451, Enhanced: "4.4.4", Text: "no mail exchanger to try"}
	}
	for _, r := range tx.Recipients {
		out[r] = last
	}
	return out
}

func allFailed(rcpts []string, f *Failure) Results {
	out := Results{}
	for _, r := range rcpts {
		out[r] = f
	}
	return out
}

// try runs tx on one address. A nil failure means the receiver gave a
// verdict for every recipient (in the outcome). A failure means try the
// next address (temporary) or give up (permanent).
func (cl *client) try(ctx context.Context, host, addr string, tx *Transaction) (Results, *Failure) {
	for attempt := 0; ; attempt++ {
		c, fail := cl.get(ctx, host, addr, tx.RequireTLS)
		if fail != nil {
			return nil, fail
		}
		out, fail, healthy := cl.transact(ctx, c, tx)
		if healthy {
			cl.put(c)
		} else {
			_ = c.c.Close()
		}
		// A pooled connection the receiver had closed fails at once:
		// that says nothing about the receiver, so dial afresh once.
		if fail != nil && !fail.Remote && c.reused && attempt == 0 && ctx.Err() == nil {
			continue
		}
		return out, fail
	}
}

// get returns an idle connection to addr or dials one (greeting, EHLO,
// STARTTLS when offered).
func (cl *client) get(ctx context.Context, host, addr string, requireTLS bool) (*conn, *Failure) {
	now := time.Now()
	cl.mu.Lock()
	list := cl.idle[addr]
	for i := len(list) - 1; i >= 0; i-- {
		c := list[i]
		if now.Sub(c.idleAt) > cl.opt.IdleTimeout {
			continue // the reaper closes it
		}
		if requireTLS && !c.tls {
			continue
		}
		cl.idle[addr] = append(list[:i:i], list[i+1:]...)
		cl.mu.Unlock()
		c.reused = true
		return c, nil
	}
	cl.mu.Unlock()

	d := net.Dialer{Timeout: cl.opt.ConnectTimeout}
	nc, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, &Failure{Code: 451, Enhanced: "4.4.1", Text: fmt.Sprintf("connect to %s [%s]: %v", host, addr, err), MTA: host}
	}
	stop := context.AfterFunc(ctx, func() { nc.Close() })
	defer stop()
	tlsOn, fail := cl.opening(nc, host, addr)
	if fail != nil {
		nc.Close()
		return nil, fail
	}
	if requireTLS && tlsOn == nil {
		nc.Close()
		return nil, &Failure{Code: 451, Enhanced: "4.7.10", Text: fmt.Sprintf("%s [%s] does not offer STARTTLS and the configuration set requires TLS", host, addr), MTA: host}
	}
	var wire net.Conn = nc
	if tlsOn != nil {
		wire = tlsOn
	}
	// go-smtp's client reads a greeting first and has no exported STARTTLS
	// that keeps our EHLO name: the opening was spoken here, so it is handed
	// a greeting it can read, and its EHLO (RFC 3207 §4.2 requires a new
	// one after STARTTLS) goes to the receiver.
	sc := smtp.NewClient(&greeted{Conn: wire, r: io.MultiReader(strings.NewReader("220 "+host+"\r\n"), wire)})
	sc.CommandTimeout = cl.opt.CommandTimeout
	sc.SubmissionTimeout = cl.opt.DataTimeout
	if err := sc.Hello(cl.opt.Hostname); err != nil {
		sc.Close()
		return nil, dialFailure(err, host, "EHLO")
	}
	return &conn{c: sc, addr: addr, host: host, tls: tlsOn != nil}, nil
}

// greeted replays a greeting before the connection's own bytes.
type greeted struct {
	net.Conn
	r io.Reader
}

func (g *greeted) Read(b []byte) (int, error) { return g.r.Read(b) }

// opening reads the greeting, says EHLO and, when the receiver offers it,
// STARTTLS (RFC 3207: opportunistic whenever offered). It returns the TLS
// connection, or nil when the receiver offers none. Receivers'
// certificates are rarely valid for their MX names, so they are not checked
// (as Postfix's smtp_tls_security_level = may / encrypt): TlsPolicy REQUIRE
// asks for encryption, not authentication.
func (cl *client) opening(nc net.Conn, host, addr string) (*tls.Conn, *Failure) {
	tp := textproto.NewConn(nc)
	deadline := func() { _ = nc.SetDeadline(time.Now().Add(cl.opt.CommandTimeout)) }
	deadline()
	defer nc.SetDeadline(time.Time{})
	if _, _, err := tp.ReadResponse(220); err != nil {
		return nil, dialFailure(protoErr(err), host, "greeting")
	}
	deadline()
	if err := tp.PrintfLine("EHLO %s", cl.opt.Hostname); err != nil {
		return nil, dialFailure(err, host, "EHLO")
	}
	_, msg, err := tp.ReadResponse(250)
	if err != nil {
		// No EHLO (RFC 5321 §3.2): no extensions, no STARTTLS. The client
		// falls back to HELO itself.
		return nil, nil
	}
	starttls := false
	for _, line := range strings.Split(msg, "\n")[1:] {
		if strings.EqualFold(strings.Fields(line + " x")[0], "STARTTLS") {
			starttls = true
		}
	}
	if !starttls {
		return nil, nil
	}
	deadline()
	if err := tp.PrintfLine("STARTTLS"); err != nil {
		return nil, dialFailure(err, host, "STARTTLS")
	}
	if _, _, err := tp.ReadResponse(220); err != nil {
		return nil, dialFailure(protoErr(err), host, "STARTTLS")
	}
	tc := tls.Client(nc, &tls.Config{ServerName: host, InsecureSkipVerify: true}) // #nosec G402 -- see above
	deadline()
	if err := tc.Handshake(); err != nil {
		return nil, &Failure{Code: 451, Enhanced: "4.7.5", Text: fmt.Sprintf("TLS handshake with %s [%s]: %v", host, addr, err), MTA: host}
	}
	return tc, nil
}

// protoErr makes a textproto reply error an SMTP one, as go-smtp does.
func protoErr(err error) error {
	var pe *textproto.Error
	if errors.As(err, &pe) {
		se := &smtp.SMTPError{Code: pe.Code, Message: pe.Msg}
		if enh, text, ok := strings.Cut(pe.Msg, " "); ok {
			var a, b, c int
			if n, _ := fmt.Sscanf(enh, "%d.%d.%d", &a, &b, &c); n == 3 {
				se.EnhancedCode = smtp.EnhancedCode{a, b, c}
				se.Message = text
			}
		}
		return se
	}
	return err
}

func dialFailure(err error, host, stage string) *Failure {
	f := replyFailure(err, host)
	if !f.Remote {
		f.Text = fmt.Sprintf("%s with %s: %v", stage, host, err)
	}
	// A receiver refusing the session (554 greeting) refuses this
	// connection, not the recipients: try the next MX, retry later.
	f.Permanent = false
	f.Code = min(f.Code, 499)
	if strings.HasPrefix(f.Enhanced, "5.") {
		f.Enhanced = "4." + f.Enhanced[2:]
	}
	return f
}

func (cl *client) put(c *conn) {
	c.used++
	if c.used >= cl.opt.MaxMessagesPerConn {
		go func() { _ = c.c.Quit() }()
		return
	}
	c.idleAt = time.Now()
	c.reused = false
	cl.mu.Lock()
	cl.idle[c.addr] = append(cl.idle[c.addr], c)
	cl.mu.Unlock()
}

// reap closes connections idle for longer than IdleTimeout.
func (cl *client) reap() {
	now := time.Now()
	var old []*conn
	cl.mu.Lock()
	for addr, list := range cl.idle {
		keep := list[:0]
		for _, c := range list {
			if now.Sub(c.idleAt) > cl.opt.IdleTimeout {
				old = append(old, c)
			} else {
				keep = append(keep, c)
			}
		}
		if len(keep) == 0 {
			delete(cl.idle, addr)
		} else {
			cl.idle[addr] = keep
		}
	}
	cl.mu.Unlock()
	for _, c := range old {
		_ = c.c.Quit()
		_ = c.c.Close()
	}
}

// Close closes idle connections (QUIT).
func (cl *client) Close() {
	cl.mu.Lock()
	idle := cl.idle
	cl.idle = map[string][]*conn{}
	cl.mu.Unlock()
	for _, list := range idle {
		for _, c := range list {
			_ = c.c.Quit()
			_ = c.c.Close()
		}
	}
}

// transact runs one mail transaction on c. healthy says whether c can be
// reused.
func (cl *client) transact(ctx context.Context, c *conn, tx *Transaction) (Results, *Failure, bool) {
	stop := context.AfterFunc(ctx, func() { c.c.Close() })
	defer stop()
	size := len(tx.Header) + len(tx.Body)
	if max, ok := c.c.MaxMessageSize(); ok && max > 0 && size > max {
		// RFC 1870 §6: the receiver said in advance it would refuse this.
		return nil, &Failure{Code: 552, Enhanced: "5.3.4", Text: fmt.Sprintf("message of %d bytes exceeds %s's limit of %d", size, c.host, max), Permanent: true, Remote: true, MTA: c.host}, true
	}
	if tx.UTF8 {
		if ok, _ := c.c.Extension("SMTPUTF8"); !ok {
			// RFC 6531 §3.2: without SMTPUTF8 the message cannot go.
			return nil, &Failure{Code: 553, Enhanced: "5.6.7", Text: c.host + " does not support SMTPUTF8 addresses", Permanent: true, MTA: c.host}, true
		}
	}
	if err := c.c.Mail(tx.MailFrom, &smtp.MailOptions{Size: int64(size), UTF8: tx.UTF8}); err != nil {
		f := replyFailure(err, c.host)
		if f.Remote && !f.Permanent {
			// 4xx to MAIL: this receiver is not taking mail now; the next
			// MX may (RFC 5321 §5.1 lets a client go on).
			return nil, f, c.reset()
		}
		return nil, f, f.Remote && c.reset()
	}
	out := Results{}
	var accepted []string
	for _, r := range tx.Recipients {
		if err := c.c.Rcpt(r, nil); err != nil {
			f := replyFailure(err, c.host)
			if !f.Remote {
				return nil, f, false
			}
			out[r] = f
			continue
		}
		accepted = append(accepted, r)
	}
	if len(accepted) == 0 {
		return out, nil, c.reset()
	}
	w, err := c.c.Data()
	if err != nil {
		f := replyFailure(err, c.host)
		if !f.Remote {
			return nil, f, false
		}
		for _, r := range accepted {
			out[r] = f
		}
		return out, nil, c.reset()
	}
	_, err = w.Write(tx.Header)
	if err == nil {
		_, err = w.Write(tx.Body)
	}
	if err == nil {
		err = w.Close()
	}
	if err != nil {
		f := replyFailure(err, c.host)
		if !f.Remote {
			// The receiver may or may not have the message: RFC 5321 §6.1
			// prefers a possible duplicate to a loss, so it is retried.
			return nil, f, false
		}
		for _, r := range accepted {
			out[r] = f
		}
		return out, nil, true
	}
	for _, r := range accepted {
		out[r] = nil
	}
	return out, nil, true
}

// reset ends a transaction that did not reach DATA; false if the connection
// is no longer usable.
func (c *conn) reset() bool {
	err := c.c.Reset()
	var se *smtp.SMTPError
	return err == nil || errors.As(err, &se) && se.Code < 500
}
