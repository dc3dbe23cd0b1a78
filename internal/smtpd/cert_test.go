package smtpd

import (
	"bytes"
	"net"
	"os"
	"path/filepath"
	"testing"
)

func TestLoadOrCreateCert(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	c, err := LoadOrCreateCert("", "", dir, "mail.example.com")
	if err != nil {
		t.Fatal(err)
	}
	leaf := c.Leaf
	for _, name := range []string{"mail.example.com", "localhost", "127.0.0.1", "::1"} {
		if err := leaf.VerifyHostname(name); err != nil {
			t.Errorf("certificate not valid for %s: %v", name, err)
		}
	}
	if !leaf.IPAddresses[0].Equal(net.IPv4(127, 0, 0, 1)) {
		t.Errorf("IP SANs = %v", leaf.IPAddresses)
	}
	keyPath := filepath.Join(dir, "tls", "key.pem")
	if fi, err := os.Stat(keyPath); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file: %v, %v; want mode 0600", fi, err)
	}

	// Made once, then reused.
	again, err := LoadOrCreateCert("", "", dir, "mail.example.com")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(again.Certificate[0], c.Certificate[0]) {
		t.Error("second call made a new certificate")
	}

	// A new host name gets a new certificate.
	renamed, err := LoadOrCreateCert("", "", dir, "smtp.example.org")
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(renamed.Certificate[0], c.Certificate[0]) || renamed.Leaf.VerifyHostname("smtp.example.org") != nil {
		t.Error("host name change did not make a certificate for the new name")
	}

	// The operator's files are used as they are.
	certFile := filepath.Join(dir, "tls", "cert.pem")
	op, err := LoadOrCreateCert(certFile, keyPath, t.TempDir(), "ignored.example")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(op.Certificate[0], renamed.Certificate[0]) {
		t.Error("operator's certificate not loaded")
	}
	if _, err := LoadOrCreateCert(certFile, "", dir, "x"); err == nil {
		t.Error("cert_file without key_file accepted")
	}
	if _, err := LoadOrCreateCert(filepath.Join(dir, "missing.pem"), keyPath, dir, "x"); err == nil {
		t.Error("missing cert_file accepted")
	}
}
