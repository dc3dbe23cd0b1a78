package functions

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"sesame/internal/testenv"
	"sesame/internal/waitfor"
)

const mime = "From: a@sender.test\r\nTo: u1@x.test\r\nSubject: hello\r\n\r\nline one\r\n.leading dot\r\nlast line\r\n"

// mailbox is go-smtp's server in LMTP mode standing in for a mailbox
// server: it refuses the recipients in rcptReply at RCPT and answers
// dataReply per recipient after the data (RFC 2033 §4.2).
type mailbox struct {
	addr      string
	rcptReply map[string]*smtp.SMTPError
	dataReply map[string]*smtp.SMTPError
	stall     chan struct{} // non-nil: the data hangs until closed

	mu   sync.Mutex
	got  []received
	helo []string
}

type received struct {
	from string
	to   []string
	data string
}

func startMailbox(t *testing.T, mb *mailbox) *mailbox {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := smtp.NewServer(smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) {
		mb.mu.Lock()
		mb.helo = append(mb.helo, c.Hostname())
		mb.mu.Unlock()
		return &mailboxSession{mb: mb}, nil
	}))
	srv.LMTP = true
	srv.Domain = "mailbox.test"
	go srv.Serve(ln)
	mb.addr = ln.Addr().String()
	t.Cleanup(func() {
		if mb.stall != nil {
			close(mb.stall)
		}
		srv.Close()
	})
	return mb
}

func (mb *mailbox) received() []received {
	mb.mu.Lock()
	defer mb.mu.Unlock()
	return slices.Clone(mb.got)
}

type mailboxSession struct {
	mb   *mailbox
	from string
	to   []string
}

func (s *mailboxSession) Reset()        { s.from, s.to = "", nil }
func (s *mailboxSession) Logout() error { return nil }
func (s *mailboxSession) Mail(from string, _ *smtp.MailOptions) error {
	s.from = from
	return nil
}

func (s *mailboxSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	if e := s.mb.rcptReply[to]; e != nil {
		return e
	}
	s.to = append(s.to, to)
	return nil
}

func (s *mailboxSession) Data(r io.Reader) error {
	return errors.New("LMTP only")
}

func (s *mailboxSession) LMTPData(r io.Reader, status smtp.StatusCollector) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	if s.mb.stall != nil {
		<-s.mb.stall
	}
	var saved []string
	for _, to := range s.to {
		if e := s.mb.dataReply[to]; e != nil {
			status.SetStatus(to, e)
			continue
		}
		saved = append(saved, to)
		status.SetStatus(to, nil)
	}
	s.mb.mu.Lock()
	s.mb.got = append(s.mb.got, received{from: s.from, to: saved, data: string(b)})
	s.mb.mu.Unlock()
	return nil
}

var (
	noSuchUser  = &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "no such user"}
	mailboxFull = &smtp.SMTPError{Code: 552, EnhancedCode: smtp.EnhancedCode{5, 2, 2}, Message: "mailbox full"}
	tryLater    = &smtp.SMTPError{Code: 450, EnhancedCode: smtp.EnhancedCode{4, 2, 0}, Message: "mailbox busy"}
)

