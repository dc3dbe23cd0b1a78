package delivery

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"slices"
	"strings"
	"sync"
	"time"

	"sesame/internal/outcome"
)

// The SMTP client side of MX delivery: connections to receivers, bound to
// the transaction's source address (sources.go), reused across messages
// from the same source to the same address and capped per source and
// destination — the set of MX hosts a domain routes to, so that domains
// served by the same mail exchangers share one cap (KumoMTA's "site";
// Google Workspace's many domains all lead to aspmx.l.google.com) — and
// one mail transaction per (message, domain) that reports each recipient's
// outcome.

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
	// MaxConnsPerDomain caps simultaneous connections from one source
	// address to one destination: the recipient domains that share the
	// same MX hosts (default 20, Postfix's
	// default_destination_concurrency_limit).
	MaxConnsPerDomain int
	// MaxMessagesPerConn is how many transactions one connection carries
	// before it is closed (default 100).
	MaxMessagesPerConn int
	// IdleTimeout is how long an unused connection is kept (default 10 s).
	IdleTimeout time.Duration
	// Shapes override limits per recipient domain (lower-case). A domain
	// with its own MaxConns gets its own connection cap, apart from the
	// other domains of its MX hosts.
	Shapes map[string]Shape
}

// Shape limits traffic to one recipient domain.
type Shape struct {
	MaxConns int     // 0 = MaxConnsPerDomain
	Rate     float64 // transactions per second; 0 = unpaced
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
	// Source is the local address and EHLO name the transaction leaves
	// from (sources.go); the zero Source is the default route.
	Source Source

	// What the receiver that took the message said, set by Send when a
	// recipient was delivered: its final reply, its host name and address,
	// and the local address sesame sent from.
	Reply, MTA, RemoteIP, LocalIP string
	// How its TLS was authenticated (tlsauth.go): "dane", "mta-sts",
	// "opportunistic" or "none", and whether its certificate verified.
	TLS         string
	TLSVerified bool

	tls map[string]hostTLS // by MX host; set by TLSAuth.plan
}

// Results of a transaction: per recipient, nil when delivered, else the
// failure (Permanent or not).
type Results map[string]*outcome.Failure

// client holds the connection pool.
type client struct {
	opt ClientOptions
	log *slog.Logger

	mu    sync.Mutex
	idle  map[string][]*conn       // by source and ip:port (connKey)
	slots map[string]chan struct{} // by source and destination (destinationOf)
	pace  map[string]time.Time     // by paced domain: when its next transaction may start
}

type conn struct {
	s      *session
	key    string // connKey: its source and addr
	addr   string
	host   string
	tls    bool
	used   int
	idleAt time.Time
	reused bool

	// The TLS policy the connection was opened under and whether the
	// certificate was authenticated (tlsauth.go).
	mode     string
	verified bool
}

func newClient(opt ClientOptions, log *slog.Logger) *client {
	return &client{opt: opt.withDefaults(), log: log, idle: map[string][]*conn{}, slots: map[string]chan struct{}{},
		pace: map[string]time.Time{}}
}

// destinationOf names the connection cap a transaction to domain over hops
// counts against: the domain's own when a shape gives it one, else its MX
// hosts (sorted, so the same set in any order is one destination), else
// the domain.
func (cl *client) destinationOf(domain string, hops []Hop) (key string, limit int) {
	if sh := cl.opt.Shapes[domain]; sh.MaxConns > 0 {
		return "domain " + domain, sh.MaxConns
	}
	if len(hops) == 0 {
		return "domain " + domain, cl.opt.MaxConnsPerDomain
	}
	hosts := make([]string, len(hops))
	for i, h := range hops {
		hosts[i] = strings.ToLower(strings.TrimSuffix(h.Host, "."))
	}
	slices.Sort(hosts)
	return "mx " + strings.Join(slices.Compact(hosts), ","), cl.opt.MaxConnsPerDomain
}

// connKey names the idle connections a transaction from src to addr may
// reuse: a connection speaks from one address with one EHLO name.
func connKey(src Source, addr string) string {
	return src.String() + " " + src.EHLO + " " + addr
}

