// Command smtpload is an SMTP submission load generator for benchmarking
// sesame side by side with other MTAs (Postfix, smtp-sink) on one machine.
//
// It keeps -conns sessions open and sends -msgs messages over them in total,
// reusing each connection (EHLO, optional STARTTLS or implicit TLS, optional
// AUTH once per connection). The SMTP client is hand-written on top of bufio:
// the load generator shares the CPUs with the server it measures, so every
// message is one prebuilt buffer patched in place and written with a single
// syscall, and replies are parsed without allocating.
//
// The last line of output is machine-readable:
//
//	RESULT msgs=20000 secs=10.01 rate=1998.0/s p50=8.12ms p99=31.40ms errors=0 conns=20 ...
//
// Latency is measured from MAIL FROM to the reply after the final dot, so it
// covers what the server does to make a message durable but not connection
// setup (reported separately as connect_p50). Exit status is 0 only when every
// message was accepted.
package main

import (
	"bufio"
	"bytes"
	"crypto"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/emersion/go-msgauth/dkim"
)

type options struct {
	addr, serverName, helo       string
	user, pass, auth             string
	from, to                     string
	conns, msgs, size, rcpts     int
	rate                         float64
	perConn, maxErrors           int
	starttls, implicitTLS, quiet bool
	timeout, duration            time.Duration
	// DKIM: every message carries a signature by this key (nil: unsigned).
	dkimKey                  crypto.Signer
	dkimDomain, dkimSelector string
}

func main() {
	var o options
	flag.StringVar(&o.addr, "addr", "127.0.0.1:2525", "server `host:port`")
	flag.IntVar(&o.conns, "conns", 20, "concurrent connections")
	flag.IntVar(&o.msgs, "msgs", 10000, "total messages to send")
	flag.IntVar(&o.size, "size", 2000, "exact message size in bytes, headers included (CRLF line ends, before dot-stuffing)")
	flag.BoolVar(&o.starttls, "starttls", false, "STARTTLS after EHLO")
	flag.BoolVar(&o.implicitTLS, "tls", false, "implicit TLS from the first byte (TLS-wrapper ports)")
	flag.StringVar(&o.serverName, "servername", "", "TLS SNI name (default: host of -addr; sesame takes the region from it)")
	flag.StringVar(&o.helo, "helo", "smtpload.localhost", "EHLO name")
	flag.StringVar(&o.user, "user", "", "AUTH user (no AUTH when empty)")
	flag.StringVar(&o.pass, "pass", "", "AUTH password")
	flag.StringVar(&o.auth, "auth", "plain", "AUTH mechanism: plain or login")
	flag.StringVar(&o.from, "from", "sender@example.com", "envelope sender, also the From: header (servers check it)")
	flag.StringVar(&o.to, "to", "recipient@example.net", "envelope recipient, also the To: header")
	flag.IntVar(&o.rcpts, "rcpts", 1, "recipients per message; extra ones are local+N@domain")
	flag.IntVar(&o.perConn, "per-conn", 0, "messages per connection before reconnecting (0 = reuse forever)")
	flag.DurationVar(&o.timeout, "timeout", 30*time.Second, "limit for connection setup and for each message")
	flag.Float64Var(&o.rate, "rate", 0, "offered load in messages per second over all connections (0 = as fast as the server answers)")
	flag.DurationVar(&o.duration, "duration", 5*time.Minute, "stop starting messages after this long (keeps every run bounded)")
	flag.IntVar(&o.maxErrors, "max-errors", 100, "stop after this many failed messages or connects (0 = never)")
	flag.BoolVar(&o.quiet, "q", false, "do not print the first errors to stderr")
	dkimKey := flag.String("dkim-key", "", "DKIM-sign every message with this PEM private key (RSA or Ed25519, PKCS#8 or PKCS#1)")
	flag.StringVar(&o.dkimDomain, "dkim-domain", "", "DKIM d= (default: the domain of -from)")
	flag.StringVar(&o.dkimSelector, "dkim-selector", "bench", "DKIM s=")
	flag.Parse()

	switch {
	case o.conns < 1 || o.msgs < 1 || o.rcpts < 1:
		fatalf("-conns, -msgs and -rcpts must be at least 1")
	case o.starttls && o.implicitTLS:
		fatalf("-starttls and -tls exclude each other")
	case o.auth != "plain" && o.auth != "login":
		fatalf("-auth must be plain or login")
	case o.duration <= 0 || o.timeout <= 0:
		fatalf("-duration and -timeout must be positive")
	}
	if o.serverName == "" {
		host, _, err := net.SplitHostPort(o.addr)
		if err != nil {
			fatalf("bad -addr %q: %v", o.addr, err)
		}
		o.serverName = host
	}
	if *dkimKey != "" {
		key, err := readSigner(*dkimKey)
		if err != nil {
			fatalf("-dkim-key: %v", err)
		}
		o.dkimKey = key
		if o.dkimDomain == "" {
			_, o.dkimDomain, _ = strings.Cut(o.from, "@")
		}
		if o.dkimDomain == "" || o.dkimSelector == "" {
			fatalf("-dkim-key needs -dkim-domain (or a -from with a domain) and -dkim-selector")
		}
	}
	os.Exit(run(&o))
}

