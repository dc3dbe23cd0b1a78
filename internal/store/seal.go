package store

import (
	"context"
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

// loadSealKey reads the key file, creating it first when create is set
// and it does not exist (errors then wrap fs.ErrNotExist).
func loadSealKey(path string, create bool) (cipher.AEAD, error) {
	key, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) && create {
		key, err = createSealKey(filepath.Dir(path), path)
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

// SecretKeyError refuses a secret key that is not the one the database's
// secrets were sealed with (or a missing one, on a shared database that
// has sealed some). Its text is for the operator.
type SecretKeyError struct {
	Path    string
	Missing bool
}

func (e *SecretKeyError) Error() string {
	if e.Missing {
		return fmt.Sprintf("secret key %s does not exist, and the shared database already holds secrets sealed with "+
			"another node's key: copy secret.key from a node of the cluster to %s (or set [store] secret_key_file)", e.Path, e.Path)
	}
	return fmt.Sprintf("secret key %s is not the key this database's secrets were sealed with: "+
		"use the key file of the installation (every node of a cluster needs the same one)", e.Path)
}

// keyCheckText is sealed with the key into store_meta when a database
// first meets a key, so a later open with another key is refused at start
// rather than failing on the first secret it reads.
const keyCheckText = "sesame secret key check"

// checkSecretKey records the key's check value, or compares it with the
// one recorded. Two nodes racing with different new keys: one insert wins,
// and the other node is refused.
func (s *Store) checkSecretKey(ctx context.Context, path string) error {
	if _, err := s.writes.ExecContext(ctx, `INSERT INTO store_meta (name, value) VALUES ('secret_key_check', ?)
		ON CONFLICT (name) DO NOTHING`, s.sealSecret("store_meta", keyCheckText)); err != nil {
		return fmt.Errorf("store: record secret key check: %w", err)
	}
	var sealed string
	if err := s.writes.QueryRowContext(ctx, `SELECT value FROM store_meta WHERE name = 'secret_key_check'`).Scan(&sealed); err != nil {
		return fmt.Errorf("store: read secret key check: %w", err)
	}
	if got, err := s.openSecret("store_meta", sealed); err != nil || got != keyCheckText {
		return &SecretKeyError{Path: path}
	}
	return nil
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
