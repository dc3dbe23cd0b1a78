package e2e

import (
	"crypto/tls"
	"fmt"
	"net/smtp"
	"strings"
	"testing"

	"sesame/internal/awsauth"
	"sesame/internal/testenv"
)

// smtpSubmit submits data as is over STARTTLS + AUTH PLAIN with the given
// password and returns the first refusal (a *textproto.Error); failing to
// connect or authenticate fails the test.
func smtpSubmit(t *testing.T, s *testenv.Server, pw, from string, to []string, data string) error {
	t.Helper()
	c, err := smtp.Dial(s.SMTP)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.StartTLS(&tls.Config{InsecureSkipVerify: true, ServerName: "localhost"}); err != nil {
		t.Fatal(err)
	}
	if err := c.Auth(smtp.PlainAuth("", s.KeyID, pw, "127.0.0.1")); err != nil {
		t.Fatal(err)
	}
	return transaction(c, from, to, data)
}

// transaction sends one message over c (MAIL, RCPT…, DATA) and QUITs,
// returning the first refusal.
func transaction(c *smtp.Client, from string, to []string, data string) error {
	if err := c.Mail(from); err != nil {
		return err
	}
	for _, r := range to {
		if err := c.Rcpt(r); err != nil {
			return err
		}
	}
	w, err := c.Data()
	if err != nil {
		return err
	}
	if _, err := w.Write([]byte(data)); err != nil {
		return err
	}
	if err := w.Close(); err != nil {
		return err
	}
	return c.Quit()
}

// smtpSend submits a one-line message and returns the first refusal.
func smtpSend(t *testing.T, s *testenv.Server, pw, from, to string) error {
	t.Helper()
	return smtpSubmit(t, s, pw, from, []string{to}, fmt.Sprintf("From: %s\r\nTo: %s\r\nSubject: parity\r\n\r\nb\r\n", from, to))
}

// smtpSendTo submits one message to several recipients; a refusal fails the test.
func smtpSendTo(t *testing.T, s *testenv.Server, from, subject string, to ...string) {
	t.Helper()
	data := fmt.Sprintf("From: %s\r\nTo: %s\r\nSubject: %s\r\n\r\nHello from sesame.\r\n", from, strings.Join(to, ", "), subject)
	if err := smtpSubmit(t, s, awsauth.SMTPPassword(s.Secret, s.Regions[0]), from, to, data); err != nil {
		t.Fatal(err)
	}
}

// submitRaw submits data as is; a refusal fails the test.
func submitRaw(t *testing.T, s *testenv.Server, from string, to []string, data string) {
	t.Helper()
	if err := smtpSubmit(t, s, awsauth.SMTPPassword(s.Secret, s.Regions[0]), from, to, data); err != nil {
		t.Fatal(err)
	}
}
