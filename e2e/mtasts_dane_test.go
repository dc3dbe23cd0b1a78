package e2e

import (
	"crypto/sha256"
	"crypto/tls"
	"fmt"
	"strings"
	"testing"
	"time"

	"sesame/internal/testenv"
)

// Outbound TLS authentication through the real binary (issue 9, defect
// 12): MTA-STS policies served over HTTPS by a local server whose name the
// test DNS gives, DANE TLSA records from a DNS server that answers like a
// validating resolver (AD), and MXes on 127.0.0.x presenting certificates
// from a test CA.

func TestMTASTSAndDANE(t *testing.T) {
	ca := testenv.NewTestCA(t)
	stsCert := ca.Issue(t, "mx.sts.test")
	wrongCert := ca.Issue(t, "someone-else.test")
	daneCert := ca.Issue(t, "mx.dane.test")
	daneBadCert := ca.Issue(t, "mx.danebad.test")
	sinks, port := testenv.StartSinks(t,
		testenv.SinkOptions{TLSCert: stsCert},     // 127.0.0.2 mx.sts.test
		testenv.SinkOptions{TLSCert: wrongCert},   // 127.0.0.3 mx.badsts.test
		testenv.SinkOptions{TLSCert: daneCert},    // 127.0.0.4 mx.dane.test
		testenv.SinkOptions{TLSCert: daneBadCert}, // 127.0.0.5 mx.danebad.test
		testenv.SinkOptions{StartTLS: true},       // 127.0.0.6 mx.plain.test
		testenv.SinkOptions{TLSCert: stsCert},     // 127.0.0.7 mx.testing.test, named wrongly
	)
	ps := testenv.StartPolicyServer(t, ca, "sts.test", "badsts.test", "testing.test")
	d := testenv.StartSecureDNS(t)
	d.SetMX("example.com", 10, "mx.plain.test") // the sender's domain
	for i, name := range []string{"sts", "badsts", "dane", "danebad", "plain", "testing"} {
		d.SetMX(name+".test", 10, "mx."+name+".test")
		d.SetA("mx."+name+".test", fmt.Sprintf("127.0.0.%d", i+2))
	}
	for _, name := range []string{"sts", "badsts", "testing"} {
		d.SetTXT("_mta-sts."+name+".test", "v=STSv1; id=20250101")
		d.SetA("mta-sts."+name+".test", "127.0.0.1")
	}
	ps.Set("sts.test", "version: STSv1\nmode: enforce\nmx: mx.sts.test\nmax_age: 86400\n")
	ps.Set("badsts.test", "version: STSv1\nmode: enforce\nmx: *.badsts.test\nmax_age: 86400\n")
	ps.Set("testing.test", "version: STSv1\nmode: testing\nmx: mx.testing.test\nmax_age: 86400\n")

	spki := func(c *tls.Certificate) []byte { s := sha256.Sum256(c.Leaf.RawSubjectPublicKeyInfo); return s[:] }
	d.SetTLSA(fmt.Sprintf("_%s._tcp.mx.dane.test", port), 3, 1, 1, spki(daneCert))
	d.SetTLSA(fmt.Sprintf("_%s._tcp.mx.danebad.test", port), 3, 1, 1, spki(stsCert)) // another key
	d.SetSecure(true, "dane.test", "mx.dane.test", "_"+port+"._tcp.mx.dane.test",
		"danebad.test", "mx.danebad.test", "_"+port+"._tcp.mx.danebad.test")

	// Retries an hour apart: a deferral stays in the queue to be looked at.
	s := startProduction(t, testenv.Options{Extra: fmt.Sprintf(`[delivery]
mode = "mx"
resolver = %q
mx_port = %s
bounce_domain = "bounces.sesame.test"
retry_min = "1h"
retry_max = "2h"
command_timeout = "5s"
allow_private_destinations = true
dane = true
mta_sts_ca_file = %q
mta_sts_port = %s
`, d.Addr, port, ca.PEMFile, ps.Port)})
	s.Verify("example.com")
	for _, rcpt := range []string{"u@sts.test", "u@badsts.test", "u@dane.test", "u@danebad.test", "u@plain.test", "u@testing.test"} {
		smtpSendTo(t, s, "sender@example.com", "tls auth "+rcpt, rcpt)
	}

	// Delivered: enforce + matching certificate, DANE-EE match, no policy
	// (opportunistic TLS), testing mode with a certificate that does not
	// verify.
	for _, i := range []int{0, 2, 4, 5} {
		waitForWithin(t, "delivery to "+sinks[i].Addr, time.Minute, func() bool { return len(sinks[i].Messages()) == 1 })
		if m := sinks[i].Messages()[0]; !m.TLS {
			t.Errorf("%s: delivered without TLS", sinks[i].Addr)
		}
	}
	// Deferred: enforce + a certificate for another name, DANE-EE mismatch.
	type queued struct {
		Recipients []string `json:"recipients"`
		Attempts   int      `json:"attempts"`
		LastError  string   `json:"last_error"`
	}
	var q []queued
	waitForWithin(t, "two deferrals", time.Minute, func() bool {
		q = nil
		s.Admin(&q, "queue", "list")
		return len(q) == 2 && q[0].Attempts >= 1 && q[1].Attempts >= 1
	})
	for _, e := range q {
		switch e.Recipients[0] {
		case "u@badsts.test":
			if !strings.Contains(e.LastError, "4.7.5") || !strings.Contains(e.LastError, "mta-sts") {
				t.Errorf("badsts.test deferred with %q", e.LastError)
			}
		case "u@danebad.test":
			if !strings.Contains(e.LastError, "4.7.5") || !strings.Contains(e.LastError, "TLSA") {
				t.Errorf("danebad.test deferred with %q", e.LastError)
			}
		default:
			t.Errorf("unexpected deferral: %+v", e)
		}
	}
	if n := len(sinks[1].Messages()) + len(sinks[3].Messages()); n != 0 {
		t.Errorf("%d messages went to MXes whose certificates did not verify", n)
	}
	if ps.Fetches("sts.test") != 1 {
		t.Errorf("sts.test's policy fetched %d times", ps.Fetches("sts.test"))
	}

	// The log says how each session was authenticated.
	waitFor(t, "the TLS log lines", func() bool {
		log := s.Stderr.String()
		return strings.Contains(log, "mx=mx.dane.test") && strings.Contains(log, "mx=mx.sts.test")
	})
	log := s.Stderr.String()
	for _, want := range []string{
		"mx=mx.dane.test addr=127.0.0.4:" + port + " tls=dane verified=true",
		"mx=mx.sts.test addr=127.0.0.2:" + port + " tls=mta-sts verified=true",
		"mx=mx.testing.test addr=127.0.0.7:" + port + " tls=mta-sts verified=false",
	} {
		if !strings.Contains(log, want) {
			t.Errorf("log lacks %q", want)
		}
	}

	// The policies survive a restart (data_dir/mta-sts.json): no new fetch.
	s.Restart()
	smtpSendTo(t, s, "sender@example.com", "after restart", "v@sts.test")
	waitForWithin(t, "delivery after a restart", time.Minute, func() bool { return len(sinks[0].Messages()) == 2 })
	if n := ps.Fetches("sts.test"); n != 1 {
		t.Errorf("after a restart sts.test's policy was fetched again (%d fetches)", n)
	}
}
