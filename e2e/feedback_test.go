package e2e

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/smtp"
	"net/textproto"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ses"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"

	"sesame/internal/testenv"
)

// Feedback after delivery, through the real binary: a receiver accepted a
// message, then reports on it at its bounce address — a DSN sent with swaks,
// an ARF complaint sent with Go's net/smtp — to sesame's feedback MX
// ([feedback] listen). The addresses end up on the suppression list and the
// sender's Return-Path gets both, as SES forwards feedback.

func asyncDSN(id, rcpt string) string {
	return fmt.Sprintf(`From: MAIL-DAEMON@mx2.test (Mail Delivery System)
To: %[1]s@bounces.sesame.test
Subject: Undelivered Mail Returned to Sender
Auto-Submitted: auto-replied
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="DSN.b1"

--DSN.b1
Content-Type: text/plain

The mailbox of <%[2]s> was closed after your message was accepted.

--DSN.b1
Content-Type: message/delivery-status

Reporting-MTA: dns; mx2.test
Arrival-Date: Mon, 23 Nov 2026 17:00:00 +0000

Final-Recipient: rfc822; %[2]s
Original-Recipient: rfc822;%[2]s
Action: failed
Status: 5.1.1
Remote-MTA: dns; store.mx2.test
Diagnostic-Code: smtp; 550 5.1.1 <%[2]s>: Recipient address rejected:
    User unknown in local recipient table

--DSN.b1
Content-Type: text/rfc822-headers

From: sender@example.com
To: %[2]s
Subject: feedback e2e
Message-ID: <%[1]s@us-east-1.sesame.test>

--DSN.b1--
`, id, rcpt)
}

func arfReport(id, rcpt string) string {
	return strings.ReplaceAll(fmt.Sprintf(`From: fbl@a.test
To: %[1]s@bounces.sesame.test
Subject: FW: feedback e2e
MIME-Version: 1.0
Content-Type: multipart/report; report-type=feedback-report; boundary="ARF.b2"

--ARF.b2
Content-Type: text/plain

This is an email abuse report for an email message received from IP 127.0.0.1.

--ARF.b2
Content-Type: message/feedback-report

Feedback-Type: abuse
User-Agent: SomeFBL/1.0
Version: 1
Original-Rcpt-To: %[2]s
Arrival-Date: Mon, 23 Nov 2026 17:05:00 +0000
Source-IP: 127.0.0.1

--ARF.b2
Content-Type: message/rfc822

From: sender@example.com
To: %[2]s
Subject: feedback e2e
Message-ID: <%[1]s@us-east-1.sesame.test>

Hello from sesame.

--ARF.b2--
`, id, rcpt), "\n", "\r\n")
}

