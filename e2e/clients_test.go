package e2e

import (
	"crypto/tls"
	"fmt"
	"net"
	"net/smtp"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"sesame/internal/awsauth"
	"sesame/internal/testenv"
)

var acceptedRE = regexp.MustCompile(`250 Ok (` + messageIDPattern + `)`)

// TestRealClients sends through every real client the issue names and reads
// each message back from /_aws/ses.
func TestRealClients(t *testing.T) {
	s := testenv.Start(t, testenv.Options{})
	s.Verify("example.com")
	// The sandbox's 1 message/s would throttle this burst of clients (as SES would).
	s.Admin(nil, "account", "set", "--max-send-rate", "1000")
	time.Sleep(1100 * time.Millisecond) // admin changes reach the running server within a second
	pw := awsauth.SMTPPassword(s.Secret, s.Regions[0])
	const rcpt = "success@simulator.amazonses.com"

	clients := []struct {
		name string
		send func(t *testing.T, subject string)
	}{
		{"go net/smtp STARTTLS", func(t *testing.T, subject string) {
			if err := smtpSubmit(t, s, pw, "sender@example.com", []string{rcpt}, goMessage(subject)); err != nil {
				t.Fatal(err)
			}
		}},
		{"go net/smtp TLS wrapper", func(t *testing.T, subject string) {
			conn, err := tls.Dial("tcp", s.SMTPS, &tls.Config{InsecureSkipVerify: true})
			if err != nil {
				t.Fatal(err)
			}
			c, err := smtp.NewClient(conn, "localhost")
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			if err := c.Auth(smtp.PlainAuth("", s.KeyID, pw, "localhost")); err != nil {
				t.Fatal(err)
			}
			sendVia(t, c, subject)
		}},
		{"python3 smtplib STARTTLS", func(t *testing.T, subject string) {
			runPython(t, s.SMTP, false, s.KeyID, pw, subject)
		}},
		{"python3 smtplib SMTP_SSL", func(t *testing.T, subject string) {
			runPython(t, s.SMTPS, true, s.KeyID, pw, subject)
		}},
		{"swaks STARTTLS AUTH LOGIN", func(t *testing.T, subject string) {
			runSwaks(t, s.SMTP, "--tls", s.KeyID, pw, subject)
		}},
		{"swaks TLS on connect", func(t *testing.T, subject string) {
			runSwaks(t, s.SMTPS, "--tls-on-connect", s.KeyID, pw, subject)
		}},
		{"openssl s_client -starttls smtp", func(t *testing.T, subject string) {
			runOpenSSL(t, s.SMTP, s.KeyID, pw, subject)
		}},
	}
	for _, c := range clients {
		t.Run(c.name, func(t *testing.T) {
			subject := "via " + c.name
			c.send(t, subject)
			deadline := time.Now().Add(10 * time.Second)
			for {
				for _, m := range s.Captured("email=" + rcpt) {
					if m.Subject == subject {
						if m.Source != "sender@example.com" || len(m.Recipients) != 1 || m.Recipients[0] != rcpt {
							t.Errorf("captured envelope = %q → %v", m.Source, m.Recipients)
						}
						if !regexp.MustCompile("^" + messageIDPattern + "$").MatchString(m.ID) {
							t.Errorf("message id %q is not in SES's format", m.ID)
						}
						if !strings.Contains(m.RawData, "Message-ID: <"+m.ID+"@us-east-1.sesame.test>") &&
							!strings.Contains(m.RawData, "Message-Id: ") && !strings.Contains(m.RawData, "Message-ID: ") {
							t.Errorf("no Message-ID in captured message:\n%s", m.RawData)
						}
						if m.Body.TextPart == nil || !strings.Contains(*m.Body.TextPart, "hello from") {
							t.Errorf("captured text part = %v", m.Body.TextPart)
						}
						return
					}
				}
				if time.Now().After(deadline) {
					t.Fatalf("message %q never captured", subject)
				}
				time.Sleep(50 * time.Millisecond)
			}
		})
	}
}

