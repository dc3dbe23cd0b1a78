//go:build !cgo || !unix

package dkim

import (
	"crypto"
	"crypto/rsa"
	"fmt"
)

// loadOpenSSL: a build without cgo cannot load libcrypto.
func loadOpenSSL() (func(*rsa.PrivateKey) (crypto.Signer, error), error) {
	return nil, fmt.Errorf("%w: built without cgo (CGO_ENABLED=0 or no C compiler)", ErrNoOpenSSL)
}

func libraryVersion() string { return "" }