func fatalf(format string, a ...any) {
	fmt.Fprintf(os.Stderr, "smtpload: "+format+"\n", a...)
	os.Exit(2)
}

// shared is the state all workers touch: the message counter and the error budget.
type shared struct {
	o        *options
	next     atomic.Int64 // next message number to claim
	failed   atomic.Int64
	printed  atomic.Int64
	stop     atomic.Bool
	start    time.Time
	deadline time.Time
}

// fail counts one failure and trips the -max-errors brake.
func (s *shared) fail(err error) {
	n := s.failed.Add(1)
	if !s.o.quiet && s.printed.Add(1) <= 10 {
		fmt.Fprintln(os.Stderr, "smtpload:", err)
	}
	if s.o.maxErrors > 0 && n >= int64(s.o.maxErrors) {
		s.stop.Store(true)
	}
}

// claim hands out the next message number, or false when the run is over.
func (s *shared) claim() (int64, bool) {
	if s.stop.Load() || time.Now().After(s.deadline) {
		return 0, false
	}
	n := s.next.Add(1) - 1
	if n >= int64(s.o.msgs) {
		return n, false
	}
	if s.o.rate > 0 {
		// Message n is due n/rate after the start (open loop: a slow answer
		// does not lower the offered rate while connections are free).
		time.Sleep(time.Until(s.start.Add(time.Duration(float64(n) / s.o.rate * float64(time.Second)))))
	}
	return n, true
}

// stats is one worker's tally; merged at the end so workers never contend.
type stats struct {
	lat, connLat        []time.Duration
	ok, rejected, ioErr int
	sessions            int
}

func run(o *options) int {
	msg, seqAt, err := buildMessage(o)
	if err == nil && o.dkimKey != nil {
		msg, seqAt, err = buildSigned(o)
	}
	if err != nil {
		fatalf("%v", err)
	}
	tot, errs, secs := load(o, msg, seqAt)
	mode := "plain"
	if o.starttls {
		mode = "starttls"
	} else if o.implicitTLS {
		mode = "tls"
	}
	auth := "none"
	if o.user != "" {
		auth = o.auth
	}
	var ru syscall.Rusage
	cpu := 0.0
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) == nil {
		cpu = tv(ru.Utime) + tv(ru.Stime)
	}
	// cpu= is this process's own CPU time: it shows how much of the shared
	// cores the load generator took away from the server under test.
	signed := "none"
	if o.dkimKey != nil {
		signed = o.dkimSelector + "._domainkey." + o.dkimDomain
	}
	fmt.Printf("RESULT msgs=%d secs=%.2f rate=%.1f/s p50=%s p99=%s max=%s errors=%d rejected=%d ioerrors=%d conns=%d sessions=%d connect_p50=%s size=%d mode=%s auth=%s dkim=%s cpu=%.2fs addr=%s\n",
		tot.ok, secs, float64(tot.ok)/secs, pct(tot.lat, 50), pct(tot.lat, 99), pct(tot.lat, 100),
		errs, tot.rejected, tot.ioErr, o.conns, tot.sessions, pct(tot.connLat, 50),
		len(msg), mode, auth, signed, cpu, o.addr)
	if errs > 0 || tot.ok < o.msgs {
		return 1
	}
	return 0
}

// load runs the workers and merges their tallies (latencies sorted); errs
// counts every failure, including those that stopped the run.
func load(o *options, msg []byte, seqAt int) (tot stats, errs int, secs float64) {
	s := &shared{o: o}
	all := make([]*stats, o.conns)
	var wg sync.WaitGroup
	start := time.Now()
	s.start, s.deadline = start, start.Add(o.duration)
	for i := range all {
		st := &stats{lat: make([]time.Duration, 0, o.msgs/o.conns+1)}
		all[i] = st
		// Each worker owns a copy of the message so it can patch the sequence
		// number in place without locks or allocation.
		buf := slices.Clone(msg)
		wg.Add(1)
		go func() {
			defer wg.Done()
			worker(s, st, buf, seqAt)
		}()
	}
	wg.Wait()
	secs = time.Since(start).Seconds()
	for _, st := range all {
		tot.lat = append(tot.lat, st.lat...)
		tot.connLat = append(tot.connLat, st.connLat...)
		tot.ok += st.ok
		tot.rejected += st.rejected
		tot.ioErr += st.ioErr
		tot.sessions += st.sessions
	}
	slices.Sort(tot.lat)
	slices.Sort(tot.connLat)
	return tot, int(s.failed.Load()), secs
}

