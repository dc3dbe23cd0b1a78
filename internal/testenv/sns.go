package testenv

import (
	"crypto"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
)

// VerifySNS checks an SNS message's signature the way the AWS SDK message
// validators do, independently of sesame's signer: it fetches the
// SigningCertURL (once per URL, as validators cache it: a notification that
// arrives while sesame restarts still verifies), rebuilds the string to sign
// ("Name\nValue\n" pairs in byte order; Subject only when present) and
// verifies SHA1withRSA (SignatureVersion 1) or SHA256withRSA (2).
func VerifySNS(m map[string]string) error {
	cert, err := signingCert(m["SigningCertURL"])
	if err != nil {
		return err
	}
	keys := []string{"Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type"}
	if m["Type"] == "Notification" {
		keys = []string{"Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"}
	}
	var str strings.Builder
	for _, k := range keys {
		if v, ok := m[k]; ok {
			str.WriteString(k + "\n" + v + "\n")
		}
	}
	sig, err := base64.StdEncoding.DecodeString(m["Signature"])
	if err != nil {
		return err
	}
	var h crypto.Hash
	var digest []byte
	switch m["SignatureVersion"] {
	case "1":
		d := sha1.Sum([]byte(str.String()))
		h, digest = crypto.SHA1, d[:]
	case "2":
		d := sha256.Sum256([]byte(str.String()))
		h, digest = crypto.SHA256, d[:]
	default:
		return fmt.Errorf("SignatureVersion %q", m["SignatureVersion"])
	}
	if err := rsa.VerifyPKCS1v15(cert.PublicKey.(*rsa.PublicKey), h, digest, sig); err != nil {
		return fmt.Errorf("%s signature (v%s) does not verify: %w", m["Type"], m["SignatureVersion"], err)
	}
	return nil
}

// certs caches the certificates VerifySNS fetched, by URL.
var certs sync.Map

func signingCert(url string) (*x509.Certificate, error) {
	if c, ok := certs.Load(url); ok {
		return c.(*x509.Certificate), nil
	}
	resp, err := http.Get(url)
	if err != nil {
		return nil, fmt.Errorf("fetching SigningCertURL: %w", err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("SigningCertURL %s: %s", url, resp.Status)
	}
	block, _ := pem.Decode(b)
	if block == nil || block.Type != "CERTIFICATE" {
		return nil, fmt.Errorf("SigningCertURL %s: not a PEM certificate", url)
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		return nil, err
	}
	certs.Store(url, cert)
	return cert, nil
}
