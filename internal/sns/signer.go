package sns

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"math/big"
	"net/http"
	"strings"
	"sync"
	"time"
)

// CertPath is where the signing certificate is served on the API listener;
// the file name has SNS's shape (SimpleNotificationService-<id>.pem).
const CertPath = "/_sesame/sns/"

// signing is the persisted key, its certificate, and a cache of signatures:
// every subscriber of a message gets the same signed string, so a message
// fanned out to n subscribers costs one RSA operation, not n.
type signing struct {
	id      string
	certPEM []byte
	certURL string
	signer  crypto.Signer // PKCS#1 v1.5 over the digest

	mu    sync.Mutex
	cache map[[32]byte]string
}

const maxCachedSignatures = 8192

// loadSigning reads (creating on first start) the key; it returns the key
// too, for the helper.
func loadSigning(ctx context.Context, st Store, newSigner func(*rsa.PrivateKey) (crypto.Signer, error), baseURL string) (*signing, *rsa.PrivateKey, error) {
	id, der, certPEM, err := st.SNSSigningKey(ctx, createSigningKey)
	if err != nil {
		return nil, nil, fmt.Errorf("sns: signing key: %w", err)
	}
	k, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		return nil, nil, fmt.Errorf("sns: signing key %s: %w", id, err)
	}
	key, ok := k.(*rsa.PrivateKey)
	if !ok {
		return nil, nil, fmt.Errorf("sns: signing key %s: not RSA", id)
	}
	var signer crypto.Signer = key
	if newSigner != nil {
		if signer, err = newSigner(key); err != nil {
			return nil, nil, fmt.Errorf("sns: signing engine: %w", err)
		}
	}
	return newSigning(id, []byte(certPEM), baseURL+CertPath+"SimpleNotificationService-"+id+".pem", signer), key, nil
}

func newSigning(id string, certPEM []byte, certURL string, signer crypto.Signer) *signing {
	return &signing{id: id, certPEM: certPEM, certURL: certURL, signer: signer, cache: map[[32]byte]string{}}
}

// createSigningKey makes the RSA 2048 key and a self-signed certificate for
// it, valid for 20 years (subscribers fetch it by URL; nothing renews it).
func createSigningKey() (string, []byte, string, error) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return "", nil, "", err
	}
	serial, _ := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: "sns.sesame.local", Organization: []string{"sesame"}},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.AddDate(20, 0, 0),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		DNSNames:     []string{"sns.sesame.local"},
	}
	certDER, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return "", nil, "", err
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return "", nil, "", err
	}
	sum := sha256.Sum256(certDER)
	id := hex.EncodeToString(sum[:16])
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: certDER})
	return id, der, string(certPEM), nil
}

// ServeCert answers GET <CertPath>SimpleNotificationService-<id>.pem with the
// PEM certificate (unauthenticated, as SNS's certificate host).
func (s *Service) ServeCert(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != CertPath+"SimpleNotificationService-"+s.sign.id+".pem" {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "application/x-x509-ca-cert")
	_, _ = w.Write(s.sign.certPEM)
}

// SigningCertURL is the URL of the certificate that verifies signatures.
func (s *Service) SigningCertURL() string { return s.sign.certURL }

// signature signs the string (StringToSign) for a SignatureVersion.
func (g *signing) signature(version, str string) (string, error) {
	hash := crypto.SHA1
	var digest []byte
	if version == "2" {
		hash = crypto.SHA256
		d := sha256.Sum256([]byte(str))
		digest = d[:]
	} else {
		d := sha1.Sum([]byte(str))
		digest = d[:]
	}
	key := sha256.Sum256(append([]byte(version+"\x00"), str...))
	g.mu.Lock()
	sig, ok := g.cache[key]
	g.mu.Unlock()
	if ok {
		return sig, nil
	}
	raw, err := g.signer.Sign(rand.Reader, digest, hash)
	if err != nil {
		return "", fmt.Errorf("sns: sign: %w", err)
	}
	sig = base64.StdEncoding.EncodeToString(raw)
	g.mu.Lock()
	if len(g.cache) >= maxCachedSignatures {
		clear(g.cache)
	}
	g.cache[key] = sig
	g.mu.Unlock()
	return sig, nil
}

// StringToSign is SNS's canonical string: "Name\nValue\n" for each present
// field in byte order of the names. Notifications sign Message, MessageId,
// Subject (if any), Timestamp, TopicArn, Type; confirmations sign Message,
// MessageId, SubscribeURL, Timestamp, Token, TopicArn, Type.
func StringToSign(fields map[string]string) string {
	var names []string
	switch fields["Type"] {
	case "Notification":
		names = []string{"Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"}
	default:
		names = []string{"Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type"}
	}
	var b strings.Builder
	for _, n := range names {
		v, ok := fields[n]
		if !ok {
			continue
		}
		b.WriteString(n)
		b.WriteByte('\n')
		b.WriteString(v)
		b.WriteByte('\n')
	}
	return b.String()
}
