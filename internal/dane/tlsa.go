// Package dane authenticates SMTP receivers with DANE (RFC 7672): TLSA
// records found through DNSSEC-validated lookups say which certificate or
// trust anchor a mail exchanger must present.
//
// It decides only what the DNS says (resolver.go) and whether a TLS
// connection's certificates match it (this file); delivery decides what a
// mismatch means for the mail. It never trusts a TLSA record the resolver
// did not vouch for (the AD bit), and it ignores the PKIX usages 0 and 1,
// which RFC 7672 §3.1.3 says SMTP clients do not use.
package dane

import (
	"bytes"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Certificate usages, selectors and matching types (RFC 6698 §2.1, RFC
// 7218's names).
const (
	UsagePKIXTA = 0
	UsagePKIXEE = 1
	UsageDANETA = 2
	UsageDANEEE = 3

	SelectorCert = 0
	SelectorSPKI = 1

	MatchFull   = 0
	MatchSHA256 = 1
	MatchSHA512 = 2
)

// ErrNoMatch is wrapped when no usable record matches the certificates.
var ErrNoMatch = errors.New("dane: no TLSA record matches the server's certificate")

// Record is one TLSA record.
type Record struct {
	Usage, Selector, Matching uint8
	Data                      []byte
}

func (r Record) String() string {
	return fmt.Sprintf("%d %d %d %x", r.Usage, r.Selector, r.Matching, r.Data)
}

// Parse reads a record's presentation form, "3 1 1 <hex>" (whitespace
// inside the hex is allowed, as in zone files).
func Parse(s string) (Record, error) {
	f := strings.Fields(s)
	if len(f) < 4 {
		return Record{}, fmt.Errorf("dane: TLSA %q: want usage, selector, matching type and data", s)
	}
	var nums [3]uint8
	for i := range nums {
		n, err := strconv.ParseUint(f[i], 10, 8)
		if err != nil {
			return Record{}, fmt.Errorf("dane: TLSA %q: field %d: %w", s, i+1, err)
		}
		nums[i] = uint8(n)
	}
	data, err := hex.DecodeString(strings.Join(f[3:], ""))
	if err != nil || len(data) == 0 {
		return Record{}, fmt.Errorf("dane: TLSA %q: data is not hex", s)
	}
	return Record{Usage: nums[0], Selector: nums[1], Matching: nums[2], Data: data}, nil
}

// Usable reports whether an SMTP client may use r (RFC 7672 §3.1): usage
// DANE-TA or DANE-EE, a known selector and matching type, and data of the
// digest's length. Records that are not usable are ignored, but their
// presence still makes TLS mandatory (§2.2).
func (r Record) Usable() bool {
	if r.Usage != UsageDANETA && r.Usage != UsageDANEEE {
		return false
	}
	if r.Selector != SelectorCert && r.Selector != SelectorSPKI {
		return false
	}
	switch r.Matching {
	case MatchFull:
		return len(r.Data) > 0
	case MatchSHA256:
		return len(r.Data) == sha256.Size
	case MatchSHA512:
		return len(r.Data) == sha512.Size
	}
	return false
}

// Usable returns the usable records of rs.
func Usable(rs []Record) []Record {
	var out []Record
	for _, r := range rs {
		if r.Usable() {
			out = append(out, r)
		}
	}
	return out
}

// matches reports whether cert is what r names.
func (r Record) matches(cert *x509.Certificate) bool {
	var b []byte
	switch r.Selector {
	case SelectorCert:
		b = cert.Raw
	case SelectorSPKI:
		b = cert.RawSubjectPublicKeyInfo
	default:
		return false
	}
	switch r.Matching {
	case MatchFull:
		return bytes.Equal(b, r.Data)
	case MatchSHA256:
		sum := sha256.Sum256(b)
		return bytes.Equal(sum[:], r.Data)
	case MatchSHA512:
		sum := sha512.Sum512(b)
		return bytes.Equal(sum[:], r.Data)
	}
	return false
}

// Verify checks the certificates a receiver presented against its usable
// TLSA records; nil when one matches (RFC 7672 §3.1):
//
//   - DANE-EE(3): the leaf certificate (or its public key) is the one
//     named. Its names and validity dates are not checked (§3.1.1): the
//     DNS is the authority.
//   - DANE-TA(2): a certificate of the chain (or, for "2 0 0", the record
//     itself) is the trust anchor named, and the leaf chains to it, is
//     valid now and names host, the TLSA base domain (§3.2.2).
func Verify(records []Record, cs tls.ConnectionState, host string, now time.Time) error {
	if len(cs.PeerCertificates) == 0 {
		return fmt.Errorf("%w: no certificate presented", ErrNoMatch)
	}
	leaf := cs.PeerCertificates[0]
	var taErrs []error
	for _, r := range records {
		if !r.Usable() {
			continue
		}
		switch r.Usage {
		case UsageDANEEE:
			if r.matches(leaf) {
				return nil
			}
		case UsageDANETA:
			err := verifyTA(r, cs.PeerCertificates, host, now)
			if err == nil {
				return nil
			}
			if !errors.Is(err, errNoAnchor) {
				taErrs = append(taErrs, fmt.Errorf("TLSA %d %d %d: %w", r.Usage, r.Selector, r.Matching, err))
			}
		}
	}
	if len(taErrs) > 0 {
		return fmt.Errorf("%w: %w", ErrNoMatch, errors.Join(taErrs...))
	}
	return ErrNoMatch
}

var errNoAnchor = errors.New("trust anchor not in the chain")

func verifyTA(r Record, chain []*x509.Certificate, host string, now time.Time) error {
	roots, inter := x509.NewCertPool(), x509.NewCertPool()
	found := false
	// RFC 7671 §5.2.2: a "2 0 0" record carries the anchor itself, which
	// the server need not send.
	if r.Selector == SelectorCert && r.Matching == MatchFull {
		if c, err := x509.ParseCertificate(r.Data); err == nil {
			roots.AddCert(c)
			found = true
		}
	}
	for i, c := range chain {
		switch {
		case r.matches(c):
			roots.AddCert(c)
			found = true
		case i > 0:
			inter.AddCert(c)
		}
	}
	if !found {
		return errNoAnchor
	}
	_, err := chain[0].Verify(x509.VerifyOptions{
		DNSName:       strings.TrimSuffix(host, "."),
		Roots:         roots,
		Intermediates: inter,
		CurrentTime:   now,
		// RFC 7672 asks nothing of extended key usage; receivers' mail
		// certificates do not always carry serverAuth.
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny},
	})
	return err
}
