package store

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sesame/internal/safefile"
)

// sealKeyFile holds the AES-256 key that encrypts access key secrets at rest.
// It lives beside the database but not in it, so a copy of sesame.db alone
// (a backup, a bug report) does not leak credentials.
const sealKeyFile = "secret.key"

// loadSealKey reads the data dir's key, creating it on first use.
func loadSealKey(dataDir string) (cipher.AEAD, error) {
	path := filepath.Join(dataDir, sealKeyFile)
	key, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		key, err = createSealKey(dataDir, path)
	}
	if err != nil {
		return nil, fmt.Errorf("store: secret key %s: %w", path, err)
	}
	if len(key) != 32 {
		return nil, fmt.Errorf("store: secret key %s: want 32 bytes, have %d", path, len(key))
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("store: secret key %s: %w", path, err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("store: secret key %s: %w", path, err)
	}
	return aead, nil
}

// createSealKey writes a new key to a temporary file, syncs it, and links it
// into place. The link fails if another process won the race, and then its
// key, complete by construction, is the one to use.
func createSealKey(dataDir, path string) ([]byte, error) {
	key := make([]byte, 32)
	rand.Read(key)
	tmp, err := os.CreateTemp(dataDir, sealKeyFile+".tmp*")
	if err != nil {
		return nil, err
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return nil, err
	}
	if _, err := tmp.Write(key); err != nil {
		tmp.Close()
		return nil, err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return nil, err
	}
	if err := tmp.Close(); err != nil {
		return nil, err
	}
	if err := os.Link(tmp.Name(), path); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return os.ReadFile(path)
		}
		return nil, err
	}
	if err := safefile.SyncDir(dataDir); err != nil {
		return nil, err
	}
	return key, nil
}

// sealSecret encrypts a secret, bound to its key id so that a sealed value
// copied onto another key's row does not open.
func (s *Store) sealSecret(keyID, secret string) string {
	nonce := make([]byte, s.seal.NonceSize())
	rand.Read(nonce)
	out := s.seal.Seal(nonce, nonce, []byte(secret), []byte(keyID))
	return base64.StdEncoding.EncodeToString(out)
}

func (s *Store) openSecret(keyID, sealed string) (string, error) {
	b, err := base64.StdEncoding.DecodeString(sealed)
	if err != nil || len(b) < s.seal.NonceSize() {
		return "", fmt.Errorf("store: access key %s: malformed sealed secret", keyID)
	}
	n := s.seal.NonceSize()
	plain, err := s.seal.Open(nil, b[:n], b[n:], []byte(keyID))
	if err != nil {
		return "", fmt.Errorf("store: access key %s: secret does not decrypt (wrong %s?): %w", keyID, sealKeyFile, err)
	}
	return string(plain), nil
}
