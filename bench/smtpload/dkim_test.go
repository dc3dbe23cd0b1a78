package main

import (
	"bytes"
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/emersion/go-msgauth/dkim"
)

// keyRecord is the DKIM key TXT record (RFC 6376 §3.6.1) of key.
func keyRecord(t *testing.T, key crypto.Signer) string {
	t.Helper()
	switch pub := key.Public().(type) {
	case *rsa.PublicKey:
		der, err := x509.MarshalPKIXPublicKey(pub)
		if err != nil {
			t.Fatal(err)
		}
		return "v=DKIM1; k=rsa; p=" + base64.StdEncoding.EncodeToString(der)
	case ed25519.PublicKey:
		return "v=DKIM1; k=ed25519; p=" + base64.StdEncoding.EncodeToString(pub)
	}
	t.Fatalf("unexpected key %T", key)
	return ""
}

// verifyAll checks that msg carries exactly one DKIM signature and that it
// verifies against record served for name by a lookup function.
func verifyAll(t *testing.T, msg []byte, name, record string) {
	t.Helper()
	lookups := 0
	verifs, err := dkim.VerifyWithOptions(bytes.NewReader(msg), &dkim.VerifyOptions{
		LookupTXT: func(domain string) ([]string, error) {
			lookups++
			if domain != name {
				return nil, fmt.Errorf("unexpected lookup of %q", domain)
			}
			return []string{record}, nil
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(verifs) != 1 || lookups != 1 {
		t.Fatalf("%d signatures, %d lookups; want 1 and 1", len(verifs), lookups)
	}
	if verifs[0].Err != nil {
		t.Fatalf("signature does not verify: %v\n%s", verifs[0].Err, msg)
	}
	if verifs[0].Domain != "example.org" {
		t.Fatalf("d=%q", verifs[0].Domain)
	}
}

// One signature, computed once, must verify on every message of the run
// (whose Message-IDs differ), at the exact size asked for, for both key
// types a sender may publish.
func TestBuildSignedVerifiesForEverySequence(t *testing.T) {
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	_, edKey, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		key  crypto.Signer
		size int
	}{{"rsa-2048", rsaKey, 2000}, {"rsa-2048 large", rsaKey, 100_000}, {"ed25519", edKey, 1500}} {
		t.Run(tc.name, func(t *testing.T) {
			o := &options{from: "sender@example.org", to: "recipient@example.net", size: tc.size,
				dkimKey: tc.key, dkimDomain: "example.org", dkimSelector: "bench"}
			msg, at, err := buildSigned(o)
			if err != nil {
				t.Fatal(err)
			}
			if len(msg) != tc.size {
				t.Fatalf("got %d bytes, want %d", len(msg), tc.size)
			}
			if !bytes.HasPrefix(msg, []byte("DKIM-Signature: ")) {
				t.Fatalf("no DKIM-Signature on top:\n%.300s", msg)
			}
			for _, seq := range []int64{0, 1, 4711, 999_999_999_999} {
				putSeq(msg[at:at+seqDigits], seq)
				if !bytes.Contains(msg, fmt.Appendf(nil, "Message-ID: <%012d.", seq)) {
					t.Fatalf("sequence %d not patched into the Message-ID", seq)
				}
				verifyAll(t, msg, "bench._domainkey.example.org", keyRecord(t, tc.key))
			}
			// A change to a signed field must break it: the check above
			// is not vacuous.
			bad := bytes.Replace(bytes.Clone(msg), []byte("Subject: smtpload"), []byte("Subject: smtpLoad"), 1)
			verifs, err := dkim.VerifyWithOptions(bytes.NewReader(bad), &dkim.VerifyOptions{
				LookupTXT: func(string) ([]string, error) { return []string{keyRecord(t, tc.key)}, nil }})
			if err != nil || len(verifs) != 1 || verifs[0].Err == nil {
				t.Fatalf("a tampered Subject still verifies (err %v)", err)
			}
		})
	}
	o := &options{from: "sender@example.org", to: "recipient@example.net", size: 600,
		dkimKey: rsaKey, dkimDomain: "example.org", dkimSelector: "bench"}
	if _, _, err := buildSigned(o); err == nil {
		t.Fatal("a size that leaves no room for headers and signature must be refused")
	}
}

// Signed messages go over the wire intact: what the server reads verifies.
func TestSignedMessagesVerifyAtTheServer(t *testing.T) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	f := startFake(t, false, false)
	f.keep = true
	o := testOptions(f.ln.Addr().String())
	o.from, o.rcpts = "sender@example.org", 1
	o.dkimKey, o.dkimDomain, o.dkimSelector = key, "example.org", "bench"
	msg, at, err := buildSigned(o)
	if err != nil {
		t.Fatal(err)
	}
	tot, errs, _ := load(o, msg, at)
	if errs != 0 || tot.ok != o.msgs {
		t.Fatalf("ok %d errors %d", tot.ok, errs)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.kept) != o.msgs {
		t.Fatalf("server kept %d messages, want %d", len(f.kept), o.msgs)
	}
	ids := map[string]bool{}
	for _, m := range f.kept {
		verifyAll(t, m, "bench._domainkey.example.org", keyRecord(t, key))
		_, rest, _ := bytes.Cut(m, []byte("Message-ID: "))
		id, _, _ := bytes.Cut(rest, []byte("\r\n"))
		ids[string(id)] = true
	}
	if len(ids) != o.msgs {
		t.Fatalf("%d distinct Message-IDs over %d messages", len(ids), o.msgs)
	}
}

// The key files the bench script makes with openssl (PKCS#8) and older
// PKCS#1 files both load; anything else is refused.
func TestReadSigner(t *testing.T) {
	key, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	_, edKey, _ := ed25519.GenerateKey(rand.Reader)
	dir := t.TempDir()
	write := func(name, typ string, der []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	p8, _ := x509.MarshalPKCS8PrivateKey(key)
	e8, _ := x509.MarshalPKCS8PrivateKey(edKey)
	for _, p := range []string{
		write("pkcs8.pem", "PRIVATE KEY", p8),
		write("pkcs1.pem", "RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(key)),
		write("ed.pem", "PRIVATE KEY", e8),
	} {
		if s, err := readSigner(p); err != nil || s == nil {
			t.Fatalf("%s: %v", p, err)
		}
	}
	if _, err := readSigner(write("junk.pem", "PRIVATE KEY", []byte("junk"))); err == nil ||
		!strings.Contains(err.Error(), "private key") {
		t.Fatalf("junk key: %v", err)
	}
	if _, err := readSigner(filepath.Join(dir, "missing.pem")); err == nil {
		t.Fatal("a missing file must be an error")
	}
}
