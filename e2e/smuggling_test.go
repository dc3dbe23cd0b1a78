package e2e

import (
	"bufio"
	"context"
	"crypto/tls"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/ses"
	sesv1types "github.com/aws/aws-sdk-go-v2/service/ses/types"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	"github.com/aws/aws-sdk-go-v2/service/sesv2/types"

	"sesame/internal/testenv"
)

// smugglingSeparators are the line endings SMTP smuggling rides on
// (CVE-2023-51764 and kin): each is put between a message's first line and
// a complete second SMTP transaction.
var smugglingSeparators = []struct {
	name, sep string
	refused   bool // a bare CR: refused everywhere; the rest are normalized
}{
	{"bare LF", "\n", false},
	{"bare CR", "\r", true},
	{"LF dot LF", "\n.\n", false},
	{"CR dot CR", "\r.\r", true},
	{"LF dot CRLF", "\n.\r\n", false},
	{"CRLF dot LF", "\r\n.\n", false},
}

// smuggledMessage is a message whose body carries a second transaction
// after sep; a server that took sep as the end of data would send the
// second one, to success+smuggled@, as its own message.
func smuggledMessage(subject, sep string) string {
	return "From: sender@example.com\r\nTo: " + simulator + "\r\nSubject: " + subject + "\r\n\r\nfirst" + sep +
		"MAIL FROM:<sender@example.com>\r\nRCPT TO:<success+smuggled@simulator.amazonses.com>\r\nDATA\r\n" +
		"From: sender@example.com\r\nTo: success+smuggled@simulator.amazonses.com\r\nSubject: smuggled " + subject + "\r\n\r\nevil\r\n"
}

// TestSMTPSmuggling sends every separator over both SMTP listeners and the
// raw API (v2 Content.Raw, v1 SendRawEmail): each is refused, or accepted
// as exactly one message, to its one recipient, whose stored content has
// only CRLF line ends and no smuggled second message.
func TestSMTPSmuggling(t *testing.T) {
	s := startProduction(t, testenv.Options{})
	s.Verify("example.com")
	ctx := context.Background()
	v1, v2 := s.SESClient(t), s.SESv2Client(t)

	var accepted []string // subjects that must be captured once each
	var refused []string  // subjects that must not be captured
	for _, sc := range smugglingSeparators {
		for _, via := range []string{"starttls", "wrapper", "v2", "v1"} {
			subject := fmt.Sprintf("smuggle %s via %s", sc.name, via)
			msg := smuggledMessage(subject, sc.sep)
			var ok bool
			switch via {
			case "starttls", "wrapper":
				ok = sendSmuggledSMTP(t, s, via == "wrapper", msg, subject)
			case "v2":
				_, err := v2.SendEmail(ctx, &sesv2.SendEmailInput{Content: &types.EmailContent{Raw: &types.RawMessage{Data: []byte(msg)}}})
				if err != nil && apiCode(err) != "BadRequestException" {
					t.Fatalf("%s: %v", subject, err)
				}
				ok = err == nil
			case "v1":
				_, err := v1.SendRawEmail(ctx, &ses.SendRawEmailInput{RawMessage: &sesv1types.RawMessage{Data: []byte(msg)}})
				if err != nil && apiCode(err) != "InvalidParameterValue" {
					t.Fatalf("%s: %v", subject, err)
				}
				ok = err == nil
			}
			if ok == sc.refused {
				t.Errorf("%s: accepted %v, want accepted %v", subject, ok, !sc.refused)
			}
			if ok {
				accepted = append(accepted, subject)
			} else {
				refused = append(refused, subject)
			}
		}
	}

	msgs := s.WaitCaptured(len(accepted), 30*time.Second)
	bySubject := map[string][]testenv.CapturedMessage{}
	for _, m := range msgs {
		bySubject[m.Subject] = append(bySubject[m.Subject], m)
		if strings.HasPrefix(m.Subject, "smuggled ") || strings.Contains(strings.Join(m.Recipients, ","), "smuggled") {
			t.Errorf("a smuggled message was sent: %q to %v", m.Subject, m.Recipients)
		}
	}
	if len(msgs) != len(accepted) {
		t.Errorf("captured %d messages, want %d", len(msgs), len(accepted))
	}
	for _, subject := range accepted {
		got := bySubject[subject]
		if len(got) != 1 {
			t.Errorf("%s: captured %d times, want once", subject, len(got))
			continue
		}
		m := got[0]
		if strings.Join(m.Recipients, ",") != simulator {
			t.Errorf("%s: recipients %v", subject, m.Recipients)
		}
		raw := m.RawData
		if strings.Count(raw, "\r") != strings.Count(raw, "\r\n") || strings.Count(raw, "\n") != strings.Count(raw, "\r\n") {
			t.Errorf("%s: stored a bare CR or LF:\n%q", subject, raw)
		}
		// The would-be second transaction is body text of the one message.
		if !strings.Contains(raw, "\r\nMAIL FROM:<sender@example.com>\r\nRCPT TO:<success+smuggled@simulator.amazonses.com>\r\n") {
			t.Errorf("%s: body lost the smuggled lines:\n%q", subject, raw)
		}
	}
	for _, subject := range refused {
		if len(bySubject[subject]) != 0 {
			t.Errorf("%s: refused but captured", subject)
		}
	}
}

