package functions

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/textproto"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/emersion/go-smtp"
)

// deliver hands msg to a mailbox server over LMTP (RFC 2033) or SMTP. Each
// recipient's fate is the server's own answer: LMTP gives one per
// recipient after the data, SMTP one for all that RCPT accepted.
func (iv *Invoker) deliver(ctx context.Context, u *url.URL, msg Message) error {
	msg.Recipients = unique(msg.Recipients) // LMTP's replies are matched to recipients by address
	if len(msg.Recipients) == 0 {
		return &Error{Err: errors.New("no recipients to deliver to")}
	}
	ctx, cancel := context.WithTimeout(ctx, iv.opt.DeliveryTimeout)
	defer cancel()
	d := net.Dialer{Timeout: iv.opt.ConnectTimeout}
	conn, err := d.DialContext(ctx, "tcp", u.Host)
	if err != nil {
		return &Error{Temporary: true, Err: iv.deliveryError(ctx, err)}
	}
	defer conn.Close()
	// go-smtp sets and then clears a deadline around each command, so a
	// deadline on the connection would not hold for the whole delivery:
	// closing it when ctx ends does.
	defer context.AfterFunc(ctx, func() { conn.Close() })()

	lmtp := u.Scheme == "lmtp"
	var c *smtp.Client
	if lmtp {
		c = smtp.NewClientLMTP(conn)
	} else {
		tc, err := iv.startTLS(conn, u.Hostname())
		if err != nil {
			return iv.sessionError(ctx, err, msg.Recipients)
		}
		c = smtp.NewClient(tc)
	}
	c.CommandTimeout, c.SubmissionTimeout = iv.opt.DeliveryTimeout, iv.opt.DeliveryTimeout
	if err := c.Hello(iv.opt.Hostname); err != nil {
		return iv.sessionError(ctx, err, msg.Recipients)
	}
	opts := &smtp.MailOptions{Size: int64(len(msg.Message)), UTF8: !ascii(msg.MailFrom, msg.Recipients)}
	if ok, _ := c.Extension("SMTPUTF8"); opts.UTF8 && !ok {
		// RFC 6531 §3.4: no downgrade of an address; no retry will change it.
		return &Error{Err: errors.New("the server does not offer SMTPUTF8, which the addresses need")}
	}
	if err := c.Mail(msg.MailFrom, opts); err != nil {
		return iv.sessionError(ctx, err, msg.Recipients)
	}
	var accepted []string
	var failed []RecipientError
	for _, r := range msg.Recipients {
		err := c.Rcpt(r, nil)
		var se *smtp.SMTPError
		switch {
		case err == nil:
			accepted = append(accepted, r)
		case errors.As(err, &se):
			failed = append(failed, refusal(r, se))
		default:
			return iv.sessionError(ctx, err, msg.Recipients)
		}
	}
	if len(accepted) == 0 {
		_ = c.Quit()
		return result(nil, failed, nil)
	}
	w, err := c.Data()
	if err != nil {
		var se *smtp.SMTPError
		if !errors.As(err, &se) {
			return &Error{Temporary: true, Err: iv.deliveryError(ctx, err)}
		}
		for _, r := range accepted {
			failed = append(failed, refusal(r, se))
		}
		return result(nil, failed, nil)
	}
	if _, err := w.Write(msg.Message); err != nil {
		return &Error{Temporary: true, Err: fmt.Errorf("sending the message: %w", iv.deliveryError(ctx, err))}
	}
	var delivered []string
	var lost error
	if lmtp {
		delivered, failed, lost = closeLMTP(w, accepted, failed)
	} else {
		_, err := w.CloseWithResponse()
		var se *smtp.SMTPError
		switch {
		case err == nil:
			delivered = accepted
		case errors.As(err, &se):
			for _, r := range accepted {
				failed = append(failed, refusal(r, se))
			}
		default:
			lost = err
		}
	}
	if lost != nil {
		lost = fmt.Errorf("after the message: %w", iv.deliveryError(ctx, lost))
	}
	_ = c.Quit()
	return result(delivered, failed, lost)
}

