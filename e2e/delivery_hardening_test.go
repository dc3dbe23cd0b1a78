package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	v2types "github.com/aws/aws-sdk-go-v2/service/sesv2/types"
	"github.com/miekg/dns"

	"sesame/internal/awsauth"
	"sesame/internal/events"
	"sesame/internal/testenv"
)

// Outbound delivery against hostile or broken DNS (issue 9, defects 7 and
// 8): the real binary in mx mode, a local DNS server that misbehaves on
// purpose, sink MXes on 127.0.0.x.

// startHardenedMX starts sesame in mode "mx" resolving through dnsAddr;
// extra lines go into the [delivery] table. retry_min is an hour: a
// message that is deferred instead of delivered does not arrive within the
// test.
func startHardenedMX(t *testing.T, dnsAddr, port string, extra ...string) *testenv.Server {
	t.Helper()
	return startProduction(t, testenv.Options{Extra: fmt.Sprintf(`[delivery]
mode = "mx"
resolver = %q
mx_port = %s
bounce_domain = "bounces.sesame.test"
retry_min = "1h"
retry_max = "1h"
command_timeout = "10s"
%s
`, dnsAddr, port, strings.Join(extra, "\n"))})
}

// By default a domain whose MX resolves to loopback or a private address
// is not connected to: its mail bounces (Permanent, with a diagnostic
// naming the non-public address: status 5.4.4 in the event, the reason
// in the log and the sender's DSN) and the address is suppressed. The
// same setup with allow_private_destinations = true delivers.
func TestDeliveryRefusesInternalDestinations(t *testing.T) {
	d := testenv.StartFaultyDNS(t)
	sinks, port := testenv.StartSinks(t, testenv.SinkOptions{})
	d.SetMX("internal.test", 10, "mx.internal.test", 60)
	d.SetA("mx.internal.test", "127.0.0.2", 60) // the sink: reachable, but internal
	d.SetMX("tenant.test", 10, "mx.tenant.test", 60)
	d.SetA("mx.tenant.test", "10.11.12.13", 60)
	d.SetAAAA("mx.tenant.test", "::ffff:127.0.0.2", 60)
	s := startHardenedMX(t, d.Addr, port, "allow_private_destinations = false")
	s.Verify("example.com")
	ctx := context.Background()
	sub := newSNSSubscriber(t)
	topic := snsTopic(t, s, "hardening", sub)
	v2 := s.SESv2Client(t)
	snsEventSet(t, v2, "hardening", "sns", topic, v2types.EventTypeBounce, v2types.EventTypeDelivery)

	data := "From: sender@example.com\r\nTo: victim@internal.test, ops@tenant.test\r\nSubject: internal\r\n" +
		"X-SES-CONFIGURATION-SET: hardening\r\n\r\nHello.\r\n"
	submitRaw(t, s, "sender@example.com", []string{"victim@internal.test", "ops@tenant.test"}, data)

	type bounceRecord struct {
		Bounce *struct {
			BounceType        string `json:"bounceType"`
			BouncedRecipients []struct {
				EmailAddress string `json:"emailAddress"`
				Status       string `json:"status"`
			} `json:"bouncedRecipients"`
		} `json:"bounce"`
	}
	statuses := func() map[string]string {
		out := map[string]string{}
		for _, m := range sub.notifications() {
			if m["Message"] == events.TopicValidationMessage {
				continue
			}
			var r bounceRecord
			if err := json.Unmarshal([]byte(m["Message"]), &r); err != nil {
				t.Fatalf("notification: %v: %s", err, m["Message"])
			}
			if r.Bounce == nil {
				t.Fatalf("an event other than a bounce: %s", m["Message"])
			}
			if r.Bounce.BounceType != "Permanent" {
				t.Errorf("bounce type %s, want Permanent", r.Bounce.BounceType)
			}
			for _, b := range r.Bounce.BouncedRecipients {
				out[b.EmailAddress] = b.Status
			}
		}
		return out
	}
	waitFor(t, "the two bounces", func() bool { return len(statuses()) == 2 })
	for rcpt, want := range map[string]string{
		"victim@internal.test": "550 5.4.4 MX mx.internal.test of internal.test resolves to a non-public address (127.0.0.2: loopback",
		"ops@tenant.test":      "550 5.4.4 MX mx.tenant.test of tenant.test resolves to a non-public address (10.11.12.13: private-use (RFC 1918)",
	} {
		if st := statuses()[rcpt]; st != "5.4.4" {
			t.Errorf("%s: status %q, want 5.4.4", rcpt, st)
		}
		if log := s.Stderr.String(); !strings.Contains(log, want) {
			t.Errorf("%s: the log does not say %q", rcpt, want)
		}
	}
	if n := sinks[0].Connections(); n != 0 {
		t.Errorf("the internal MX was connected to %d times", n)
	}
	got, err := v2.GetSuppressedDestination(ctx, &sesv2.GetSuppressedDestinationInput{EmailAddress: aws.String("victim@internal.test")})
	if err != nil || got.SuppressedDestination.Reason != "BOUNCE" {
		t.Errorf("GetSuppressedDestination = %+v, %v; want suppressed for BOUNCE", got, err)
	}

	// The same DNS, private destinations allowed: delivered.
	s2 := startHardenedMX(t, d.Addr, port, "allow_private_destinations = true")
	s2.Verify("example.com")
	smtpSendTo(t, s2, "sender@example.com", "allowed", "victim@internal.test")
	waitFor(t, "delivery to the internal MX", func() bool { return len(sinks[0].Messages()) == 1 })
}

