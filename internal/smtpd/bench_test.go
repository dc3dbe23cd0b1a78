package smtpd

import (
	"bufio"
	"context"
	"crypto/tls"
	"encoding/base64"
	"strings"
	"testing"

	"sesame/internal/sending"
)

// leanBackend accepts everything without reading it back, so the
// benchmark measures the SMTP side.
type leanBackend struct{ *testBackend }

func (b leanBackend) Submit(ctx context.Context, sub *sending.Submission) (string, error) {
	sub.Draft.Discard()
	return testID, nil
}

// BenchmarkSession sends b.N messages of about 2 KB over one TLS session,
// the way a submission client reuses its connection.
func BenchmarkSession(b *testing.B) {
	be := newTestBackend(b)
	ts := startServerWith(b, leanBackend{be}, func(c *Config) { c.MaxMessagesPerConn = 1 << 30 })
	conn, err := tls.Dial("tcp", ts.wrapper, clientTLS("localhost"))
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close()
	r, w := bufio.NewReader(conn), bufio.NewWriter(conn)
	expect := func(prefix string) {
		line, err := r.ReadString('\n')
		if err != nil || !strings.HasPrefix(line, prefix) {
			b.Fatalf("got %q, %v; want %s...", line, err, prefix)
		}
	}
	send := func(s string) {
		w.WriteString(s)
		if err := w.Flush(); err != nil {
			b.Fatal(err)
		}
	}
	expect("220 ")
	send("AUTH PLAIN " + base64.StdEncoding.EncodeToString([]byte("\x00"+testUser+"\x00"+testPassword)) + "\r\n")
	expect("235 ")
	var body strings.Builder
	body.WriteString("From: sender@example.com\r\nTo: rcpt@example.net\r\nSubject: bench\r\n\r\n")
	for body.Len() < 2000 {
		body.WriteString("The quick brown fox jumps over the lazy dog, again and again and again.\r\n")
	}
	body.WriteString(".\r\n")
	msg := body.String()
	b.SetBytes(int64(len(msg)))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		send("MAIL FROM:<sender@example.com>\r\n")
		expect("250 ")
		send("RCPT TO:<rcpt@example.net>\r\n")
		expect("250 ")
		send("DATA\r\n")
		expect("354 ")
		send(msg)
		expect("250 Ok ")
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msg/s")
	send("QUIT\r\n")
	expect("221 ")
}
