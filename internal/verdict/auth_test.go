package verdict

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"net"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-msgauth/dkim"
	"github.com/miekg/dns"

	"sesame/internal/testenv"
)

// testKey is the RSA key every test signature uses (one per process:
// generating it is the slow part).
var testKey = sync.OnceValue(func() *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	return k
})

// publishKey puts the test key's DKIM record at selector._domainkey.domain.
func publishKey(t testing.TB, d *testenv.DNS, selector, domain string) {
	t.Helper()
	pub, err := x509.MarshalPKIXPublicKey(&testKey().PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	d.SetTXT(selector+"._domainkey."+domain, "v=DKIM1; k=rsa; p="+base64.StdEncoding.EncodeToString(pub))
}

// message is a plain test message from the given address.
func message(from string) []byte {
	return []byte("From: Sender <" + from + ">\r\n" +
		"To: rcpt@inbound.test\r\n" +
		"Subject: verdict test\r\n" +
		"Date: Sun, 06 Dec 2026 10:00:00 +0000\r\n" +
		"Message-ID: <test@sender>\r\n" +
		"\r\n" +
		"Hello.\r\n")
}

// sign returns msg with a DKIM signature of domain (selector s1) made by
// go-msgauth's signer.
func sign(t testing.TB, msg []byte, domain string) []byte {
	t.Helper()
	var out bytes.Buffer
	err := dkim.Sign(&out, bytes.NewReader(msg), &dkim.SignOptions{
		Domain:     domain,
		Selector:   "s1",
		Signer:     testKey(),
		HeaderKeys: []string{"From", "To", "Subject", "Date", "Message-ID"},
	})
	if err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

// newChecker returns a Checker asking d, as sesame's configured resolver
// would.
func newChecker(d *testenv.DNS) *Checker {
	return New(Config{Hostname: "mx.sesame.test", Timeout: 5 * time.Second}.WithResolver(d.Addr))
}

var (
	permittedIP = netip.MustParseAddr("192.0.2.1")
	otherIP     = netip.MustParseAddr("198.51.100.9")
)

func TestCheckAuthentication(t *testing.T) {
	t.Parallel()
	d := testenv.StartDNS(t)
	spfRecord := func(domain, all string) {
		d.SetTXT(domain, "v=spf1 ip4:192.0.2.0/24 ip6:2001:db8::/32 "+all)
	}
	// Each case has its own domains, so the table needs no ordering.
	spfRecord("pass.test", "-all")
	publishKey(t, d, "s1", "pass.test")
	d.SetTXT("_dmarc.pass.test", "v=DMARC1; p=reject")

	spfRecord("fail.test", "-all")
	d.SetTXT("_dmarc.fail.test", "v=DMARC1; p=quarantine")

	spfRecord("soft.test", "~all")
	spfRecord("neutral.test", "?all")
	d.SetTXT("none.test", "some unrelated TXT record")
	d.Fail("tempfail.test", dns.RcodeServerFailure)
	d.SetTXT("twice.test", "v=spf1 -all")
	d.SetTXT("twice.test", "v=spf1 +all")

	spfRecord("tampered.test", "-all")
	publishKey(t, d, "s1", "tampered.test")
	d.SetTXT("_dmarc.tampered.test", "v=DMARC1; p=reject")

	// news.relaxed.test has no record: the organizational domain's applies,
	// with its sp.
	publishKey(t, d, "s1", "relaxed.test")
	d.SetTXT("_dmarc.relaxed.test", "v=DMARC1; p=none; sp=reject")
	publishKey(t, d, "s1", "strict.test")
	d.SetTXT("_dmarc.strict.test", "v=DMARC1; p=none; sp=quarantine; adkim=s")

	spfRecord("bulk.test", "-all")
	publishKey(t, d, "s1", "bulk.test")
	d.SetTXT("_dmarc.victim.test", "v=DMARC1; p=reject")

	d.SetTXT("_dmarc.keyfail.test", "v=DMARC1; p=reject")
	d.Fail("s1._domainkey.keyfail.test", dns.RcodeServerFailure)
	d.Fail("_dmarc.policyfail.test", dns.RcodeServerFailure)

	spfRecord("mail.helo.test", "-all")
	d.SetTXT("_dmarc.helo.test", "v=DMARC1; p=reject")

	tests := []struct {
		name     string
		ip       netip.Addr
		helo     string
		mailFrom string
		msg      []byte
		want     Verdicts
	}{
		{"all pass", permittedIP, "mail.pass.test", "bounce@pass.test", sign(t, message("a@pass.test"), "pass.test"),
			Verdicts{SPF: Pass, SPFResult: "pass", DKIM: Pass, DMARC: Pass}},
		{"all pass over IPv6", netip.MustParseAddr("2001:db8::25"), "mail.pass.test", "bounce@pass.test", sign(t, message("a@pass.test"), "pass.test"),
			Verdicts{SPF: Pass, SPFResult: "pass", DKIM: Pass, DMARC: Pass}},
		{"spf fail, unsigned: dmarc fails with its policy", otherIP, "x.example", "a@fail.test", message("a@fail.test"),
			Verdicts{SPF: Fail, SPFResult: "fail", DKIM: Gray, DMARC: Fail, DMARCPolicy: "quarantine"}},
		{"softfail is FAIL", otherIP, "x.example", "a@soft.test", message("a@soft.test"),
			Verdicts{SPF: Fail, SPFResult: "softfail", DKIM: Gray, DMARC: Gray}},
		{"neutral is GRAY", otherIP, "x.example", "a@neutral.test", message("a@neutral.test"),
			Verdicts{SPF: Gray, SPFResult: "neutral", DKIM: Gray, DMARC: Gray}},
		{"no SPF record is GRAY", otherIP, "x.example", "a@none.test", message("a@none.test"),
			Verdicts{SPF: Gray, SPFResult: "none", DKIM: Gray, DMARC: Gray}},
		{"no such domain is GRAY", otherIP, "x.example", "a@nxdomain.test", message("a@nxdomain.test"),
			Verdicts{SPF: Gray, SPFResult: "none", DKIM: Gray, DMARC: Gray}},
		{"DNS failure is temperror", permittedIP, "x.example", "a@tempfail.test", message("a@none.test"),
			Verdicts{SPF: ProcessingFailed, SPFResult: "temperror", DKIM: Gray, DMARC: Gray}},
		{"two SPF records is permerror", permittedIP, "x.example", "a@twice.test", message("a@none.test"),
			Verdicts{SPF: ProcessingFailed, SPFResult: "permerror", DKIM: Gray, DMARC: Gray}},
		{"a tampered body fails DKIM; aligned SPF still passes DMARC", permittedIP, "x.example", "a@tampered.test",
			append(sign(t, message("a@tampered.test"), "tampered.test"), "P.S. added on the way\r\n"...),
			Verdicts{SPF: Pass, SPFResult: "pass", DKIM: Fail, DMARC: Pass}},
		{"relaxed alignment: a parent domain's signature, the org domain's policy", otherIP, "x.example", "a@other.test",
			sign(t, message("a@news.relaxed.test"), "relaxed.test"),
			Verdicts{SPF: Gray, SPFResult: "none", DKIM: Pass, DMARC: Pass}},
		{"strict alignment fails and a subdomain gets sp", otherIP, "x.example", "a@other.test",
			sign(t, message("a@news.strict.test"), "strict.test"),
			Verdicts{SPF: Gray, SPFResult: "none", DKIM: Pass, DMARC: Fail, DMARCPolicy: "quarantine"}},
		{"SPF and DKIM pass for another domain: DMARC fails", permittedIP, "x.example", "bounce@bulk.test",
			sign(t, message("ceo@victim.test"), "bulk.test"),
			Verdicts{SPF: Pass, SPFResult: "pass", DKIM: Pass, DMARC: Fail, DMARCPolicy: "reject"}},
		{"key lookup fails: DKIM and DMARC cannot say", otherIP, "x.example", "a@other.test",
			sign(t, message("a@keyfail.test"), "keyfail.test"),
			Verdicts{SPF: Gray, SPFResult: "none", DKIM: ProcessingFailed, DMARC: ProcessingFailed}},
		{"a second author does not hide a spoofed one", permittedIP, "x.example", "bounce@bulk.test",
			sign(t, []byte(strings.Replace(string(message("ceo@victim.test")), "From: Sender <ceo@victim.test>",
				"From: ceo@victim.test, a@bulk.test", 1)), "bulk.test"),
			Verdicts{SPF: Pass, SPFResult: "pass", DKIM: Pass, DMARC: Fail, DMARCPolicy: "reject"}},
		{"policy lookup fails", otherIP, "x.example", "a@other.test", message("a@policyfail.test"),
			Verdicts{SPF: Gray, SPFResult: "none", DKIM: Gray, DMARC: ProcessingFailed}},
		{"null sender: the HELO name is checked and aligned", permittedIP, "mail.helo.test", "", message("a@helo.test"),
			Verdicts{SPF: Pass, SPFResult: "pass", DKIM: Gray, DMARC: Pass}},
		{"null sender from elsewhere", otherIP, "mail.helo.test", "", message("a@helo.test"),
			Verdicts{SPF: Fail, SPFResult: "fail", DKIM: Gray, DMARC: Fail, DMARCPolicy: "reject"}},
	}
	c := newChecker(d)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := c.Check(context.Background(), Input{IP: tc.ip, Helo: tc.helo, MailFrom: tc.mailFrom, Message: tc.msg})
			want := tc.want
			want.Spam, want.Virus = Disabled, Disabled
			if got.SPF != want.SPF || got.SPFResult != want.SPFResult || got.DKIM != want.DKIM ||
				got.DMARC != want.DMARC || got.DMARCPolicy != want.DMARCPolicy ||
				got.Spam != want.Spam || got.Virus != want.Virus {
				t.Errorf("got SPF %s (%s) DKIM %s DMARC %s (policy %q) spam %s virus %s\n"+
					"want SPF %s (%s) DKIM %s DMARC %s (policy %q) spam %s virus %s",
					got.SPF, got.SPFResult, got.DKIM, got.DMARC, got.DMARCPolicy, got.Spam, got.Virus,
					want.SPF, want.SPFResult, want.DKIM, want.DMARC, want.DMARCPolicy, want.Spam, want.Virus)
			}
		})
	}
}