func TestLMTPPerRecipient(t *testing.T) {
	t.Parallel()
	rcpts := []string{"u1@x.test", "u2@x.test", "u3@x.test"}
	for _, tc := range []struct {
		name      string
		rcptReply map[string]*smtp.SMTPError
		dataReply map[string]*smtp.SMTPError
		delivered []string
		failed    []string // "rcpt code"
		temporary bool
	}{
		{name: "all accepted", delivered: rcpts},
		{name: "one refused 550 after the data", dataReply: map[string]*smtp.SMTPError{"u2@x.test": noSuchUser},
			delivered: []string{"u1@x.test", "u3@x.test"}, failed: []string{"u2@x.test 550"}},
		{name: "one refused 450 after the data", dataReply: map[string]*smtp.SMTPError{"u3@x.test": tryLater},
			delivered: []string{"u1@x.test", "u2@x.test"}, failed: []string{"u3@x.test 450"}, temporary: true},
		{name: "450 and 552: permanent", dataReply: map[string]*smtp.SMTPError{"u1@x.test": tryLater, "u3@x.test": mailboxFull},
			delivered: []string{"u2@x.test"}, failed: []string{"u1@x.test 450", "u3@x.test 552"}},
		{name: "one refused 550 at RCPT", rcptReply: map[string]*smtp.SMTPError{"u1@x.test": noSuchUser},
			delivered: []string{"u2@x.test", "u3@x.test"}, failed: []string{"u1@x.test 550"}},
		{name: "all refused at RCPT", rcptReply: map[string]*smtp.SMTPError{"u1@x.test": tryLater, "u2@x.test": tryLater, "u3@x.test": tryLater},
			failed: []string{"u1@x.test 450", "u2@x.test 450", "u3@x.test 450"}, temporary: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			mb := startMailbox(t, &mailbox{rcptReply: tc.rcptReply, dataReply: tc.dataReply})
			iv, logs := newInvoker(t, map[string]string{arn: "lmtp://" + mb.addr}, Options{Hostname: "mx.sesame.test"})
			d, err := iv.Invoke(context.Background(), arn, "Event", []byte(payload),
				Message{MailFrom: "a@sender.test", Recipients: rcpts, Message: []byte(mime)})
			if d != "" {
				t.Errorf("disposition %q from a mailbox", d)
			}
			got := mb.received()
			if len(tc.delivered) == 0 {
				if len(got) != 0 {
					t.Errorf("the mailbox got a message with every recipient refused: %v", got)
				}
			} else if len(got) != 1 || got[0].from != "a@sender.test" || got[0].data != mime || !slices.Equal(got[0].to, tc.delivered) {
				t.Errorf("mailbox got %+v; want %v with the message intact", got, tc.delivered)
			}
			if helo := mb.helo; len(helo) != 1 || helo[0] != "mx.sesame.test" {
				t.Errorf("LHLO names %v", helo)
			}
			if strings.Contains(logs.String(), "leading dot") {
				t.Errorf("the log shows the body:\n%s", logs)
			}
			if tc.failed == nil {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("error = %v; want an *Error", err)
			}
			var failed []string
			for _, f := range e.Failed {
				failed = append(failed, fmt.Sprintf("%s %d", f.Recipient, f.Code))
				if !strings.Contains(err.Error(), f.String()) {
					t.Errorf("error %q does not list %s", err, f)
				}
			}
			slices.Sort(failed)
			if !slices.Equal(failed, tc.failed) || !slices.Equal(e.Delivered, tc.delivered) {
				t.Errorf("failed %v delivered %v; want %v and %v", failed, e.Delivered, tc.failed, tc.delivered)
			}
			if IsTemporary(err) != tc.temporary {
				t.Errorf("IsTemporary = %v, want %v: %v", IsTemporary(err), tc.temporary, err)
			}
		})
	}
}

func TestLMTPSlowServerHitsDeliveryTimeout(t *testing.T) {
	t.Parallel()
	mb := startMailbox(t, &mailbox{stall: make(chan struct{})})
	iv, _ := newInvoker(t, map[string]string{arn: "lmtp://" + mb.addr}, Options{DeliveryTimeout: 200 * time.Millisecond})
	start := time.Now()
	_, err := iv.Invoke(context.Background(), arn, "", nil, Message{MailFrom: "a@sender.test", Recipients: []string{"u1@x.test"}, Message: []byte(mime)})
	if err == nil || !IsTemporary(err) || !strings.Contains(err.Error(), "not done within 200ms") {
		t.Fatalf("error = %v; want a temporary timeout", err)
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("gave up after %v, the timeout is 200ms", took)
	}
}

func TestMailboxUnreachable(t *testing.T) {
	t.Parallel()
	addr := testenv.FreeAddr(t)
	for _, scheme := range []string{"lmtp", "smtp"} {
		iv, _ := newInvoker(t, map[string]string{arn: scheme + "://" + addr}, Options{})
		_, err := iv.Invoke(context.Background(), arn, "", nil, Message{Recipients: []string{"u1@x.test"}, Message: []byte(mime)})
		if err == nil || !IsTemporary(err) {
			t.Errorf("%s to a closed port: error = %v; want a temporary one", scheme, err)
		}
	}
}

