package e2e

import (
	"bufio"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"sesame/internal/awsauth"
	"sesame/internal/testenv"
)

// smtpLoad sends to rcpt over one STARTTLS+AUTH session until stop closes
// or the connection ends (the process was killed); each "250 Ok <id>" is
// acknowledged.
func smtpLoad(addr, user, pw, rcpt string, stop <-chan struct{}, acked func(string)) error {
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return err
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(2 * time.Minute))
	var r *bufio.Reader = bufio.NewReader(conn)
	var w io.Writer = conn
	cmd := func(line, want string) (string, error) {
		if line != "" {
			if _, err := io.WriteString(w, line+"\r\n"); err != nil {
				return "", err
			}
		}
		for {
			reply, err := r.ReadString('\n')
			if err != nil {
				return reply, err
			}
			if len(reply) >= 4 && reply[3] == '-' {
				continue
			}
			reply = strings.TrimRight(reply, "\r\n")
			if !strings.HasPrefix(reply, want) {
				return reply, fmt.Errorf("%q → %q", line, reply)
			}
			return reply, nil
		}
	}
	steps := [][2]string{{"", "220"}, {"EHLO load.example", "250"}, {"STARTTLS", "220"}}
	for _, st := range steps {
		if _, err := cmd(st[0], st[1]); err != nil {
			return err
		}
	}
	tc := tls.Client(conn, &tls.Config{InsecureSkipVerify: true, ServerName: "localhost"})
	r, w = bufio.NewReader(tc), tc
	if _, err := cmd("EHLO load.example", "250"); err != nil {
		return err
	}
	if _, err := cmd("AUTH PLAIN "+base64Plain(user, pw), "235"); err != nil {
		return err
	}
	for n := 0; ; n++ {
		select {
		case <-stop:
			cmd("QUIT", "221")
			return nil
		default:
		}
		for _, st := range [][2]string{{"MAIL FROM:<sender@example.com>", "250"}, {"RCPT TO:<" + rcpt + ">", "250"}, {"DATA", "354"}} {
			if _, err := cmd(st[0], st[1]); err != nil {
				return err
			}
		}
		body := fmt.Sprintf("From: sender@example.com\r\nTo: %s\r\nSubject: smtp %d\r\n\r\n%s\r\n.", rcpt, n, strings.Repeat(strings.Repeat("x", 78)+"\r\n", 10))
		reply, err := cmd(body, "250 Ok ")
		if err != nil {
			return err
		}
		acked(strings.TrimPrefix(reply, "250 Ok "))
	}
}

// TestCrashKeepsEveryAcknowledgedMessage: 20 connections send; the server
// is killed with SIGKILL mid-load and restarted; every message that got
// "250 Ok <id>" is captured afterwards, none twice.
func TestCrashKeepsEveryAcknowledgedMessage(t *testing.T) {
	s := testenv.Start(t, testenv.Options{SMTPExtra: "max_messages_per_connection = 100000"})
	s.Verify("example.com")
	s.Production()
	time.Sleep(1100 * time.Millisecond) // admin changes reach the running server within a second
	pw := awsauth.SMTPPassword(s.Secret, s.Regions[0])

	var mu sync.Mutex
	acked := map[string]int{}
	var total atomic.Int64
	record := func(id string) {
		mu.Lock()
		acked[id]++
		mu.Unlock()
		total.Add(1)
	}
	phase := func(until int64, kill bool) {
		stop := make(chan struct{})
		var wg sync.WaitGroup
		for i := 0; i < 20; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				smtpLoad(s.SMTP, s.KeyID, pw, "rcpt@example.net", stop, record)
			}()
		}
		deadline := time.Now().Add(60 * time.Second)
		for total.Load() < until && time.Now().Before(deadline) {
			time.Sleep(5 * time.Millisecond)
		}
		if kill {
			s.Kill() // mid-load: sessions are in DATA, in Submit, in the spool's commit
		}
		close(stop)
		wg.Wait()
	}
	phase(1200, true)
	killedAt := total.Load()
	t.Logf("killed after %d acknowledged messages", killedAt)
	s.Restart()
	phase(killedAt+1000, false)
	want := int(total.Load())
	if want < 2000 {
		t.Fatalf("only %d messages acknowledged; the load did not run", want)
	}
	for id, n := range acked {
		if n != 1 {
			t.Fatalf("id %s acknowledged %d times", id, n)
		}
	}
	msgs := s.WaitCaptured(want, 60*time.Second)
	capturedOnce(t, acked, msgs)
	t.Logf("%d acknowledged, %d captured (extras were committed but their 250 was cut by the kill)", want, len(msgs))
}

// capturedOnce fails t unless every acknowledged id is among the captured
// messages, and none is captured twice.
func capturedOnce(t *testing.T, acked map[string]int, msgs []testenv.CapturedMessage) {
	t.Helper()
	seen := map[string]int{}
	for _, m := range msgs {
		seen[m.ID]++
	}
	missing := 0
	for id := range acked {
		if seen[id] == 0 {
			missing++
		}
	}
	for id, n := range seen {
		if n > 1 {
			t.Errorf("message %s captured %d times", id, n)
		}
	}
	if missing > 0 {
		t.Fatalf("%d of %d acknowledged messages lost after SIGKILL", missing, len(acked))
	}
}
