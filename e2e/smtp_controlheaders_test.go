package e2e

import (
	"context"
	"errors"
	"net/textproto"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	"github.com/aws/aws-sdk-go-v2/service/sesv2/types"

	"sesame/internal/awsauth"
	"sesame/internal/testenv"
)

// SES's control headers over SMTP, through the real binary: the
// configuration set named in X-SES-CONFIGURATION-SET applies (its TlsPolicy
// REQUIRE holds the message back from an MX without STARTTLS, while the same
// message without the header goes), a set that does not exist is refused at
// the end of DATA, and what reaches the MX carries none of the control
// headers and a DKIM signature python3-dkim verifies over what arrived.

// controlHeaders are every control header SES reads and strips, one folded.
// The sending-authorization headers name identity, the sender's own (an
// ARN of the sender's own account needs no policy).
func controlHeaders(s *testenv.Server, set, identity string) string {
	arn := "arn:aws:ses:" + s.Regions[0] + ":" + s.Account + ":identity/" + identity
	return "X-SES-CONFIGURATION-SET: " + set + "\r\n" +
		"X-SES-MESSAGE-TAGS: campaign=fall,\r\n tier=gold\r\n" +
		"x-ses-source-arn: " + arn + "\r\n" +
		"X-SES-FROM-ARN: " + arn + "\r\n" +
		"X-SES-RETURN-PATH-ARN: " + arn + "\r\n" +
		"X-SES-LIST-MANAGEMENT-OPTIONS: news; topic=sports\r\n"
}

func TestSMTPControlHeaders(t *testing.T) {
	pythonModule(t, "dkim")
	pythonModule(t, "dns")
	d := testenv.StartDNS(t)
	sinks, port := testenv.StartSinks(t, testenv.SinkOptions{StartTLS: true}, testenv.SinkOptions{})
	d.SetA("mx2.test", "127.0.0.2") // STARTTLS offered
	d.SetA("mx3.test", "127.0.0.3") // clear text only
	d.SetMX("tls.test", 10, "mx2.test")
	d.SetMX("plain.test", 10, "mx3.test")
	s, dnsAddr := startDKIMZoneServer(t, d, port)
	ctx := context.Background()
	v2 := s.SESv2Client(t)
	const domain = "signed.example"
	easyDKIMDomain(t, v2, d, domain, e2eDKIMZone)
	createNewsList(t, v2) // the list X-SES-LIST-MANAGEMENT-OPTIONS names
	if _, err := v2.CreateConfigurationSet(ctx, &sesv2.CreateConfigurationSetInput{
		ConfigurationSetName: aws.String("tls-required"),
		DeliveryOptions:      &types.DeliveryOptions{TlsPolicy: types.TlsPolicyRequire},
	}); err != nil {
		t.Fatal(err)
	}

	from := "sender@" + domain
	msg := func(set, to, subject string) string {
		h := ""
		if set != "" {
			h = controlHeaders(s, set, domain)
		}
		return h + "From: " + from + "\r\nTo: " + to + "\r\nSubject: " + subject + "\r\n\r\nHello over SMTP.\r\n"
	}
	// A set that does not exist: refused at the end of DATA with 554.
	err := smtpSubmit(t, s, awsauth.SMTPPassword(s.Secret, s.Regions[0]), from, []string{"x@tls.test"}, msg("no-such-set", "x@tls.test", "refused"))
	var te *textproto.Error
	if !errors.As(err, &te) || te.Code != 554 || te.Msg != "Configuration Set does not exist: Configuration set <no-such-set> does not exist." {
		t.Fatalf("a nonexistent configuration set: %v, want 554 Configuration Set does not exist: Configuration set <no-such-set> does not exist.", err)
	}

	submitRaw(t, s, from, []string{"held@plain.test"}, msg("tls-required", "held@plain.test", "needs TLS"))
	submitRaw(t, s, from, []string{"goes@plain.test"}, msg("", "goes@plain.test", "no set"))
	submitRaw(t, s, from, []string{"signed@tls.test"}, msg("tls-required", "signed@tls.test", "over TLS"))

	// Without the header the message goes in clear text; with it, it waits
	// in the queue for a receiver that offers TLS.
	waitFor(t, "both deliveries", func() bool { return len(sinks[0].Messages()) == 1 && len(sinks[1].Messages()) == 1 })
	if got := sinks[1].Messages()[0]; got.Recipients[0] != "goes@plain.test" || got.TLS {
		t.Errorf("the clear-text MX got %v (TLS %v)", got.Recipients, got.TLS)
	}
	type queued struct {
		Recipients []string `json:"recipients"`
		Attempts   int      `json:"attempts"`
		LastError  string   `json:"last_error"`
	}
	var q []queued
	waitFor(t, "the TLS-required message to be deferred", func() bool {
		q = nil
		s.Admin(&q, "queue", "list")
		return len(q) == 1 && q[0].Attempts >= 1
	})
	if !strings.Contains(q[0].LastError, "STARTTLS") {
		t.Errorf("queue = %+v, want the held message with a STARTTLS error", q)
	}
	if n := len(sinks[1].Messages()); n != 1 {
		t.Errorf("the clear-text MX got %d messages: the configuration set's TlsPolicy was not applied", n)
	}

	// Over TLS it goes: no control header left, a signature that verifies.
	got := sinks[0].Messages()[0]
	if !got.TLS || got.Recipients[0] != "signed@tls.test" {
		t.Fatalf("the TLS MX got %+v", got)
	}
	if strings.Contains(strings.ToLower(string(got.Data)), "x-ses-") || strings.Contains(string(got.Data), "arn:aws") {
		t.Errorf("control headers were delivered:\n%s", got.Data)
	}
	res, err := pyVerify(t, filepath.Join(t.TempDir(), "m.eml"), got.Data, d.Addr, dnsAddr)
	if err != nil {
		t.Fatalf("python3-dkim does not verify the delivered message: %v\n%s", err, got.Data)
	}
	if res.D != domain {
		t.Errorf("signed by d=%s, want %s", res.D, domain)
	}
}