func TestSMTPStartTLSWhenOffered(t *testing.T) {
	t.Parallel()
	sinks, port := testenv.StartSinks(t,
		testenv.SinkOptions{StartTLS: true},
		testenv.SinkOptions{},
		testenv.SinkOptions{Reject: map[string]string{"u2@x.test": "550 5.1.1 no such user"}},
	)
	for i, wantTLS := range []bool{true, false, false} {
		iv, _ := newInvoker(t, map[string]string{arn: "smtp://" + net.JoinHostPort(strings.Split(sinks[i].Addr, ":")[0], port)},
			Options{Hostname: "mx.sesame.test"})
		_, err := iv.Invoke(context.Background(), arn, "", nil,
			Message{MailFrom: "a@sender.test", Recipients: []string{"u1@x.test", "u2@x.test"}, Message: []byte(mime)})
		msgs := sinks[i].Messages()
		if len(msgs) != 1 || msgs[0].TLS != wantTLS || msgs[0].Helo != "mx.sesame.test" || msgs[0].From != "a@sender.test" ||
			strings.ReplaceAll(string(msgs[0].Data), "\r\n", "\n") != strings.ReplaceAll(mime, "\r\n", "\n") {
			t.Fatalf("sink %d got %+v; want one message, TLS %v, EHLO mx.sesame.test", i, msgs, wantTLS)
		}
		if i < 2 {
			if err != nil || !slices.Equal(msgs[0].Recipients, []string{"u1@x.test", "u2@x.test"}) {
				t.Errorf("sink %d: %v, recipients %v", i, err, msgs[0].Recipients)
			}
			continue
		}
		var e *Error
		if !errors.As(err, &e) || IsTemporary(err) || len(e.Failed) != 1 || e.Failed[0].Recipient != "u2@x.test" ||
			e.Failed[0].EnhancedCode != "5.1.1" || !slices.Equal(e.Delivered, []string{"u1@x.test"}) {
			t.Errorf("one recipient refused 550: error %#v", err)
		}
	}
}

// smtpSink starts Postfix's smtp-sink on a free loopback port with args,
// dumping each transaction into the returned directory.
func smtpSink(t *testing.T, args ...string) (addr, dir string) {
	t.Helper()
	const bin = "/usr/sbin/smtp-sink"
	if _, err := os.Stat(bin); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("Postfix's smtp-sink is missing (Debian package postfix): %v", err)
		}
		t.Skip("Postfix's smtp-sink is not installed (Debian package postfix)")
	}
	// Not t.TempDir(): its parent is private, and smtp-sink run by root
	// writes as nobody.
	dir, err := os.MkdirTemp("", "smtp-sink")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o777); err != nil {
		t.Fatal(err)
	}
	args = append([]string{"-d", filepath.Join(dir, "%M.")}, args...)
	if os.Getuid() == 0 {
		args = append(args, "-u", "nobody")
	}
	addr = testenv.FreeAddr(t)
	cmd := exec.Command(bin, append(args, addr, "16")...)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	waitfor.True(t, "smtp-sink to listen", func() bool {
		c, err := net.Dial("tcp", addr)
		if err == nil {
			c.Close()
		}
		return err == nil
	})
	return addr, dir
}

func TestSMTPToPostfixSmtpSink(t *testing.T) {
	t.Parallel()
	addr, dir := smtpSink(t)
	iv, _ := newInvoker(t, map[string]string{arn: "smtp://" + addr}, Options{Hostname: "mx.sesame.test"})
	_, err := iv.Invoke(context.Background(), arn, "", nil,
		Message{MailFrom: "a@sender.test", Recipients: []string{"u1@x.test", "u2@x.test"}, Message: []byte(mime)})
	if err != nil {
		t.Fatal(err)
	}
	// smtp-sink fills a dump as the message arrives: wait for its end.
	var dump string
	waitfor.True(t, "smtp-sink's dump", func() bool {
		files, _ := os.ReadDir(dir)
		if len(files) != 1 {
			return false
		}
		b, _ := os.ReadFile(filepath.Join(dir, files[0].Name()))
		dump = string(b)
		return strings.Contains(dump, "last line")
	})
	for _, want := range []string{"X-Helo-Args: mx.sesame.test", "X-Mail-Args: <a@sender.test>", "X-Rcpt-Args: <u1@x.test>",
		"X-Rcpt-Args: <u2@x.test>", "Subject: hello", "\n.leading dot"} {
		if !strings.Contains(dump, want) {
			t.Errorf("smtp-sink's dump lacks %q:\n%s", want, dump)
		}
	}
}