// slot takes one of a destination's connection slots, then waits for the
// domain's pace. The cap is per source address: receivers limit the
// connections of each client address.
func (cl *client) slot(ctx context.Context, domain string, hops []Hop, src Source) (func(), error) {
	key, limit := cl.destinationOf(domain, hops)
	key = src.String() + " " + key
	cl.mu.Lock()
	ch, ok := cl.slots[key]
	if !ok {
		ch = make(chan struct{}, limit)
		cl.slots[key] = ch
	}
	cl.mu.Unlock()
	select {
	case ch <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	if err := cl.wait(ctx, domain); err != nil {
		<-ch
		return nil, err
	}
	return func() { <-ch }, nil
}

// wait paces transactions to a domain with a rate: each one reserves the
// next start time, 1/rate after the previous one (no bursts), and sleeps
// until it.
func (cl *client) wait(ctx context.Context, domain string) error {
	rate := cl.opt.Shapes[domain].Rate
	if rate <= 0 {
		return nil
	}
	interval := time.Duration(float64(time.Second) / rate)
	now := time.Now()
	cl.mu.Lock()
	start := cl.pace[domain]
	if start.Before(now) {
		start = now
	}
	cl.pace[domain] = start.Add(interval)
	cl.mu.Unlock()
	d := start.Sub(now)
	if d <= 0 {
		return nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Send runs tx against hops in order, trying every address of a hop before
// the next, until one receiver gives a verdict. Recipients no receiver could
// be asked about get the last connection failure (temporary).
func (cl *client) Send(ctx context.Context, hops []Hop, tx *Transaction) Results {
	out := Results{}
	release, err := cl.slot(ctx, tx.Domain, hops, tx.Source)
	if err != nil {
		return allFailed(tx.Recipients, &outcome.Failure{Code: 451, Enhanced: "4.4.5", Text: "delivery interrupted"})
	}
	defer release()
	var last *outcome.Failure
	for _, hop := range hops {
		for _, ip := range hop.Addrs {
			if !tx.Source.reaches(ip) {
				last = &outcome.Failure{Code: 451, Enhanced: "4.4.4", Text: fmt.Sprintf("%s has no address of %s's family (IPv4/IPv6)", hop.Host, tx.Source), MTA: hop.Host}
				continue
			}
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
		last = &outcome.Failure{Code: 451, Enhanced: "4.4.4", Text: "no mail exchanger to try"}
	}
	for _, r := range tx.Recipients {
		out[r] = last
	}
	return out
}

func allFailed(rcpts []string, f *outcome.Failure) Results {
	out := Results{}
	for _, r := range rcpts {
		out[r] = f
	}
	return out
}

// try runs tx on one address. A nil failure means the receiver gave a
// verdict for every recipient (in the outcome). A failure means try the
// next address (temporary) or give up (permanent).
func (cl *client) try(ctx context.Context, host, addr string, tx *Transaction) (Results, *outcome.Failure) {
	for attempt := 0; ; attempt++ {
		c, fail := cl.get(ctx, host, addr, tx.Source, tx.tlsFor(host))
		if fail != nil {
			return nil, fail
		}
		out, fail, healthy := cl.transact(ctx, c, tx)
		if healthy {
			cl.put(c)
		} else {
			c.s.close()
		}
		// A pooled connection the receiver had closed fails at once:
		// that says nothing about the receiver, so dial afresh once.
		if fail != nil && !fail.Remote && c.reused && attempt == 0 && ctx.Err() == nil {
			continue
		}
		return out, fail
	}
}

// get returns an idle connection from src to addr or dials one (bound to
// src, greeting, EHLO with src's name, STARTTLS when offered).
func (cl *client) get(ctx context.Context, host, addr string, src Source, want hostTLS) (*conn, *outcome.Failure) {
	now := time.Now()
	key := connKey(src, addr)
	cl.mu.Lock()
	list := cl.idle[key]
	for i := len(list) - 1; i >= 0; i-- {
		c := list[i]
		if now.Sub(c.idleAt) > cl.opt.IdleTimeout {
			continue // the reaper closes it
		}
		if !want.accepts(c) {
			continue
		}
		cl.idle[key] = append(list[:i:i], list[i+1:]...)
		cl.mu.Unlock()
		c.reused = true
		return c, nil
	}
	cl.mu.Unlock()

	d := net.Dialer{Timeout: cl.opt.ConnectTimeout}
	ehlo := cl.opt.Hostname
	if src.Addr.IsValid() {
		d.LocalAddr = &net.TCPAddr{IP: src.Addr.AsSlice()}
		if src.EHLO != "" {
			ehlo = src.EHLO
		}
	}
	nc, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		from := ""
		if src.Addr.IsValid() {
			from = " from " + src.Addr.String()
		}
		return nil, &outcome.Failure{Code: 451, Enhanced: "4.4.1", Text: fmt.Sprintf("connect to %s [%s]%s: %v", host, addr, from, err), MTA: host}
	}
	stop := context.AfterFunc(ctx, func() { nc.Close() })
	defer stop()
	res := &tlsResult{}
	sess, err := openSessionTLS(nc, host, ehlo, cl.opt.CommandTimeout, cl.opt.DataTimeout, want.config(host, res))
	if err != nil {
		nc.Close()
		f := dialFailure(err, host, addr)
		f.RemoteIP = hostIP(addr)
		return nil, f
	}
	if want.require && !sess.tls {
		sess.quit()
		return nil, &outcome.Failure{Code: 451, Enhanced: "4.7.10", Text: fmt.Sprintf("%s [%s] does not offer STARTTLS and %s requires TLS", host, addr, want.why), MTA: host, RemoteIP: hostIP(addr)}
	}
	c := &conn{s: sess, key: key, addr: addr, host: host, tls: sess.tls, mode: want.mode, verified: sess.tls && res.verified}
	want.logSession(cl.log, host, addr, c, res)
	return c, nil
}

func dialFailure(err error, host, addr string) *outcome.Failure {
	f := replyFailure(err, host)
	if !f.Remote {
		f.Text = fmt.Sprintf("session with %s [%s]: %v", host, addr, err)
		if strings.Contains(err.Error(), "TLS handshake") {
			f.Enhanced = "4.7.5"
		}
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
		go c.s.quit()
		return
	}
	c.idleAt = time.Now()
	c.reused = false
	cl.mu.Lock()
	cl.idle[c.key] = append(cl.idle[c.key], c)
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
		c.s.quit()
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
			c.s.quit()
		}
	}
}

// transact runs one mail transaction on c. healthy says whether c can be
// reused.
func (cl *client) transact(ctx context.Context, c *conn, tx *Transaction) (Results, *outcome.Failure, bool) {
	stop := context.AfterFunc(ctx, func() { c.s.close() })
	defer stop()
	ip := hostIP(c.addr)
	fail := func(err error) *outcome.Failure {
		f := replyFailure(err, c.host)
		f.RemoteIP = ip
		return f
	}
	size := len(tx.Header) + len(tx.Body)
	if max := c.s.maxSize(); max > 0 && size > max {
		// RFC 1870 §6: the receiver said in advance it would refuse this.
		return nil, &outcome.Failure{Code: 552, Enhanced: "5.3.4", Text: fmt.Sprintf("message of %d bytes exceeds %s's limit of %d", size, c.host, max), Permanent: true, Remote: true, MTA: c.host, RemoteIP: ip}, true
	}
	if tx.UTF8 && !c.s.has("SMTPUTF8") {
		// RFC 6531 §3.2: without SMTPUTF8 the message cannot go.
		return nil, &outcome.Failure{Code: 553, Enhanced: "5.6.7", Text: c.host + " does not support SMTPUTF8 addresses", Permanent: true, MTA: c.host, RemoteIP: ip}, true
	}
	res, err := c.s.send(tx.MailFrom, tx.Recipients, size, tx.UTF8, tx.Header, tx.Body)
	if err != nil {
		// The receiver may or may not have the message if the connection
		// broke after the final dot: RFC 5321 §6.1 prefers a possible
		// duplicate to a loss, so it is retried.
		return nil, fail(err), false
	}
	if res.mail != nil {
		f := fail(res.mail)
		// 4xx to MAIL: this receiver is not taking mail now; the next MX
		// may (RFC 5321 §5.1 lets a client go on). 5xx: none will.
		return nil, f, c.s.reset()
	}
	out := Results{}
	var data *outcome.Failure
	if res.data != nil {
		data = fail(res.data)
	}
	delivered := false
	for i, r := range tx.Recipients {
		switch {
		case res.rcpt[i] != nil:
			out[r] = fail(res.rcpt[i])
		case data != nil:
			out[r] = data
		default:
			out[r] = nil
			delivered = true
		}
	}
	if !delivered {
		return out, nil, c.s.reset()
	}
	tx.Reply, tx.MTA = res.reply, c.host
	tx.TLS, tx.TLSVerified = c.mode, c.verified
	if !c.tls {
		tx.TLS = tlsNone
	}
	tx.RemoteIP = ip
	if la, ok := c.s.nc.LocalAddr().(*net.TCPAddr); ok {
		tx.LocalIP = la.IP.String()
	}
	return out, nil, true
}