func tv(t syscall.Timeval) float64 { return float64(t.Sec) + float64(t.Usec)/1e6 }

// pct returns the p-th percentile (nearest rank) of sorted durations in ms.
func pct(d []time.Duration, p int) string {
	if len(d) == 0 {
		return "0ms"
	}
	i := (len(d)*p+99)/100 - 1
	i = max(0, min(i, len(d)-1))
	return strconv.FormatFloat(float64(d[i].Microseconds())/1000, 'f', 2, 64) + "ms"
}

func worker(s *shared, st *stats, msg []byte, seqAt int) {
	o := s.o
	var c *client
	sent := 0
	defer func() {
		if c != nil {
			c.quit(o.timeout)
		}
	}()
	for {
		seq, ok := s.claim()
		if !ok {
			return
		}
		if c != nil && o.perConn > 0 && sent >= o.perConn {
			c.quit(o.timeout)
			c = nil
		}
		if c == nil {
			t0 := time.Now()
			var err error
			c, err = dial(o)
			if err != nil {
				st.ioErr++
				s.fail(fmt.Errorf("connect: %w", err))
				// Back off a little so a refused port does not spin a core.
				time.Sleep(20 * time.Millisecond)
				continue
			}
			st.sessions++
			st.connLat = append(st.connLat, time.Since(t0))
			sent = 0
		}
		putSeq(msg[seqAt:seqAt+seqDigits], seq)
		t0 := time.Now()
		err := c.send(o, msg, t0.Add(o.timeout))
		if err == nil {
			st.lat = append(st.lat, time.Since(t0))
			st.ok++
			sent++
			continue
		}
		s.fail(fmt.Errorf("message %d: %w", seq, err))
		var re *replyError
		if errors.As(err, &re) {
			// The server refused this message but the session is sound:
			// RSET and carry on, as a real submission client would.
			st.rejected++
			if c.cmd(250, time.Now().Add(o.timeout), "RSET") == nil {
				continue
			}
		} else {
			st.ioErr++
		}
		c.close()
		c = nil
	}
}

// replyError is an SMTP reply other than the expected one.
type replyError struct {
	cmd  string
	code int
	text string
}

func (e *replyError) Error() string { return fmt.Sprintf("%s: %d %s", e.cmd, e.code, e.text) }

type client struct {
	conn net.Conn
	r    *bufio.Reader
	w    *bufio.Writer
}

func newClient(conn net.Conn) *client {
	return &client{conn: conn, r: bufio.NewReaderSize(conn, 4096), w: bufio.NewWriterSize(conn, 8192)}
}

// reply reads one (possibly multi-line) reply and checks its code. The text
// is only kept for errors and for the EHLO keyword scan.
func (c *client) reply(cmd string, want int) (string, error) {
	var text strings.Builder
	for {
		line, err := c.r.ReadSlice('\n')
		if err != nil {
			return "", fmt.Errorf("%s: %w", cmd, err)
		}
		if len(line) < 4 {
			return "", fmt.Errorf("%s: malformed reply %q", cmd, line)
		}
		code, ok := replyCode(line)
		if !ok {
			return "", fmt.Errorf("%s: malformed reply %q", cmd, line)
		}
		if want == 250 && cmd == "EHLO" || code != want {
			text.Write(trimCRLF(line[4:]))
			text.WriteByte('\n')
		}
		if line[3] == '-' {
			continue
		}
		if code != want {
			return "", &replyError{cmd: cmd, code: code, text: strings.TrimSpace(text.String())}
		}
		return text.String(), nil
	}
}

// replyCode parses the three digits by hand: it runs for every reply.
func replyCode(line []byte) (int, bool) {
	code := 0
	for _, ch := range line[:3] {
		if ch < '0' || ch > '9' {
			return 0, false
		}
		code = code*10 + int(ch-'0')
	}
	return code, line[3] == ' ' || line[3] == '-'
}

func trimCRLF(b []byte) []byte {
	for len(b) > 0 && (b[len(b)-1] == '\n' || b[len(b)-1] == '\r') {
		b = b[:len(b)-1]
	}
	return b
}

