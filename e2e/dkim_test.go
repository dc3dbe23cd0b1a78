package e2e

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	"github.com/aws/aws-sdk-go-v2/service/sesv2/types"
	"github.com/miekg/dns"

	"sesame/internal/testenv"
)

// DKIM end to end: sesame signs what it delivers through MX, publishes the
// Easy DKIM keys from its own authoritative DNS listener ([dns] listen),
// and Debian's python3-dkim — not sesame's code — verifies the delivered
// messages, resolving keys as a receiver would: the user's CNAME on the
// "internet" DNS server, then the delegated zone at sesame's listener.

const e2eDKIMZone = "dkim.sesame.test"

// startDKIMZoneServer starts sesame in mx mode (startMXServer) with its
// authoritative listener for e2eDKIMZone, whose address it returns too.
// startDKIMCheck is the setup of a test that verifies delivered mail's DKIM
// signatures with dkimpy: a DNS server, a STARTTLS sink as rcpt.test's MX,
// and sesame in mx mode publishing its Easy DKIM zone (startDKIMZoneServer).
func startDKIMCheck(t *testing.T) (*testenv.DNS, []*testenv.Sink, *testenv.Server, string) {
	t.Helper()
	pythonModule(t, "dkim")
	pythonModule(t, "dns")
	d := testenv.StartDNS(t)
	sinks, port := testenv.StartSinks(t, testenv.SinkOptions{StartTLS: true})
	d.SetA("mx.rcpt.test", "127.0.0.2")
	d.SetMX("rcpt.test", 10, "mx.rcpt.test")
	s, dnsAddr := startDKIMZoneServer(t, d, port)
	return d, sinks, s, dnsAddr
}

func startDKIMZoneServer(t *testing.T, d *testenv.DNS, port string) (*testenv.Server, string) {
	t.Helper()
	dnsAddr := testenv.FreeAddr(t)
	s := startMXServer(t, d, port, fmt.Sprintf(`[verification]
check_interval = "100ms"
dkim_cname_domain = %q
[dns]
listen = %q
nameservers = ["ns1.sesame.test"]
`, e2eDKIMZone, dnsAddr))
	return s, dnsAddr
}

// easyDKIMDomain creates domain with Easy DKIM through the v2 API,
// publishes its three CNAMEs (into cnameDomain) at d, waits until it is
// verified with DKIM SUCCESS, and then out the signer's one-second
// identity cache.
func easyDKIMDomain(t *testing.T, v2 *sesv2.Client, d *testenv.DNS, domain, cnameDomain string) *sesv2.CreateEmailIdentityOutput {
	t.Helper()
	created, err := v2.CreateEmailIdentity(context.Background(), &sesv2.CreateEmailIdentityInput{EmailIdentity: aws.String(domain)})
	if err != nil {
		t.Fatal(err)
	}
	for _, tok := range created.DkimAttributes.Tokens {
		d.SetCNAME(tok+"._domainkey."+domain, tok+"."+cnameDomain)
	}
	waitIdentity(t, v2, domain, func(g *sesv2.GetEmailIdentityOutput) bool {
		return g.VerifiedForSendingStatus && g.DkimAttributes != nil && g.DkimAttributes.Status == types.DkimStatusSuccess
	})
	time.Sleep(1100 * time.Millisecond)
	return created
}