func TestFeedbackAfterDelivery(t *testing.T) {
	d := testenv.StartDNS(t)
	sinks, port := testenv.StartSinks(t, testenv.SinkOptions{StartTLS: true})
	d.SetA("mx2.test", "127.0.0.2")
	d.SetMX("a.test", 10, "mx2.test")
	d.SetMX("example.com", 10, "mx2.test") // the sender's mailbox
	fbAddr := testenv.FreeAddr(t)
	s := startMXServer(t, d, port, fmt.Sprintf("[feedback]\nlisten = [%q]\n", fbAddr))
	s.Verify("example.com")

	smtpSendTo(t, s, "sender@example.com", "feedback e2e", "gone@a.test", "angry@a.test")
	waitFor(t, "delivery", func() bool { return len(sinks[0].Messages()) == 1 })
	msg := sinks[0].Messages()[0]
	id, domain, _ := strings.Cut(msg.From, "@")
	if domain != "bounces.sesame.test" || len(id) != 60 {
		t.Fatalf("MAIL FROM %q: want <message id>@bounces.sesame.test", msg.From)
	}

	// A random address at the bounce domain is refused for good.
	c, err := smtp.Dial(fbAddr)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Mail(""); err != nil {
		t.Fatal(err)
	}
	var te *textproto.Error
	if err := c.Rcpt("postmaster-probe@bounces.sesame.test"); !errors.As(err, &te) || te.Code != 550 {
		t.Errorf("RCPT of an unknown address = %v, want 550", err)
	}
	c.Close()

	// The DSN, with swaks; the message may still be on its way into the
	// sent log, which the listener answers with 451 (swaks then fails): try
	// again as a receiver would.
	swaks := testenv.Tool(t, "swaks")
	dsnFile := filepath.Join(t.TempDir(), "dsn.eml")
	if err := os.WriteFile(dsnFile, []byte(asyncDSN(id, "gone@a.test")), 0o644); err != nil {
		t.Fatal(err)
	}
	var out []byte
	waitFor(t, "the feedback MX to take the DSN", func() bool {
		out, err = exec.Command(swaks, "--server", fbAddr, "--tls-optional", "--from", "<>", "--to", msg.From,
			"--data", "@"+dsnFile).CombinedOutput()
		return err == nil
	})
	if !strings.Contains(string(out), "STARTTLS") {
		t.Errorf("the feedback MX did not offer STARTTLS:\n%s", out)
	}

	// The ARF complaint, with Go's SMTP client.
	if err := sendFeedback(fbAddr, msg.From, arfReport(id, "angry@a.test")); err != nil {
		t.Fatalf("sending the complaint: %v", err)
	}

	cl := s.SESv2Client(t)
	for addr, reason := range map[string]string{"gone@a.test": "BOUNCE", "angry@a.test": "COMPLAINT"} {
		got, err := cl.GetSuppressedDestination(context.Background(), &sesv2.GetSuppressedDestinationInput{EmailAddress: aws.String(addr)})
		if err != nil {
			t.Fatalf("GetSuppressedDestination(%s): %v", addr, err)
		}
		if string(got.SuppressedDestination.Reason) != reason || aws.ToString(got.SuppressedDestination.Attributes.MessageId) != id {
			t.Errorf("%s suppressed for %s (message %s), want %s (%s)", addr, got.SuppressedDestination.Reason,
				aws.ToString(got.SuppressedDestination.Attributes.MessageId), reason, id)
		}
	}
	// GetSendStatistics (v1, as the aws CLI's `ses get-send-statistics`)
	// counts them.
	// The quota flushes its counters about once a second.
	var attempts, bounces, complaints int64
	waitFor(t, "send statistics", func() bool {
		stats, err := s.SESClient(t).GetSendStatistics(context.Background(), &ses.GetSendStatisticsInput{})
		if err != nil {
			t.Fatal(err)
		}
		attempts, bounces, complaints = 0, 0, 0
		for _, p := range stats.SendDataPoints {
			attempts, bounces, complaints = attempts+p.DeliveryAttempts, bounces+p.Bounces, complaints+p.Complaints
		}
		return attempts >= 2
	})
	if attempts != 2 || bounces != 1 || complaints != 1 {
		t.Errorf("send statistics: %d attempts, %d bounces, %d complaints; want 2, 1, 1", attempts, bounces, complaints)
	}
	// The sender's mailbox gets our DSN about gone@a.test and the complaint
	// report, both with the null sender.
	waitFor(t, "the forwarded feedback", func() bool { return len(sinks[0].Messages()) == 3 })
	var dsn, complaint string
	for _, m := range sinks[0].Messages()[1:] {
		if m.From != "" || len(m.Recipients) != 1 || m.Recipients[0] != "sender@example.com" {
			t.Errorf("forwarded feedback went from %q to %v", m.From, m.Recipients)
		}
		if strings.Contains(string(m.Data), "report-type=delivery-status") {
			dsn = string(m.Data)
		} else {
			complaint = string(m.Data)
		}
	}
	for _, want := range []string{"Final-Recipient: rfc822; gone@a.test", "Status: 5.1.1",
		"Diagnostic-Code: smtp; 550 5.1.1 <gone@a.test>: Recipient address rejected: User unknown in local recipient table",
		"Subject: feedback e2e"} {
		if !strings.Contains(dsn, want) {
			t.Errorf("forwarded DSN lacks %q:\n%s", want, dsn)
		}
	}
	for _, want := range []string{"From: complaints@bounces.sesame.test", "Feedback-Type: abuse", "Original-Rcpt-To: angry@a.test"} {
		if !strings.Contains(complaint, want) {
			t.Errorf("forwarded complaint lacks %q:\n%s", want, complaint)
		}
	}
}

// sendFeedback sends data to rcpt with the null sender as a receiving MTA
// would: STARTTLS when offered, the certificate not checked.
func sendFeedback(addr, rcpt, data string) error {
	c, err := smtp.Dial(addr)
	if err != nil {
		return err
	}
	defer c.Close()
	if err := c.Hello("mx2.test"); err != nil {
		return err
	}
	if ok, _ := c.Extension("STARTTLS"); ok {
		if err := c.StartTLS(&tls.Config{InsecureSkipVerify: true}); err != nil {
			return err
		}
	}
	return transaction(c, "", []string{rcpt}, data)
}