// cmd sends one command line and waits for its reply.
func (c *client) cmd(want int, deadline time.Time, line string) error {
	c.conn.SetDeadline(deadline)
	c.w.WriteString(line)
	c.w.WriteString("\r\n")
	if err := c.w.Flush(); err != nil {
		return err
	}
	verb, _, _ := strings.Cut(line, " ")
	_, err := c.reply(verb, want)
	return err
}

func dial(o *options) (*client, error) {
	deadline := time.Now().Add(o.timeout)
	tlsConf := &tls.Config{InsecureSkipVerify: true, ServerName: o.serverName}
	conn, err := net.DialTimeout("tcp", o.addr, o.timeout)
	if err != nil {
		return nil, err
	}
	if o.implicitTLS {
		conn = tls.Client(conn, tlsConf)
	}
	c := newClient(conn)
	fail := func(err error) (*client, error) {
		conn.Close()
		return nil, err
	}
	conn.SetDeadline(deadline)
	if _, err := c.reply("greeting", 220); err != nil {
		return fail(err)
	}
	if err := c.cmd(250, deadline, "EHLO "+o.helo); err != nil {
		return fail(err)
	}
	if o.starttls {
		if err := c.cmd(220, deadline, "STARTTLS"); err != nil {
			return fail(err)
		}
		tc := tls.Client(conn, tlsConf)
		if err := tc.Handshake(); err != nil {
			return fail(fmt.Errorf("TLS handshake: %w", err))
		}
		c = newClient(tc)
		conn = tc
		// RFC 3207: the session starts over after TLS, so EHLO again.
		if err := c.cmd(250, deadline, "EHLO "+o.helo); err != nil {
			return fail(err)
		}
	}
	if o.user != "" {
		var err error
		if o.auth == "plain" {
			ir := base64.StdEncoding.EncodeToString([]byte("\x00" + o.user + "\x00" + o.pass))
			err = c.cmd(235, deadline, "AUTH PLAIN "+ir)
		} else {
			err = c.cmd(334, deadline, "AUTH LOGIN")
			if err == nil {
				err = c.cmd(334, deadline, base64.StdEncoding.EncodeToString([]byte(o.user)))
			}
			if err == nil {
				err = c.cmd(235, deadline, base64.StdEncoding.EncodeToString([]byte(o.pass)))
			}
		}
		if err != nil {
			return fail(fmt.Errorf("AUTH: %w", err))
		}
	}
	return c, nil
}

// send runs one transaction in lock step (no PIPELINING, so every server
// gets the same dialogue); the message and its terminating dot go out in one
// write.
func (c *client) send(o *options, msg []byte, deadline time.Time) error {
	if err := c.cmd(250, deadline, "MAIL FROM:<"+o.from+">"); err != nil {
		return err
	}
	for i := 0; i < o.rcpts; i++ {
		// 251 (user not local) is a success too, but no server here sends it.
		if err := c.cmd(250, deadline, "RCPT TO:<"+rcpt(o.to, i)+">"); err != nil {
			return err
		}
	}
	if err := c.cmd(354, deadline, "DATA"); err != nil {
		return err
	}
	c.w.Write(msg)
	c.w.WriteString(".\r\n")
	if err := c.w.Flush(); err != nil {
		return err
	}
	_, err := c.reply("end of DATA", 250)
	return err
}

// quit ends a session politely but does not wait long for the goodbye.
func (c *client) quit(timeout time.Duration) {
	c.cmd(221, time.Now().Add(min(timeout, 2*time.Second)), "QUIT")
	c.close()
}

func (c *client) close() { c.conn.Close() }

func rcpt(to string, i int) string {
	if i == 0 {
		return to
	}
	at := strings.LastIndexByte(to, '@')
	if at < 0 {
		return to + "+" + strconv.Itoa(i)
	}
	return to[:at] + "+" + strconv.Itoa(i) + to[at:]
}

const seqDigits = 12

// putSeq writes n as fixed-width decimal so the message size never changes.
func putSeq(dst []byte, n int64) {
	for i := len(dst) - 1; i >= 0; i-- {
		dst[i] = byte('0' + n%10)
		n /= 10
	}
}

