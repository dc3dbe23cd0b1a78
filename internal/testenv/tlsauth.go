package testenv

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// Helpers for outbound TLS authentication tests (MTA-STS, DANE): a DNS
// server that answers like a DNSSEC-validating resolver (the AD bit on the
// names a test marks secure), a test certificate authority, and an HTTPS
// server for MTA-STS policy files.

// SecureDNS is a DNS (same records, same methods) whose answers carry the
// AD bit for the names marked secure, as a validating resolver's answers
// for signed zones do.
type SecureDNS struct {
	*DNS

	smu    sync.Mutex
	secure map[string]bool
}

// StartSecureDNS starts the server on loopback; it stops when the test ends.
func StartSecureDNS(t testing.TB) *SecureDNS {
	t.Helper()
	s := &SecureDNS{DNS: &DNS{records: map[string][]dns.RR{}, fail: map[string]int{}}, secure: map[string]bool{}}
	s.Addr = serveDNS(t, dns.HandlerFunc(func(w dns.ResponseWriter, req *dns.Msg) {
		s.serve(&adWriter{ResponseWriter: w, s: s}, req)
	}))
	return s
}

// adWriter sets AD on answers to questions about secure names.
type adWriter struct {
	dns.ResponseWriter
	s *SecureDNS
}

func (w *adWriter) WriteMsg(m *dns.Msg) error {
	if len(m.Question) == 1 && m.Rcode != dns.RcodeServerFailure {
		w.s.smu.Lock()
		m.AuthenticatedData = w.s.secure[strings.ToLower(m.Question[0].Name)]
		w.s.smu.Unlock()
	}
	return w.ResponseWriter.WriteMsg(m)
}

// SetSecure marks names as DNSSEC-signed (or, with secure false, not).
func (s *SecureDNS) SetSecure(secure bool, names ...string) {
	s.smu.Lock()
	defer s.smu.Unlock()
	for _, n := range names {
		s.secure[strings.ToLower(dns.Fqdn(n))] = secure
	}
}

// SetTLSA adds a TLSA record ("3 1 1 <hex>") at name (e.g. _25._tcp.mx.test).
func (s *SecureDNS) SetTLSA(name string, usage, selector, matching uint8, data []byte) {
	s.add(name, &dns.TLSA{Hdr: dns.RR_Header{Rrtype: dns.TypeTLSA}, Usage: usage, Selector: selector,
		MatchingType: matching, Certificate: hex.EncodeToString(data)})
}

// SPKISHA256 is a certificate's "3 1 1" TLSA data.
func SPKISHA256(cert *x509.Certificate) []byte {
	sum := sha256.Sum256(cert.RawSubjectPublicKeyInfo)
	return sum[:]
}

// TestCA is a certificate authority for tests.
type TestCA struct {
	Cert    *x509.Certificate
	key     *ecdsa.PrivateKey
	PEMFile string // the CA certificate as a PEM file (for *_ca_file keys)
	Pool    *x509.CertPool
	serial  int64
	mu      sync.Mutex
}

// NewTestCA makes a CA and writes its certificate to a PEM file in a
// temporary directory.
func NewTestCA(t testing.TB) *TestCA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "sesame test CA"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	path := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return &TestCA{Cert: cert, key: key, PEMFile: path, Pool: pool, serial: 1}
}

// Issue makes a server certificate for names, signed by the CA, with the
// CA certificate in its chain.
func (ca *TestCA) Issue(t testing.TB, names ...string) *tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	ca.mu.Lock()
	ca.serial++
	serial := ca.serial
	ca.mu.Unlock()
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(serial),
		Subject:      pkix.Name{CommonName: names[0]},
		DNSNames:     names,
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.Cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, _ := x509.ParseCertificate(der)
	return &tls.Certificate{Certificate: [][]byte{der, ca.Cert.Raw}, PrivateKey: key, Leaf: leaf}
}

// PolicyServer is an HTTPS server for MTA-STS policy files on
// 127.0.0.1, answering for mta-sts.<domain> with a certificate from ca.
type PolicyServer struct {
	Port string

	mu       sync.Mutex
	policies map[string]string // domain → policy file
	fetches  map[string]int
}

// StartPolicyServer starts it with a certificate for the mta-sts names of
// domains; it stops when the test ends.
func StartPolicyServer(t testing.TB, ca *TestCA, domains ...string) *PolicyServer {
	t.Helper()
	names := make([]string, len(domains))
	for i, d := range domains {
		names[i] = "mta-sts." + d
	}
	ps := &PolicyServer{policies: map[string]string{}, fetches: map[string]int{}}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	_, ps.Port, _ = net.SplitHostPort(ln.Addr().String())
	srv := &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			domain := strings.TrimPrefix(strings.ToLower(r.TLS.ServerName), "mta-sts.")
			ps.mu.Lock()
			ps.fetches[domain]++
			p, ok := ps.policies[domain]
			ps.mu.Unlock()
			if !ok || r.URL.Path != "/.well-known/mta-sts.txt" {
				http.NotFound(w, r)
				return
			}
			w.Header().Set("Content-Type", "text/plain")
			_, _ = w.Write([]byte(p))
		}),
		TLSConfig:         &tls.Config{Certificates: []tls.Certificate{*ca.Issue(t, names...)}},
		ReadHeaderTimeout: 30 * time.Second,
	}
	go func() { _ = srv.ServeTLS(ln, "", "") }()
	t.Cleanup(func() { _ = srv.Close() })
	return ps
}

// Set serves policy for domain.
func (ps *PolicyServer) Set(domain, policy string) {
	ps.mu.Lock()
	ps.policies[domain] = policy
	ps.mu.Unlock()
}

// Fetches is how often domain's policy was asked for.
func (ps *PolicyServer) Fetches(domain string) int {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	return ps.fetches[domain]
}
