package admin

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"slices"
	"strings"
	"testing"

	"github.com/miekg/dns"

	"sesame/internal/dkim"
	"sesame/internal/store"
)

func TestDKIMZone(t *testing.T) {
	t.Parallel()
	f := newFixture(t, 2)
	ctx := context.Background()
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	der, _ := x509.MarshalPKCS8PrivateKey(k)
	want, _ := dkim.PublicKeyRecord(der)
	for _, d := range []store.IdentityDetails{
		{Identity: store.Identity{AccountID: f.ids[0], Region: "us-east-1", Name: "a.example"},
			DKIM: store.DKIM{Origin: store.DKIMOriginAWS, Tokens: []string{"tok1", "tok2", "tok3"}, PrivateKey: der}},
		{Identity: store.Identity{AccountID: f.ids[1], Region: "eu-west-1", Name: "b.example"},
			DKIM: store.DKIM{Origin: store.DKIMOriginAWS, Tokens: []string{"tok4"}, PrivateKey: der}},
		{Identity: store.Identity{AccountID: f.ids[1], Region: "eu-west-1", Name: "byo.example"},
			DKIM: store.DKIM{Origin: store.DKIMOriginExternal, Selector: "sel", PrivateKey: der}},
	} {
		if err := f.st.CreateIdentity(ctx, d, store.MaxIdentities); err != nil {
			t.Fatal(err)
		}
	}
	run := func(opt Options, args ...string) (string, error) {
		var out bytes.Buffer
		err := RunWith(ctx, f.st, opt, args, &out)
		return out.String(), err
	}
	opt := Options{Regions: regions, DKIMCNAMEDomain: "dkim.mail.example.net"}
	tests := []struct {
		name    string
		opt     Options
		args    []string
		origin  string
		tokens  []string
		wantErr string
	}{
		{"every region", opt, []string{"dkim", "zone"}, "dkim.mail.example.net.", []string{"tok1", "tok2", "tok3", "tok4"}, ""},
		{"one region", opt, []string{"dkim", "zone", "--region", "eu-west-1"}, "dkim.mail.example.net.", []string{"tok4"}, ""},
		{"origin flag", opt, []string{"dkim", "zone", "--origin", "Keys.Example.ORG."}, "keys.example.org.", []string{"tok1", "tok2", "tok3", "tok4"}, ""},
		{"unknown region", opt, []string{"dkim", "zone", "--region", "ap-south-1"}, "", nil, "unknown region"},
		{"no domain", Options{Regions: regions}, []string{"dkim", "zone"}, "", nil, "no zone domain"},
		{"extra argument", opt, []string{"dkim", "zone", "x"}, "", nil, "unexpected argument"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out, err := run(tc.opt, tc.args...)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			// The output is a zone file a DNS server loads: parse it as one.
			zp := dns.NewZoneParser(strings.NewReader(out), "", "")
			var got []string
			for rr, ok := zp.Next(); ok; rr, ok = zp.Next() {
				txt, isTXT := rr.(*dns.TXT)
				if !isTXT {
					t.Fatalf("unexpected record %s", rr)
				}
				if txt.Hdr.Ttl != dkim.ZoneTTL {
					t.Errorf("TTL %d", txt.Hdr.Ttl)
				}
				if v := strings.Join(txt.Txt, ""); v != want {
					t.Errorf("%s: TXT %q, want %q", txt.Hdr.Name, v, want)
				}
				for _, s := range txt.Txt {
					if len(s) > 255 {
						t.Errorf("character-string of %d octets", len(s))
					}
				}
				got = append(got, strings.TrimSuffix(txt.Hdr.Name, "."+tc.origin))
			}
			if err := zp.Err(); err != nil {
				t.Fatalf("zone file does not parse: %v\n%s", err, out)
			}
			slices.Sort(got)
			if strings.Join(got, " ") != strings.Join(tc.tokens, " ") {
				t.Errorf("records %v, want %v\n%s", got, tc.tokens, out)
			}
		})
	}
}