// A resolver that answers SERVFAIL or REFUSED for AAAA but gives the A
// record (dnsmasq does) does not defer the mail: it goes over IPv4 at
// once (a deferral would wait retry_min, an hour).
func TestDeliveryOverIPv4WhenAAAAFails(t *testing.T) {
	d := testenv.StartFaultyDNS(t)
	sinks, port := testenv.StartSinks(t, testenv.SinkOptions{})
	d.SetMX("servfail.test", 10, "mx.servfail.test", 60)
	d.SetA("mx.servfail.test", "127.0.0.2", 60)
	d.Fail("mx.servfail.test", dns.TypeAAAA, dns.RcodeServerFailure)
	d.SetA("refused.test", "127.0.0.2", 60) // no MX: the domain is its own MX
	d.Fail("refused.test", dns.TypeAAAA, dns.RcodeRefused)
	s := startHardenedMX(t, d.Addr, port) // testenv allows private destinations
	s.Verify("example.com")
	smtpSendTo(t, s, "sender@example.com", "ipv4", "a@servfail.test", "b@refused.test")
	waitFor(t, "delivery of both over IPv4", func() bool {
		n := 0
		for _, m := range sinks[0].Messages() {
			n += len(m.Recipients)
		}
		return n == 2
	})
	if d.Queries("mx.servfail.test", dns.TypeAAAA) == 0 || d.Queries("refused.test", dns.TypeAAAA) == 0 {
		t.Error("AAAA was not asked")
	}
}

// Answers with a TTL of 0 (dnsmasq's default for local records) are kept
// for delivery.dns_min_ttl, and concurrent deliveries share the lookup:
// many messages delivered at once cost one MX, one A and one AAAA query.
// The resolver is slow (half a second an answer), so the deliveries of
// messages submitted side by side wait on one lookup in flight.
func TestDeliveryTTLZeroLookedUpOncePerFloor(t *testing.T) {
	d := testenv.StartFaultyDNS(t)
	sinks, port := testenv.StartSinks(t, testenv.SinkOptions{})
	d.SetMX("zero.test", 10, "mx.zero.test", 0)
	d.SetA("mx.zero.test", "127.0.0.2", 0)
	d.Delay(500 * time.Millisecond)
	s := startHardenedMX(t, d.Addr, port, `dns_min_ttl = "1h"`)
	s.Verify("example.com")
	const n = 24
	pw := awsauth.SMTPPassword(s.Secret, s.Regions[0])
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Go(func() {
			to := fmt.Sprintf("r%d@zero.test", i)
			data := fmt.Sprintf("From: sender@example.com\r\nTo: %s\r\nSubject: zero %d\r\n\r\nHello.\r\n", to, i)
			errs <- smtpSubmit(t, s, pw, "sender@example.com", []string{to}, data)
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	waitForWithin(t, "every message delivered", 60*time.Second, func() bool { return len(sinks[0].Messages()) == n })
	for _, q := range []struct {
		name  string
		qtype uint16
	}{{"zero.test", dns.TypeMX}, {"mx.zero.test", dns.TypeA}, {"mx.zero.test", dns.TypeAAAA}} {
		if got := d.Queries(q.name, q.qtype); got != 1 {
			t.Errorf("%s %s asked %d times for %d messages, want once", dns.TypeToString[q.qtype], q.name, got, n)
		}
	}
}
