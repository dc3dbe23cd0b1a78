package admin

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/miekg/dns"

	"sesame/internal/dkim"
	"sesame/internal/store"
)

// identityOpt is the configuration the identity tests run with.
var identityOpt = Options{Regions: regions, Hostname: "mail.example.net"}

func (f *fixture) runWith(t *testing.T, opt Options, args ...string) (string, error) {
	t.Helper()
	var out bytes.Buffer
	err := RunWith(context.Background(), f.st, opt, args, &out)
	return out.String(), err
}

type verifyOut struct {
	Identity string     `json:"identity"`
	Status   string     `json:"verification_status"`
	DKIM     *dkimState `json:"dkim"`
	Records  []Record   `json:"records"`
	Warning  string     `json:"warning"`
}

func (f *fixture) verify(t *testing.T, args ...string) verifyOut {
	t.Helper()
	out, err := f.runWith(t, identityOpt, append([]string{"identity", "verify"}, args...)...)
	if err != nil {
		t.Fatalf("identity verify %v: %v", args, err)
	}
	var v verifyOut
	if err := json.Unmarshal([]byte(out), &v); err != nil {
		t.Fatalf("identity verify output: %v\n%s", err, out)
	}
	return v
}

func TestIdentityVerifyDomainSetsUpEasyDKIM(t *testing.T) {
	t.Parallel()
	f := newFixture(t, 1)
	ctx := context.Background()
	v := f.verify(t, "Example.TEST")
	if v.Identity != "example.test" || v.Status != store.StatusSuccess || v.Warning != "" {
		t.Fatalf("verify printed %+v", v)
	}
	d, err := f.st.IdentityDetails(ctx, f.ids[0], "us-east-1", "example.test")
	if err != nil {
		t.Fatal(err)
	}
	// What the signer needs (internal/dkim lookup): Easy DKIM, enabled,
	// Success, a key; and what CreateEmailIdentity gives: 3 tokens, 2048 bits.
	if !signs(d.DKIM) || d.DKIM.Origin != store.DKIMOriginAWS || len(d.DKIM.Tokens) != 3 ||
		d.DKIM.KeyLength != "RSA_2048_BIT" || d.DomainToken == "" || !d.FeedbackForwarding {
		t.Fatalf("stored DKIM %+v, token %q", d.DKIM, d.DomainToken)
	}
	if v.DKIM == nil || !slices.Equal(v.DKIM.Tokens, d.DKIM.Tokens) || v.DKIM.Selector != d.DKIM.Tokens[0] {
		t.Errorf("printed DKIM %+v, stored tokens %v", v.DKIM, d.DKIM.Tokens)
	}
	var cnames []string
	for _, r := range v.Records {
		if r.Type == "CNAME" {
			cnames = append(cnames, r.Name+" "+r.Value)
		}
	}
	for i, tok := range d.DKIM.Tokens {
		if want := tok + "._domainkey.example.test " + tok + ".dkim.mail.example.net"; i >= len(cnames) || cnames[i] != want {
			t.Errorf("CNAMEs %v lack %s", cnames, want)
		}
	}

	// Verifying again keeps the key: the CNAMEs published stay right.
	again := f.verify(t, "example.test")
	if again.DKIM == nil || !slices.Equal(again.DKIM.Tokens, d.DKIM.Tokens) {
		t.Errorf("second verify changed the tokens: %v → %+v", d.DKIM.Tokens, again.DKIM)
	}
}

