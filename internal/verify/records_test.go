package verify

import (
	"slices"
	"strings"
	"testing"

	"sesame/internal/store"
)

// Records makes what `sesame admin identity records` prints and the
// console shows: one composition for both.
func TestRecords(t *testing.T) {
	base := RecordsInput{Domain: "example.com", Region: "eu-west-1", DKIMCNAMEDomain: "dkim.mail.example.net",
		MailFromMXDomain: "mail.example.net", Hostname: "mail.example.net"}

	easy := base
	easy.DKIMOrigin, easy.DKIMTokens = store.DKIMOriginAWS, []string{"AAA", "bbb", "ccc"}
	easy.MailFromDomain = "bounce.example.com"
	easy.DomainToken, easy.Status, easy.DKIMStatus = "tok=", "PENDING", "PENDING"
	got, err := Records(easy)
	if err != nil {
		t.Fatal(err)
	}
	var short []string
	for _, r := range got {
		short = append(short, r.Type+" "+r.Name+" "+r.Value)
	}
	want := []string{
		"CNAME aaa._domainkey.example.com aaa.dkim.mail.example.net",
		"CNAME bbb._domainkey.example.com bbb.dkim.mail.example.net",
		"CNAME ccc._domainkey.example.com ccc.dkim.mail.example.net",
		"MX bounce.example.com 10 feedback-smtp.eu-west-1.mail.example.net",
		"TXT bounce.example.com v=spf1 a:mail.example.net ~all",
		"TXT _amazonses.example.com tok=",
		"TXT _dmarc.example.com v=DMARC1; p=none; rua=mailto:dmarc@example.com",
	}
	if !slices.Equal(short, want) {
		t.Fatalf("records:\n%s\nwant:\n%s", strings.Join(short, "\n"), strings.Join(want, "\n"))
	}

	// Verified (in either spelling): no _amazonses token any more.
	for _, st := range []string{store.StatusSuccess, "SUCCESS"} {
		v := easy
		v.DKIMStatus = st
		got, _ := Records(v)
		if slices.ContainsFunc(got, func(r Record) bool { return strings.HasPrefix(r.Name, "_amazonses.") }) {
			t.Errorf("DKIM status %s still lists _amazonses", st)
		}
	}

	// BYODKIM with the key at hand, and without it (the console).
	byo := base
	byo.DKIMOrigin, byo.DKIMSelector, byo.DKIMPublicKeyTXT = store.DKIMOriginExternal, "s1", "v=DKIM1; k=rsa; p=KEY"
	got, _ = Records(byo)
	if len(got) != 2 || got[0] != (Record{Name: "s1._domainkey.example.com", Type: "TXT", Value: "v=DKIM1; k=rsa; p=KEY", Purpose: got[0].Purpose}) {
		t.Fatalf("BYODKIM: %+v", got)
	}
	byo.DKIMPublicKeyTXT = ""
	got, _ = Records(byo)
	if got[0].Name != "s1._domainkey.example.com" || !strings.Contains(got[0].Value, "<your public key") {
		t.Fatalf("BYODKIM without the key: %+v", got[0])
	}

	// Sending addresses configured: the SPF record allows them besides
	// hostname's address (the default route when no address is usable).
	src := easy
	src.SourceAddresses = []string{"192.0.2.25", "2001:db8::25", "::ffff:198.51.100.7"}
	got, _ = Records(src)
	i := slices.IndexFunc(got, func(r Record) bool { return r.Type == "TXT" && r.Name == "bounce.example.com" })
	if i < 0 || got[i].Value != "v=spf1 a:mail.example.net ip4:192.0.2.25 ip6:2001:db8::25 ip4:198.51.100.7 ~all" ||
		!strings.Contains(got[i].Purpose, "delivery.source_addresses") {
		t.Errorf("SPF with sending addresses: %+v", got)
	}

	// No DKIM: only DMARC.
	if got, _ := Records(base); len(got) != 1 || got[0].Name != "_dmarc.example.com" {
		t.Fatalf("no DKIM: %+v", got)
	}

	// Configuration gaps are errors, not records pointing nowhere.
	gap := easy
	gap.DKIMCNAMEDomain = ""
	if _, err := Records(gap); err == nil || !strings.Contains(err.Error(), "dkim_cname_domain") {
		t.Errorf("no CNAME domain: %v", err)
	}
	gap = easy
	gap.Hostname = ""
	if _, err := Records(gap); err == nil || !strings.Contains(err.Error(), "mail_from_mx_domain") {
		t.Errorf("no hostname: %v", err)
	}
}
