package dane

import (
	"context"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"testing"
	"time"

	"github.com/miekg/dns"

	"sesame/internal/testenv"
)

func state(c *tls.Certificate) tls.ConnectionState {
	var chain []*x509.Certificate
	for _, der := range c.Certificate {
		x, _ := x509.ParseCertificate(der)
		chain = append(chain, x)
	}
	return tls.ConnectionState{PeerCertificates: chain}
}

func TestVerify(t *testing.T) {
	t.Parallel()
	ca := testenv.NewTestCA(t)
	other := testenv.NewTestCA(t)
	mx := ca.Issue(t, "mx.example.com")
	cs := state(mx)
	leaf, caCert := cs.PeerCertificates[0], cs.PeerCertificates[1]
	spki256 := sha256.Sum256(leaf.RawSubjectPublicKeyInfo)
	cert512 := sha512.Sum512(leaf.Raw)
	ca256 := sha256.Sum256(caCert.Raw)
	caSPKI256 := sha256.Sum256(caCert.RawSubjectPublicKeyInfo)
	otherCA256 := sha256.Sum256(other.Cert.Raw)
	now := time.Now()
	later := now.Add(48 * time.Hour) // past the certificates' NotAfter

	onlyLeaf := tls.ConnectionState{PeerCertificates: cs.PeerCertificates[:1]}
	for _, tc := range []struct {
		name string
		rec  Record
		cs   tls.ConnectionState
		host string
		at   time.Time
		ok   bool
	}{
		{"EE spki sha256", Record{3, 1, 1, spki256[:]}, cs, "mx.example.com", now, true},
		{"EE cert sha512", Record{3, 0, 2, cert512[:]}, cs, "mx.example.com", now, true},
		{"EE cert full", Record{3, 0, 0, leaf.Raw}, cs, "mx.example.com", now, true},
		{"EE spki full", Record{3, 1, 0, leaf.RawSubjectPublicKeyInfo}, cs, "mx.example.com", now, true},
		// DANE-EE checks neither names nor dates (RFC 7672 §3.1.1).
		{"EE other name, expired", Record{3, 1, 1, spki256[:]}, cs, "wrong.example", later, true},
		{"EE mismatch", Record{3, 1, 1, ca256[:]}, cs, "mx.example.com", now, false},
		{"EE on the CA", Record{3, 0, 1, ca256[:]}, cs, "mx.example.com", now, false},
		{"TA cert sha256", Record{2, 0, 1, ca256[:]}, cs, "mx.example.com", now, true},
		{"TA spki sha256", Record{2, 1, 1, caSPKI256[:]}, cs, "mx.example.com", now, true},
		{"TA name checked", Record{2, 0, 1, ca256[:]}, cs, "other.example.com", now, false},
		{"TA dates checked", Record{2, 0, 1, ca256[:]}, cs, "mx.example.com", later, false},
		{"TA not sent, digest", Record{2, 0, 1, ca256[:]}, onlyLeaf, "mx.example.com", now, false},
		{"TA not sent, full record", Record{2, 0, 0, caCert.Raw}, onlyLeaf, "mx.example.com", now, true},
		{"TA other CA", Record{2, 0, 1, otherCA256[:]}, cs, "mx.example.com", now, false},
		// PKIX usages are not used for SMTP (§3.1.3), even when they match.
		{"PKIX-EE ignored", Record{1, 1, 1, spki256[:]}, cs, "mx.example.com", now, false},
		{"PKIX-TA ignored", Record{0, 0, 1, ca256[:]}, cs, "mx.example.com", now, false},
		{"bad digest length", Record{3, 1, 1, spki256[:31]}, cs, "mx.example.com", now, false},
		{"unknown matching type", Record{3, 1, 3, spki256[:]}, cs, "mx.example.com", now, false},
		{"no certificate", Record{3, 1, 1, spki256[:]}, tls.ConnectionState{}, "mx.example.com", now, false},
	} {
		err := Verify([]Record{tc.rec}, tc.cs, tc.host, tc.at)
		if (err == nil) != tc.ok {
			t.Errorf("%s: Verify = %v, want ok %v", tc.name, err, tc.ok)
		}
		if err != nil && !errors.Is(err, ErrNoMatch) {
			t.Errorf("%s: %v is not ErrNoMatch", tc.name, err)
		}
	}
	// One matching record among others is enough.
	if err := Verify([]Record{{3, 1, 1, ca256[:]}, {1, 1, 1, spki256[:]}, {3, 1, 1, spki256[:]}}, cs, "mx.example.com", now); err != nil {
		t.Errorf("one of three: %v", err)
	}
}

func TestParse(t *testing.T) {
	t.Parallel()
	r, err := Parse("3 1 1 0123 4567")
	if err != nil || r.Usage != 3 || r.Selector != 1 || r.Matching != 1 || len(r.Data) != 4 {
		t.Fatalf("Parse: %+v, %v", r, err)
	}
	for _, bad := range []string{"", "3 1 1", "3 1 x 00", "256 1 1 00", "3 1 1 zz", "3 1 1 0"} {
		if _, err := Parse(bad); err == nil {
			t.Errorf("Parse(%q) accepted", bad)
		}
	}
}

