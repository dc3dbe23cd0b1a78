package e2e

import (
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"sesame/internal/testenv"
)

// TestSNSWebhookBoto3 drives the real binary's SNS-compatible topics with
// boto3: a topic, an HTTP subscriber that confirms by GETting the
// SubscribeURL, and a published message the subscriber checks the
// signature of (fetching SigningCertURL, as the AWS SDK validators do).
func TestSNSWebhookBoto3(t *testing.T) {
	pythonModule(t, "boto3")
	s := testenv.Start(t, testenv.Options{})
	sub := newSNSSubscriber(t)

	scripts, err := filepath.Abs("scripts")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "/usr/bin/python3", filepath.Join(scripts, "sns_boto3.py"))
	cmd.Env = append(s.Env(t), "WEBHOOK="+sub.URL())
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("sns_boto3.py: %v\n%s", err, out)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	id := lines[len(lines)-1]
	waitFor(t, "the notification", func() bool { return len(sub.notifications()) > 0 })
	if m := sub.notifications()[0]; m["MessageId"] != id || m["Message"] != `{"eventType":"Delivery"}` || m["SignatureVersion"] != "2" ||
		m["Subject"] != "Amazon SES Email Event Notification" {
		t.Errorf("notification = %v, want MessageId %s", m, id)
	}
}

// verifySNS checks an SNS message's signature (SignatureVersion 1 or 2).
func verifySNS(m map[string]string) error {
	resp, err := http.Get(m["SigningCertURL"])
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	block, _ := pem.Decode(b)
	if block == nil {
		return fmt.Errorf("SigningCertURL %s: not PEM", m["SigningCertURL"])
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		return err
	}
	keys := []string{"Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type"}
	if m["Type"] == "Notification" {
		keys = []string{"Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"}
	}
	var str strings.Builder
	for _, k := range keys {
		if v, ok := m[k]; ok {
			str.WriteString(k + "\n" + v + "\n")
		}
	}
	sig, err := base64.StdEncoding.DecodeString(m["Signature"])
	if err != nil {
		return err
	}
	pub := cert.PublicKey.(*rsa.PublicKey)
	if m["SignatureVersion"] == "2" {
		d := sha256.Sum256([]byte(str.String()))
		return rsa.VerifyPKCS1v15(pub, crypto.SHA256, d[:], sig)
	}
	d := sha1.Sum([]byte(str.String()))
	return rsa.VerifyPKCS1v15(pub, crypto.SHA1, d[:], sig)
}
