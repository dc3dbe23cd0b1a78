package dkim

import (
	"bytes"
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"errors"
	"fmt"
	"sync"
)

// RSA signing engines (config delivery.dkim_rsa). Signing is the costliest
// step of outbound mail: Go's crypto/rsa takes ~0.8–1.5 ms per RSA-2048
// signature on the machines we measure, OpenSSL's libcrypto 0.25–0.4 ms,
// which decides whether two cores deliver ~1,000 or ~4,000 signed
// messages a second (bench/README.md). Both give the same bytes:
// PKCS#1 v1.5 signatures are deterministic.
const (
	RSAAuto    = "auto"    // OpenSSL when it loads, else Go
	RSAOpenSSL = "openssl" // libcrypto, loaded at run time; an error if it cannot be
	RSAGo      = "go"      // Go's crypto/rsa
)

// ErrNoOpenSSL is returned when the openssl engine is asked for but this
// build or this machine cannot provide it.
var ErrNoOpenSSL = errors.New("dkim: the OpenSSL RSA engine is not available")

// engine turns a parsed RSA key into the crypto.Signer that signs with it.
type engine struct {
	name string
	wrap func(*rsa.PrivateKey) (crypto.Signer, error)
}

var goEngine = engine{name: RSAGo, wrap: func(k *rsa.PrivateKey) (crypto.Signer, error) { return k, nil }}

var (
	loadOnce sync.Once
	loaded   engine
	loadErr  error
)

// opensslEngine loads libcrypto once per process. Each key it takes is
// proven to give Go's bytes before it signs real mail (checked).
func opensslEngine() (engine, error) {
	loadOnce.Do(func() {
		wrap, err := loadOpenSSL()
		if err != nil {
			loadErr = err
			return
		}
		loaded = engine{name: RSAOpenSSL, wrap: checked(wrap)}
	})
	return loaded, loadErr
}

// checked wraps a key through wrap, then signs one digest with it and with
// Go and compares the signatures: a libcrypto that disagrees never signs.
func checked(wrap func(*rsa.PrivateKey) (crypto.Signer, error)) func(*rsa.PrivateKey) (crypto.Signer, error) {
	return func(k *rsa.PrivateKey) (crypto.Signer, error) {
		s, err := wrap(k)
		if err != nil {
			return nil, err
		}
		digest := sha256.Sum256([]byte("sesame dkim engine check"))
		got, err := s.Sign(nil, digest[:], crypto.SHA256)
		if err != nil {
			return nil, fmt.Errorf("dkim: openssl engine check: %w", err)
		}
		want, err := rsa.SignPKCS1v15(nil, k, crypto.SHA256, digest[:])
		if err != nil {
			return nil, fmt.Errorf("dkim: openssl engine check: %w", err)
		}
		if !bytes.Equal(got, want) {
			return nil, errors.New("dkim: openssl engine check: its signature differs from Go's")
		}
		return s, nil
	}
}

// AutoRSA says which engine "auto" takes on this machine, and why or which
// library, for `sesame version` and the benchmarks' reports.
func AutoRSA() (name, detail string) {
	if _, err := opensslEngine(); err != nil {
		return RSAGo, err.Error()
	}
	return RSAOpenSSL, libraryVersion()
}

// RSAEngine returns the named engine (RSAAuto, RSAOpenSSL, RSAGo) as a
// function that turns a key into the crypto.Signer that signs with it, for
// other RSA signers of sesame's (SNS message signatures), and the engine in
// effect. With RSAAuto a key OpenSSL cannot take is signed by Go.
func RSAEngine(name string) (func(*rsa.PrivateKey) (crypto.Signer, error), string, error) {
	switch name {
	case RSAGo:
		return goEngine.wrap, RSAGo, nil
	case RSAOpenSSL:
		e, err := opensslEngine()
		if err != nil {
			return nil, "", err
		}
		return e.wrap, RSAOpenSSL, nil
	case "", RSAAuto:
		e, err := opensslEngine()
		if err != nil {
			return goEngine.wrap, RSAGo, nil
		}
		return func(k *rsa.PrivateKey) (crypto.Signer, error) {
			if s, err := e.wrap(k); err == nil {
				return s, nil
			}
			return k, nil
		}, RSAOpenSSL, nil
	}
	return nil, "", fmt.Errorf("dkim: unknown RSA engine %q (want %q, %q or %q)", name, RSAAuto, RSAOpenSSL, RSAGo)
}
