package e2e

import (
	"testing"
	"time"

	"sesame/internal/testenv"
)

// adminSettle is how long an admin change may take to reach the running
// server (the operator's contract says within a second).
const adminSettle = 1100 * time.Millisecond

// TestAdminChangesReachTheRunningServer drives the sandbox, quotas and the
// paused state through `sesame admin` while the server runs, with SES's
// replies at the end of DATA.
func TestAdminChangesReachTheRunningServer(t *testing.T) {
	s := testenv.Start(t, testenv.Options{})
	s.Verify("example.com")
	msg := []string{"From: sender@example.com", "Subject: q", "", "x"}
	send := func(c *conv, rcpt, want string) {
		t.Helper()
		c.step("MAIL FROM:<sender@example.com>", "250 Ok")
		c.step("RCPT TO:<"+rcpt+">", "250 Ok")
		c.sendData(msg, want)
	}

	// Sandbox default: 1 recipient per second.
	c := login(t, s)
	send(c, "success@simulator.amazonses.com", "~250 Ok "+messageIDPattern)
	send(c, "success@simulator.amazonses.com", "454 Throttling failure: Maximum sending rate exceeded")

	// Production: any recipient; a daily quota of 2 recipients.
	s.Admin(nil, "account", "set", "--production", "--max-send-rate", "100", "--max-24h-send", "2")
	time.Sleep(adminSettle)
	c = login(t, s)
	send(c, "a@example.net", "~250 Ok "+messageIDPattern)
	send(c, "b@example.net", "~250 Ok "+messageIDPattern)
	send(c, "c@example.net", "454 Throttling failure: Daily message quota exceeded")
	// Simulator sends do not count toward the daily quota.
	send(c, "success@simulator.amazonses.com", "~250 Ok "+messageIDPattern)

	// Paused sending.
	s.Admin(nil, "account", "set", "--max-24h-send", "-1", "--sending-enabled=false")
	time.Sleep(adminSettle)
	c = login(t, s)
	send(c, "a@example.net", "554 Message rejected: Sending suspended for this account. For more information, please check the inbox of the email address associated with your AWS account.")

	s.Admin(nil, "account", "set", "--sending-enabled=true")
	time.Sleep(adminSettle)
	c = login(t, s)
	send(c, "a@example.net", "~250 Ok "+messageIDPattern)
}

// Region from SNI: a password for eu-west-1 works only in a session whose
// TLS name says eu-west-1, and identities are per region.
func TestRegionFromSNI(t *testing.T) {
	s := testenv.Start(t, testenv.Options{Regions: []string{"us-east-1", "eu-west-1"}})
	s.Admin(nil, "identity", "verify", "--region", "eu-west-1", "example.com")
	s.Admin(nil, "account", "set", "--region", "eu-west-1", "--max-send-rate", "100")
	time.Sleep(adminSettle)

	c := dial(t, s.SMTP, false)
	c.expect(greeting)
	c.ehlo(false)
	c.startTLS("email-smtp.eu-west-1.sesame.test")
	c.ehlo(true)
	c.step("AUTH PLAIN "+base64Plain(s.KeyID, smtpPassword(s, "eu-west-1")), "235 Authentication successful.")
	c.step("MAIL FROM:<sender@example.com>", "250 Ok")
	c.step("RCPT TO:<success@simulator.amazonses.com>", "250 Ok")
	c.sendData([]string{"From: sender@example.com", "", "x"}, "~250 Ok "+messageIDPattern)

	// The same identity is not verified in us-east-1.
	c = login(t, s)
	c.step("MAIL FROM:<sender@example.com>", "250 Ok")
	c.step("RCPT TO:<success@simulator.amazonses.com>", "250 Ok")
	c.sendData([]string{"From: sender@example.com", "", "x"},
		"554 Message rejected: Email address is not verified. The following identities failed the check in region US-EAST-1: sender@example.com")
	msgs := s.WaitCaptured(1, 5*time.Second)
	if len(msgs) != 1 || msgs[0].Region != "eu-west-1" {
		t.Fatalf("captured %+v, want one message in eu-west-1", msgs)
	}
}