// closeLMTP ends the data and reads one reply per accepted recipient
// (RFC 2033 §4.2). A connection lost midway leaves the recipients with no
// reply yet: lost says so.
func closeLMTP(w *smtp.DataCommand, accepted []string, failed []RecipientError) (delivered []string, _ []RecipientError, lost error) {
	resp, err := w.CloseWithLMTPResponse()
	var perRcpt smtp.LMTPDataError
	errors.As(err, &perRcpt)
	for _, r := range accepted {
		if se, ok := perRcpt[r]; ok {
			failed = append(failed, refusal(r, se))
		} else if _, ok := resp[r]; ok {
			delivered = append(delivered, r)
		}
	}
	if n := len(delivered) + len(perRcpt); n < len(accepted) {
		lost = fmt.Errorf("%d of %d recipients got no reply: %w", len(accepted)-n, len(accepted), err)
	}
	return delivered, failed, lost
}

// result is a delivery's error: nil when every recipient was delivered.
// One 5xx makes it permanent (a retry cannot deliver that recipient); only
// 4xx refusals or a lost connection make it temporary.
func result(delivered []string, failed []RecipientError, lost error) error {
	if len(failed) == 0 && lost == nil {
		return nil
	}
	e := &Error{Delivered: delivered, Failed: failed, Temporary: true}
	var parts []string
	if len(delivered) > 0 {
		parts = append(parts, "delivered to "+strings.Join(delivered, ", "))
	}
	if len(failed) > 0 {
		refused := make([]string, len(failed))
		for i, f := range failed {
			refused[i] = f.String()
			e.Temporary = e.Temporary && f.Temporary()
		}
		parts = append(parts, "refused "+strings.Join(refused, "; "))
	}
	switch {
	case lost == nil:
		e.Err = errors.New(strings.Join(parts, "; "))
	case len(parts) == 0:
		e.Err = lost
	default:
		e.Err = fmt.Errorf("%s; %w", strings.Join(parts, "; "), lost)
	}
	return e
}

// sessionError is a failure that concerns every recipient in rcpts: a
// reply to the greeting, LHLO/EHLO, MAIL or DATA, or a broken connection.
func (iv *Invoker) sessionError(ctx context.Context, err error, rcpts []string) *Error {
	var se *smtp.SMTPError
	if errors.As(err, &se) {
		failed := make([]RecipientError, len(rcpts))
		for i, r := range rcpts {
			failed[i] = refusal(r, se)
		}
		return result(nil, failed, nil).(*Error)
	}
	return &Error{Temporary: true, Err: iv.deliveryError(ctx, err)}
}

// deliveryError names a delivery cut by its timeout (the connection was
// closed under it) as such.
func (iv *Invoker) deliveryError(ctx context.Context, err error) error {
	// go-smtp's own per-command deadline may fire at the same moment as
	// ctx's: a deadline passed counts, not only ctx's verdict (ctx runs
	// on the wall clock, not on Options.Clock).
	dl, ok := ctx.Deadline()
	if errors.Is(ctx.Err(), context.DeadlineExceeded) || (ok && !time.Now().Before(dl)) {
		return fmt.Errorf("not done within %v: %w", iv.opt.DeliveryTimeout, err)
	}
	return err
}

func refusal(rcpt string, se *smtp.SMTPError) RecipientError {
	r := RecipientError{Recipient: rcpt, Code: se.Code, Message: se.Message}
	if c := se.EnhancedCode; c != (smtp.EnhancedCode{}) && c != smtp.NoEnhancedCode {
		r.EnhancedCode = fmt.Sprintf("%d.%d.%d", c[0], c[1], c[2])
	}
	return r
}

func unique(rcpts []string) []string {
	seen := make(map[string]bool, len(rcpts))
	var out []string
	for _, r := range rcpts {
		if !seen[r] {
			seen[r] = true
			out = append(out, r)
		}
	}
	return out
}