// sendSmuggledSMTP sends msg as one DATA (no dot-stuffing needed: no line
// starts with a dot but the smuggling ones, which is the point) and
// reports whether it was accepted. Exactly one reply must come to the
// end of data, and the session must stay in step after it.
func sendSmuggledSMTP(t *testing.T, s *testenv.Server, implicit bool, msg, subject string) bool {
	t.Helper()
	c := loginOn(t, s, implicit)
	c.step("MAIL FROM:<sender@example.com>", "250 Ok")
	c.step("RCPT TO:<"+simulator+">", "250 Ok")
	c.step("DATA", "354 End data with <CR><LF>.<CR><LF>")
	c.conn.Write([]byte(msg))
	reply := c.step(".", "~(250 Ok "+messageIDPattern+"|554 Transaction failed: Message contains bare CR or LF characters; lines must end with CRLF\\.)")
	// Had any smuggled command run, its replies would come before this one.
	c.step("NOOP", "250 Ok")
	c.step("QUIT", "221 Bye")
	return strings.HasPrefix(reply, "250 ")
}

// loginOn opens an authenticated session on either listener.
func loginOn(t *testing.T, s *testenv.Server, implicit bool) *conv {
	t.Helper()
	if !implicit {
		return login(t, s)
	}
	c := dial(t, s.SMTPS, true)
	c.expect(greeting)
	c.ehlo(true)
	c.step("AUTH PLAIN "+base64Plain(s.KeyID, smtpPassword(s, s.Regions[0])), "235 Authentication successful.")
	return c
}

// TestSMTPSmugglingSTARTTLSPipelining: commands sent in the same packet
// as STARTTLS are plaintext an attacker on the path could have injected
// (CVE-2011-0411); they are dropped, never run under TLS. On the wrapper
// port STARTTLS is refused and the rest runs as plain pipelining.
func TestSMTPSmugglingSTARTTLSPipelining(t *testing.T) {
	s := testenv.Start(t, testenv.Options{})
	c := dial(t, s.SMTP, false)
	c.expect(greeting)
	c.ehlo(false)
	c.conn.Write([]byte("STARTTLS\r\nMAIL FROM:<injected@example.com>\r\nNOOP\r\n"))
	c.startTLSAfterReply("localhost")
	// Were the injected commands run now, "530 Authentication required"
	// and "250 Ok" would answer before these.
	c.step("RSET", "250 Ok")
	c.ehlo(true)
	c.step("QUIT", "221 Bye")

	w := dial(t, s.SMTPS, true)
	w.expect(greeting)
	w.conn.Write([]byte("STARTTLS\r\nMAIL FROM:<injected@example.com>\r\n"))
	w.expect("503 TLS already active")
	w.expect("530 Authentication required")
	w.step("QUIT", "221 Bye")
}

// startTLSAfterReply is startTLS for a STARTTLS already sent.
func (c *conv) startTLSAfterReply(serverName string) {
	c.t.Helper()
	c.expect("220 Ready to start TLS")
	tc := tls.Client(c.conn, &tls.Config{InsecureSkipVerify: true, ServerName: serverName})
	c.conn.SetDeadline(time.Now().Add(10 * time.Second))
	if err := tc.Handshake(); err != nil {
		c.t.Fatalf("TLS handshake: %v", err)
	}
	c.conn = tc
	c.r = bufio.NewReader(tc)
}
