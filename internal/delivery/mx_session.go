package delivery

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/textproto"
	"strconv"
	"strings"
	"time"

	"github.com/emersion/go-smtp"
)

// session is one SMTP client connection to a receiver, spoken directly
// (net/textproto) rather than through go-smtp's client, which can neither
// pipeline (RFC 2920) nor keep our EHLO name across STARTTLS. Replies that
// are refusals come back as *smtp.SMTPError, anything else is an I/O error.
type session struct {
	nc   net.Conn
	tp   *textproto.Conn
	ext  map[string]string // EHLO keywords (upper-case) → parameters
	host string
	tls  bool

	cmdTimeout, dataTimeout time.Duration
}

// openSession reads the greeting, says EHLO and, when the receiver offers
// it, STARTTLS and EHLO again (RFC 3207 §4.2). Receivers' certificates are
// rarely valid for their MX names, so they are not checked (as Postfix's
// smtp_tls_security_level = may / encrypt): TlsPolicy REQUIRE asks for
// encryption, not authentication. DANE and MTA-STS (tlsauth.go) check them
// through openSessionTLS.
func openSession(nc net.Conn, host, ehlo string, cmdTimeout, dataTimeout time.Duration) (*session, error) {
	return openSessionTLS(nc, host, ehlo, cmdTimeout, dataTimeout, nil)
}

// openSessionTLS is openSession with the STARTTLS configuration tc (nil:
// unverified).
func openSessionTLS(nc net.Conn, host, ehlo string, cmdTimeout, dataTimeout time.Duration, tc *tls.Config) (*session, error) {
	s := &session{nc: nc, tp: textproto.NewConn(nc), host: host, cmdTimeout: cmdTimeout, dataTimeout: dataTimeout}
	s.deadline(cmdTimeout)
	if _, _, err := s.read(2); err != nil {
		return nil, fmt.Errorf("greeting: %w", err)
	}
	if err := s.hello(ehlo); err != nil {
		return nil, err
	}
	if _, ok := s.ext["STARTTLS"]; !ok {
		return s, nil
	}
	if _, _, err := s.cmd(2, "STARTTLS"); err != nil {
		return nil, fmt.Errorf("STARTTLS: %w", err)
	}
	if tc == nil {
		tc = &tls.Config{ServerName: host, InsecureSkipVerify: true} // #nosec G402 -- see above
	}
	tlsConn := tls.Client(nc, tc)
	s.deadline(cmdTimeout)
	if err := tlsConn.Handshake(); err != nil {
		return nil, fmt.Errorf("TLS handshake: %w", err)
	}
	s.nc, s.tp, s.tls = tlsConn, textproto.NewConn(tlsConn), true
	if err := s.hello(ehlo); err != nil {
		return nil, err
	}
	return s, nil
}

func (s *session) deadline(d time.Duration) { _ = s.nc.SetDeadline(time.Now().Add(d)) }

// read reads one reply; a code of another class than expect's is an
// *smtp.SMTPError.
func (s *session) read(expect int) (int, string, error) {
	code, msg, err := s.tp.ReadResponse(expect)
	return code, msg, protoErr(err)
}

func (s *session) cmd(expect int, format string, args ...any) (int, string, error) {
	s.deadline(s.cmdTimeout)
	if err := s.tp.PrintfLine(format, args...); err != nil {
		return 0, "", err
	}
	return s.read(expect)
}

// hello says EHLO, or HELO to a receiver that does not know EHLO (RFC 5321
// §3.2), and records the extensions.
func (s *session) hello(name string) error {
	_, msg, err := s.cmd(2, "EHLO %s", name)
	var se *smtp.SMTPError
	if errors.As(err, &se) && (se.Code == 500 || se.Code == 502) {
		s.ext = map[string]string{}
		if _, _, err := s.cmd(2, "HELO %s", name); err != nil {
			return fmt.Errorf("HELO: %w", err)
		}
		return nil
	}
	if err != nil {
		return fmt.Errorf("EHLO: %w", err)
	}
	s.ext = map[string]string{}
	lines := strings.Split(msg, "\n")
	for _, l := range lines[1:] {
		k, v, _ := strings.Cut(l, " ")
		s.ext[strings.ToUpper(k)] = v
	}
	return nil
}

func (s *session) has(ext string) bool { _, ok := s.ext[ext]; return ok }

// maxSize is the receiver's SIZE limit (RFC 1870), 0 when none.
func (s *session) maxSize() int {
	n, err := strconv.Atoi(s.ext["SIZE"])
	if err != nil || n < 0 {
		return 0
	}
	return n
}

