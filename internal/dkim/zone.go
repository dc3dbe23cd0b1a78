package dkim

import (
	"context"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"fmt"
	"io"
	"strings"
)

// ZoneTTL is the TTL of the published key records: short enough that a
// new or rotated key is seen within minutes.
const ZoneTTL = 300

// Record is one Easy DKIM key to publish: TXT <Token>.<DKIM CNAME domain>,
// the target of the CNAME <Token>._domainkey.<Identity>.
type Record struct {
	Token     string
	Value     string // "v=DKIM1; k=rsa; p=…"
	AccountID string
	Region    string
	Identity  string
}

// Records lists the TXT records of every Easy DKIM identity of every
// account in region ("" = all regions). Each identity's three tokens name
// the same key: sesame signs with the first and keeps one key per identity,
// so all three CNAMEs SES hands out resolve to a usable record.
func Records(ctx context.Context, st Store, region string) ([]Record, error) {
	ids, err := st.EasyDKIMIdentities(ctx, region)
	if err != nil {
		return nil, fmt.Errorf("dkim: zone records: %w", err)
	}
	var out []Record
	for _, d := range ids {
		if len(d.DKIM.PrivateKey) == 0 {
			continue
		}
		value, err := PublicKeyRecord(d.DKIM.PrivateKey)
		if err != nil {
			return nil, fmt.Errorf("dkim: zone record of %s (%s, %s): %w", d.Name, d.AccountID, d.Region, err)
		}
		for _, tok := range d.DKIM.Tokens {
			out = append(out, Record{Token: strings.ToLower(tok), Value: value,
				AccountID: d.AccountID, Region: d.Region, Identity: d.Name})
		}
	}
	return out, nil
}

// PublicKeyRecord is the DKIM key record (RFC 6376 §3.6.1) of a stored
// private key (PKCS#8 or PKCS#1 DER): "v=DKIM1; k=rsa; p=<base64
// SubjectPublicKeyInfo>".
func PublicKeyRecord(der []byte) (string, error) {
	key, err := ParsePrivateKey(der)
	if err != nil {
		return "", err
	}
	pub, ok := key.Public().(*rsa.PublicKey)
	if !ok {
		return "", fmt.Errorf("DKIM key is %T, not RSA", key.Public())
	}
	spki, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return "", fmt.Errorf("DKIM public key: %w", err)
	}
	return "v=DKIM1; k=rsa; p=" + base64.StdEncoding.EncodeToString(spki), nil
}

// TXTStrings splits a TXT value into the ≤ 255-octet character-strings
// one TXT record is made of (RFC 1035 §3.3.14); DKIM verifiers join them
// (RFC 6376 §3.6.2.2). A 2048-bit key's record needs two.
func TXTStrings(value string) []string {
	var out []string
	for len(value) > 255 {
		out = append(out, value[:255])
		value = value[255:]
	}
	return append(out, value)
}

// WriteZone writes records as a zone file for origin (the DKIM CNAME
// domain, without the trailing dot): $ORIGIN, $TTL and one TXT per token,
// each after a comment naming its identity. It has no SOA or NS, so it can
// be included in a zone the operator runs ($INCLUDE) or pasted into one.
func WriteZone(w io.Writer, origin string, records []Record) error {
	origin = strings.TrimSuffix(strings.ToLower(origin), ".")
	var b strings.Builder
	fmt.Fprintf(&b, "; Easy DKIM keys published by sesame: <token>._domainkey.<identity> is a CNAME\n")
	fmt.Fprintf(&b, "; of <token>.%s, which holds the identity's public key.\n", origin)
	fmt.Fprintf(&b, "$ORIGIN %s.\n$TTL %d\n", origin, ZoneTTL)
	for _, r := range records {
		fmt.Fprintf(&b, "; %s account %s %s\n", r.Identity, r.AccountID, r.Region)
		quoted := TXTStrings(r.Value)
		for i, s := range quoted {
			quoted[i] = `"` + s + `"`
		}
		fmt.Fprintf(&b, "%s\tIN\tTXT\t( %s )\n", r.Token, strings.Join(quoted, " "))
	}
	_, err := io.WriteString(w, b.String())
	return err
}
