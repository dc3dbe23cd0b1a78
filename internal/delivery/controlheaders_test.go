package delivery

import (
	"bytes"
	"context"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"sesame/internal/spool"
	"sesame/internal/store"
	"sesame/internal/testenv"
)

// withControls is a message as a client sent it, SES's control headers
// (any case, one folded) among its fields; the spool keeps it so.
const withControls = "X-SES-CONFIGURATION-SET: cs\r\nFrom: sender@example.com\r\nTo: u@a.test\r\n" +
	"x-ses-message-tags: a=1,\r\n\tb=2\r\nSubject: controls\r\nX-SES-SOURCE-ARN: arn:aws:ses:us-east-1:1:identity/example.com\r\n" +
	"X-Ses-From-Arn: arn:f\r\nX-SES-RETURN-PATH-ARN: arn:r\r\nX-SES-LIST-MANAGEMENT-OPTIONS: list; topic=t\r\n" +
	"Message-ID: <m@test>\r\n\r\nX-SES-CONFIGURATION-SET: body text stays\r\n"

// withoutControls is what leaves sesame of it.
const withoutControls = "From: sender@example.com\r\nTo: u@a.test\r\nSubject: controls\r\nMessage-ID: <m@test>\r\n" +
	"\r\nX-SES-CONFIGURATION-SET: body text stays\r\n"

// spoolRaw spools raw as message id.
func spoolRaw(t *testing.T, sp *spool.Spool, id, raw string, rcpts ...string) {
	t.Helper()
	d, err := sp.NewDraft()
	if err != nil {
		t.Fatal(err)
	}
	io.WriteString(d, raw)
	if err := sp.Append(context.Background(), &spool.Envelope{ID: id, AccountID: testAccount, Region: testRegion,
		MailFrom: "sender@example.com", Recipients: rcpts, Received: time.Now(), Via: "smtp"}, nil, d); err != nil {
		t.Fatal(err)
	}
}

// recordingSigner keeps what it was asked to sign.
type recordingSigner struct {
	mu     sync.Mutex
	signed []byte
}

func (s *recordingSigner) Sign(ctx context.Context, acct, region string, r io.Reader) ([]byte, error) {
	b, _ := io.ReadAll(r)
	s.mu.Lock()
	s.signed = b
	s.mu.Unlock()
	return fakeSigner{}.Sign(ctx, acct, region, bytes.NewReader(b))
}

// MX delivery sends the message without SES's control headers and signs
// exactly what it sends; capture mode keeps the same bytes, so the two
// modes agree on what was delivered.
func TestControlHeadersNeverLeave(t *testing.T) {
	signer := &recordingSigner{}
	env := startMX(t, func(m *MX) { m.Signer = signer }, testenv.SinkOptions{})
	env.dns.SetMX("a.test", 10, "mx2.test")
	spoolRaw(t, env.spool, "0100ctl-0001", withControls, "u@a.test")
	env.waitGone("0100ctl-0001")
	got := env.sinks[0].Messages()
	if len(got) != 1 {
		t.Fatalf("delivered %d", len(got))
	}
	data := string(got[0].Data)
	sig, rest, _ := strings.Cut(data, "\r\n")
	if !strings.HasPrefix(sig, "DKIM-Signature: ") {
		t.Fatalf("not signed:\n%s", data)
	}
	if rest != string(signer.signed) {
		t.Errorf("signed bytes differ from the delivered ones:\nsigned    %q\ndelivered %q", signer.signed, rest)
	}
	feedback, sent, _ := strings.Cut(rest, "\r\n")
	if !strings.HasPrefix(feedback, "Feedback-ID: ") || sent != withoutControls {
		t.Errorf("delivered:\n%q\nwant after Feedback-ID:\n%q", rest, withoutControls)
	}

	// Capture mode, same spooled bytes.
	dir := t.TempDir()
	st, err := store.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	sp, err := spool.Open(dir+"/spool", spool.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer sp.Close()
	spoolRaw(t, sp, "0100ctl-0002", withControls, "u@a.test")
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- (&Capture{Spool: sp, Store: st}).Run(ctx) }()
	for deadline := time.Now().Add(10 * time.Second); sp.Len() > 0 && time.Now().Before(deadline); {
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	msgs, err := st.Captured(context.Background(), store.CaptureFilter{})
	if err != nil || len(msgs) != 1 {
		t.Fatalf("captured %d, %v", len(msgs), err)
	}
	if string(msgs[0].Raw) != sent {
		t.Errorf("capture keeps\n%q\nMX delivered\n%q", msgs[0].Raw, sent)
	}
}

// The DSN's copy of the original header section is the header as
// delivered: no control headers in it either.
func TestDSNQuotesHeaderWithoutControls(t *testing.T) {
	env := startMX(t, nil, testenv.SinkOptions{Reject: map[string]string{"u@a.test": "550 5.1.1 no such user"}})
	env.dns.SetMX("a.test", 10, "mx2.test")
	spoolRaw(t, env.spool, "0100ctl-0003", withControls, "u@a.test")
	env.waitGone("0100ctl-0003")
	dsns := env.dsns.sent()
	if len(dsns) != 1 {
		t.Fatalf("%d DSNs", len(dsns))
	}
	dsn := string(dsns[0].Message)
	if strings.Contains(strings.ToLower(dsn), "x-ses-configuration-set") || strings.Contains(strings.ToLower(dsn), "arn:") ||
		!strings.Contains(dsn, "Content-Type: text/rfc822-headers\r\n\r\nFrom: sender@example.com\r\nTo: u@a.test\r\nSubject: controls\r\nMessage-ID: <m@test>\r\n") {
		t.Errorf("DSN:\n%s", dsn)
	}
}
