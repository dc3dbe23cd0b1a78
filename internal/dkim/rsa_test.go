package dkim

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"io"
	"os"
	"strings"
	"testing"
)

// requireOpenSSL skips without libcrypto, except in CI, whose machine has
// it (Debian's libssl3) and must test the engine production uses.
func requireOpenSSL(t testing.TB) {
	t.Helper()
	if _, err := opensslEngine(); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("CI=true and the OpenSSL engine does not load: %v", err)
		}
		t.Skipf("no OpenSSL engine: %v", err)
	}
}

// TestEnginesAgree: OpenSSL's engine signs a whole message to the very
// bytes Go's does, for an RSA-2048 key and a 1024-bit one.
func TestEnginesAgree(t *testing.T) {
	requireOpenSSL(t)
	k2048, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	der2048, _ := x509.MarshalPKCS8PrivateKey(k2048)
	for _, tc := range []struct {
		name string
		der  []byte
	}{{"rsa2048", der2048}, {"rsa1024", testKeys(t)[0]}} {
		t.Run(tc.name, func(t *testing.T) {
			st := openStore(t)
			addIdentity(t, st, "example.com", easy(tc.der, "tok1"))
			msg := []byte(message("Sender <a@example.com>", "") + "Hello\r\n")
			signers := make([]*Signer, 2)
			for i, name := range []string{RSAGo, RSAOpenSSL} {
				signers[i] = New(st, nil, nil)
				got, err := signers[i].UseRSA(name)
				if err != nil || got != name {
					t.Fatalf("UseRSA(%q) = %q, %v", name, got, err)
				}
			}
			key, err := signers[1].lookup(context.Background(), acct, region, "a@example.com")
			if err != nil {
				t.Fatal(err)
			}
			if _, isGo := key.key.(*rsa.PrivateKey); isGo {
				t.Fatalf("openssl engine signs with %T", key.key)
			}
			// The signatures carry t=: sign again if the second turned
			// between the two.
			for try := 0; ; try++ {
				var sigs [2][]byte
				for i, s := range signers {
					sigs[i], err = s.Sign(context.Background(), acct, region, bytes.NewReader(msg))
					if err != nil || sigs[i] == nil {
						t.Fatalf("Sign = %q, %v", sigs[i], err)
					}
				}
				if bytes.Equal(sigs[0], sigs[1]) {
					break
				}
				if try == 3 {
					t.Fatalf("signatures differ:\ngo      %s\nopenssl %s", sigs[0], sigs[1])
				}
			}
		})
	}
}

// TestOpenSSLSigner: the crypto.Signer contract — Public is the key's, a
// PKCS#1 v1.5 signature verifies, PSS is refused rather than ignored.
func TestOpenSSLSigner(t *testing.T) {
	requireOpenSSL(t)
	e, _ := opensslEngine()
	k, err := x509.ParsePKCS8PrivateKey(testKeys(t)[1])
	if err != nil {
		t.Fatal(err)
	}
	rk := k.(*rsa.PrivateKey)
	s, err := e.wrap(rk)
	if err != nil {
		t.Fatal(err)
	}
	if !rk.PublicKey.Equal(s.Public()) {
		t.Fatal("Public() is not the key's public half")
	}
	digest := sha256.Sum256([]byte("x"))
	sig, err := s.Sign(rand.Reader, digest[:], crypto.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	if err := rsa.VerifyPKCS1v15(&rk.PublicKey, crypto.SHA256, digest[:], sig); err != nil {
		t.Fatalf("signature does not verify: %v", err)
	}
	if _, err := s.Sign(rand.Reader, digest[:], &rsa.PSSOptions{Hash: crypto.SHA256}); err == nil {
		t.Fatal("PSS signing did not fail")
	}
}

// TestCheckedRefusesDisagreement: a libcrypto that signs differently from
// Go never gets a key; in "auto" the key then signs with Go.
func TestCheckedRefusesDisagreement(t *testing.T) {
	k, _ := x509.ParsePKCS8PrivateKey(testKeys(t)[0])
	rk := k.(*rsa.PrivateKey)
	wrong := func(k *rsa.PrivateKey) (crypto.Signer, error) { return flipped{k}, nil }
	if _, err := checked(wrong)(rk); err == nil {
		t.Fatal("a disagreeing engine was accepted")
	}

	st := openStore(t)
	addIdentity(t, st, "example.com", easy(testKeys(t)[0], "tok1"))
	s := New(st, nil, nil)
	s.engine, s.auto = engine{name: RSAOpenSSL, wrap: checked(wrong)}, true
	sig, err := s.Sign(context.Background(), acct, region, strings.NewReader(message("a@example.com", "")+"Hi\r\n"))
	if err != nil || sig == nil {
		t.Fatalf("auto did not fall back to Go: %q, %v", sig, err)
	}
	s = New(st, nil, nil)
	s.engine = engine{name: RSAOpenSSL, wrap: checked(wrong)}
	if _, err := s.Sign(context.Background(), acct, region, strings.NewReader(message("a@example.com", "")+"Hi\r\n")); err == nil {
		t.Fatal("openssl (not auto) signed with a disagreeing engine")
	}
}

// flipped signs like Go, then corrupts the signature's last byte.
type flipped struct{ k *rsa.PrivateKey }

func (f flipped) Public() crypto.PublicKey { return &f.k.PublicKey }
func (f flipped) Sign(_ io.Reader, d []byte, o crypto.SignerOpts) ([]byte, error) {
	s, err := rsa.SignPKCS1v15(nil, f.k, o.HashFunc(), d)
	if err == nil {
		s[len(s)-1] ^= 1
	}
	return s, err
}

func TestUseRSA(t *testing.T) {
	s := New(openStore(t), nil, nil)
	if _, err := s.UseRSA("boringssl"); err == nil {
		t.Fatal("an unknown engine was accepted")
	}
	if got, err := s.UseRSA(RSAGo); err != nil || got != RSAGo {
		t.Fatalf("UseRSA(go) = %q, %v", got, err)
	}
	got, err := s.UseRSA(RSAAuto)
	if err != nil || (got != RSAGo && got != RSAOpenSSL) {
		t.Fatalf("UseRSA(auto) = %q, %v", got, err)
	}
	if _, oerr := opensslEngine(); oerr != nil {
		if _, err := s.UseRSA(RSAOpenSSL); !errors.Is(err, ErrNoOpenSSL) {
			t.Fatalf("UseRSA(openssl) without it = %v, want ErrNoOpenSSL", err)
		}
	}
}

// BenchmarkSign2KB signs a 2 KB message with an RSA-2048 key, per engine:
// the cost delivery pays per message (the end-to-end target is ≥ 2×
// Postfix while signing every message).
func BenchmarkSign2KB(b *testing.B) {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		b.Fatal(err)
	}
	der, _ := x509.MarshalPKCS8PrivateKey(k)
	st := openStore(b)
	addIdentity(b, st, "example.com", easy(der, "tok1"))
	body := strings.Repeat(base64.StdEncoding.EncodeToString(make([]byte, 57))+"\r\n", 2048/78)
	msg := []byte(message("Sender <a@example.com>", "") + body)
	for _, name := range []string{RSAGo, RSAOpenSSL} {
		b.Run(name, func(b *testing.B) {
			s := New(st, nil, nil)
			if _, err := s.UseRSA(name); err != nil {
				b.Skip(err)
			}
			b.SetBytes(int64(len(msg)))
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if sig, err := s.Sign(context.Background(), acct, region, bytes.NewReader(msg)); err != nil || sig == nil {
						b.Fatal(err)
					}
				}
			})
		})
	}
}