// TestLookup runs the DNS side against a server answering like a
// validating resolver: AD only for the names marked secure.
func TestLookup(t *testing.T) {
	t.Parallel()
	d := testenv.StartSecureDNS(t)
	ee := make([]byte, 32)
	ee[0] = 1
	d.SetMX("signed.test", 10, "mx.signed.test")
	d.SetA("mx.signed.test", "127.0.0.2")
	d.SetTLSA("_25._tcp.mx.signed.test", 3, 1, 1, ee)
	d.SetTLSA("_25._tcp.mx.signed.test", 1, 1, 1, ee) // unusable, ignored
	d.SetSecure(true, "signed.test", "mx.signed.test", "_25._tcp.mx.signed.test")

	d.SetMX("unusable.test", 10, "mx.unusable.test")
	d.SetA("mx.unusable.test", "127.0.0.2")
	d.SetTLSA("_25._tcp.mx.unusable.test", 0, 0, 1, ee)
	d.SetSecure(true, "unusable.test", "mx.unusable.test", "_25._tcp.mx.unusable.test")

	d.SetMX("plain.test", 10, "mx.signed.test") // unsigned MX: no DANE even for a signed host

	d.SetMX("notlsa.test", 10, "mx.notlsa.test")
	d.SetA("mx.notlsa.test", "127.0.0.2")
	d.SetSecure(true, "notlsa.test", "mx.notlsa.test", "_25._tcp.mx.notlsa.test")

	d.SetMX("broken.test", 10, "mx.broken.test")
	d.SetA("mx.broken.test", "127.0.0.2")
	d.SetSecure(true, "broken.test", "mx.broken.test")
	d.Fail("_25._tcp.mx.broken.test", dns.RcodeServerFailure)

	d.SetMX("insecuretlsa.test", 10, "mx.insecuretlsa.test")
	d.SetA("mx.insecuretlsa.test", "127.0.0.2")
	d.SetTLSA("_25._tcp.mx.insecuretlsa.test", 3, 1, 1, ee)
	d.SetSecure(true, "insecuretlsa.test", "mx.insecuretlsa.test")

	d.SetMX("insecurehost.test", 10, "mx.insecurehost.test")
	d.SetA("mx.insecurehost.test", "127.0.0.2")
	d.SetTLSA("_25._tcp.mx.insecurehost.test", 3, 1, 1, ee)
	d.SetSecure(true, "insecurehost.test", "_25._tcp.mx.insecurehost.test")

	r := &Resolver{Server: d.Addr}
	ctx := context.Background()
	for _, tc := range []struct {
		domain, host string
		required     bool
		records      int
		err          bool
	}{
		{"signed.test", "mx.signed.test", true, 1, false},
		{"unusable.test", "mx.unusable.test", true, 0, false},
		{"plain.test", "mx.signed.test", false, 0, false},
		{"notlsa.test", "mx.notlsa.test", false, 0, false},
		{"broken.test", "mx.broken.test", false, 0, true},
		{"insecuretlsa.test", "mx.insecuretlsa.test", false, 0, false},
		{"insecurehost.test", "mx.insecurehost.test", false, 0, false},
	} {
		p, err := r.Lookup(ctx, tc.domain, tc.host)
		if (err != nil) != tc.err || p.Required != tc.required || len(p.Records) != tc.records {
			t.Errorf("%s/%s: %+v, %v; want required %v, %d records, error %v", tc.domain, tc.host, p, err, tc.required, tc.records, tc.err)
		}
	}
	// Another port, another name.
	rp := &Resolver{Server: d.Addr, Port: "2525"}
	if p, err := rp.Lookup(ctx, "signed.test", "mx.signed.test"); err != nil || p.Required {
		t.Errorf("port 2525: %+v, %v", p, err)
	}
}

// FuzzVerify feeds arbitrary TLSA records to Verify against a real chain:
// it must not panic, and whatever it accepts must be a usable record that
// names a certificate of the chain.
func FuzzVerify(f *testing.F) {
	ca := testenv.NewTestCA(f)
	cs := state(ca.Issue(f, "mx.example.com"))
	leafSPKI := sha256.Sum256(cs.PeerCertificates[0].RawSubjectPublicKeyInfo)
	caCert := sha256.Sum256(cs.PeerCertificates[1].Raw)
	f.Add(uint8(3), uint8(1), uint8(1), leafSPKI[:])
	f.Add(uint8(2), uint8(0), uint8(1), caCert[:])
	f.Add(uint8(2), uint8(0), uint8(0), cs.PeerCertificates[1].Raw)
	f.Add(uint8(3), uint8(0), uint8(0), []byte{0x30, 0x03, 0x02, 0x01, 0x01})
	now := time.Now()
	f.Fuzz(func(t *testing.T, usage, selector, matching uint8, data []byte) {
		r := Record{usage, selector, matching, data}
		if err := Verify([]Record{r}, cs, "mx.example.com", now); err == nil {
			if !r.Usable() {
				t.Fatalf("unusable %v accepted", r)
			}
			if !r.matches(cs.PeerCertificates[0]) && !r.matches(cs.PeerCertificates[1]) && usage != UsageDANETA {
				t.Fatalf("%v accepted without naming a certificate", r)
			}
		}
		if p, err := Parse(r.String()); len(data) > 0 && (err != nil || p.String() != r.String()) {
			t.Fatalf("Parse(%q) = %v, %v", r.String(), p, err)
		}
	})
}