func ascii(from string, to []string) bool {
	isASCII := func(s string) bool {
		for i := 0; i < len(s); i++ {
			if s[i] >= 0x80 {
				return false
			}
		}
		return true
	}
	return isASCII(from) && !slices.ContainsFunc(to, func(s string) bool { return !isASCII(s) })
}

// startTLS upgrades an SMTP connection when the server offers STARTTLS
// (opportunistic: a server without it gets the message in the clear).
// go-smtp's client starts TLS only where it must (NewClientStartTLS fails
// without the extension, and greets as "localhost"), so this talks the
// greeting, EHLO and STARTTLS itself and hands go-smtp a connection that
// replays the greeting; go-smtp then sends its EHLO, which after STARTTLS
// RFC 3207 §4.2 requires anyway (and which RFC 5321 §4.1.4 allows again
// in the clear).
func (iv *Invoker) startTLS(conn net.Conn, host string) (net.Conn, error) {
	_ = conn.SetDeadline(time.Now().Add(iv.opt.ConnectTimeout))
	defer conn.SetDeadline(time.Time{})
	tp := textproto.NewConn(conn)
	_, greeting, err := tp.ReadResponse(220)
	if err != nil {
		return nil, protoError(err)
	}
	greeting, _, _ = strings.Cut(greeting, "\n")
	replay := func(c net.Conn) net.Conn {
		return &greetedConn{Conn: c, r: io.MultiReader(strings.NewReader("220 "+greeting+"\r\n"), c)}
	}
	if err := tp.PrintfLine("EHLO %s", iv.opt.Hostname); err != nil {
		return nil, err
	}
	_, ext, err := tp.ReadResponse(250)
	if err != nil {
		var pe *textproto.Error
		if errors.As(err, &pe) {
			return replay(conn), nil // no EHLO: go-smtp falls back to HELO
		}
		return nil, err
	}
	if !slices.ContainsFunc(strings.Split(ext, "\n")[1:], func(l string) bool {
		return strings.EqualFold(strings.TrimSpace(l), "STARTTLS")
	}) {
		return replay(conn), nil
	}
	if err := tp.PrintfLine("STARTTLS"); err != nil {
		return nil, err
	}
	if _, _, err := tp.ReadResponse(220); err != nil {
		var pe *textproto.Error
		if errors.As(err, &pe) && pe.Code/100 == 4 {
			return replay(conn), nil // 454: TLS not available now; opportunistic, so on in the clear
		}
		return nil, protoError(err)
	}
	cfg := iv.opt.TLSConfig
	if cfg == nil {
		cfg = &tls.Config{InsecureSkipVerify: true} // #nosec G402 -- opportunistic TLS (RFC 7435): encryption without authentication
	}
	if cfg.ServerName == "" {
		cfg = cfg.Clone()
		cfg.ServerName = host
	}
	tc := tls.Client(conn, cfg)
	if err := tc.Handshake(); err != nil {
		return nil, fmt.Errorf("STARTTLS handshake: %w", err)
	}
	return replay(tc), nil
}

// protoError turns a textproto reply error into go-smtp's, so replies
// read by startTLS and by go-smtp are judged alike.
func protoError(err error) error {
	var pe *textproto.Error
	if !errors.As(err, &pe) {
		return err
	}
	e := &smtp.SMTPError{Code: pe.Code, EnhancedCode: smtp.NoEnhancedCode, Message: pe.Msg}
	if code, text, ok := strings.Cut(pe.Msg, " "); ok {
		var c smtp.EnhancedCode
		if n, _ := fmt.Sscanf(code, "%d.%d.%d", &c[0], &c[1], &c[2]); n == 3 && c[0] == pe.Code/100 {
			e.EnhancedCode, e.Message = c, text
		}
	}
	return e
}

// greetedConn is a connection whose first read is a greeting already
// consumed from it.
type greetedConn struct {
	net.Conn
	r io.Reader
}

func (g *greetedConn) Read(p []byte) (int, error) { return g.r.Read(p) }