// A resolver that does not answer makes the checks PROCESSING_FAILED
// within the timeout, not a stuck message.
func TestCheckDNSTimeout(t *testing.T) {
	t.Parallel()
	c := New(Config{Timeout: 300 * time.Millisecond}.WithResolver(silentDNS(t)))
	start := time.Now()
	got := c.Check(context.Background(), Input{IP: permittedIP, Helo: "x.example", MailFrom: "a@pass.test",
		Message: sign(t, message("a@pass.test"), "pass.test")})
	if took := time.Since(start); took > 3*time.Second {
		t.Errorf("Check took %v with a 300ms timeout", took)
	}
	if got.SPF != ProcessingFailed || got.SPFResult != "temperror" || got.DKIM != ProcessingFailed || got.DMARC != ProcessingFailed {
		t.Errorf("got SPF %s (%s) DKIM %s DMARC %s; want all PROCESSING_FAILED (temperror)", got.SPF, got.SPFResult, got.DKIM, got.DMARC)
	}
}

// silentDNS is the address of a UDP socket nobody reads: every question
// sent there goes unanswered.
func silentDNS(t *testing.T) string {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pc.Close() })
	return pc.LocalAddr().String()
}

func TestFromDomains(t *testing.T) {
	t.Parallel()
	tests := []struct {
		header string
		want   []string
	}{
		{"From: a@Example.COM\r\n", []string{"example.com"}},
		{"From: \"A, B\" <a@x.test>\r\n", []string{"x.test"}},
		{"From: a@x.test, b@y.test, c@X.test\r\n", []string{"x.test", "y.test"}},
		{"From: a@x.test\r\nFrom: b@z.test\r\n", []string{"x.test", "z.test"}},
		{"To: a@x.test\r\n", nil},
		{"From: not an address\r\n", nil},
	}
	for _, tc := range tests {
		if got := fromDomains([]byte(tc.header + "\r\nbody\r\n")); !slices.Equal(got, tc.want) {
			t.Errorf("fromDomains(%q) = %q, want %q", strings.TrimSpace(tc.header), got, tc.want)
		}
	}
}

// BenchmarkCheck is the cost of SPF, DKIM (one RSA-2048 signature) and
// DMARC for one message against a loopback DNS server, no scanning.
func BenchmarkCheck(b *testing.B) {
	d := testenv.StartDNS(b)
	d.SetTXT("pass.test", "v=spf1 ip4:192.0.2.0/24 -all")
	publishKey(b, d, "s1", "pass.test")
	d.SetTXT("_dmarc.pass.test", "v=DMARC1; p=reject")
	c := newChecker(d)
	in := Input{IP: permittedIP, Helo: "mail.pass.test", MailFrom: "bounce@pass.test",
		Message: sign(b, message("a@pass.test"), "pass.test")}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		v := c.Check(ctx, in)
		if v.DMARC != Pass {
			b.Fatalf("DMARC %s", v.DMARC)
		}
	}
}