func TestIdentityVerifyDomainOptions(t *testing.T) {
	t.Parallel()
	f := newFixture(t, 1)
	ctx := context.Background()

	// --no-dkim: verified, unsigned, and said so.
	v := f.verify(t, "--no-dkim", "plain.test")
	if v.Status != store.StatusSuccess || v.DKIM != nil || !strings.Contains(v.Warning, "without a DKIM signature") {
		t.Errorf("--no-dkim printed %+v", v)
	}
	// A domain the API created (Pending, no DKIM, as v1 VerifyDomainIdentity
	// leaves it) gets Easy DKIM when verified.
	if err := f.st.CreateIdentity(ctx, store.IdentityDetails{Identity: store.Identity{AccountID: f.ids[0],
		Region: "us-east-1", Name: "v1.test"}, DomainToken: "tok"}, store.MaxIdentities); err != nil {
		t.Fatal(err)
	}
	if v := f.verify(t, "v1.test"); v.DKIM == nil || v.DKIM.Status != store.StatusSuccess || len(v.DKIM.Tokens) != 3 {
		t.Errorf("v1 domain verified to %+v", v)
	}

	// BYODKIM from a PEM file: its selector signs, its TXT is the record.
	key, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	der, _ := x509.MarshalPKCS8PrivateKey(key)
	file := filepath.Join(t.TempDir(), "key.pem")
	if err := os.WriteFile(file, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	v = f.verify(t, "byo.test", "--dkim-selector", "S2026", "--dkim-private-key", file)
	wantTXT, _ := dkim.PublicKeyRecord(der)
	if v.DKIM == nil || v.DKIM.Origin != store.DKIMOriginExternal || v.DKIM.Selector != "s2026" ||
		v.DKIM.KeyLength != "RSA_1024_BIT" || len(v.Records) == 0 ||
		v.Records[0] != (Record{Name: "s2026._domainkey.byo.test", Type: "TXT", Value: wantTXT, Purpose: v.Records[0].Purpose}) {
		t.Errorf("BYODKIM verify printed %+v", v)
	}

	for _, tc := range []struct {
		args    []string
		wantErr string
	}{
		{[]string{"half.test", "--dkim-selector", "s1"}, "needs both"},
		{[]string{"half.test", "--dkim-selector", "s1", "--dkim-private-key", file, "--no-dkim"}, "contradicts"},
		{[]string{"half.test", "--dkim-selector", "s1", "--dkim-private-key", filepath.Join(t.TempDir(), "none")}, "no such file"},
		{[]string{"a@half.test", "--dkim-selector", "s1", "--dkim-private-key", file}, "belong to domains"},
	} {
		if _, err := f.runWith(t, identityOpt, append([]string{"identity", "verify"}, tc.args...)...); err == nil || !strings.Contains(err.Error(), tc.wantErr) {
			t.Errorf("verify %v: err = %v, want %q", tc.args, err, tc.wantErr)
		}
	}
	if _, err := f.st.IdentityDetails(ctx, f.ids[0], "us-east-1", "half.test"); err == nil {
		t.Error("a refused verify created the identity")
	}
}

func TestIdentityRecords(t *testing.T) {
	t.Parallel()
	f := newFixture(t, 1)
	ctx := context.Background()
	v := f.verify(t, "--region", "eu-west-1", "example.test")
	if _, err := f.st.UpdateIdentity(ctx, f.ids[0], "eu-west-1", "example.test", func(d *store.IdentityDetails) error {
		d.MailFrom = store.MailFrom{Domain: "bounce.example.test", Behavior: store.MailFromUseDefault, Status: store.StatusPending}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	opt := identityOpt
	opt.MailFromMXDomain = "feedback.example.net"
	opt.SourceAddresses = []string{"192.0.2.25"} // [[delivery.source_addresses]]: in the SPF record
	out, err := f.runWith(t, opt, "identity", "records", "--region", "eu-west-1", "example.test.")
	if err != nil {
		t.Fatal(err)
	}
	var got []Record
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	var want []string
	for _, tok := range v.DKIM.Tokens {
		want = append(want, tok+"._domainkey.example.test CNAME "+tok+".dkim.mail.example.net")
	}
	want = append(want,
		"bounce.example.test MX 10 feedback-smtp.eu-west-1.feedback.example.net",
		"bounce.example.test TXT v=spf1 a:mail.example.net ip4:192.0.2.25 ~all",
		"_dmarc.example.test TXT v=DMARC1; p=none; rua=mailto:dmarc@example.test")
	var have []string
	for _, r := range got {
		if r.Purpose == "" {
			t.Errorf("%s %s has no purpose", r.Name, r.Type)
		}
		have = append(have, r.Name+" "+r.Type+" "+r.Value)
	}
	if !slices.Equal(have, want) {
		t.Errorf("records:\n%s\nwant:\n%s", strings.Join(have, "\n"), strings.Join(want, "\n"))
	}

	// The zone snippet holds the same records, and parses as a zone.
	zone, err := f.runWith(t, opt, "identity", "records", "--region", "eu-west-1", "--format", "zone", "example.test")
	if err != nil {
		t.Fatal(err)
	}
	zp := dns.NewZoneParser(strings.NewReader(zone), "", "")
	var parsed []string
	for rr, ok := zp.Next(); ok; rr, ok = zp.Next() {
		h := rr.Header()
		value := strings.TrimPrefix(rr.String(), h.String())
		switch rr := rr.(type) {
		case *dns.TXT:
			value = strings.Join(rr.Txt, "")
		case *dns.CNAME:
			value = strings.TrimSuffix(rr.Target, ".")
		case *dns.MX:
			value = "10 " + strings.TrimSuffix(rr.Mx, ".")
		}
		parsed = append(parsed, strings.TrimSuffix(h.Name, ".")+" "+dns.TypeToString[h.Rrtype]+" "+value)
	}
	if err := zp.Err(); err != nil {
		t.Fatalf("zone snippet: %v\n%s", err, zone)
	}
	if !slices.Equal(parsed, want) {
		t.Errorf("zone snippet:\n%s\nwant:\n%s\n%s", strings.Join(parsed, "\n"), strings.Join(want, "\n"), zone)
	}

	// A domain still waiting for its v1 token gets the _amazonses record.
	if err := f.st.CreateIdentity(ctx, store.IdentityDetails{Identity: store.Identity{AccountID: f.ids[0],
		Region: "us-east-1", Name: "v1.test"}, DomainToken: "dG9rZW4="}, store.MaxIdentities); err != nil {
		t.Fatal(err)
	}
	out, err = f.runWith(t, opt, "identity", "records", "v1.test")
	if err != nil || !strings.Contains(out, `"_amazonses.v1.test"`) || !strings.Contains(out, `"dG9rZW4="`) {
		t.Errorf("v1 domain records (%v):\n%s", err, out)
	}

	for _, tc := range []struct {
		args    []string
		wantErr string
	}{
		{[]string{"identity", "records", "nobody.test"}, "no identity nobody.test"},
		{[]string{"identity", "records", "a@example.test"}, "is an address"},
		{[]string{"identity", "records", "--format", "bind", "example.test"}, "--format is json or zone"},
		{[]string{"identity", "records"}, "want one DOMAIN"},
	} {
		if _, err := f.runWith(t, opt, tc.args...); err == nil || !strings.Contains(err.Error(), tc.wantErr) {
			t.Errorf("%v: err = %v, want %q", tc.args, err, tc.wantErr)
		}
	}
}

func TestDKIMRotate(t *testing.T) {
	t.Parallel()
	f := newFixture(t, 1)
	ctx := context.Background()
	v := f.verify(t, "example.test")
	before, err := f.st.IdentityDetails(ctx, f.ids[0], "us-east-1", "example.test")
	if err != nil {
		t.Fatal(err)
	}
	out, err := f.runWith(t, identityOpt, "dkim", "rotate", "--key-length", "RSA_1024_BIT", "example.test")
	if err != nil {
		t.Fatal(err)
	}
	var r rotated
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	after, err := f.st.IdentityDetails(ctx, f.ids[0], "us-east-1", "example.test")
	if err != nil {
		t.Fatal(err)
	}
	toks := v.DKIM.Tokens
	// Same CNAMEs, a new 1024-bit key, signing under the next token, still
	// verified and signing.
	if !slices.Equal(after.DKIM.Tokens, []string{toks[1], toks[2], toks[0]}) || bytes.Equal(after.DKIM.PrivateKey, before.DKIM.PrivateKey) ||
		after.DKIM.KeyLength != "RSA_1024_BIT" || after.DKIM.NextKeyLength != "RSA_1024_BIT" || !signs(after.DKIM) ||
		!after.DKIM.KeyGenerated.After(before.DKIM.KeyGenerated) {
		t.Fatalf("after rotation: %+v (tokens before %v)", after.DKIM, toks)
	}
	newTXT, _ := dkim.PublicKeyRecord(after.DKIM.PrivateKey)
	if r.PreviousSelector != toks[0] || r.DKIM.Selector != toks[1] || len(r.KeyRecords) != 3 ||
		r.KeyRecords[0] != (Record{Name: toks[1] + ".dkim.mail.example.net", Type: "TXT", Value: newTXT, Purpose: r.KeyRecords[0].Purpose}) {
		t.Errorf("rotate printed %+v", r)
	}
	var cnames []string
	for _, rec := range r.Records {
		if rec.Type == "CNAME" {
			cnames = append(cnames, strings.SplitN(rec.Name, ".", 2)[0])
		}
	}
	if slices.Sort(cnames); !slices.Equal(cnames, slices.Sorted(slices.Values(toks))) {
		t.Errorf("rotation changed the CNAMEs to publish: %v, were %v", cnames, toks)
	}
	// The next rotation keeps the key length asked for last.
	if _, err := f.runWith(t, identityOpt, "dkim", "rotate", "example.test"); err != nil {
		t.Fatal(err)
	}
	if d, _ := f.st.IdentityDetails(ctx, f.ids[0], "us-east-1", "example.test"); d.DKIM.KeyLength != "RSA_1024_BIT" || d.DKIM.Tokens[0] != toks[2] {
		t.Errorf("second rotation: %+v", d.DKIM)
	}

	f.verify(t, "--no-dkim", "plain.test")
	for _, tc := range []struct {
		args    []string
		wantErr string
	}{
		{[]string{"dkim", "rotate", "plain.test"}, "no Easy DKIM"},
		{[]string{"dkim", "rotate", "--key-length", "RSA_4096_BIT", "example.test"}, "RSA_4096_BIT"},
		{[]string{"dkim", "rotate", "nobody.test"}, "no identity"},
		{[]string{"dkim", "rotate"}, "want one DOMAIN"},
	} {
		if _, err := f.runWith(t, identityOpt, tc.args...); err == nil || !strings.Contains(err.Error(), tc.wantErr) {
			t.Errorf("%v: err = %v, want %q", tc.args, err, tc.wantErr)
		}
	}
}