// txResult is what a transaction's replies said. mail is MAIL FROM's
// refusal; rcpt holds each recipient's (nil = accepted); data is the refusal
// of DATA or of the message (for every accepted recipient).
type txResult struct {
	mail error
	rcpt []error
	data error
	// reply is the receiver's reply to the message's final dot when it
	// took the message ("250 2.0.0 Ok: queued as …"), for the Delivery
	// event's smtpResponse.
	reply string
}

// send runs one mail transaction. With PIPELINING (RFC 2920 §3.1) MAIL,
// the RCPTs and DATA go in one write and their replies are read in order;
// without it, one command at a time. err is an I/O error: the connection is
// unusable and the outcome unknown for whatever had no reply.
func (s *session) send(from string, rcpts []string, size int, utf8 bool, header, body []byte) (res txResult, err error) {
	var params strings.Builder
	if s.has("8BITMIME") {
		params.WriteString(" BODY=8BITMIME")
	}
	if s.has("SIZE") {
		fmt.Fprintf(&params, " SIZE=%d", size)
	}
	if utf8 {
		params.WriteString(" SMTPUTF8")
	}
	mail := fmt.Sprintf("MAIL FROM:<%s>%s", from, params.String())
	res.rcpt = make([]error, len(rcpts))
	accepted := 0
	dataOK := false
	if s.has("PIPELINING") {
		s.deadline(s.cmdTimeout)
		w := s.tp.W
		fmt.Fprintf(w, "%s\r\n", mail)
		for _, r := range rcpts {
			fmt.Fprintf(w, "RCPT TO:<%s>\r\n", r)
		}
		w.WriteString("DATA\r\n")
		if err := w.Flush(); err != nil {
			return res, err
		}
		if _, _, err := s.read(2); err != nil {
			if !isReply(err) {
				return res, err
			}
			res.mail = err
		}
		for i := range rcpts {
			if _, _, err := s.read(2); err != nil {
				if !isReply(err) {
					return res, err
				}
				res.rcpt[i] = err
			} else if res.mail == nil {
				accepted++
			}
		}
		if _, _, err := s.read(3); err != nil {
			if !isReply(err) {
				return res, err
			}
			res.data = err
		} else {
			dataOK = true
		}
		if dataOK && (res.mail != nil || accepted == 0) {
			// RFC 2920 §3.1: DATA was accepted although nothing can be
			// delivered; an empty message ends it, and its reply is moot.
			s.deadline(s.cmdTimeout)
			if _, _, err := s.cmd(0, "."); err != nil && !isReply(err) {
				return res, err
			}
			return res, nil
		}
	} else {
		if _, _, err := s.cmd(2, "%s", mail); err != nil {
			if !isReply(err) {
				return res, err
			}
			res.mail = err
			return res, nil
		}
		for i, r := range rcpts {
			if _, _, err := s.cmd(2, "RCPT TO:<%s>", r); err != nil {
				if !isReply(err) {
					return res, err
				}
				res.rcpt[i] = err
			} else {
				accepted++
			}
		}
		if accepted == 0 {
			return res, nil
		}
		if _, _, err := s.cmd(3, "DATA"); err != nil {
			if !isReply(err) {
				return res, err
			}
			res.data = err
			return res, nil
		}
		dataOK = true
	}
	if res.mail != nil || accepted == 0 || !dataOK {
		return res, nil
	}
	s.deadline(s.dataTimeout)
	// Not textproto's DotWriter: it lets a lone CR through (dotwriter.go).
	dw := newDotWriter(s.tp.W)
	if _, err := dw.Write(header); err != nil {
		return res, err
	}
	if _, err := dw.Write(body); err != nil {
		return res, err
	}
	if err := dw.Close(); err != nil {
		return res, err
	}
	code, msg, err := s.read(2)
	if err != nil {
		if !isReply(err) {
			return res, err
		}
		res.data = err
		return res, nil
	}
	res.reply = fmt.Sprintf("%d %s", code, strings.ReplaceAll(msg, "\n", " "))
	return res, nil
}

// reset ends a transaction (RSET); false if the connection is unusable.
func (s *session) reset() bool {
	_, _, err := s.cmd(2, "RSET")
	return err == nil || isReply(err)
}

// quit says QUIT (best effort) and closes the connection.
func (s *session) quit() {
	s.deadline(time.Second)
	_, _, _ = s.cmd(2, "QUIT")
	_ = s.nc.Close()
}

func (s *session) close() { _ = s.nc.Close() }

func isReply(err error) bool {
	var se *smtp.SMTPError
	return errors.As(err, &se)
}

// protoErr makes a textproto reply error an SMTP one (with its RFC 2034
// enhanced status code), as go-smtp's client does.
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