// In capture mode /_aws/ses shows the message as MX mode would deliver it:
// RawData without the control headers (as for a raw API message).
func TestSMTPControlHeadersCaptured(t *testing.T) {
	s := startProduction(t, testenv.Options{})
	s.Verify("example.com")
	createNewsList(t, s.SESv2Client(t))
	if _, err := s.SESv2Client(t).CreateConfigurationSet(context.Background(), &sesv2.CreateConfigurationSetInput{
		ConfigurationSetName: aws.String("open")}); err != nil {
		t.Fatal(err)
	}
	submitRaw(t, s, "sender@example.com", []string{"success@simulator.amazonses.com"},
		controlHeaders(s, "open", "example.com")+"From: sender@example.com\r\nTo: success@simulator.amazonses.com\r\nSubject: captured controls\r\n\r\nBody.\r\n")
	m := waitSubject(t, s, "captured controls")
	if strings.Contains(strings.ToLower(m.RawData), "x-ses-") || !strings.Contains(m.RawData, "\r\nSubject: captured controls\r\n") {
		t.Errorf("RawData:\n%s", m.RawData)
	}
}

// TestSMTPMessageIDAndDateOverridden: as SES (its "header fields" page),
// a client's own Message-ID and Date are replaced by sesame's — the
// MessageId of the 250 reply and the accept time — in what leaves sesame.
func TestSMTPMessageIDAndDateOverridden(t *testing.T) {
	s := startProduction(t, testenv.Options{})
	s.Verify("example.com")
	submitRaw(t, s, "sender@example.com", []string{"success@simulator.amazonses.com"},
		"Message-ID: <client-chosen@example.com>\r\nDate: Sun, 1 Jan 2023 00:00:00 +0000\r\nFrom: sender@example.com\r\n"+
			"To: success@simulator.amazonses.com\r\nSubject: overridden ids\r\n\r\nBody.\r\n")
	m := waitSubject(t, s, "overridden ids")
	if strings.Contains(m.RawData, "client-chosen") || strings.Contains(m.RawData, "2023") ||
		!strings.HasPrefix(m.RawData, "Message-ID: <"+m.ID+"@us-east-1.") || strings.Count(m.RawData, "\r\nDate: ") != 1 {
		t.Errorf("RawData (MessageId %s):\n%s", m.ID, m.RawData)
	}
}