func TestDKIMSignedMailVerifiesIndependently(t *testing.T) {
	d, sinks, s, dnsAddr := startDKIMCheck(t)
	ctx := context.Background()
	v2 := s.SESv2Client(t)

	// Easy DKIM: the user publishes the three CNAMEs into sesame's zone.
	const easy = "easy.example"
	created, err := v2.CreateEmailIdentity(ctx, &sesv2.CreateEmailIdentityInput{EmailIdentity: aws.String(easy)})
	if err != nil {
		t.Fatal(err)
	}
	tokens := created.DkimAttributes.Tokens
	for _, tok := range tokens {
		d.SetCNAME(tok+"._domainkey."+easy, tok+"."+e2eDKIMZone)
	}
	// BYODKIM: the user's own key and selector, their own TXT record.
	const byo = "byo.example"
	if _, err := v2.CreateEmailIdentity(ctx, &sesv2.CreateEmailIdentityInput{EmailIdentity: aws.String(byo)}); err != nil {
		t.Fatal(err)
	}
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	der, _ := x509.MarshalPKCS8PrivateKey(key)
	pub, _ := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if _, err := v2.PutEmailIdentityDkimSigningAttributes(ctx, &sesv2.PutEmailIdentityDkimSigningAttributesInput{
		EmailIdentity: aws.String(byo), SigningAttributesOrigin: types.DkimSigningAttributesOriginExternal,
		SigningAttributes: &types.DkimSigningAttributes{DomainSigningSelector: aws.String("s2026"),
			DomainSigningPrivateKey: aws.String(base64.StdEncoding.EncodeToString(der))}}); err != nil {
		t.Fatal(err)
	}
	d.SetTXT("s2026._domainkey."+byo, "v=DKIM1; k=rsa; p="+base64.StdEncoding.EncodeToString(pub))
	for _, name := range []string{easy, byo} {
		waitIdentity(t, v2, name, func(g *sesv2.GetEmailIdentityOutput) bool {
			return g.DkimAttributes != nil && g.DkimAttributes.Status == types.DkimStatusSuccess
		})
	}

	// The zone file `sesame admin dkim zone` prints is what the listener serves.
	checkZoneMatchesListener(t, s, dnsAddr, tokens)

	// Three messages: raw MIME with the optional signed fields, folded and
	// non-ASCII headers, odd whitespace (from a subdomain: the parent's key
	// signs); a SendEmail Simple message (sesame builds the MIME); BYODKIM.
	raw := "From: =?UTF-8?Q?Caf=C3=A9?= <news@mail." + easy + ">\r\n" +
		"To: Ann <ann@rcpt.test>\r\n" +
		"Cc: bo@rcpt.test\r\n" +
		"Reply-To: replies@" + easy + "\r\n" +
		"Subject: =?UTF-8?Q?r=C3=A9sum=C3=A9?= and a subject long enough\r\n" +
		"\tto be folded onto a second line\r\n" +
		"MIME-Version: 1.0\r\n" +
		"Content-Type: multipart/alternative; boundary=\"b1\"\r\n" +
		"\r\n" +
		"--b1\r\nContent-Type: text/plain; charset=UTF-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n" +
		"caf\u00e9   with trailing spaces   \r\n\ttabbed line\r\n\r\n" +
		"--b1\r\nContent-Type: text/html; charset=UTF-8\r\n\r\n<p>" + strings.Repeat("long line ", 80) + "</p>\r\n" +
		"--b1--\r\n\r\n\r\n"
	submitRaw(t, s, "news@mail."+easy, []string{"ann@rcpt.test", "bo@rcpt.test"}, raw)
	if _, err := v2.SendEmail(ctx, &sesv2.SendEmailInput{
		FromEmailAddress: aws.String("Sender <sender@" + easy + ">"),
		Destination:      &types.Destination{ToAddresses: []string{"cy@rcpt.test"}},
		ReplyToAddresses: []string{"reply@" + easy},
		Content: &types.EmailContent{Simple: &types.Message{
			Subject: &types.Content{Data: aws.String("simple via the API")},
			Body: &types.Body{Text: &types.Content{Data: aws.String("text part")},
				Html: &types.Content{Data: aws.String("<b>html part</b>")}}}},
	}); err != nil {
		t.Fatal(err)
	}
	smtpSendTo(t, s, "owner@"+byo, "bring your own key", "dee@rcpt.test")
	waitFor(t, "three delivered messages", func() bool { return len(sinks[0].Messages()) >= 3 })

	dir := t.TempDir()
	// What each delivery's signature names: d=, s= and the fields h= must
	// list beyond From:To:Subject:Message-ID:Date:Feedback-ID.
	mime := []string{"mime-version", "content-type"}
	want := map[string]struct {
		d, s string
		h    []string
	}{
		"ann@rcpt.test": {easy, strings.ToLower(tokens[0]), append([]string{"cc", "reply-to"}, mime...)},
		"bo@rcpt.test":  {easy, strings.ToLower(tokens[0]), append([]string{"cc", "reply-to"}, mime...)},
		"cy@rcpt.test":  {easy, strings.ToLower(tokens[0]), append([]string{"reply-to"}, mime...)},
		"dee@rcpt.test": {byo, "s2026", nil},
	}
	for i, m := range sinks[0].Messages() {
		w, ok := want[m.Recipients[0]]
		if !ok {
			t.Fatalf("unexpected delivery to %v", m.Recipients)
		}
		if n := strings.Count(string(m.Data), "DKIM-Signature:"); n != 1 {
			t.Errorf("%v: %d DKIM-Signature fields (signed once per message):\n%s", m.Recipients, n, m.Data)
		}
		res, err := pyVerify(t, filepath.Join(dir, fmt.Sprintf("m%d.eml", i)), m.Data, d.Addr, dnsAddr)
		if err != nil {
			t.Fatalf("%v: python3-dkim does not verify: %v\n%s", m.Recipients, err, m.Data)
		}
		if res.D != w.d || res.S != w.s || res.C != "relaxed/relaxed" || res.A != "rsa-sha256" {
			t.Errorf("%v: d=%s s=%s c=%s a=%s, want d=%s s=%s relaxed/relaxed rsa-sha256", m.Recipients,
				res.D, res.S, res.C, res.A, w.d, w.s)
		}
		h := strings.ToLower(res.H)
		for _, f := range append([]string{"from", "to", "subject", "message-id", "date", "feedback-id"}, w.h...) {
			if !strings.Contains(":"+h+":", ":"+f+":") {
				t.Errorf("%v: h=%s lacks %s", m.Recipients, res.H, f)
			}
		}
		if w.d == easy && (len(res.Asked) != 1 || !strings.HasSuffix(res.Asked[0], "@"+dnsAddr)) {
			t.Errorf("%v: Easy DKIM key not read from sesame's listener: %v", m.Recipients, res.Asked)
		}
		// The verifier does check: a changed body fails.
		tampered := []byte(strings.Replace(string(m.Data), "part", "parts", 1))
		tampered = []byte(strings.Replace(string(tampered), "trailing", "trailinG", 1))
		tampered = []byte(strings.Replace(string(tampered), "Hello", "Jello", 1))
		if _, err := pyVerify(t, filepath.Join(dir, fmt.Sprintf("t%d.eml", i)), tampered, d.Addr, dnsAddr); err == nil {
			t.Errorf("%v: a tampered message verified", m.Recipients)
		}
	}
}

