//go:build cgo && unix

package dkim

import (
	"crypto"
	"crypto/rsa"
	"errors"
	"fmt"
	"io"
	"math/big"

	"github.com/golang-fips/openssl/v2"
	"github.com/golang-fips/openssl/v2/bbig"
)

// libcryptoNames are the shared libraries tried, newest first: Debian 12
// and most current systems ship 3, older ones 1.1.
var libcryptoNames = []string{"libcrypto.so.3", "libcrypto.so.1.1", "libcrypto.3.dylib", "libcrypto.1.1.dylib"}

// loadOpenSSL loads libcrypto with dlopen (nothing is linked at build time,
// so a binary built here runs where there is no OpenSSL, with Go's engine).
func loadOpenSSL() (func(*rsa.PrivateKey) (crypto.Signer, error), error) {
	var tried []string
	for _, name := range libcryptoNames {
		if ok, _ := openssl.CheckVersion(name); !ok {
			tried = append(tried, name)
			continue
		}
		if err := openssl.Init(name); err != nil {
			return nil, fmt.Errorf("%w: %s: %v", ErrNoOpenSSL, name, err)
		}
		return wrapOpenSSL, nil
	}
	return nil, fmt.Errorf("%w: none of %v loads", ErrNoOpenSSL, tried)
}

// opensslKey signs with a copy of an RSA key held by libcrypto.
type opensslKey struct {
	pub *rsa.PublicKey
	key *openssl.PrivateKeyRSA
}

func wrapOpenSSL(k *rsa.PrivateKey) (crypto.Signer, error) {
	if len(k.Primes) != 2 {
		return nil, errors.New("dkim: openssl engine: multi-prime RSA keys are not supported")
	}
	k.Precompute()
	b := func(x *big.Int) openssl.BigInt { return bbig.Enc(x) }
	key, err := openssl.NewPrivateKeyRSA(b(k.N), b(big.NewInt(int64(k.E))), b(k.D), b(k.Primes[0]), b(k.Primes[1]),
		b(k.Precomputed.Dp), b(k.Precomputed.Dq), b(k.Precomputed.Qinv))
	if err != nil {
		return nil, fmt.Errorf("dkim: openssl engine: loading a key: %w", err)
	}
	return &opensslKey{pub: &k.PublicKey, key: key}, nil
}

func (k *opensslKey) Public() crypto.PublicKey { return k.pub }

// Sign makes a PKCS#1 v1.5 signature of digest, which is all DKIM's
// rsa-sha256 needs; PSS is refused rather than silently not applied.
func (k *opensslKey) Sign(_ io.Reader, digest []byte, opts crypto.SignerOpts) ([]byte, error) {
	if _, ok := opts.(*rsa.PSSOptions); ok {
		return nil, errors.New("dkim: openssl engine: PSS is not supported")
	}
	return openssl.SignRSAPKCS1v15(k.key, opts.HashFunc(), digest)
}

func libraryVersion() string { return openssl.VersionText() }
