package verify

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base32"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"strings"

	"sesame/internal/seserr"
)

// DKIM key lengths (v2 spelling).
const (
	RSA1024 = "RSA_1024_BIT"
	RSA2048 = "RSA_2048_BIT"
)

// keyBits maps a key length name to RSA bits (0: not one SES offers).
func keyBits(length string) int {
	switch length {
	case RSA1024:
		return 1024
	case RSA2048, "":
		return 2048
	}
	return 0
}

// lowerBase32 is RFC 4648 base32 in lower case without padding: SES's DKIM
// tokens are 32 characters of [a-z2-7].
var lowerBase32 = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// newDKIMTokens makes Easy DKIM's 3 tokens.
func newDKIMTokens() []string {
	out := make([]string, 3)
	for i := range out {
		b := make([]byte, 20) // 160 bits → 32 base32 characters
		rand.Read(b)
		out[i] = lowerBase32.EncodeToString(b)
	}
	return out
}

// newDomainToken makes a v1 VerificationToken: 44 base64 characters, as SES's.
func newDomainToken() string {
	b := make([]byte, 32)
	rand.Read(b)
	return base64.StdEncoding.EncodeToString(b)
}

// newLinkToken makes an email link token and the hash the store keeps, so
// a copy of the database verifies nothing.
func newLinkToken() (token, hash string) {
	b := make([]byte, 32)
	rand.Read(b)
	token = base64.RawURLEncoding.EncodeToString(b)
	return token, hashLinkToken(token)
}

func hashLinkToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// newDKIMKey generates an Easy DKIM key of length and returns it as PKCS#8 DER.
func newDKIMKey(length string) ([]byte, error) {
	bits := keyBits(length)
	if bits == 0 {
		return nil, seserr.InvalidSigningKeyLength(length)
	}
	key, err := rsa.GenerateKey(rand.Reader, bits)
	if err != nil {
		return nil, fmt.Errorf("verify: generating a DKIM key: %w", err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("verify: encoding a DKIM key: %w", err)
	}
	return der, nil
}

// parseBYODKIMKey reads DomainSigningPrivateKey: a PEM body (base64 of a
// PKCS#1 or PKCS#8 RSA key of 1024–2048 bits), with or without BEGIN/END
// lines and newlines. It returns the key as PKCS#8 DER.
func parseBYODKIMKey(s string) ([]byte, error) {
	var body strings.Builder
	for _, line := range strings.Split(s, "\n") {
		line = strings.TrimSpace(line)
		if strings.HasPrefix(line, "-----") {
			continue
		}
		body.WriteString(strings.Join(strings.Fields(line), ""))
	}
	der, err := base64.StdEncoding.DecodeString(body.String())
	if err != nil {
		return nil, seserr.InvalidDKIMKey("DomainSigningPrivateKey is not base64.")
	}
	var key *rsa.PrivateKey
	if k, err := x509.ParsePKCS1PrivateKey(der); err == nil {
		key = k
	} else if k, err := x509.ParsePKCS8PrivateKey(der); err == nil {
		rk, ok := k.(*rsa.PrivateKey)
		if !ok {
			return nil, seserr.InvalidDKIMKey("DomainSigningPrivateKey is not an RSA key.")
		}
		key = rk
	} else {
		return nil, seserr.InvalidDKIMKey("DomainSigningPrivateKey is not a PKCS#1 or PKCS#8 RSA private key.")
	}
	if bits := key.N.BitLen(); bits < 1024 || bits > 2048 {
		return nil, seserr.InvalidDKIMKeySize(bits)
	}
	out, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("verify: encoding a DKIM key: %w", err)
	}
	return out, nil
}

// keyLengthOf names a PKCS#8 RSA key's length as SES does.
func keyLengthOf(der []byte) string {
	k, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		return ""
	}
	if rk, ok := k.(*rsa.PrivateKey); ok && rk.N.BitLen() <= 1024 {
		return RSA1024
	}
	return RSA2048
}

// PublicKeyRecord is the DKIM TXT record value for a PKCS#8 private key:
// "v=DKIM1; k=rsa; p=<base64 SubjectPublicKeyInfo>".
func PublicKeyRecord(privateDER []byte) (string, error) {
	k, err := x509.ParsePKCS8PrivateKey(privateDER)
	if err != nil {
		return "", fmt.Errorf("verify: DKIM key: %w", err)
	}
	rk, ok := k.(*rsa.PrivateKey)
	if !ok {
		return "", fmt.Errorf("verify: DKIM key is not RSA")
	}
	pub, err := x509.MarshalPKIXPublicKey(&rk.PublicKey)
	if err != nil {
		return "", fmt.Errorf("verify: DKIM public key: %w", err)
	}
	return "v=DKIM1; k=rsa; p=" + base64.StdEncoding.EncodeToString(pub), nil
}

// publicKeyMatches reports whether a DKIM TXT record's p= is the public
// half of privateDER (SubjectPublicKeyInfo or bare PKCS#1 form).
func publicKeyMatches(record string, privateDER []byte) bool {
	k, err := x509.ParsePKCS8PrivateKey(privateDER)
	if err != nil {
		return false
	}
	rk, ok := k.(*rsa.PrivateKey)
	if !ok {
		return false
	}
	for _, tag := range strings.Split(record, ";") {
		name, value, ok := strings.Cut(strings.TrimSpace(tag), "=")
		if !ok || strings.TrimSpace(name) != "p" {
			continue
		}
		der, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(value), ""))
		if err != nil {
			return false
		}
		if pub, err := x509.ParsePKIXPublicKey(der); err == nil {
			return rk.PublicKey.Equal(pub)
		}
		if pub, err := x509.ParsePKCS1PublicKey(der); err == nil {
			return rk.PublicKey.Equal(pub)
		}
		return false
	}
	return false
}