// buildMessage makes a message of exactly o.size bytes and returns where its
// per-message sequence number (inside the Message-ID) sits. Lines are at most
// 78 bytes and none starts with a dot, so it needs no dot-stuffing.
func buildMessage(o *options) ([]byte, int, error) {
	runID := strconv.FormatInt(time.Now().UnixNano(), 36)
	var b strings.Builder
	write := func(subjectPad int) {
		b.Reset()
		fmt.Fprintf(&b, "From: <%s>\r\n", o.from)
		fmt.Fprintf(&b, "To: <%s>\r\n", o.to)
		fmt.Fprintf(&b, "Subject: smtpload%s\r\n", strings.Repeat("!", subjectPad))
		fmt.Fprintf(&b, "Date: %s\r\n", time.Now().Format(time.RFC1123Z))
		fmt.Fprintf(&b, "Message-ID: <%s.%s@smtpload.invalid>\r\n", strings.Repeat("0", seqDigits), runID)
		b.WriteString("MIME-Version: 1.0\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\n")
	}
	write(0)
	if o.size-b.Len() == 1 {
		// A body cannot be one byte long (every line ends in CRLF): move that
		// byte into the Subject instead.
		write(1)
	}
	rest := o.size - b.Len()
	if rest < 0 {
		return nil, 0, fmt.Errorf("-size %d is smaller than the headers (%d bytes)", o.size, b.Len())
	}
	const text = "The quick brown fox jumps over the lazy dog 0123456789 abcdefghijklmnopqrstuvwxyz"
	for rest > 0 {
		n := min(78, rest)
		if rest-n == 1 {
			n-- // never leave a single byte for the last line
		}
		b.WriteString(text[:n-2])
		b.WriteString("\r\n")
		rest -= n
	}
	msg := []byte(b.String())
	at := strings.Index(b.String(), "Message-ID: <") + len("Message-ID: <")
	if len(msg) != o.size {
		return nil, 0, fmt.Errorf("internal: built %d bytes, want %d", len(msg), o.size)
	}
	return msg, at, nil
}

// signedHeaders are the fields the DKIM signature covers: RFC 6376 §5.4.1's
// recommended set that the message has, except Message-ID. That one carries
// the per-message sequence number, patched in after signing, so leaving it
// out lets one signature, computed once per run, verify on every message:
// the receiver's work (key lookup, body hash, RSA or Ed25519 verification)
// is the same as for a per-message signature, and the load generator does
// not spend the shared cores signing.
var signedHeaders = []string{"From", "To", "Subject", "Date", "MIME-Version", "Content-Type"}

// buildSigned is buildMessage with a DKIM-Signature field on top, still
// exactly o.size bytes in all: the unsigned part is built shorter by the
// signature field's length (which depends only on the key, domain, selector
// and header list, never on the content).
func buildSigned(o *options) ([]byte, int, error) {
	sign := func(size int) ([]byte, int, []byte, error) {
		oo := *o
		oo.size = size
		msg, at, err := buildMessage(&oo)
		if err != nil {
			return nil, 0, nil, err
		}
		var out bytes.Buffer
		err = dkim.Sign(&out, bytes.NewReader(msg), &dkim.SignOptions{
			Domain: o.dkimDomain, Selector: o.dkimSelector, Signer: o.dkimKey,
			HeaderCanonicalization: dkim.CanonicalizationRelaxed,
			BodyCanonicalization:   dkim.CanonicalizationRelaxed,
			HeaderKeys:             signedHeaders,
		})
		if err != nil {
			return nil, 0, nil, fmt.Errorf("DKIM signing: %w", err)
		}
		return out.Bytes(), at, msg, nil
	}
	first, _, unsigned, err := sign(o.size)
	if err != nil {
		return nil, 0, err
	}
	sigLen := len(first) - len(unsigned)
	signed, at, _, err := sign(o.size - sigLen)
	if err != nil {
		return nil, 0, fmt.Errorf("-size %d leaves no room for the %d-byte DKIM-Signature: %w", o.size, sigLen, err)
	}
	if len(signed) != o.size {
		return nil, 0, fmt.Errorf("internal: signed message is %d bytes, want %d", len(signed), o.size)
	}
	return signed, at + sigLen, nil
}

// readSigner loads a PEM private key: PKCS#8 (RSA or Ed25519, what
// "openssl genpkey" writes) or PKCS#1 RSA ("openssl genrsa -traditional").
func readSigner(path string) (crypto.Signer, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	blk, _ := pem.Decode(b)
	if blk == nil {
		return nil, fmt.Errorf("%s: no PEM block", path)
	}
	if k, err := x509.ParsePKCS1PrivateKey(blk.Bytes); err == nil {
		return k, nil
	}
	k, err := x509.ParsePKCS8PrivateKey(blk.Bytes)
	if err != nil {
		return nil, fmt.Errorf("%s: not a PKCS#8 or PKCS#1 private key: %w", path, err)
	}
	s, ok := k.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("%s: %T cannot sign", path, k)
	}
	return s, nil
}
