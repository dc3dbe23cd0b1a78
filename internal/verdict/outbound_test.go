package verdict

import (
	"bytes"
	"context"
	"crypto/x509"
	"log/slog"
	"testing"
	"time"

	"sesame/internal/clock"
	sesdkim "sesame/internal/dkim"
	"sesame/internal/store"
	"sesame/internal/testenv"
)

// Mail that sesame's own outbound path signed (internal/dkim, with a BYODKIM
// key whose record is published) verifies as PASS on the way back in, and
// DMARC passes on that aligned signature alone.
func TestOwnOutboundSignaturePasses(t *testing.T) {
	t.Parallel()
	const acct, region, domain = "111122223333", "us-east-1", "own.test"
	st, err := store.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	der, err := x509.MarshalPKCS8PrivateKey(testKey())
	if err != nil {
		t.Fatal(err)
	}
	err = st.CreateIdentity(context.Background(), store.IdentityDetails{
		Identity: store.Identity{AccountID: acct, Region: region, Name: domain, Status: store.StatusSuccess},
		DKIM: store.DKIM{Origin: store.DKIMOriginExternal, SigningEnabled: true, Status: store.StatusSuccess,
			Selector: "s1", PrivateKey: der, KeyGenerated: time.Unix(1700000000, 0)},
	}, store.MaxIdentities)
	if err != nil {
		t.Fatal(err)
	}
	d := testenv.StartDNS(t)
	record, err := sesdkim.PublicKeyRecord(der)
	if err != nil {
		t.Fatal(err)
	}
	d.SetTXT("s1._domainkey."+domain, record)
	d.SetTXT("_dmarc."+domain, "v=DMARC1; p=reject")

	msg := message("sender@" + domain)
	sig, err := sesdkim.New(st, clock.Real{}, slog.New(slog.DiscardHandler)).Sign(context.Background(), acct, region, bytes.NewReader(msg))
	if err != nil || len(sig) == 0 {
		t.Fatalf("sesame's signer: %q, %v", sig, err)
	}
	signed := append(sig, msg...)
	// Bounced through another domain's MAIL FROM: only DKIM can align.
	v := newChecker(d).Check(context.Background(), Input{IP: otherIP, Helo: "mail.relay.example",
		MailFrom: "bounces@relay.example", Message: signed})
	if v.DKIM != Pass || v.DMARC != Pass || len(v.DKIMDomains) != 1 || v.DKIMDomains[0] != domain {
		t.Errorf("DKIM %s %v, DMARC %s; want PASS [%s], PASS", v.DKIM, v.DKIMDomains, v.DMARC, domain)
	}
}