func sendVia(t *testing.T, c *smtp.Client, subject string) {
	t.Helper()
	if err := transaction(c, "sender@example.com", []string{"success@simulator.amazonses.com"}, goMessage(subject)); err != nil {
		t.Fatal(err)
	}
}

func goMessage(subject string) string {
	return fmt.Sprintf("From: sender@example.com\r\nTo: success@simulator.amazonses.com\r\nSubject: %s\r\n\r\nhello from Go\r\n", subject)
}

const pythonSender = `
import smtplib, ssl, sys
from email.message import EmailMessage
host, port, implicit, user, pw, subject = sys.argv[1], int(sys.argv[2]), sys.argv[3] == "1", sys.argv[4], sys.argv[5], sys.argv[6]
ctx = ssl.create_default_context(); ctx.check_hostname = False; ctx.verify_mode = ssl.CERT_NONE
msg = EmailMessage()
msg["From"] = "sender@example.com"; msg["To"] = "success@simulator.amazonses.com"; msg["Subject"] = subject
msg.set_content("hello from python")
if implicit:
    s = smtplib.SMTP_SSL(host, port, context=ctx, timeout=10)
else:
    s = smtplib.SMTP(host, port, timeout=10); s.starttls(context=ctx)
s.login(user, pw)
s.send_message(msg)
s.quit()
`

func runPython(t *testing.T, addr string, implicit bool, user, pw, subject string) {
	t.Helper()
	py := testenv.Tool(t, "/usr/bin/python3")
	host, port, _ := net.SplitHostPort(addr)
	flag := "0"
	if implicit {
		flag = "1"
	}
	out, err := exec.Command(py, "-c", pythonSender, host, port, flag, user, pw, subject).CombinedOutput()
	if err != nil {
		t.Fatalf("python3: %v\n%s", err, out)
	}
}

func runSwaks(t *testing.T, addr, tlsFlag, user, pw, subject string) {
	t.Helper()
	swaks := testenv.Tool(t, "swaks")
	out, err := exec.Command(swaks, "--server", addr, tlsFlag, "--auth", "LOGIN", "--auth-user", user, "--auth-password", pw,
		"--from", "sender@example.com", "--to", "success@simulator.amazonses.com",
		"--header", "Subject: "+subject, "--body", "hello from swaks").CombinedOutput()
	if err != nil {
		t.Fatalf("swaks: %v\n%s", err, out)
	}
	if !acceptedRE.Match(out) {
		t.Fatalf("swaks saw no 250 Ok <MessageId>:\n%s", out)
	}
}

// runOpenSSL drives a whole dialogue through openssl s_client's STARTTLS.
func runOpenSSL(t *testing.T, addr, user, pw, subject string) {
	t.Helper()
	openssl := testenv.Tool(t, "openssl")
	cmd := exec.Command(openssl, "s_client", "-quiet", "-starttls", "smtp", "-connect", addr, "-crlf", "-ign_eof")
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	plain := base64Plain(user, pw)
	script := []string{"EHLO openssl.example", "AUTH PLAIN " + plain, "MAIL FROM:<sender@example.com>",
		"RCPT TO:<success@simulator.amazonses.com>", "DATA",
		"From: sender@example.com\nSubject: " + subject + "\n\nhello from openssl\n.", "QUIT"}
	for _, line := range script {
		fmt.Fprintln(stdin, line)
		time.Sleep(150 * time.Millisecond) // s_client has no reply-driven mode; pace the script
	}
	stdin.Close()
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(15 * time.Second):
		cmd.Process.Kill()
		t.Fatalf("openssl s_client hung:\n%s", out.String())
	}
	if !strings.Contains(out.String(), "235 Authentication successful.") || !acceptedRE.MatchString(out.String()) {
		t.Fatalf("openssl dialogue without AUTH/250 Ok <id>:\n%s", out.String())
	}
}