type pyResult struct {
	Verified bool
	D, S, H  string
	C, A     string
	Asked    []string
	Error    string
}

// pyVerify runs e2e/scripts/dkim_verify.py on msg; err is non-nil when
// the signature does not verify.
func pyVerify(t *testing.T, file string, msg []byte, internet, zoneDNS string) (pyResult, error) {
	t.Helper()
	if err := os.WriteFile(file, msg, 0o600); err != nil {
		t.Fatal(err)
	}
	script := filepath.Join("scripts", "dkim_verify.py")
	cmd := exec.Command("/usr/bin/python3", script, file, internet, e2eDKIMZone, zoneDNS)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	var res pyResult
	if jerr := json.Unmarshal(out, &res); jerr != nil {
		t.Fatalf("dkim_verify.py: %v %v\n%s%s", err, jerr, out, stderr.String())
	}
	if err != nil || !res.Verified {
		return res, fmt.Errorf("not verified (%v): %s", err, out)
	}
	return res, nil
}

// checkZoneMatchesListener parses `sesame admin dkim zone` as a zone file
// and asks sesame's DNS listener each record: same owner, same key.
func checkZoneMatchesListener(t *testing.T, s *testenv.Server, dnsAddr string, tokens []string) {
	t.Helper()
	out, err := s.AdminRaw("dkim", "zone")
	if err != nil {
		t.Fatalf("admin dkim zone: %v\n%s", err, out)
	}
	zp := dns.NewZoneParser(strings.NewReader(string(out)), "", "")
	seen := 0
	c := &dns.Client{Timeout: 5 * time.Second}
	for rr, ok := zp.Next(); ok; rr, ok = zp.Next() {
		txt, isTXT := rr.(*dns.TXT)
		if !isTXT {
			t.Fatalf("zone file: unexpected %s", rr)
		}
		q := new(dns.Msg)
		q.SetQuestion(txt.Hdr.Name, dns.TypeTXT)
		in, _, err := c.Exchange(q, dnsAddr)
		if err != nil {
			t.Fatalf("DNS listener: %v", err)
		}
		if !in.Authoritative || len(in.Answer) != 1 {
			t.Fatalf("DNS listener for %s: %v", txt.Hdr.Name, in)
		}
		if got := strings.Join(in.Answer[0].(*dns.TXT).Txt, ""); got != strings.Join(txt.Txt, "") {
			t.Errorf("%s: listener %q, zone file %q", txt.Hdr.Name, got, strings.Join(txt.Txt, ""))
		}
		seen++
	}
	if err := zp.Err(); err != nil {
		t.Fatalf("zone file: %v\n%s", err, out)
	}
	if seen != len(tokens) {
		t.Errorf("zone file has %d records, want %d (one per token)\n%s", seen, len(tokens), out)
	}
}