func TestSMTPSmtpSinkRefusals(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name      string
		args      []string
		temporary bool
		code      int
		enhanced  string
	}{
		{"greeting 5xx", []string{"-f", "CONNECT"}, false, 500, "5.3.0"},
		{"EHLO 4xx", []string{"-r", "EHLO,HELO"}, true, 450, "4.3.0"},
		{"MAIL 421", []string{"-Q", "MAIL"}, true, 421, "4.0.0"},
		{"RCPT 4xx", []string{"-r", "RCPT"}, true, 450, "4.3.0"},
		{"end of data 5xx", []string{"-f", "."}, false, 500, "5.3.0"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			addr, _ := smtpSink(t, tc.args...)
			iv, _ := newInvoker(t, map[string]string{arn: "smtp://" + addr}, Options{})
			_, err := iv.Invoke(context.Background(), arn, "", nil,
				Message{MailFrom: "a@sender.test", Recipients: []string{"u1@x.test", "u2@x.test"}, Message: []byte(mime)})
			var e *Error
			if !errors.As(err, &e) || IsTemporary(err) != tc.temporary || len(e.Failed) != 2 || len(e.Delivered) != 0 ||
				e.Failed[0].Code != tc.code || e.Failed[1].EnhancedCode != tc.enhanced {
				t.Errorf("error %v (%+v); want both recipients refused %d %s, temporary %v", err, e, tc.code, tc.enhanced, tc.temporary)
			}
		})
	}
}

func TestMailboxAddressesAndNullSender(t *testing.T) {
	t.Parallel()
	// go-smtp's LMTP server as configured here offers no SMTPUTF8: an
	// internationalised address cannot be delivered, now or later.
	mb := startMailbox(t, &mailbox{})
	iv, _ := newInvoker(t, map[string]string{arn: "lmtp://" + mb.addr}, Options{})
	_, err := iv.Invoke(context.Background(), arn, "", nil, Message{MailFrom: "a@sender.test", Recipients: []string{"jörg@x.test"}, Message: []byte(mime)})
	if err == nil || IsTemporary(err) || !strings.Contains(err.Error(), "SMTPUTF8") {
		t.Errorf("UTF-8 address to a server without SMTPUTF8: error = %v; want a permanent one", err)
	}
	// A bounce (null reverse-path) is delivered as one.
	if _, err := iv.Invoke(context.Background(), arn, "", nil, Message{MailFrom: "", Recipients: []string{"u1@x.test"}, Message: []byte(mime)}); err != nil {
		t.Fatal(err)
	}
	if got := mb.received(); len(got) != 1 || got[0].from != "" || !slices.Equal(got[0].to, []string{"u1@x.test"}) {
		t.Errorf("mailbox got %+v; want one message from <>", got)
	}
	// The test sinks offer SMTPUTF8: it goes through.
	sinks, port := testenv.StartSinks(t, testenv.SinkOptions{})
	iv, _ = newInvoker(t, map[string]string{arn: "smtp://127.0.0.2:" + port}, Options{})
	if _, err := iv.Invoke(context.Background(), arn, "", nil, Message{MailFrom: "ä@sender.test", Recipients: []string{"jörg@x.test", "jörg@x.test"}, Message: []byte(mime)}); err != nil {
		t.Fatal(err)
	}
	if got := sinks[0].Messages(); len(got) != 1 || got[0].From != "ä@sender.test" || !slices.Equal(got[0].Recipients, []string{"jörg@x.test"}) {
		t.Errorf("sink got %+v; want one message to jörg@x.test once", got)
	}
}