// TestFeedbackAtCustomMailFrom: a domain published exactly as `sesame admin
// identity records` prints it — Easy DKIM CNAMEs, and for its custom MAIL
// FROM domain an MX under the operator's own hostname, never Amazon's — is
// verified, its mail goes out DKIM-signed with the MAIL FROM domain as the
// envelope sender, and a late bounce sent where that MX record leads (the
// operator points feedback-smtp.<region>.<hostname> at sesame) reaches the
// feedback MX, which takes it for the message and suppresses the address.
func TestFeedbackAtCustomMailFrom(t *testing.T) {
	d := testenv.StartDNS(t)
	sinks, port := testenv.StartSinks(t, testenv.SinkOptions{StartTLS: true})
	d.SetA("mx2.test", "127.0.0.2")
	d.SetMX("a.test", 10, "mx2.test")
	fbAddr := testenv.FreeAddr(t)
	fbHost, fbPort, _ := net.SplitHostPort(fbAddr)
	s := startMXServer(t, d, port, fmt.Sprintf("[feedback]\nlisten = [%q]\n[verification]\ncheck_interval = \"100ms\"\n", fbAddr))
	// The operator's one record for every custom MAIL FROM domain of the
	// region: feedback-smtp.<region>.<hostname> is the feedback MX's address.
	d.SetA("feedback-smtp."+s.Regions[0]+".sesame.test", fbHost)

	const domain, mailFrom = "mf.example", "bounce.mf.example"
	v2 := s.SESv2Client(t)
	ctx := context.Background()
	if _, err := v2.CreateEmailIdentity(ctx, &sesv2.CreateEmailIdentityInput{EmailIdentity: aws.String(domain)}); err != nil {
		t.Fatal(err)
	}
	if _, err := v2.PutEmailIdentityMailFromAttributes(ctx, &sesv2.PutEmailIdentityMailFromAttributesInput{
		EmailIdentity: aws.String(domain), MailFromDomain: aws.String(mailFrom),
		BehaviorOnMxFailure: "REJECT_MESSAGE"}); err != nil {
		t.Fatal(err)
	}
	var records []struct{ Name, Type, Value string }
	s.Admin(&records, "identity", "records", "--account", s.Account, domain)
	var mx string
	for _, r := range records {
		switch r.Type {
		case "CNAME":
			d.SetCNAME(r.Name, r.Value)
		case "TXT":
			d.SetTXT(r.Name, r.Value)
		case "MX":
			_, mx, _ = strings.Cut(r.Value, " ")
			d.SetMX(r.Name, 10, mx)
		}
	}
	if mx != "feedback-smtp."+s.Regions[0]+".sesame.test" {
		t.Fatalf("the MAIL FROM MX record names %q, want the feedback MX under the server's hostname; records: %v", mx, records)
	}
	waitFor(t, "the domain and its MAIL FROM domain verified", func() bool {
		g, err := v2.GetEmailIdentity(ctx, &sesv2.GetEmailIdentityInput{EmailIdentity: aws.String(domain)})
		if err != nil {
			t.Fatal(err)
		}
		return g.VerifiedForSendingStatus && g.MailFromAttributes != nil && g.MailFromAttributes.MailFromDomainStatus == "SUCCESS"
	})

	smtpSendTo(t, s, "news@"+domain, "custom mail from", "gone@a.test")
	waitFor(t, "delivery", func() bool { return len(sinks[0].Messages()) == 1 })
	msg := sinks[0].Messages()[0]
	id, envDomain, _ := strings.Cut(msg.From, "@")
	if envDomain != mailFrom || !strings.Contains(string(msg.Data), "d="+domain+";") {
		t.Fatalf("MAIL FROM %q, want <message id>@%s; DKIM-signed by %s:\n%s", msg.From, mailFrom, domain, msg.Data)
	}

	// The receiver's late bounce goes where DNS sends it: the MAIL FROM
	// domain's MX, that host's address, the port the feedback MX listens on.
	r := &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, _, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, "udp", d.Addr)
	}}
	mxs, err := r.LookupMX(ctx, mailFrom)
	if err != nil || len(mxs) != 1 {
		t.Fatalf("MX %s: %v %v", mailFrom, mxs, err)
	}
	addrs, err := r.LookupHost(ctx, strings.TrimSuffix(mxs[0].Host, "."))
	if err != nil || len(addrs) == 0 {
		t.Fatalf("the address of %s: %v %v", mxs[0].Host, addrs, err)
	}
	waitFor(t, "the feedback MX to take the bounce", func() bool {
		return sendFeedback(net.JoinHostPort(addrs[0], fbPort), msg.From, asyncDSN(id, "gone@a.test")) == nil
	})
	got, err := v2.GetSuppressedDestination(ctx, &sesv2.GetSuppressedDestinationInput{EmailAddress: aws.String("gone@a.test")})
	if err != nil {
		t.Fatal(err)
	}
	if got.SuppressedDestination.Reason != "BOUNCE" || aws.ToString(got.SuppressedDestination.Attributes.MessageId) != id {
		t.Errorf("gone@a.test suppressed for %s (message %s), want BOUNCE (%s)", got.SuppressedDestination.Reason,
			aws.ToString(got.SuppressedDestination.Attributes.MessageId), id)
	}
}
