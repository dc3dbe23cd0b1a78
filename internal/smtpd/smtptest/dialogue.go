// Package smtptest runs byte-exact SMTP dialogue scripts against a live
// listener, in the style of chasquid's .cmy files, so SES's exact lines are
// pinned by tests of the real server (smtpd's own tests and e2e alike).
//
// A script is one step per line:
//
//	c -> EHLO x          send "EHLO x" followed by CRLF
//	c ~> "a\nb"          send the Go-quoted bytes exactly (no CRLF added)
//	c <- 250 Ok          expect exactly this reply line
//	c <~ 250 Ok \S+      expect a line matching the regexp (anchored)
//	tls                  start TLS on the client side (after "220 Ready to start TLS")
//	eof                  expect the server to close the connection
//	call NAME            run Dialogue.Calls[NAME] (move a fake clock, stream a big body, ...)
//	# comment            ignored, as are blank lines
//
// It is test support only: it never belongs in a production import graph.
package smtptest

import (
	"bufio"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Dialogue says where and how a script connects.
type Dialogue struct {
	Addr        string
	ImplicitTLS bool          // TLS from the first byte (the TLS-wrapper port)
	TLS         *tls.Config   // client TLS config for "tls" steps and ImplicitTLS
	Timeout     time.Duration // per step; default 5 s
	// Calls are run by "call NAME" steps with the connection as it is
	// at that step (under TLS after a "tls" step).
	Calls map[string]func(conn io.Writer) error
}

// Run runs script against d and fails t at the first step that does not hold.
func Run(t testing.TB, d Dialogue, script string) {
	t.Helper()
	if err := d.Run(script); err != nil {
		t.Fatal(err)
	}
}

// Run runs script and returns the first step that did not hold, with the
// transcript so far.
func (d Dialogue) Run(script string) error {
	timeout := d.Timeout
	if timeout == 0 {
		timeout = 5 * time.Second
	}
	conn, err := net.DialTimeout("tcp", d.Addr, timeout)
	if err != nil {
		return fmt.Errorf("smtptest: dial %s: %w", d.Addr, err)
	}
	defer func() { conn.Close() }()
	if d.ImplicitTLS {
		conn = tls.Client(conn, d.TLS)
	}
	r := bufio.NewReader(conn)
	var transcript strings.Builder
	fail := func(n int, step string, format string, args ...any) error {
		return fmt.Errorf("smtptest: line %d %q: %s\ntranscript:\n%s", n, step,
			fmt.Sprintf(format, args...), transcript.String())
	}
	for i, raw := range strings.Split(script, "\n") {
		n := i + 1
		step := strings.TrimLeft(raw, " \t")
		if strings.TrimSpace(step) == "" || step[0] == '#' {
			continue
		}
		// The text after "c -> " is taken as written, trailing spaces
		// included ("334 " is a whole reply).
		op, text := strings.TrimSpace(step), ""
		if strings.HasPrefix(op, "call ") {
			op = "call"
		} else if len(step) >= 4 && step[0] == 'c' {
			op = step[:4]
			if len(step) > 5 {
				text = step[5:]
			}
		}
		conn.SetDeadline(time.Now().Add(timeout))
		switch op {
		case "tls":
			tc := tls.Client(conn, d.TLS)
			if err := tc.Handshake(); err != nil {
				return fail(n, step, "TLS handshake: %v", err)
			}
			conn, r = tc, bufio.NewReader(tc)
			transcript.WriteString("   [TLS]\n")
		case "call":
			name := strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(step), "call"))
			f := d.Calls[name]
			if f == nil {
				return fail(n, step, "no call named %q", name)
			}
			conn.SetDeadline(time.Time{}) // the call may take its time
			if err := f(conn); err != nil {
				return fail(n, step, "call: %v", err)
			}
			transcript.WriteString("   [call " + name + "]\n")
		case "eof":
			line, err := r.ReadString('\n')
			if err == nil || !errors.Is(err, io.EOF) && !isReset(err) {
				return fail(n, step, "want the connection closed, got %q, %v", line, err)
			}
			transcript.WriteString("   [closed]\n")
		case "c ->":
			if _, err := io.WriteString(conn, text+"\r\n"); err != nil {
				return fail(n, step, "write: %v", err)
			}
			transcript.WriteString("C: " + text + "\n")
		case "c ~>":
			b, err := strconv.Unquote(strings.TrimSpace(text))
			if err != nil {
				return fail(n, step, "bad quoted string: %v", err)
			}
			if _, err := io.WriteString(conn, b); err != nil {
				return fail(n, step, "write: %v", err)
			}
			transcript.WriteString("C: " + strconv.Quote(b) + "\n")
		case "c <-", "c <~":
			line, err := r.ReadString('\n')
			if err != nil {
				return fail(n, step, "read: %v (got %q)", err, line)
			}
			transcript.WriteString("S: " + strconv.Quote(line) + "\n")
			if !strings.HasSuffix(line, "\r\n") {
				return fail(n, step, "reply %q does not end in CRLF", line)
			}
			line = strings.TrimSuffix(line, "\r\n")
			if op == "c <-" {
				if line != text {
					return fail(n, step, "got %q, want %q", line, text)
				}
				continue
			}
			re, err := regexp.Compile("^(?:" + strings.TrimSpace(text) + ")$")
			if err != nil {
				return fail(n, step, "bad regexp: %v", err)
			}
			if !re.MatchString(line) {
				return fail(n, step, "got %q, want a match for %q", line, text)
			}
		default:
			return fail(n, step, "unknown step")
		}
	}
	return nil
}

func isReset(err error) bool {
	var ne *net.OpError
	return errors.As(err, &ne)
}
