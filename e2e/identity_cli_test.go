package e2e

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// The admin CLI's identity commands end to end: `identity verify DOMAIN`
// sets Easy DKIM up, the records `identity records` prints are published
// on the test's "internet" DNS, mail from the domain goes out through MX
// signed and python3-dkim verifies it (keys from sesame's [dns] listener);
// `dkim rotate` moves signing to a new key and selector, nothing to
// publish again, and later mail still verifies.

type cliRecord struct {
	Name, Type, Value, Purpose string
}

type cliDKIM struct {
	Origin   string   `json:"origin"`
	Status   string   `json:"status"`
	Tokens   []string `json:"tokens"`
	Selector string   `json:"selector"`
}

func TestIdentityCLIVerifySignsAndRotates(t *testing.T) {
	d, sinks, s, dnsAddr := startDKIMCheck(t)
	const domain = "example.test"

	var v struct {
		Identity string      `json:"identity"`
		Status   string      `json:"verification_status"`
		DKIM     cliDKIM     `json:"dkim"`
		Records  []cliRecord `json:"records"`
		Warning  string      `json:"warning"`
	}
	s.Admin(&v, "identity", "verify", domain)
	if v.Status != "Success" || v.DKIM.Origin != "AWS_SES" || v.DKIM.Status != "Success" || len(v.DKIM.Tokens) != 3 || v.Warning != "" {
		t.Fatalf("identity verify printed %+v", v)
	}
	var records []cliRecord
	s.Admin(&records, "identity", "records", domain)
	if !slices.Equal(records, v.Records) {
		t.Errorf("identity records %+v differ from what verify printed %+v", records, v.Records)
	}
	publish(t, d, records, v.DKIM.Tokens)

	dir := t.TempDir()
	send := func(from, subject string) pyResult {
		t.Helper()
		n := len(sinks[0].Messages())
		smtpSendTo(t, s, from, subject, "u@rcpt.test")
		waitFor(t, subject, func() bool { return len(sinks[0].Messages()) > n })
		m := sinks[0].Messages()[n]
		if !strings.HasPrefix(string(m.Data), "DKIM-Signature: ") {
			t.Fatalf("%s: not signed:\n%s", subject, m.Data)
		}
		res, err := pyVerify(t, filepath.Join(dir, fmt.Sprintf("m%d.eml", n)), m.Data, d.Addr, dnsAddr)
		if err != nil {
			t.Fatalf("%s: python3-dkim does not verify: %v\n%s", subject, err, m.Data)
		}
		if res.D != domain {
			t.Errorf("%s: d=%s, want %s", subject, res.D, domain)
		}
		return res
	}
	if res := send("sender@"+domain, "signed after admin verify"); res.S != v.DKIM.Tokens[0] || res.S != v.DKIM.Selector {
		t.Errorf("signed with s=%s, want the first token %s", res.S, v.DKIM.Tokens[0])
	}

	var r struct {
		PreviousSelector string      `json:"previous_selector"`
		DKIM             cliDKIM     `json:"dkim"`
		KeyRecords       []cliRecord `json:"key_records"`
		Records          []cliRecord `json:"records"`
	}
	s.Admin(&r, "dkim", "rotate", "--key-length", "RSA_1024_BIT", domain)
	if r.PreviousSelector != v.DKIM.Tokens[0] || r.DKIM.Selector != v.DKIM.Tokens[1] || len(r.KeyRecords) != 3 {
		t.Fatalf("dkim rotate printed %+v", r)
	}
	// Nothing for the domain's owner to publish again.
	var after []cliRecord
	s.Admin(&after, "identity", "records", domain)
	if !sameRecordSet(after, records) || !sameRecordSet(r.Records, records) {
		t.Errorf("records after rotation %+v, before %+v", after, records)
	}
	// sesame's listener serves the new key under the new selector within
	// its second of staleness.
	c := &dns.Client{Timeout: 5 * time.Second}
	waitFor(t, "the new key from the listener", func() bool {
		q := new(dns.Msg)
		q.SetQuestion(dns.Fqdn(r.KeyRecords[0].Name), dns.TypeTXT)
		in, _, err := c.Exchange(q, dnsAddr)
		return err == nil && len(in.Answer) == 1 && strings.Join(in.Answer[0].(*dns.TXT).Txt, "") == r.KeyRecords[0].Value
	})
	// A new address: the signer keeps an address's key for a second.
	if res := send("later@"+domain, "signed after rotation"); res.S != r.DKIM.Selector {
		t.Errorf("after rotation signed with s=%s, want %s", res.S, r.DKIM.Selector)
	}
}

// publish puts records on the test's "internet" DNS, as the domain's
// owner would; the CNAMEs must be the Easy DKIM tokens into sesame's zone.
func publish(t *testing.T, d interface {
	SetCNAME(name, target string)
	SetTXT(name, value string)
}, records []cliRecord, tokens []string) {
	t.Helper()
	var cnames []string
	for _, rec := range records {
		switch rec.Type {
		case "CNAME":
			d.SetCNAME(rec.Name, rec.Value)
			cnames = append(cnames, rec.Name+" "+rec.Value)
		case "TXT":
			d.SetTXT(rec.Name, rec.Value)
		default:
			t.Fatalf("unexpected record %+v (no custom MAIL FROM here)", rec)
		}
		if rec.Purpose == "" {
			t.Errorf("record %s %s without a purpose", rec.Name, rec.Type)
		}
	}
	var want []string
	for _, tok := range tokens {
		want = append(want, tok+"._domainkey.example.test "+tok+"."+e2eDKIMZone)
	}
	if !slices.Equal(cnames, want) {
		t.Fatalf("CNAMEs %v, want %v", cnames, want)
	}
}

// sameRecordSet compares records whatever their order (a rotation moves
// which token comes first).
func sameRecordSet(a, b []cliRecord) bool {
	key := func(rs []cliRecord) []string {
		var out []string
		for _, r := range rs {
			out = append(out, r.Name+" "+r.Type+" "+r.Value)
		}
		slices.Sort(out)
		return out
	}
	return slices.Equal(key(a), key(b))
}
